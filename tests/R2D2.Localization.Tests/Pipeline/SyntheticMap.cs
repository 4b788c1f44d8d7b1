using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;
using R2D2.Localization.Tests.Geometry;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>
/// A feature database whose features are known: posed pinhole cameras on a ring around a cloud of
/// points (<see cref="SyntheticScene"/>), each image registered with its pose and holding, for each
/// point it detects (4 in 5), the point's projection with pixel noise and the point's own sparse
/// non-negative descriptor with a little noise, plus random distractors. The features carry the
/// identity of RootSIFT with default settings, so a map build with <see cref="Source"/> finds
/// every image stored and runs its other stages on them: no image file is read.
/// </summary>
internal sealed class SyntheticMap
{
    public static readonly Camera Camera = new(0, CameraModel.SimplePinhole, 640, 480, new[] { SyntheticScene.F, SyntheticScene.Cx, SyntheticScene.Cy });

    public SyntheticScene Scene { get; }
    public List<PosedImage> Images { get; }
    public string Folder { get; } = TempDir.Create();
    public string DbPath => Path.Combine(Folder, "map.db");
    /// <summary>Per image (in order), the point each keypoint is the projection of (−1: a distractor).</summary>
    public List<int[]> PointOf { get; } = new();

    public SyntheticMap(int seed, int cameras, int points, int distractors = 40, double noisePx = 0.3)
    {
        Scene = new SyntheticScene(seed, cameras, points);
        Images = Enumerable.Range(0, cameras).Select(c => new PosedImage($"cam{c:D2}.jpg", Camera, new Pose(Scene.Cameras[c].R, Scene.Cameras[c].T))).ToList();
        var rng = new Random(seed);
        var descriptors = Enumerable.Range(0, points).Select(_ => SparseDescriptor(rng)).ToList();
        using var db = FeatureDatabase.Open(DbPath);
        using var source = Source();
        ImageRegistration.RegisterImages(db, Images);
        var ids = db.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        for (int c = 0; c < cameras; c++)
        {
            var kps = new List<(double X, double Y, float[] D, int Point)>();
            for (int p = 0; p < points; p++)
            {
                if (rng.NextDouble() >= 0.8) continue;
                var (u, v) = Scene.Project(c, Scene.Points[p], noisePx);
                kps.Add((u, v, Jitter(descriptors[p], rng), p));
            }
            for (int d = 0; d < distractors; d++) kps.Add((rng.NextDouble() * 639, rng.NextDouble() * 479, SparseDescriptor(rng), -1));
            kps = kps.OrderBy(_ => rng.Next()).ToList(); // keypoint order says nothing about the point
            PointOf.Add(kps.Select(k => k.Point).ToArray());
            db.WriteFeatures(ids[Images[c].Name], Features(kps), source.Identity);
        }
    }

    /// <summary>The extractor whose identity the features carry (its extraction never runs: every image is stored).</summary>
    public static FeatureSource Source() => FeatureSource.ForRootSift();

    /// <summary>A synthetic map of 6 cameras and 300 points built (exhaustive pairs, with its ASMK index) and loaded.</summary>
    public static (SyntheticMap S, MapIndex Map) Built(int seed)
    {
        var s = new SyntheticMap(seed, cameras: 6, points: 300);
        using var source = Source();
        R2D2.Localization.Pipeline.MapBuildRunner.Run(s.DbPath, new R2D2.Localization.Pipeline.MapBuildInputs(s.Images, s.Folder, source),
            new R2D2.Localization.Pipeline.MapBuildOptions { Pairs = R2D2.Localization.Pipeline.PairSpec.Exhaustive });
        using var db = FeatureDatabase.OpenReadOnly(s.DbPath);
        return (s, MapIndex.Load(db));
    }

    /// <summary>The stored features of image <paramref name="id"/> of a database.</summary>
    public static FeatureSet Stored(string dbPath, int id)
    {
        using var db = FeatureDatabase.OpenReadOnly(dbPath);
        return db.ReadFeatures(id)!;
    }

    /// <summary>12 of 128 dimensions set, unit length: two points' descriptors barely overlap.</summary>
    private static float[] SparseDescriptor(Random rng)
    {
        var d = new float[128];
        for (int i = 0; i < 12; i++) d[rng.Next(128)] = 0.2f + rng.NextSingle();
        return Normalized(d);
    }

    private static float[] Jitter(float[] d, Random rng) => Normalized(d.Select(v => v == 0 ? 0 : Math.Max(0, v * (1 + 0.05f * (rng.NextSingle() * 2 - 1)))).ToArray());

    private static float[] Normalized(float[] d)
    {
        float n = MathF.Sqrt(d.Sum(v => v * v));
        return d.Select(v => v / n).ToArray();
    }

    private static FeatureSet Features(List<(double X, double Y, float[] D, int Point)> kps)
    {
        var x = kps.Select(k => (float)k.X).ToArray();
        var y = kps.Select(k => (float)k.Y).ToArray();
        var ones = Enumerable.Repeat(1f, kps.Count).ToArray();
        return new FeatureSet
        {
            ImageWidth = 640, ImageHeight = 480, X = x, Y = y, OfficialX = x, OfficialY = y,
            Scale = Enumerable.Repeat(4f, kps.Count).ToArray(), Score = ones, Reliability = ones, Repeatability = ones,
            Descriptors = kps.SelectMany(k => k.D).ToArray(), Dim = 128,
        };
    }
}
