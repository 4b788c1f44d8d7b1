using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using OpenCvSharp;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize bench-pnp`: PnP-RANSAC time on synthetic matches, ours against OpenCV's solvePnPRansac (P3P) in the same run.</summary>
internal static class BenchPnpCommand
{
    public static Command Create()
    {
        var matches = new Option<int>("--matches") { Description = "2D–3D matches per query", DefaultValueFactory = _ => 1000 };
        var outliers = new Option<double>("--outliers") { Description = "share of wrong matches", DefaultValueFactory = _ => 0.5 };
        var queries = new Option<int>("--queries") { Description = "synthetic queries", DefaultValueFactory = _ => 100 };
        var threshold = new Option<double>("--threshold") { Description = "inlier threshold (px) of both solvers", DefaultValueFactory = _ => new PnpOptions().ThresholdPx }.Above(0);
        var cmd = new Command("bench-pnp", "Benchmark: PnP-RANSAC on synthetic 2D–3D matches, ours vs OpenCV (JSON on stdout).");
        foreach (var o in new Option[] { matches, outliers, queries, threshold }) cmd.Options.Add(o);
        cmd.SetAction(r =>
        {
            int n = r.GetValue(matches), q = r.GetValue(queries);
            var k = new PinholeIntrinsics(1000, 1000, 640, 480);
            // Both solvers get the same threshold, confidence and iteration cap.
            var options = new PnpOptions { ThresholdPx = r.GetValue(threshold) };
            var scenes = Enumerable.Range(0, q).Select(s => Scene(s, n, r.GetValue(outliers), k)).ToList();
            PnpRansac.Estimate(scenes[0].Px, scenes[0].Pw, k, options); // JIT
            var ours = new List<double>(); var cv = new List<double>();
            var oursErr = new List<double>(); var cvErr = new List<double>();
            using var cam = Mat.FromArray(new double[,] { { k.Fx, 0, k.Cx }, { 0, k.Fy, k.Cy }, { 0, 0, 1 } });
            using var dist = new Mat();
            foreach (var s in scenes)
            {
                var sw = Stopwatch.StartNew();
                var res = PnpRansac.Estimate(s.Px, s.Pw, k, options);
                ours.Add(sw.Elapsed.TotalMilliseconds);
                oursErr.Add(res == null ? double.PositiveInfinity : Distance(res.Pose.CameraCenter, s.Truth.CameraCenter));
                using var obj = Mat.FromArray(Enumerable.Range(0, n).Select(i => new Point3f((float)s.Pw[3 * i], (float)s.Pw[3 * i + 1], (float)s.Pw[3 * i + 2])).ToArray());
                using var img = Mat.FromArray(Enumerable.Range(0, n).Select(i => new Point2f((float)s.Px[2 * i], (float)s.Px[2 * i + 1])).ToArray());
                using var rvec = new Mat(); using var tvec = new Mat(); using var inl = new Mat();
                sw.Restart();
                Cv2.SolvePnPRansac(obj, img, cam, dist, rvec, tvec, false, options.MaxIterations, (float)options.ThresholdPx, options.Confidence, inl, SolvePnPMethod.P3P);
                cv.Add(sw.Elapsed.TotalMilliseconds);
                using var rot = new Mat();
                Cv2.Rodrigues(rvec, rot);
                var rr = new double[9]; for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) rr[3 * i + j] = rot.At<double>(i, j);
                cvErr.Add(Distance(new Pose(rr, new[] { tvec.At<double>(0), tvec.At<double>(1), tvec.At<double>(2) }).CameraCenter, s.Truth.CameraCenter));
            }
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["matches"] = n, ["outliers"] = r.GetValue(outliers), ["queries"] = q, ["threshold_px"] = options.ThresholdPx,
                ["ours_median_ms"] = Median(ours), ["opencv_median_ms"] = Median(cv),
                ["ours_median_position_error_m"] = Median(oursErr), ["opencv_median_position_error_m"] = Median(cvErr),
            }));
            return 0;
        });
        return cmd;
    }

    private static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());
    private static double Median(List<double> v) { var s = v.OrderBy(x => x).ToList(); return s[s.Count / 2]; }

    private static (Pose Truth, double[] Px, double[] Pw) Scene(int seed, int n, double outlierRatio, PinholeIntrinsics k)
    {
        var rng = new Random(seed);
        var q = new[] { rng.NextDouble() * 2 - 1, rng.NextDouble() * 2 - 1, rng.NextDouble() * 2 - 1, rng.NextDouble() * 2 - 1 };
        var r = Rotations.FromQuaternion(q);
        var t = new[] { rng.NextDouble() * 10 - 5, rng.NextDouble() * 10 - 5, rng.NextDouble() * 10 - 5 };
        var rt = Rotations.Transpose(r);
        var px = new double[2 * n]; var pw = new double[3 * n];
        for (int i = 0; i < n; i++)
        {
            double u = rng.NextDouble() * 1280, v = rng.NextDouble() * 960, depth = 5 + 30 * rng.NextDouble();
            var xc = new[] { (u - k.Cx) / k.Fx * depth - t[0], (v - k.Cy) / k.Fy * depth - t[1], depth - t[2] };
            Rotations.Apply(rt, xc[0], xc[1], xc[2]).CopyTo(pw, 3 * i);
            bool bad = rng.NextDouble() < outlierRatio;
            px[2 * i] = bad ? rng.NextDouble() * 1280 : u + rng.NextDouble() - 0.5;
            px[2 * i + 1] = bad ? rng.NextDouble() * 960 : v + rng.NextDouble() - 0.5;
        }
        return (new Pose(r, t), px, pw);
    }
}
