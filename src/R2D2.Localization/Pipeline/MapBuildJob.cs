using R2D2.Localization.Features;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Pipeline;

/// <summary>What `localize build-map` is asked: the inputs as files, the map, and which part of the
/// work (the whole build, one shard of a stage, or a check that writes nothing).</summary>
public sealed record MapBuildRequest
{
    /// <summary>Known poses: a COLMAP model folder, a kapture folder, an .nvm file or Strecha .camera files.</summary>
    public required string PosesPath { get; init; }
    public string? IntrinsicsPath { get; init; }
    /// <summary>The folder the image names are relative to (default for a kapture folder: its records).</summary>
    public string? ImagesFolder { get; init; }
    /// <summary>Map only these images; null: all.</summary>
    public IReadOnlyCollection<string>? Only { get; init; }
    public required string MapPath { get; init; }
    /// <summary>A pairs file, 'exhaustive' or poses:K[:ANGLE]; null: the default (<see cref="MapBuildOptions.Pairs"/>).</summary>
    public string? Pairs { get; init; }
    /// <summary>The COLMAP model's folder: null: &lt;map&gt;_model beside the map; "none": no export.</summary>
    public string? Export { get; init; }
    public bool ExportBinary { get; init; }
    public bool AllowEmpty { get; init; }
    /// <summary>all, or one shard (<see cref="Shard"/>) of extract or match into <see cref="MapPath"/>.</summary>
    public string Stage { get; init; } = "all";
    /// <summary>The shard of a stage; null with <see cref="Stage"/> all.</summary>
    public Shard? Shard { get; init; }
    /// <summary>With the match stage: the merged extraction shards (read only).</summary>
    public string? FeaturesPath { get; init; }
    /// <summary>hloc's matches.h5, imported instead of matching (with hloc's features).</summary>
    public string? ImportedMatches { get; init; }
    /// <summary>The features (--model and the extraction options), opened once the inputs are checked;
    /// the map records its <see cref="FeatureSourceSpec.MapModel"/>; its device is the matching's too.</summary>
    public required FeatureSourceSpec Features { get; init; }
    /// <summary>Check everything and write nothing; with <see cref="CheckQueries"/>, query lists' images too.</summary>
    public bool Check { get; init; }
    public IReadOnlyList<string> CheckQueries { get; init; } = Array.Empty<string>();
}

/// <summary>What a build-map run did: checked (nothing written), built a stage's shard, or built the map.</summary>
public abstract record MapBuildOutcome;
public sealed record MapBuildChecked(int Images, string ImageRoot, int Queries, string Source, int Pairs, PairSpec PairSpec) : MapBuildOutcome;
public sealed record MapBuildShardDone(string Stage, ShardSummary Summary) : MapBuildOutcome;
public sealed record MapBuildDone(MapBuildResult Result) : MapBuildOutcome;

/// <summary>
/// `localize build-map` from files: the option combinations first (a usage error before any file is
/// read), then every input read and checked before anything is written (the poses, the images, then
/// the model, which <see cref="MapBuildRequest.Features"/> opens), then the check, a stage's shard
/// (<see cref="ShardRunner"/>) or the build (<see cref="MapBuildRunner.Run"/>).
/// </summary>
public static class MapBuildJob
{
    public static MapBuildOutcome Run(MapBuildRequest q, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        if ((q.Stage == "all") != (q.Shard == null)) throw new UsageException("--stage extract|match and --shard go together");
        if ((q.Stage == "match") != (q.FeaturesPath != null)) throw new UsageException("--features goes with --stage match (and it needs it)");
        if (q.ImportedMatches != null)
        {
            if (!q.Features.IsHloc) throw new UsageException("--matches (hloc's matches.h5) goes with hloc's features: --model hloc:FILE (its keypoints are the ones the matches index)");
            if (q.Stage != "all") throw new UsageException("--matches imports the matches in the build itself: it does not go with --stage");
        }
        if (q.CheckQueries.Count > 0 && !q.Check) throw new UsageException("--check-queries goes with --check");
        q.Features.CheckOptions();
        var pairSpec = q.Pairs is { } p ? PairSpec.Parse(p) : new MapBuildOptions().Pairs;
        var root = MapInputs.ImageRoot(q.PosesPath, q.ImagesFolder);
        var posed = MapInputs.ReadPosed(q.PosesPath, q.IntrinsicsPath, root, q.Only, progress);
        var exportDir = q.Export ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(q.MapPath))!, Path.GetFileNameWithoutExtension(q.MapPath) + "_model");
        if (q.ImportedMatches is { } mf && !File.Exists(mf))
            throw new FileFormatException(mf, 0, Directory.Exists(mf) ? "is a folder, not hloc's matches.h5" : "not found");
        using var source = q.Features.Open();
        var inputs = new MapBuildInputs(posed, root, source) { Model = q.Features.MapModel, SourceFiles = new[] { ("poses", (string?)q.PosesPath), ("intrinsics", q.IntrinsicsPath) } };
        var options = new MapBuildOptions
        {
            Pairs = pairSpec,
            Match = new MatchOptions { Device = q.Features.Device() }, // after the model is loaded and checked
            ImportedMatches = q.ImportedMatches,
            AllowEmpty = q.AllowEmpty,
            ExportFolder = exportDir == "none" ? null : exportDir,
            ExportBinary = q.ExportBinary,
        };
        if (q.Check)
        {
            int pairCount = MapBuildRunner.Check(q.MapPath, inputs, options);
            int queryCount = q.CheckQueries.Sum(list => MapInputs.CheckQueries(list, root, source));
            return new MapBuildChecked(posed.Count, root, queryCount, source.Description, pairCount, pairSpec);
        }
        return q.Stage switch
        {
            "extract" => new MapBuildShardDone(q.Stage, ShardRunner.Extract(q.MapPath, inputs, q.Shard!.Value, progress)),
            "match" => new MapBuildShardDone(q.Stage, ShardRunner.Match(q.MapPath, q.FeaturesPath!, inputs, options, q.Shard!.Value, progress)),
            _ => new MapBuildDone(MapBuildRunner.Run(q.MapPath, inputs, options, progress)!),
        };
    }
}
