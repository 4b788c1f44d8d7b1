using System.CommandLine;
using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Mapping;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Cli.Commands;

/// <summary>
/// `localize bench-map`: the map stages (match, verify, triangulate, store) at scale on synthetic
/// posed images with synthetic features — cameras along a street looking at its facades, each
/// keypoint the noisy projection of a facade point with that point's noisy descriptor, plus
/// distractors — reporting seconds per image per stage, peak memory and database size.
/// </summary>
internal static class BenchMapCommand
{
    public static Command Create()
    {
        var images = new Option<int>("--images") { DefaultValueFactory = _ => 1000 };
        var keypoints = new Option<int>("--keypoints") { DefaultValueFactory = _ => 5000 };
        var pairsPerImage = new Option<int>("--pairs-per-image") { DefaultValueFactory = _ => 20 };
        var work = new Option<string>("--work") { DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "r2d2-bench-map") };
        var hardware = new DeviceOptionSet("cpu");
        var cmd = new Command("bench-map", "Benchmark: map stages on synthetic posed images and features (peak memory, seconds per image).") { Hidden = true };
        foreach (var o in new Option[] { images, keypoints, pairsPerImage, work }) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        cmd.SetAction(r =>
        {
            var dev = hardware.Resolve(r);
            int n = r.GetValue(images), k = r.GetValue(keypoints);
            Directory.CreateDirectory(r.GetValue(work)!);
            var dbPath = Path.Combine(r.GetValue(work)!, $"synthetic-{n}x{k}.db");
            foreach (var f in new[] { dbPath, dbPath + "-wal", dbPath + "-shm" }) if (File.Exists(f)) File.Delete(f);
            var seconds = new Dictionary<string, double>();
            var sw = Stopwatch.StartNew();
            void Done(string s) { seconds[s] = sw.Elapsed.TotalSeconds; sw.Restart(); Console.WriteLine($"bench-map: {s} {seconds[s]:F1} s, peak RSS {ExtractRunner.PeakRssMb():F0} MB"); }

            Street? scene = new Street(n, k, seed: 1);
            using var db = FeatureDatabase.Open(dbPath);
            var identity = ExtractorIdentity.ForR2D2("synthetic", "Quad_L2Net_ConfCFS()", "0000000000000000", new ExtractionSettings());
            ImageRegistration.RegisterImages(db, scene.Images);
            var ids = db.ReadImages().ToDictionary(i => i.Name, i => i.Id);
            for (int i = 0; i < n; i++) db.WriteFeatures(ids[scene.Images[i].Name], scene.Features(i), identity);
            var posedImages = scene.Images;
            scene = null;
            GC.Collect();
            // Reset the peak-RSS mark (Linux: clear_refs 5) so it measures the map stages, not the generator.
            try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            Done("write synthetic features");
            var pairs = PairsRunner.Run(PairSpec.FromPoses(r.GetValue(pairsPerImage)), posedImages);
            MatchRunner.Run(db, pairs, new MatchOptions { Device = dev });
            Done("match");
            var byName = posedImages.ToDictionary(p => p.Name);
            Verification.Run(db, pairs, new VerifyOptions { Poses = byName });
            Done("verify");
            var (points, stats) = TriangulationRunner.Run(db, byName, new TriangulationOptions());
            Done("triangulate");
            db.WriteMap(points, MapExport.SummaryJson(stats, n, seconds));
            Done("store");
            double bytes = new FileInfo(dbPath).Length + (File.Exists(dbPath + "-wal") ? new FileInfo(dbPath + "-wal").Length : 0);
            Console.WriteLine();
            Console.WriteLine($"machine: {Environment.ProcessorCount} logical CPUs; {n} images × {k} keypoints, {pairs.Count} pairs ({r.GetValue(pairsPerImage)} per image)");
            Console.WriteLine($"{"stage",-26}{"seconds",10}{"s / image",12}");
            foreach (var (stage, s) in seconds) Console.WriteLine($"{stage,-26}{s,10:F1}{s / n,12:F4}");
            Console.WriteLine($"map: {stats.Points} points, mean track length {stats.MeanTrackLength:F2}, mean reprojection error {stats.MeanReprojectionErrorPx:F2} px");
            Console.WriteLine($"peak RSS of the map stages {ExtractRunner.PeakRssMb():F0} MB; database {bytes / 1e6:F0} MB ({bytes / n / 1e6:F2} MB per image)");
            return 0;
        });
        return cmd;
    }

    /// <summary>Cameras every 1.5 m along a 2-sided street (x axis), alternately facing each facade.</summary>
    private sealed class Street
    {
        private readonly int _k;
        private readonly Random _rng;
        private readonly double[] _px; // facade points
        private readonly float[] _desc;
        public readonly List<PosedImage> Images = new();
        private static readonly Camera Cam = new(1, CameraModel.SimplePinhole, 1600, 1200, new[] { 1200.0, 799.5, 599.5 });

        public Street(int images, int keypoints, int seed)
        {
            _k = keypoints; _rng = new Random(seed);
            double length = images * 1.5 + 20;
            int pointCount = (int)(length * 2 * 400); // 400 points per metre of facade, both sides
            _px = new double[3 * pointCount];
            _desc = new float[128 * pointCount];
            for (int i = 0; i < pointCount; i++)
            {
                _px[3 * i] = -10 + (i + _rng.NextDouble()) * length / pointCount; // sorted by x
                _px[3 * i + 1] = i % 2 == 0 ? 8 : -8;            // facades at y = ±8 m
                _px[3 * i + 2] = _rng.NextDouble() * 12 - 2;      // heights −2..10 m (z up)
                RandomUnit(_desc.AsSpan(128 * i, 128));
            }
            for (int c = 0; c < images; c++)
            {
                double x = c * 1.5, side = c % 2 == 0 ? 1 : -1;
                // Camera z looks at the facade (±y), camera y points down (−z world), x completes the frame.
                var zc = new[] { 0.0, side, 0.0 }; var yc = new[] { 0.0, 0.0, -1.0 };
                var xc = new[] { yc[1] * zc[2] - yc[2] * zc[1], yc[2] * zc[0] - yc[0] * zc[2], yc[0] * zc[1] - yc[1] * zc[0] };
                var rot = new[] { xc[0], xc[1], xc[2], yc[0], yc[1], yc[2], zc[0], zc[1], zc[2] };
                Images.Add(new PosedImage($"street/{c:D5}.jpg", Cam, Pose.FromCameraCenter(rot, new[] { x, 0, 1.6 })));
            }
        }

        private void RandomUnit(Span<float> v)
        {
            double n = 0;
            for (int i = 0; i < v.Length; i++) { v[i] = (float)(_rng.NextDouble() * 2 - 1); n += v[i] * v[i]; }
            for (int i = 0; i < v.Length; i++) v[i] /= (float)Math.Sqrt(n);
        }

        public FeatureSet Features(int c)
        {
            var pose = Images[c].Pose; var k = Cam.Pinhole;
            double cx = pose.CameraCenter[0];
            var xs = new List<float>(); var ys = new List<float>(); var d = new List<float>();
            int n = _px.Length / 3;
            // Only points within 20 m along the street can be in view (the points are sorted by x).
            int lo = 0, hi = n;
            while (lo < hi) { int mid = (lo + hi) / 2; if (_px[3 * mid] < cx - 20) lo = mid + 1; else hi = mid; }
            for (int i = lo; i < n && _px[3 * i] <= cx + 20 && xs.Count < _k * 6 / 10; i++)
            {
                var p = pose.ToCamera(_px[3 * i], _px[3 * i + 1], _px[3 * i + 2]);
                if (p[2] <= 0.5) continue;
                double u = k.Fx * p[0] / p[2] + k.Cx, v = k.Fy * p[1] / p[2] + k.Cy;
                if (u < 0 || v < 0 || u > 1599 || v > 1199) continue;
                if (_rng.NextDouble() > 0.5) continue; // each point detected in half the images that see it
                xs.Add((float)(u + _rng.NextDouble() - 0.5)); ys.Add((float)(v + _rng.NextDouble() - 0.5));
                var desc = new float[128];
                double norm = 0;
                for (int j = 0; j < 128; j++) { desc[j] = _desc[128 * i + j] + (float)((_rng.NextDouble() - 0.5) * 0.05); norm += desc[j] * desc[j]; }
                for (int j = 0; j < 128; j++) d.Add(desc[j] / (float)Math.Sqrt(norm));
            }
            while (xs.Count < _k)
            {
                xs.Add((float)(_rng.NextDouble() * 1599)); ys.Add((float)(_rng.NextDouble() * 1199));
                var desc = new float[128]; RandomUnit(desc); d.AddRange(desc);
            }
            int m = xs.Count;
            var ones = Enumerable.Repeat(1f, m).ToArray();
            return new FeatureSet
            {
                ImageWidth = 1600, ImageHeight = 1200, X = xs.ToArray(), Y = ys.ToArray(), OfficialX = xs.ToArray(), OfficialY = ys.ToArray(),
                Scale = Enumerable.Repeat(32f, m).ToArray(), Score = ones, Reliability = ones, Repeatability = ones, Descriptors = d.ToArray(), Dim = 128,
            };
        }
    }
}
