using System.Globalization;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Evaluation;

/// <summary>A pose counts as correct when its position error is at most <see cref="PositionMetres"/>
/// and its rotation error at most <see cref="RotationRadians"/> (both bounds inclusive).</summary>
public readonly record struct PoseThreshold(double PositionMetres, double RotationRadians)
{
    public static PoseThreshold FromDegrees(double metres, double degrees) => new(metres, degrees * Math.PI / 180);

    public double RotationDegrees => RotationRadians * 180 / Math.PI;

    /// <summary>"0.25 m, 2°", as the benchmark writes its thresholds.</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{PositionMetres:0.###} m, {RotationDegrees:0.###}°");
}

/// <summary>A named list of thresholds, reported together as one table.</summary>
public sealed record ThresholdSet(string Name, IReadOnlyList<PoseThreshold> Thresholds)
{
    /// <summary>What visuallocalization.net reports for Aachen Day-Night v1.1, day and night
    /// queries alike: (0.25 m, 2°), (0.5 m, 5°), (5 m, 10°).</summary>
    public static ThresholdSet Aachen { get; } = new("Aachen (current)", new[]
    {
        PoseThreshold.FromDegrees(0.25, 2), PoseThreshold.FromDegrees(0.5, 5), PoseThreshold.FromDegrees(5, 10),
    });

    /// <summary>The original Aachen Day-Night v1.0 night-query thresholds (Sattler et al., CVPR
    /// 2018), which older papers (R2D2's included) report: (0.5 m, 2°), (1 m, 5°), (5 m, 10°).</summary>
    public static ThresholdSet AachenV1_0 { get; } = new("Aachen v1.0 (original)", new[]
    {
        PoseThreshold.FromDegrees(0.5, 2), PoseThreshold.FromDegrees(1, 5), PoseThreshold.FromDegrees(5, 10),
    });
}

/// <summary>One ground-truth query's errors. A query with no estimated pose is
/// <see cref="Missing"/> and has infinite errors, so it fails every threshold and sorts last.</summary>
public sealed record QueryError(string Name, double PositionMetres, double RotationRadians)
{
    public bool Missing => double.IsPositiveInfinity(PositionMetres);
    public double RotationDegrees => RotationRadians * 180 / Math.PI;
    public bool Within(PoseThreshold t) => PositionMetres <= t.PositionMetres && RotationRadians <= t.RotationRadians;
}

/// <summary>
/// The errors of a set of estimated poses against ground truth, one per ground-truth query.
/// Queries the estimate lacks count as failures: they are in <see cref="Queries"/> with infinite
/// errors, so shares are out of every ground-truth query and medians treat them as the worst.
/// Estimates for images the ground truth lacks are listed in <see cref="Unmatched"/> and ignored.
/// </summary>
public sealed class PoseEvaluationResult
{
    public PoseEvaluationResult(IReadOnlyList<QueryError> queries, IReadOnlyList<string> unmatched)
    {
        Queries = queries;
        Unmatched = unmatched;
    }

    /// <summary>Every ground-truth query, in the ground truth's order.</summary>
    public IReadOnlyList<QueryError> Queries { get; }
    /// <summary>Names with an estimate but no ground truth.</summary>
    public IReadOnlyList<string> Unmatched { get; }
    public int MissingCount => Queries.Count(q => q.Missing);
    public int LocalizedCount => Queries.Count - MissingCount;

    /// <summary>The share (0–1) of ground-truth queries within the threshold; 0 without queries.</summary>
    public double ShareWithin(PoseThreshold t) => Queries.Count == 0 ? 0 : (double)Queries.Count(q => q.Within(t)) / Queries.Count;

    /// <summary>Median position error (metres) over all queries, missing ones counted as ∞ (so it
    /// is ∞ when half of them or more are missing); NaN without queries.</summary>
    public double MedianPositionMetres => Statistics.Median(Queries.Select(q => q.PositionMetres));
    /// <summary>Median rotation error (radians), as <see cref="MedianPositionMetres"/>.</summary>
    public double MedianRotationRadians => Statistics.Median(Queries.Select(q => q.RotationRadians));
}

/// <summary>Pose errors the way visuallocalization.net measures them. Pure functions.</summary>
public static class PoseEvaluation
{
    /// <summary>The distance (metres) between the camera centres C = −Rᵀt, not between the t's:
    /// t depends on the rotation, the centre is where the camera is.</summary>
    public static double PositionError(Pose estimate, Pose truth)
    {
        var a = estimate.CameraCenter;
        var b = truth.CameraCenter;
        double dx = a[0] - b[0], dy = a[1] - b[1], dz = a[2] - b[2];
        return Math.Sqrt(dx * dx + dy * dy + dz * dz);
    }

    /// <summary>The angle (radians, in [0, π]) of the rotation R_estᵀ·R_true between the two
    /// orientations. Computed as atan2(sin θ, cos θ) from the skew and trace parts of that
    /// matrix rather than acos of the trace alone: acos loses half the digits near 0, which would
    /// blur errors of a few thousandths of a degree, exactly the ones that decide the tight
    /// thresholds.</summary>
    public static double RotationError(Pose estimate, Pose truth) => Rotations.AngleBetweenRotations(estimate.Rotation, truth.Rotation);

    /// <summary>The errors of <paramref name="estimates"/> against <paramref name="truth"/>; images
    /// are matched by name, exactly (submissions and ground truth both use base names).</summary>
    public static PoseEvaluationResult Evaluate(IReadOnlyDictionary<string, Pose> estimates, IEnumerable<KeyValuePair<string, Pose>> truth)
    {
        var queries = new List<QueryError>();
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, gt) in truth)
        {
            if (!known.Add(name)) throw new DataFormatException($"ground truth: '{name}' comes twice");
            queries.Add(estimates.TryGetValue(name, out var est)
                ? new QueryError(name, PositionError(est, gt), RotationError(est, gt))
                : new QueryError(name, double.PositiveInfinity, double.PositiveInfinity));
        }
        var unmatched = estimates.Keys.Where(k => !known.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        return new PoseEvaluationResult(queries, unmatched);
    }

    /// <summary>The same, from lists of named poses (as <see cref="Formats.Submission.Read(string)"/> returns them).</summary>
    public static PoseEvaluationResult Evaluate(IEnumerable<Formats.ImagePose> estimates, IEnumerable<Formats.ImagePose> truth)
    {
        var byName = new Dictionary<string, Pose>(StringComparer.Ordinal);
        foreach (var e in estimates)
            if (!byName.TryAdd(e.Name, e.Pose)) throw new DataFormatException($"estimates: '{e.Name}' comes twice");
        return Evaluate(byName, truth.Select(t => KeyValuePair.Create(t.Name, t.Pose)));
    }
}
