using System.Diagnostics;
using OpenCvSharp;
using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Geometry;

public class PnpTests
{
    private static readonly PinholeIntrinsics K = new(1000, 1000, 640, 480);

    /// <summary>n matches of a random pose: inliers with pixel noise, outliers random pixels.</summary>
    internal static (Pose Truth, double[] Px, double[] Pw, bool[] Outlier) Scene(int seed, int n, double outlierRatio, double noisePx = 1)
    {
        var rng = new Random(seed);
        var r = P3PTests.RandomRotation(rng);
        var t = new[] { rng.NextDouble() * 10 - 5, rng.NextDouble() * 10 - 5, rng.NextDouble() * 10 - 5 };
        var px = new double[2 * n];
        var pw = new double[3 * n];
        var outlier = new bool[n];
        for (int i = 0; i < n; i++)
        {
            double u = rng.NextDouble() * 1280, v = rng.NextDouble() * 960, depth = 5 + 30 * rng.NextDouble();
            var xc = new[] { (u - K.Cx) / K.Fx * depth, (v - K.Cy) / K.Fy * depth, depth };
            var xw = P3PTests.MulT(r, new[] { xc[0] - t[0], xc[1] - t[1], xc[2] - t[2] });
            xw.CopyTo(pw, 3 * i);
            outlier[i] = rng.NextDouble() < outlierRatio;
            double g1 = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            double g2 = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            px[2 * i] = outlier[i] ? rng.NextDouble() * 1280 : u + noisePx * g1;
            px[2 * i + 1] = outlier[i] ? rng.NextDouble() * 960 : v + noisePx * g2;
        }
        return (new Pose(r, t), px, pw, outlier);
    }

    /// <summary>The same matches with the world moved to UTM-like coordinates (500 km east, 5,600 km
    /// north): the same inliers and the same position error (1–4 mm), where the refinement about the
    /// world's origin gave 1–3 cm.</summary>
    [Fact]
    public void ThePoseFarFromTheOriginIsAsPreciseAsNearIt()
    {
        var o = new[] { 500_000.0, 5_600_000.0, 120.0 };
        for (int seed = 0; seed < 5; seed++)
        {
            var (truth, px, pw, _) = Scene(seed, 400, 0.3);
            var near = PnpRansac.Estimate(px, pw, K)!;
            var moved = pw.Select((v, i) => v + o[i % 3]).ToArray();
            var far = PnpRansac.Estimate(px, moved, K)!;
            Assert.Equal(near.Inliers, far.Inliers);
            var c = far.Pose.CameraCenter;
            var farError = Math.Sqrt(Enumerable.Range(0, 3).Sum(k => Math.Pow(c[k] - o[k] - truth.CameraCenter[k], 2)));
            Assert.Equal(Error(near.Pose, truth).Position, farError, 6);
            Assert.True(Rotations.AngleBetweenRotations(near.Pose.Rotation, far.Pose.Rotation) < 1e-6);
        }
    }

    /// <summary>With most matches outliers every MSAC score is within the factor of the best: only
    /// hypotheses with half the best's inliers are optimized (all of them were, and the Aachen-size
    /// query's PnP took 3× as long), and the pose is as good.</summary>
    [Fact]
    public void OnlyHypothesesWithHalfTheBestsInliersAreOptimized()
    {
        for (int seed = 0; seed < 3; seed++)
        {
            var (truth, px, pw, _) = Scene(seed, 1000, 0.8);
            var all = PnpRansac.Estimate(px, pw, K, new PnpOptions { LocalOptimizationMinShare = 0 })!;
            var some = PnpRansac.Estimate(px, pw, K)!;
            Assert.Equal(all.Iterations, some.Iterations);
            Assert.True(some.Optimized * 10 < all.Optimized, $"{some.Optimized} of {all.Optimized}");
            Assert.True(Error(some.Pose, truth).Position < 0.05 && Math.Abs(some.Inliers.Length - all.Inliers.Length) <= 2, $"{Error(some.Pose, truth)}, {some.Inliers.Length} against {all.Inliers.Length}");
        }
    }

    private static (double Position, double RotationDeg) Error(Pose a, Pose b)
    {
        var ca = a.CameraCenter; var cb = b.CameraCenter;
        return (Math.Sqrt(ca.Zip(cb, (x, y) => (x - y) * (x - y)).Sum()), Rotations.AngleBetweenRotations(a.Rotation, b.Rotation) * 180 / Math.PI);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.8)]
    public void LoRansacFindsThePoseAmongOutliers(double outliers)
    {
        for (int seed = 0; seed < 10; seed++)
        {
            var (truth, px, pw, isOut) = Scene(seed, 500, outliers);
            var res = PnpRansac.Estimate(px, pw, K);
            Assert.NotNull(res);
            var (dp, dr) = Error(res!.Pose, truth);
            Assert.True(dp < 0.1 && dr < 0.1, $"seed {seed}: position error {dp:F3} m, rotation {dr:F3}°");
            int trueInliers = isOut.Count(o => !o);
            Assert.InRange(res.Inliers.Length, trueInliers * 0.97, trueInliers * 1.2);
        }
    }

    /// <summary>A match set that cannot beat the inliers found elsewhere is given up after the
    /// iterations that would have found such a pose (38 for 301 of 500), not after 10,000; a set
    /// that beats the bound gets the same pose and inliers as without it.</summary>
    [Fact]
    public void ASetThatCannotBeatTheBestPoseIsGivenUpEarly()
    {
        var (_, px, pw, _) = Scene(3, 500, 1.0);
        Assert.Equal(new PnpOptions().MaxIterations, PnpRansac.Estimate(px, pw, K)!.Iterations);
        Assert.InRange(PnpRansac.Estimate(px, pw, K, inliersToBeat: 300)!.Iterations, 1, 38);
        var (_, px2, pw2, _) = Scene(5, 500, 0.5);
        var free = PnpRansac.Estimate(px2, pw2, K)!;
        var bounded = PnpRansac.Estimate(px2, pw2, K, inliersToBeat: 100)!;
        Assert.Equal(free.Inliers, bounded.Inliers);
        Assert.Equal(free.Pose.Rotation, bounded.Pose.Rotation);
        Assert.Equal(free.Pose.Translation, bounded.Pose.Translation);
    }

    /// <summary>Wrong matches 8.5 px off their true projections, all the same way (a facade's
    /// repeated window one cell over), lie near the 8 px threshold: the local optimization, whose loss
    /// scale is the threshold, is pulled until most of them count as inliers; the final Cauchy
    /// refinement (2 px) lets many go again. Its pose is kept although it has fewer inliers: going
    /// back to the local optimization's pose for that (the rule before) kept 47–59 of the 60 wrong
    /// matches and a mean rotation error of 0.10° over these 8 scenes, against 17–33 and 0.02°.</summary>
    [Fact]
    public void TheFinalRefinementIsKeptWhenMarginalMatchesLeaveIt()
    {
        var rotationErrors = new List<double>();
        for (int seed = 0; seed < 8; seed++)
        {
            var (truth, px, pw, _) = Scene(seed, 180, 0, noisePx: 1);
            var shifted = px.Select((v, i) => i >= 240 && i % 2 == 0 ? v + 8.5 : v).ToArray(); // the last 60
            var res = PnpRansac.Estimate(shifted, pw, K)!;
            int wrong = res.Inliers.Count(i => i >= 120);
            Assert.True(wrong <= 40, $"seed {seed}: {wrong} of the 60 wrong matches are inliers");
            Assert.True(res.Inliers.Count(i => i < 120) >= 115, $"seed {seed}: {res.Inliers.Count(i => i < 120)} of 120 right matches");
            rotationErrors.Add(Error(res.Pose, truth).RotationDeg);
        }
        Assert.True(rotationErrors.Average() < 0.05, $"mean rotation error {rotationErrors.Average():F3}°");
    }

    [Fact]
    public void NoiselessRefinementIsExact()
    {
        var (truth, px, pw, _) = Scene(3, 100, 0, noisePx: 0);
        var res = PnpRansac.Estimate(px, pw, K)!;
        var (dp, dr) = Error(res.Pose, truth);
        Assert.True(dp < 1e-6 && dr < 1e-6, $"{dp} {dr}");
    }

    [Fact]
    public void AgreesWithOpenCvSolvePnPRansac()
    {
        var (truth, px, pw, _) = Scene(11, 400, 0.5);
        var ours = PnpRansac.Estimate(px, pw, K)!;
        var obj = Enumerable.Range(0, 400).Select(i => new Point3f((float)pw[3 * i], (float)pw[3 * i + 1], (float)pw[3 * i + 2])).ToArray();
        var img = Enumerable.Range(0, 400).Select(i => new Point2f((float)px[2 * i], (float)px[2 * i + 1])).ToArray();
        using var objM = Mat.FromArray(obj);
        using var imgM = Mat.FromArray(img);
        using var cam = Mat.FromArray(new double[,] { { K.Fx, 0, K.Cx }, { 0, K.Fy, K.Cy }, { 0, 0, 1 } });
        using var dist = new Mat();
        using var rvec = new Mat(); using var tvec = new Mat(); using var inl = new Mat();
        Cv2.SolvePnPRansac(objM, imgM, cam, dist, rvec, tvec, false, 1000, 12, 0.9999, inl, SolvePnPMethod.P3P);
        using var rot = new Mat();
        Cv2.Rodrigues(rvec, rot);
        var r = new double[9]; for (int i = 0; i < 3; i++) for (int k = 0; k < 3; k++) r[3 * i + k] = rot.At<double>(i, k);
        var cv = new Pose(r, new[] { tvec.At<double>(0), tvec.At<double>(1), tvec.At<double>(2) });
        var (dpOurs, drOurs) = Error(ours.Pose, truth);
        var (dpCv, drCv) = Error(cv, truth);
        Assert.True(dpOurs <= dpCv * 1.5 + 1e-3, $"ours {dpOurs:F4} m vs OpenCV {dpCv:F4} m");
        Assert.True(drOurs <= drCv * 1.5 + 1e-3, $"ours {drOurs:F4}° vs OpenCV {drCv:F4}°");
        Assert.True(ours.Inliers.Length >= inl.Rows * 0.95, $"ours {ours.Inliers.Length} inliers vs OpenCV {inl.Rows}");
    }
}

public class PnpTimingTests
{
    private readonly Xunit.Abstractions.ITestOutputHelper _out;
    public PnpTimingTests(Xunit.Abstractions.ITestOutputHelper o) => _out = o;

    [Fact]
    public void ThousandMatchesHalfOutliersInAFewMilliseconds()
    {
        var k = new PinholeIntrinsics(1000, 1000, 640, 480);
        var scenes = Enumerable.Range(100, 20).Select(s => PnpTests.Scene(s, 1000, 0.5)).ToList();
        PnpRansac.Estimate(scenes[0].Px, scenes[0].Pw, k); // JIT warm-up
        var sw = Stopwatch.StartNew();
        foreach (var s in scenes) Assert.NotNull(PnpRansac.Estimate(s.Px, s.Pw, k));
        double ms = sw.Elapsed.TotalMilliseconds / scenes.Count;
        _out.WriteLine($"PnP-RANSAC, 1000 matches, 50% outliers: {ms:F2} ms per query");
        Assert.True(ms < 50, $"{ms:F1} ms"); // the benchmark holds the real target (5 ms); CI machines vary
    }
}
