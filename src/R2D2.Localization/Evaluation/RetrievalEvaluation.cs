using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;

namespace R2D2.Localization.Evaluation;

/// <summary>Recall@k of one method on one query set, and its time per query.</summary>
public sealed record RetrievalRecallRow(string Set, string Method, int Queries, int WithRelevant, double[] Recall, double MedianMs, double MeanMs);

/// <summary>Poses of one query set with one method's images and one matching scheme.</summary>
public sealed record RetrievalLocalizationRow(string Set, string Method, MatchingScheme Scheme, PoseEvaluationResult Result, double MedianInliers, double MeanMatchSeconds);

public sealed record RetrievalEvaluationResult(IReadOnlyList<RetrievalRecallRow> Recall, IReadOnlyList<RetrievalLocalizationRow> Localization, IReadOnlyList<int> Ks,
    IReadOnlyList<QueryDiagnosisRow> Diagnoses)
{
    /// <summary>Queries that could not be read or extracted, a line each (file and reason): they
    /// count as queries with nothing retrieved and no pose; the run went on.</summary>
    public IReadOnlyList<string> Errors { get; init; } = Array.Empty<string>();
}


/// <summary>
/// Retrieval measured against the map itself. A database image is <em>relevant</em> to a query
/// with a true pose when it shares at least <see cref="RelevanceOptions.MinSharedPoints"/> of the
/// map points that pose sees (<see cref="PoseVisibility"/>: projected, not hidden behind nearer
/// points, observed from within 60° of the query's rays). The ground-truth ranking orders the
/// database images by shared points; its top N are the oracle pairs. Recall@k: the share of
/// queries (with at least one relevant image) that have a relevant image among their k first
/// retrieved ones.
/// </summary>
public static class RetrievalEvaluation
{
    /// <summary>Database images sharing points with the query (image id → shared points), for the true pose.</summary>
    public static Dictionary<int, int> SharedPoints(MapIndex map, Camera camera, Pose truePose, RelevanceOptions? options = null) =>
        PoseVisibility.SharedPoints(map, camera, truePose, options);

    /// <summary>The ground-truth ranking: database images by shared points, most first (ties by id), relevant ones only.</summary>
    public static List<int> RelevantRanking(Dictionary<int, int> shared, RelevanceOptions? options = null) =>
        PoseVisibility.Ranking(shared, options);

    /// <summary>Recall@k for each k: the share of the queries whose first k retrieved images hold a relevant one.
    /// Queries without any relevant image are left out (the caller reports how many).</summary>
    public static double[] RecallAt(IReadOnlyList<(IReadOnlyList<int> Retrieved, IReadOnlySet<int> Relevant)> queries, IReadOnlyList<int> ks)
    {
        var counted = queries.Where(q => q.Relevant.Count > 0).ToList();
        return ks.Select(k => counted.Count == 0 ? double.NaN
            : counted.Count(q => q.Retrieved.Take(k).Any(q.Relevant.Contains)) / (double)counted.Count).ToArray();
    }
}

/// <summary>The tables of <c>localize evaluate-retrieval</c>.</summary>
public static class RetrievalEvaluationTable
{
    public static string Recall(RetrievalEvaluationResult r)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var header = new[] { "set", "method", "queries", "with relevant" }.Concat(r.Ks.Select(k => $"R@{k}")).Concat(new[] { "ms/query (median)", "ms/query (mean)" }).ToArray();
        var rows = r.Recall.Select(x => new[] { x.Set, x.Method, x.Queries.ToString(inv), x.WithRelevant.ToString(inv) }
            .Concat(x.Recall.Select(v => double.IsNaN(v) ? "-" : (100 * v).ToString("F1", inv) + "%"))
            .Concat(new[] { x.MedianMs.ToString("F1", inv), x.MeanMs.ToString("F1", inv) }).ToArray());
        return PoseEvaluationTable.Align(header, rows);
    }

    public static string Localization(RetrievalEvaluationResult r, IReadOnlyList<PoseThreshold> thresholds)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var header = new[] { "set", "images from", "matching" }.Concat(thresholds.Select(t => t.ToString()))
            .Concat(new[] { "median pos", "median rot", "med inliers", "match s/query" }).ToArray();
        var rows = r.Localization.Select(x => new[] { x.Set, x.Method, MatchingSchemes.Name(x.Scheme) }
            .Concat(thresholds.Select(t => (100 * x.Result.ShareWithin(t)).ToString("F1", inv) + "%"))
            .Concat(new[]
            {
                double.IsPositiveInfinity(x.Result.MedianPositionMetres) ? "inf" : (x.Result.MedianPositionMetres * 100).ToString("F2", inv) + " cm",
                double.IsPositiveInfinity(x.Result.MedianRotationRadians) ? "inf" : (x.Result.MedianRotationRadians * 180 / Math.PI).ToString("F3", inv) + "°",
                x.MedianInliers.ToString("F0", inv), x.MeanMatchSeconds.ToString("F3", inv),
            }).ToArray());
        return PoseEvaluationTable.Align(header, rows);
    }
}
