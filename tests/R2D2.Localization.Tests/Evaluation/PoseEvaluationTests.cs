using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>Poses with a known error, for the evaluation tests.</summary>
internal static class PosePerturbation
{
    /// <summary>A pose whose camera centre is <paramref name="metres"/> from the truth's (random
    /// direction) and whose orientation is turned by <paramref name="radians"/> (random axis).</summary>
    public static Pose Perturb(Pose truth, double metres, double radians, Random rng)
    {
        var axis = RandomGeometry.Normalize(new[] { RandomGeometry.Gaussian(rng), RandomGeometry.Gaussian(rng), RandomGeometry.Gaussian(rng) });
        var turn = Rotations.Exp(axis[0] * radians, axis[1] * radians, axis[2] * radians);
        var rotation = Rotations.Multiply(turn, truth.Rotation);
        var dir = RandomGeometry.Normalize(new[] { RandomGeometry.Gaussian(rng), RandomGeometry.Gaussian(rng), RandomGeometry.Gaussian(rng) });
        var c = truth.CameraCenter;
        return Pose.FromCameraCenter(rotation, new[] { c[0] + metres * dir[0], c[1] + metres * dir[1], c[2] + metres * dir[2] });
    }
}

public class PoseEvaluationTests
{
    [Fact]
    public void KnownPerturbationsGiveKnownErrors()
    {
        var rng = new Random(5);
        for (int trial = 0; trial < 2000; trial++)
        {
            var truth = RandomGeometry.RandomPose(rng, 200);
            // Log-uniform sizes, down to where a naive acos of the trace would read 0.
            double metres = Math.Pow(10, -4 + 6 * rng.NextDouble());
            double radians = trial % 10 == 0 ? Math.PI - 1e-3 * rng.NextDouble() : Math.Pow(10, -7 + 7.4 * rng.NextDouble());
            var estimate = PosePerturbation.Perturb(truth, metres, radians, rng);
            Assert.Equal(metres, PoseEvaluation.PositionError(estimate, truth), 1e-9 * Math.Max(1, metres));
            Assert.InRange(PoseEvaluation.RotationError(estimate, truth) - radians, -1e-12 - 1e-12 * radians, 1e-12 + 1e-12 * radians);
            // Symmetric: the error of the truth against the estimate is the same angle.
            Assert.Equal(PoseEvaluation.RotationError(estimate, truth), PoseEvaluation.RotationError(truth, estimate), 1e-12);
        }
    }

    [Fact]
    public void PositionIsTheCameraCentreNotTheTranslation()
    {
        // Same centre, turned 90°: t changes by metres, the position error is 0.
        var truth = Pose.FromCameraCenter(Rotations.Exp(0, 0, 0), new double[] { 10, 0, 0 });
        var turned = Pose.FromCameraCenter(Rotations.Exp(0, 0, Math.PI / 2), new double[] { 10, 0, 0 });
        Assert.Equal(0, PoseEvaluation.PositionError(turned, truth), 1e-12);
        Assert.Equal(90, PoseEvaluation.RotationError(turned, truth) * 180 / Math.PI, 1e-10);
    }

    /// <summary>Ten queries, two missing; errors chosen around the thresholds.</summary>
    private static PoseEvaluationResult HandMade() => new(new[]
    {
        Q("1", 0.01, 0.1), Q("2", 0.2, 1.9), Q("3", 0.2, 3), Q("4", 0.4, 1), Q("5", 0.8, 4),
        Q("6", 3, 9), Q("7", 0.1, 20), Q("8", 50, 1),
        new QueryError("9", double.PositiveInfinity, double.PositiveInfinity),
        new QueryError("10", double.PositiveInfinity, double.PositiveInfinity),
    }, Array.Empty<string>());

    private static QueryError Q(string name, double metres, double degrees) => new(name, metres, degrees * Math.PI / 180);

    [Fact]
    public void ThresholdSharesCountMissingQueriesAsFailures()
    {
        var r = HandMade();
        Assert.Equal(2, r.MissingCount);
        Assert.Equal(8, r.LocalizedCount);
        Assert.Equal(new[] { 0.2, 0.4, 0.6 }, ThresholdSet.Aachen.Thresholds.Select(r.ShareWithin));
        Assert.Equal(new[] { 0.3, 0.5, 0.6 }, ThresholdSet.AachenV1_0.Thresholds.Select(r.ShareWithin));
        Assert.Equal(0.1, r.ShareWithin(PoseThreshold.FromDegrees(0.05, 0.5)));
        // Medians over all ten, the two missing ones as ∞: (0.4 + 0.8) / 2 and (3° + 4°) / 2.
        Assert.Equal(0.6, r.MedianPositionMetres, 12);
        Assert.Equal(3.5, r.MedianRotationRadians * 180 / Math.PI, 12);
    }

    [Fact]
    public void BoundsAreInclusiveAndHalfMissingMakesInfiniteMedians()
    {
        var t = PoseThreshold.FromDegrees(0.25, 2);
        Assert.True(new QueryError("a", 0.25, t.RotationRadians).Within(t));
        Assert.False(new QueryError("a", Math.BitIncrement(0.25), t.RotationRadians).Within(t));
        Assert.Equal("0.25 m, 2°", t.ToString());
        var r = new PoseEvaluationResult(new[] { Q("a", 1, 1), new QueryError("b", double.PositiveInfinity, double.PositiveInfinity) }, Array.Empty<string>());
        Assert.True(double.IsPositiveInfinity(r.MedianPositionMetres));
        Assert.Contains("inf", PoseEvaluationTable.Summary(new[] { new EvaluatedRun("r", r) }));
    }

    [Fact]
    public void EvaluateMatchesByNameAndListsTheRest()
    {
        var rng = new Random(9);
        var truth = Enumerable.Range(0, 6).Select(i => new ImagePose($"q{i}.jpg", RandomGeometry.RandomPose(rng, 50))).ToList();
        var estimates = new List<ImagePose>
        {
            new("q0.jpg", truth[0].Pose),
            new("q1.jpg", PosePerturbation.Perturb(truth[1].Pose, 0.3, 0.01, rng)),
            new("q3.jpg", PosePerturbation.Perturb(truth[3].Pose, 7, 0.01, rng)),
            new("stranger.jpg", Pose.Identity),
        };
        var r = PoseEvaluation.Evaluate(estimates, truth);
        Assert.Equal(truth.Select(t => t.Name), r.Queries.Select(q => q.Name));
        Assert.Equal(new[] { false, false, true, false, true, true }, r.Queries.Select(q => q.Missing));
        Assert.Equal(0.3, r.Queries[1].PositionMetres, 9);
        Assert.Equal(new[] { "stranger.jpg" }, r.Unmatched);
        Assert.Equal(new[] { 1 / 6.0, 2 / 6.0, 2 / 6.0 }, ThresholdSet.Aachen.Thresholds.Select(r.ShareWithin));
    }

    [Fact]
    public void TablesAreAligned()
    {
        var runs = new[] { new EvaluatedRun("a-long-run-name", HandMade()), new EvaluatedRun("b", HandMade()) };
        foreach (var table in new[] { PoseEvaluationTable.Thresholds(ThresholdSet.Aachen, runs), PoseEvaluationTable.Summary(runs) })
        {
            var lines = table.TrimEnd('\n').Split('\n');
            Assert.Equal(4, lines.Length); // header, rule, two runs
            Assert.All(lines, l => Assert.Equal(lines[0].Length, l.Length)); // numbers right-aligned to the header's end
        }
        var rows = PoseEvaluationTable.Thresholds(ThresholdSet.Aachen, runs).Split('\n');
        Assert.StartsWith("Aachen (current)", rows[0]);
        Assert.Contains("0.25 m, 2°", rows[0]);
        Assert.Equal(new[] { "b", "20.0%", "40.0%", "60.0%" }, rows[3].Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var summary = PoseEvaluationTable.Summary(runs).Split('\n')[3].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(new[] { "b", "10", "8", "2", "0.600", "m", "3.500°" }, summary);
    }
}
