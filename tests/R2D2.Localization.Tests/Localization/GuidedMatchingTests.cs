using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Tests.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Localization;

public class GuidedMatchingTests
{
    private static readonly PinholeIntrinsics K = new(500, 500, 320, 240);
    private const int W = 640, H = 480, Dim = 128;

    private static float[] UnitVector(Random rng)
    {
        var v = Enumerable.Range(0, Dim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float n = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    private static float[] Noisy(Random rng, float[] d, double sigma)
    {
        var v = d.Select(x => (float)(x + sigma * (rng.NextDouble() * 2 - 1))).ToArray();
        float n = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    /// <summary>Points seen by a random pose, their keypoints (projection + up to 1.5 px of noise,
    /// descriptor + noise), random distractor keypoints, and for every point a "twin": another point
    /// with the same descriptor that projects elsewhere in the image (a repeated facade).</summary>
    private static (Pose Truth, List<(double X, double Y, double Z)> Points, Half[] PointDesc, float[] Kx, float[] Ky, float[] KDesc, int[] KeypointOfPoint)
        Scene(int seed, int n = 200, int distractors = 300)
    {
        var rng = new Random(seed);
        var truth = new Pose(P3PTests.RandomRotation(rng), new[] { rng.NextDouble() * 4 - 2, rng.NextDouble() * 4 - 2, rng.NextDouble() * 4 - 2 });
        var points = new List<(double, double, double)>();
        var desc = new List<float[]>();
        var kx = new List<float>(); var ky = new List<float>(); var kd = new List<float[]>();
        var keypointOf = new List<int>();
        (double, double, double) Unproject(double u, double v, double depth)
        {
            var xc = new[] { (u - K.Cx) / K.Fx * depth - truth.Translation[0], (v - K.Cy) / K.Fy * depth - truth.Translation[1], depth - truth.Translation[2] };
            var xw = P3PTests.MulT(truth.Rotation, xc);
            return (xw[0], xw[1], xw[2]);
        }
        for (int j = 0; j < n; j++)
        {
            double u = 20 + rng.NextDouble() * (W - 40), v = 20 + rng.NextDouble() * (H - 40);
            points.Add(Unproject(u, v, 4 + 20 * rng.NextDouble()));
            var d = UnitVector(rng);
            desc.Add(d);
            kx.Add((float)(u + 1.5 * (rng.NextDouble() * 2 - 1))); ky.Add((float)(v + 1.5 * (rng.NextDouble() * 2 - 1)));
            kd.Add(Noisy(rng, d, 0.1));
            keypointOf.Add(j);
        }
        for (int j = 0; j < n; j++) // twins: same descriptor, projected at least 60 px away
        {
            double u, v;
            do { u = rng.NextDouble() * W; v = rng.NextDouble() * H; }
            while (Math.Abs(u - kx[j]) < 60 && Math.Abs(v - ky[j]) < 60);
            points.Add(Unproject(u, v, 4 + 20 * rng.NextDouble()));
            desc.Add(desc[j]);
            keypointOf.Add(-1);
        }
        for (int i = 0; i < distractors; i++)
        {
            kx.Add((float)(rng.NextDouble() * W)); ky.Add((float)(rng.NextDouble() * H));
            kd.Add(UnitVector(rng));
        }
        var pointDesc = desc.SelectMany(d => d).Select(x => (Half)x).ToArray();
        return (truth, points, pointDesc, kx.ToArray(), ky.ToArray(), kd.SelectMany(d => d).ToArray(), keypointOf.ToArray());
    }

    private static List<Match> Find(Pose pose, (Pose Truth, List<(double X, double Y, double Z)> Points, Half[] PointDesc, float[] Kx, float[] Ky, float[] KDesc, int[] KeypointOfPoint) s,
        GuidedMatchingOptions? o = null) =>
        GuidedMatching.Find(pose, K, W, H, s.Kx, s.Ky, s.KDesc, Dim, Enumerable.Range(0, s.Points.Count).ToArray(), j => s.Points[j], s.PointDesc, o ?? new GuidedMatchingOptions());

    [Fact]
    public void FindsTheTrueKeypointOfEveryPointNearItsProjectionAndNoneOfTheTwins()
    {
        for (int seed = 0; seed < 5; seed++)
        {
            var s = Scene(seed);
            // A first pose slightly off, as PnP on a few noisy night matches gives it.
            var r = Rotations.Multiply(Rotations.Exp(0.002, -0.001, 0.0015), s.Truth.Rotation);
            var pose = new Pose(r, s.Truth.Translation.Select(t => t + 0.01).ToArray());
            var matches = Find(pose, s);
            int correct = matches.Count(m => s.KeypointOfPoint[m.J] == m.I);
            Assert.True(matches.Count - correct == 0, $"seed {seed}: {matches.Count - correct} wrong matches");
            Assert.True(correct >= 0.95 * 200, $"seed {seed}: {correct} of 200 points matched");
            Assert.Equal(matches.Count, matches.Select(m => m.I).Distinct().Count());
            Assert.Equal(matches.Count, matches.Select(m => m.J).Distinct().Count());
        }
    }

    [Fact]
    public void AWrongPoseFindsFewMatches()
    {
        var s = Scene(7);
        var far = new Pose(s.Truth.Rotation, s.Truth.Translation.Select(t => t + 1.5).ToArray());
        Assert.True(Find(far, s).Count < 20);
    }

    [Fact]
    public void PointsBehindTheCameraAreNotMatched()
    {
        var s = Scene(3);
        // The camera turned around: every point is behind it.
        var back = new Pose(Rotations.Multiply(Rotations.Exp(0, Math.PI, 0), s.Truth.Rotation), s.Truth.Translation);
        Assert.Empty(Find(back, s));
    }

    [Fact]
    public void TheRatioTestRejectsTwoEquallyGoodKeypointsInTheRadius()
    {
        var s = Scene(11, n: 1, distractors: 0);
        // A second keypoint 2 px from the first with the same descriptor: ambiguous.
        var kx = s.Kx.Append(s.Kx[0] + 2).ToArray();
        var ky = s.Ky.Append(s.Ky[0]).ToArray();
        var kd = s.KDesc.Concat(s.KDesc.AsSpan(0, Dim).ToArray()).ToArray();
        var ambiguous = s with { Kx = kx, Ky = ky, KDesc = kd };
        Assert.Single(Find(s.Truth, s, new GuidedMatchingOptions { Ratio = 0.9 }), m => m.J == 0);
        Assert.DoesNotContain(Find(s.Truth, ambiguous, new GuidedMatchingOptions { Ratio = 0.9 }), m => m.J == 0);
    }
}
