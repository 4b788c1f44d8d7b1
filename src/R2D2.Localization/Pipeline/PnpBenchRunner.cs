using System.Diagnostics;
using OpenCvSharp;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Pipeline;

public sealed record PnpBenchOptions
{
    /// <summary>2D–3D matches per query (P3P's minimal sample is 4).</summary>
    public int Matches { get; init; } = 1000;
    /// <summary>Share of wrong matches, in [0, 1).</summary>
    public double Outliers { get; init; } = 0.5;
    public int Queries { get; init; } = 100;
    /// <summary>Inlier threshold (px) of both solvers.</summary>
    public double ThresholdPx { get; init; } = new PnpOptions().ThresholdPx;
}

/// <summary>Median times and position errors, and the queries each solver found no pose for; a
/// median error is null where half the queries or more have no pose (it would be infinite).</summary>
public sealed record PnpBenchResult(double OursMedianMs, double OpenCvMedianMs, double? OursMedianErrorMetres, double? OpenCvMedianErrorMetres)
{
    public int OursNoPose { get; init; }
    public int OpenCvNoPose { get; init; }
}

/// <summary>
/// PnP-RANSAC time on synthetic matches (tools/bench/query): ours against OpenCV's solvePnPRansac
/// (P3P) on the same queries in the same run, with the same threshold, confidence and iteration
/// cap. Each query: a random pose, points 5–35 m deep seen by a 1280×960 pinhole camera (f = 1000),
/// the inliers' pixels moved by uniform noise of ±0.5 px, the outliers' drawn anywhere in the image.
/// </summary>
public static class PnpBenchRunner
{
    public static PnpBenchResult Run(PnpBenchOptions o)
    {
        if (o.Matches < 4) throw new UsageException($"--matches must be ≥ 4 (P3P's sample), got {o.Matches}");
        if (!(o.Outliers >= 0 && o.Outliers < 1)) throw new UsageException($"--outliers must be in [0, 1), got {o.Outliers}");
        if (o.Queries < 1) throw new UsageException($"--queries must be ≥ 1, got {o.Queries}");
        var k = new PinholeIntrinsics(1000, 1000, 640, 480);
        var options = new PnpOptions { ThresholdPx = o.ThresholdPx };
        var scenes = Enumerable.Range(0, o.Queries).Select(s => Scene((ulong)s, o.Matches, o.Outliers, k)).ToList();
        PnpRansac.Estimate(scenes[0].Px, scenes[0].Pw, k, options); // JIT, untimed
        var ours = new List<double>(); var cv = new List<double>();
        var oursErr = new List<double>(); var cvErr = new List<double>();
        using var cam = Mat.FromArray(new double[,] { { k.Fx, 0, k.Cx }, { 0, k.Fy, k.Cy }, { 0, 0, 1 } });
        using var dist = new Mat();
        int n = o.Matches;
        foreach (var s in scenes)
        {
            var sw = Stopwatch.StartNew();
            var res = PnpRansac.Estimate(s.Px, s.Pw, k, options);
            ours.Add(sw.Elapsed.TotalMilliseconds);
            oursErr.Add(res == null ? double.PositiveInfinity : PoseEvaluation.PositionError(res.Pose, s.Truth));
            using var obj = Mat.FromArray(Enumerable.Range(0, n).Select(i => new Point3f((float)s.Pw[3 * i], (float)s.Pw[3 * i + 1], (float)s.Pw[3 * i + 2])).ToArray());
            using var img = Mat.FromArray(Enumerable.Range(0, n).Select(i => new Point2f((float)s.Px[2 * i], (float)s.Px[2 * i + 1])).ToArray());
            using var rvec = new Mat(); using var tvec = new Mat(); using var inl = new Mat();
            sw.Restart();
            Cv2.SolvePnPRansac(obj, img, cam, dist, rvec, tvec, false, options.MaxIterations, (float)options.ThresholdPx, options.Confidence, inl, SolvePnPMethod.P3P);
            cv.Add(sw.Elapsed.TotalMilliseconds);
            if (rvec.Empty() || inl.Empty()) { cvErr.Add(double.PositiveInfinity); continue; }
            using var rot = new Mat();
            Cv2.Rodrigues(rvec, rot);
            var rr = new double[9];
            for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) rr[3 * i + j] = rot.At<double>(i, j);
            cvErr.Add(PoseEvaluation.PositionError(new Pose(rr, new[] { tvec.At<double>(0), tvec.At<double>(1), tvec.At<double>(2) }), s.Truth));
        }
        static double? Finite(double v) => double.IsFinite(v) ? v : null;
        return new PnpBenchResult(Statistics.Median(ours), Statistics.Median(cv), Finite(Statistics.Median(oursErr)), Finite(Statistics.Median(cvErr)))
        {
            OursNoPose = oursErr.Count(double.IsInfinity), OpenCvNoPose = cvErr.Count(double.IsInfinity),
        };
    }

    private static (Pose Truth, double[] Px, double[] Pw) Scene(ulong seed, int n, double outlierRatio, PinholeIntrinsics k)
    {
        var rng = new Rng(Rng.Hash(seed, 0x706e70));
        var q = new[] { rng.Uniform(-1, 1), rng.Uniform(-1, 1), rng.Uniform(-1, 1), rng.Uniform(-1, 1) };
        var r = Rotations.FromQuaternion(q);
        var t = new[] { rng.Uniform(-5, 5), rng.Uniform(-5, 5), rng.Uniform(-5, 5) };
        var rt = Rotations.Transpose(r);
        var px = new double[2 * n]; var pw = new double[3 * n];
        for (int i = 0; i < n; i++)
        {
            double u = rng.Uniform(0, 1280), v = rng.Uniform(0, 960), depth = rng.Uniform(5, 35);
            var xc = new[] { (u - k.Cx) / k.Fx * depth - t[0], (v - k.Cy) / k.Fy * depth - t[1], depth - t[2] };
            Rotations.Apply(rt, xc[0], xc[1], xc[2]).CopyTo(pw, 3 * i);
            bool bad = rng.Chance(outlierRatio);
            px[2 * i] = bad ? rng.Uniform(0, 1280) : u + rng.Uniform(-0.5, 0.5);
            px[2 * i + 1] = bad ? rng.Uniform(0, 960) : v + rng.Uniform(-0.5, 0.5);
        }
        return (new Pose(r, t), px, pw);
    }
}
