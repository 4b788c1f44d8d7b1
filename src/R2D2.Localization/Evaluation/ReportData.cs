using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Evaluation;

/// <summary>One query of a report: its pose in the run (null: the run has none for it; the
/// fallback pose when not localized), the truth when known, its inliers and matches.</summary>
public sealed record ReportQuery(string Name, Pose? Estimate, Pose? Truth, bool Localized, int Matches, int Inliers,
    QueryInlierSet? InlierSet, string? FallbackImage, string? Warning, string? ImagePath)
{
    /// <summary>What the run's CSV says became of it (null: unknown, e.g. missing from the run).</summary>
    public QueryStatus? Status { get; init; }
    /// <summary>All its 2D–3D matches with RANSAC's verdict (null: the run recorded none).</summary>
    public QueryMatchSet? MatchSet { get; init; }
    /// <summary>Seconds it took (extraction, matching, PnP); null when unknown.</summary>
    public double? Seconds { get; init; }

    /// <summary>No pose at all in the run's submission.</summary>
    public bool Missing => Estimate == null;
    /// <summary>The pose in the run is a database image's, not an estimate.</summary>
    public bool IsFallback => !Missing && !Localized;

    public FailureReason Reason => Localized ? FailureReason.None
        : Status is { } s ? QueryFailure.Classify(s, Matches, Inliers)
        : QueryFailure.Classify(QueryStatus.Fallback, Matches, Inliers);
}

/// <summary>Everything a report shows; <see cref="HtmlReport.Load"/> gathers it from a run's files.</summary>
public sealed record ReportData(string Title, string MapPath, IReadOnlyList<MapPoint> Points,
    IReadOnlyDictionary<int, (string Name, Pose Pose)> MapImages, string? MapImageFolder, IReadOnlyList<ReportQuery> Queries,
    PoseEvaluationResult? Evaluation)
{
    /// <summary>Time per stage (seconds) of a whole job (the demo's), shown as a table when given.</summary>
    public IReadOnlyList<(string Stage, double Seconds)> Timings { get; init; } = Array.Empty<(string, double)>();
    /// <summary>Lines shown under the title (model, scene, command).</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();
    /// <summary>What the report lacks and why (a side file missing, photos not found, queries without
    /// a true pose): printed by `report` and shown under the title.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = Array.Empty<string>();
    /// <summary>Keypoints of a map image (for drawing where the matched points are in it); null: none drawn.</summary>
    public Func<int, Keypoints?>? MapKeypoints { get; init; }
    /// <summary>The cameras of the map images, by image id (their frustums in the 3D view); missing ones are drawn 4:3.</summary>
    public IReadOnlyDictionary<int, Camera> MapCameras { get; init; } = new Dictionary<int, Camera>();
    /// <summary>What the query run recorded beside its outputs: settings, model, time per stage.</summary>
    public QueryRunInfo? Run { get; init; }
    public ReportOptions Options { get; init; } = new();
}

/// <summary>The bounds that keep a report's size in check.</summary>
public sealed record ReportOptions
{
    /// <summary>Each query's picture (the query beside a database image) is at most this wide, in pixels.</summary>
    public int PictureWidth { get; init; } = 1000;
    /// <summary>Above this many queries, pictures are half as wide (the page stays under ~40 MB for 1,000 queries).</summary>
    public int SmallPicturesAbove { get; init; } = 100;
    public int JpegQuality { get; init; } = 75;
    /// <summary>Match lines drawn per picture, of each kind (inliers, outliers), sampled evenly.</summary>
    public int MaxLinesPerKind { get; init; } = 80;
    /// <summary>Database images drawn beside a query that was not localized (one for a localized query).</summary>
    public int DatabaseImagesForFailures { get; init; } = 2;
    /// <summary>Query cards with pictures, the bad ones first (the pictures are nearly all of a page's
    /// bytes: ~30 kB per query; 10,000 queries made a 296 MB page); the other cards are text.</summary>
    public int MaxPictureCards { get; init; } = 1000;
    /// <summary>Map points in the 3D and top views, sampled evenly.</summary>
    public int MaxPoints { get; init; } = 20_000;
}
