using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Synthesis;

public sealed record SyntheticStreetOptions
{
    /// <summary>Database images: two per position (one facing each facade).</summary>
    public int Images { get; init; } = 1000;
    /// <summary>Keypoints per image: the detected projections of facade points, then clutter up to this.</summary>
    public int Keypoints { get; init; } = 20_000;
    /// <summary>Facade points per metre of street on each side (heights −2..10 m).</summary>
    public double PointsPerMetre { get; init; } = 380;
    /// <summary>Distance between two camera positions along the street (m).</summary>
    public double Spacing { get; init; } = 1.5;
    /// <summary>Chance that a database image detects a facade point it sees.</summary>
    public double Detection { get; init; } = 0.8;
    /// <summary>Per-component standard deviation of the noise added to a point's descriptor in a database image.</summary>
    public double DescriptorNoise { get; init; } = 0.02;
    public ulong Seed { get; init; }
}

/// <summary>
/// Synthetic posed images and features at any scale, without rendering: cameras along a straight
/// street (two per position, facing the facades at y = ±8 m, 1.6 m high), facade points laid out by
/// index along x, each with its own random unit descriptor. An image's keypoints are the projections
/// (±0.5 px) of the points it sees and detects, with the point's descriptor plus noise (so true
/// correspondences are nearest neighbours), then clutter (random positions and descriptors) up to
/// the keypoint count. Everything is a pure function of the seed and the index (a point's position
/// and descriptor of its own hash), so images are generated one at a time in constant memory, on
/// any thread, with the same bytes every time.
/// </summary>
public sealed class SyntheticStreet
{
    public const int Dim = 128;
    private const double FacadeDistance = 8, CameraHeight = 1.6, MinZ = -2, MaxZ = 10, Focal = 1200;
    private const int Width = 1600, Height = 1200;
    public static Camera Camera { get; } = new(1, CameraModel.SimplePinhole, Width, Height, new[] { Focal, 799.5, 599.5 });

    private readonly SyntheticStreetOptions _o;

    public SyntheticStreet(SyntheticStreetOptions o)
    {
        if (o.Images < 1 || o.Keypoints < 1) throw new ArgumentException("a synthetic street needs at least one image and one keypoint");
        _o = o;
        Images = Enumerable.Range(0, o.Images).Select(c => new PosedImage($"street/{c:D5}.jpg", Camera,
            Looking(c / 2 * o.Spacing, c % 2 == 0 ? 1 : -1, CameraHeight, 0))).ToList();
    }

    public IReadOnlyList<PosedImage> Images { get; }
    public SyntheticStreetOptions Options => _o;

    /// <summary>A facade point's id: side (0: y = +8, 1: y = −8) in the low bit, index along the street above.</summary>
    public static long PointId(int side, long index) => 2 * index + side;

    private (double X, double Y, double Z) PointPosition(long id)
    {
        long index = id >> 1;
        var r = new Rng(Rng.Hash(_o.Seed, (ulong)id, 1));
        double x = (index + r.NextDouble()) / _o.PointsPerMetre - 10;
        return (x, (id & 1) == 0 ? FacadeDistance : -FacadeDistance, MinZ + r.NextDouble() * (MaxZ - MinZ));
    }

    private void PointDescriptor(long id, Span<float> d) => RandomUnit(new Rng(Rng.Hash(_o.Seed, (ulong)id, 2)), d);

    private static void RandomUnit(Rng r, Span<float> d)
    {
        double n = 0;
        for (int j = 0; j < d.Length; j++) { d[j] = (float)r.Normal(); n += d[j] * d[j]; }
        float inv = (float)(1 / Math.Sqrt(n));
        for (int j = 0; j < d.Length; j++) d[j] *= inv;
    }

    /// <summary>A camera at (x, 0, height) facing the facade on side <paramref name="facing"/> (+1: +y), turned by <paramref name="yaw"/> radians about the vertical.</summary>
    private static Pose Looking(double x, int facing, double height, double yaw)
    {
        // Camera z along the view (±y turned by yaw), camera y down (−z world), x = y × z.
        double[] zc = { -Math.Sin(yaw) * facing, Math.Cos(yaw) * facing, 0 }, yc = { 0, 0, -1 };
        double[] xc = { yc[1] * zc[2] - yc[2] * zc[1], yc[2] * zc[0] - yc[0] * zc[2], yc[0] * zc[1] - yc[1] * zc[0] };
        return Pose.FromCameraCenter(new[] { xc[0], xc[1], xc[2], yc[0], yc[1], yc[2], zc[0], zc[1], zc[2] }, new[] { x, 0, height });
    }

    /// <summary>Database image <paramref name="c"/>'s features; <paramref name="pointIds"/> gives each keypoint's facade point (−1: clutter).</summary>
    public FeatureSet Features(int c, out long[] pointIds) =>
        Generate(Images[c].Pose, new Rng(Rng.Hash(_o.Seed, (ulong)c, 3)), _o.Detection, _o.DescriptorNoise, out pointIds);

    public FeatureSet Features(int c) => Features(c, out _);

    /// <summary>Database image <paramref name="c"/>'s keypoints' facade points (−1: clutter), as
    /// <see cref="Features(int, out long[])"/> gives them, without making its 10 MB of descriptors
    /// (the true matches of thousands of images: their descriptors were garbage the GC kept for a while).</summary>
    public long[] PointIds(int c)
    {
        Generate(Images[c].Pose, new Rng(Rng.Hash(_o.Seed, (ulong)c, 3)), _o.Detection, _o.DescriptorNoise, out var ids, descriptors: false);
        return ids;
    }

    /// <summary>Query <paramref name="q"/>: a camera between the database positions, at another height
    /// and heading (as Aachen's queries are not taken where its database photos were), with noisier
    /// descriptors and fewer detections (night); its true pose and features.</summary>
    public (string Name, Pose Pose, FeatureSet Features) Query(int q, double detection = 0.5, double descriptorNoise = 0.035)
    {
        var r = new Rng(Rng.Hash(_o.Seed, (ulong)q, 4));
        double length = Math.Max(0, (_o.Images - 1) / 2 * _o.Spacing);
        var pose = Looking(r.NextDouble() * length, r.Chance(0.5) ? 1 : -1, 1.2 + r.NextDouble(), (r.NextDouble() - 0.5) * 0.5);
        return ($"query/{q:D5}.jpg", pose, Generate(pose, r, detection, descriptorNoise, out _));
    }

    /// <param name="descriptors">false: the point ids only (the same random draws, nothing else made; the result is null).</param>
    private FeatureSet Generate(Pose pose, Rng r, double detection, double noise, out long[] pointIds, bool descriptors = true)
    {
        int k = _o.Keypoints;
        var x = new float[k]; var y = new float[k]; var ids = new long[k]; var desc = new float[descriptors ? k * Dim : 0];
        int n = 0;
        var centre = pose.CameraCenter;
        // The facade seen within ±25 m along the street (a 1600-px image 8 m from it sees ±5.4 m).
        for (int side = 0; side < 2 && n < k; side++)
        {
            long lo = Math.Max(0, (long)Math.Floor((centre[0] - 25 + 10) * _o.PointsPerMetre));
            long hi = (long)Math.Ceiling((centre[0] + 25 + 10) * _o.PointsPerMetre);
            for (long i = lo; i <= hi && n < k; i++)
            {
                long id = PointId(side, i);
                var (px, py, pz) = PointPosition(id);
                var p = pose.ToCamera(px, py, pz);
                if (p[2] <= 0.5) continue;
                double u = Focal * p[0] / p[2] + 799.5, v = Focal * p[1] / p[2] + 599.5;
                if (u < 0 || v < 0 || u > Width - 1 || v > Height - 1) continue;
                if (!r.Chance(detection)) continue;
                x[n] = (float)(u + r.NextDouble() - 0.5); y[n] = (float)(v + r.NextDouble() - 0.5); ids[n] = id;
                if (!descriptors)
                {
                    r.Skip(2L * Dim); // the noise's Dim normals, so the next detections are the same
                    n++;
                    continue;
                }
                var d = desc.AsSpan(n * Dim, Dim);
                PointDescriptor(id, d);
                double norm = 0;
                for (int j = 0; j < Dim; j++) { d[j] += (float)(r.Normal() * noise); norm += d[j] * d[j]; }
                float inv = (float)(1 / Math.Sqrt(norm));
                for (int j = 0; j < Dim; j++) d[j] *= inv;
                n++;
            }
        }
        if (!descriptors)
        {
            ids.AsSpan(n).Fill(-1); // clutter
            pointIds = ids;
            return null!;
        }
        for (; n < k; n++)
        {
            x[n] = (float)(r.NextDouble() * (Width - 1)); y[n] = (float)(r.NextDouble() * (Height - 1)); ids[n] = -1;
            RandomUnit(r, desc.AsSpan(n * Dim, Dim));
        }
        pointIds = ids;
        var ones = new float[k]; Array.Fill(ones, 1f);
        return new FeatureSet
        {
            ImageWidth = Width, ImageHeight = Height, X = x, Y = y, OfficialX = (float[])x.Clone(), OfficialY = (float[])y.Clone(),
            Scale = Enumerable.Repeat(32f, k).ToArray(), Score = ones, Reliability = ones, Repeatability = ones, Descriptors = desc, Dim = Dim,
        };
    }

    /// <summary>The true correspondences of two database images (keypoint indices sharing a facade point), from their point ids.</summary>
    public static List<Match> TrueMatches(long[] ids1, long[] ids2)
    {
        var at = new Dictionary<long, int>();
        for (int j = 0; j < ids2.Length; j++) if (ids2[j] >= 0) at[ids2[j]] = j;
        var m = new List<Match>();
        for (int i = 0; i < ids1.Length; i++) if (ids1[i] >= 0 && at.TryGetValue(ids1[i], out int j)) m.Add(new Match(i, j, 1f));
        return m;
    }
}
