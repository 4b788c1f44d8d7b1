using System.Collections.Concurrent;
using R2D2.Localization.Formats;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Training;

/// <summary>Settings of <see cref="MapPairSource"/>.</summary>
public sealed record MapPairSettings
{
    public int CropSize { get; init; } = 192;
    /// <summary>Two images form a pair when they observe at least this many common 3D points.</summary>
    public int MinSharedPoints { get; init; } = 30;
    /// <summary>Images are kept in memory downscaled so the longer side is at most this (px).</summary>
    public int MaxSide { get; init; } = 1024;
    /// <summary>Image 1's crop covers a square of this fraction of its shorter side (log-uniform),
    /// before the crop is resized to CropSize.</summary>
    public double MinRegion { get; init; } = 0.2;
    public double MaxRegion { get; init; } = 0.6;
    /// <summary>Photometric jitter per image (night-like darkening of image 2 included).</summary>
    public PhotometricSettings Photometric { get; init; } = new();
}

/// <summary>Where a crop comes from: crop pixel = Scale·(image pixel) + (OffsetX, OffsetY), both in
/// the project's pixel-centre convention, image pixels at the image's full (database) resolution.</summary>
public sealed record CropTransform(double ScaleX, double ScaleY, double OffsetX, double OffsetY)
{
    public (double X, double Y) Apply(double x, double y) => (ScaleX * x + OffsetX, ScaleY * y + OffsetY);
    public (double X, double Y) Invert(double x, double y) => ((x - OffsetX) / ScaleX, (y - OffsetY) / ScaleY);
}

public sealed record MapPairSample(TrainingPair Pair, string Image1, string Image2, CropTransform Crop1, CropTransform Crop2, int Correspondences);

/// <summary>
/// Sparse training pairs from a posed map (<c>localize build-map</c>), the way R2D2 used Aachen:
/// two database images observing many common 3D points; each is rescaled so the common points
/// appear at about the same scale in both crops, cropped around a common region, and the flow is
/// known only at the correspondences (the keypoints of the same 3D point in both images): at the
/// pixel nearest to the keypoint of image 1, the keypoint of image 2 moved by the same sub-pixel
/// rounding (the crops have equal scale, so that is the local offset). Dense = false.
/// </summary>
public sealed class MapPairSource : ITrainingPairSource
{
    private readonly ulong _seed;
    private readonly string _imageRoot;
    private readonly ImageInfo[] _images;
    private readonly PairInfo[] _pairs;
    private readonly ConcurrentDictionary<int, Lazy<RgbImage>> _cache = new();

    private sealed record ImageInfo(string Name, int Width, int Height);
    // Corresponding full-resolution keypoints of the two images, (x1, y1, x2, y2) per 3D point.
    private sealed record PairInfo(int Image1, int Image2, float[] Xy);

    public MapPairSource(string databasePath, string imageRoot, long seed, MapPairSettings? settings = null)
    {
        Settings = settings ?? new MapPairSettings();
        Seed = seed; _seed = (ulong)seed; _imageRoot = imageRoot; DatabasePath = databasePath;
        using var db = FeatureDatabase.OpenReadOnly(databasePath);
        if (!db.HasMap) throw new FeatureDatabaseException(databasePath, "holds no map (build one with localize build-map)");
        var images = db.ReadImages().OrderBy(i => i.Id).ToList();
        var cameras = db.ReadCameras().ToDictionary(c => c.Id);
        var index = new Dictionary<int, int>();
        var keypoints = new List<Keypoints?>();
        var infos = new List<ImageInfo>();
        foreach (var im in images)
        {
            index[im.Id] = infos.Count;
            var cam = cameras[im.CameraId];
            infos.Add(new ImageInfo(im.Name, cam.Width, cam.Height));
            keypoints.Add(db.ReadKeypoints(im.Id));
        }
        _images = infos.ToArray();

        // Observations per point, then correspondences per image pair.
        var shared = new Dictionary<(int, int), List<float>>();
        foreach (var p in db.ReadMap())
        {
            var obs = p.Track.Where(t => index.ContainsKey(t.ImageId)).GroupBy(t => index[t.ImageId]).Select(g => (Image: g.Key, Kp: g.First().KeypointIndex))
                .Where(o => keypoints[o.Image] is { } k && o.Kp >= 0 && o.Kp < k.Count).OrderBy(o => o.Image).ToArray();
            for (int i = 0; i < obs.Length; i++)
                for (int j = i + 1; j < obs.Length; j++)
                {
                    var key = (obs[i].Image, obs[j].Image);
                    if (!shared.TryGetValue(key, out var list)) shared[key] = list = new List<float>();
                    var k1 = keypoints[obs[i].Image]!; var k2 = keypoints[obs[j].Image]!;
                    list.Add(k1.X[obs[i].Kp]); list.Add(k1.Y[obs[i].Kp]); list.Add(k2.X[obs[j].Kp]); list.Add(k2.Y[obs[j].Kp]);
                }
        }
        _pairs = shared.Where(kv => kv.Value.Count / 4 >= Settings.MinSharedPoints).OrderBy(kv => kv.Key)
            .Select(kv => new PairInfo(kv.Key.Item1, kv.Key.Item2, kv.Value.ToArray())).ToArray();
        if (_pairs.Length == 0)
            throw new FeatureDatabaseException(databasePath, $"no image pair shares {Settings.MinSharedPoints} or more 3D points");
        foreach (var i in _pairs.SelectMany(p => new[] { p.Image1, p.Image2 }).Distinct())
        {
            var path = Path.Combine(imageRoot, _images[i].Name);
            if (!File.Exists(path)) throw new FileNotFoundException($"{path}: image of the map not found (is the image folder given the one the map was built from?)");
        }
    }

    public long Seed { get; }
    public string DatabasePath { get; }
    public MapPairSettings Settings { get; }
    public int PairCount => _pairs.Length;

    public string Describe() =>
        $"map pairs from {DatabasePath}: {_pairs.Length} image pairs sharing ≥ {Settings.MinSharedPoints} points (seed {Seed}, {Settings.CropSize}×{Settings.CropSize} crops)";

    public TrainingPair Get(long index) => Sample(index).Pair;

    public MapPairSample Sample(long index)
    {
        var rng = new Rng(Rng.Hash(_seed, (ulong)index, 11));
        int c = Settings.CropSize;
        var pair = _pairs[rng.Next(_pairs.Length)];
        bool swap = rng.Chance(0.5);
        int i1 = swap ? pair.Image2 : pair.Image1, i2 = swap ? pair.Image1 : pair.Image2;
        int m = pair.Xy.Length / 4;
        var x1 = new float[m]; var y1 = new float[m]; var x2 = new float[m]; var y2 = new float[m];
        for (int k = 0; k < m; k++)
        {
            int a = swap ? 2 : 0, b = swap ? 0 : 2;
            x1[k] = pair.Xy[4 * k + a]; y1[k] = pair.Xy[4 * k + a + 1]; x2[k] = pair.Xy[4 * k + b]; y2[k] = pair.Xy[4 * k + b + 1];
        }
        var photo1 = Photo(i1); var photo2 = Photo(i2);
        // Full resolution → cached image (pixel-centre convention): x' = (x + 0.5)·k − 0.5.
        double k1x = photo1.Width / (double)_images[i1].Width, k1y = photo1.Height / (double)_images[i1].Height;
        double k2x = photo2.Width / (double)_images[i2].Width, k2y = photo2.Height / (double)_images[i2].Height;

        // Pick a correspondence to centre on, then the scale around it: the median ratio of
        // distances from it to its neighbours, in image 2 over image 1 (cached pixels).
        int centre = rng.Next(m);
        double ratio = LocalScale(x1, y1, x2, y2, centre, k1x, k2x, rng);
        int minSide1 = Math.Min(photo1.Width, photo1.Height), minSide2 = Math.Min(photo2.Width, photo2.Height);
        double r1 = rng.LogUniform(Settings.MinRegion, Settings.MaxRegion) * minSide1;
        double r2 = r1 * ratio;
        // Keep both regions inside their images and not enlarged beyond 2×.
        double shrink = Math.Min(1, Math.Min(minSide1 / r1, minSide2 / r2));
        r1 *= shrink; r2 *= shrink;
        double grow = Math.Max(1, Math.Max(c / 2.0 / r1, c / 2.0 / r2));
        r1 = Math.Min(minSide1, r1 * grow); r2 = Math.Min(minSide2, r2 * grow);
        int side1 = Math.Max(1, (int)Math.Round(r1)), side2 = Math.Max(1, (int)Math.Round(r2));

        double cx1 = (x1[centre] + 0.5) * k1x - 0.5, cy1 = (y1[centre] + 0.5) * k1y - 0.5;
        double cx2 = (x2[centre] + 0.5) * k2x - 0.5, cy2 = (y2[centre] + 0.5) * k2y - 0.5;
        var (img1, t1) = CropAround(photo1, cx1 + rng.Uniform(-0.25, 0.25) * side1, cy1 + rng.Uniform(-0.25, 0.25) * side1, side1, c, k1x, k1y);
        var (img2, t2) = CropAround(photo2, cx2 + rng.Uniform(-0.25, 0.25) * side2, cy2 + rng.Uniform(-0.25, 0.25) * side2, side2, c, k2x, k2y);

        int n = c * c, found = 0;
        var flow = new float[2 * n];
        Array.Fill(flow, float.NaN);
        for (int k = 0; k < m; k++)
        {
            var (u1, v1) = t1.Apply(x1[k], y1[k]);
            var (u2, v2) = t2.Apply(x2[k], y2[k]);
            int px = (int)Math.Round(u1), py = (int)Math.Round(v1);
            if (px < 0 || py < 0 || px >= c || py >= c) continue;
            // The image-1 pixel is the keypoint moved by the rounding; move the target the same way
            // (equal scales in both crops make that the local offset, up to rotation).
            double fx = u2 + (px - u1), fy = v2 + (py - v1);
            if (fx < 0 || fy < 0 || fx > c - 1 || fy > c - 1) continue;
            if (float.IsNaN(flow[py * c + px])) found++;
            flow[py * c + px] = (float)fx; flow[n + py * c + px] = (float)fy;
        }

        bool night = rng.Chance(Settings.Photometric.NightProbability);
        Photometric.Jitter(img1, c, c, new Rng(Rng.Hash(_seed, (ulong)index, 12)), Settings.Photometric);
        var rng2 = new Rng(Rng.Hash(_seed, (ulong)index, 13));
        if (night) Photometric.Night(img2, c, c, rng2, Settings.Photometric);
        else Photometric.Jitter(img2, c, c, rng2, Settings.Photometric);
        return new MapPairSample(new TrainingPair(img1, img2, flow, c, c, Dense: false),
            _images[i1].Name, _images[i2].Name, t1, t2, found);
    }

    /// <summary>Median over up to 64 other correspondences of |q2 − c2| / |q1 − c1| (cached pixels);
    /// 1 when there are too few far enough from the centre.</summary>
    private static double LocalScale(float[] x1, float[] y1, float[] x2, float[] y2, int centre, double k1, double k2, Rng rng)
    {
        int m = x1.Length;
        // The nearest correspondences describe the local scale best; take the 64 nearest in image 1.
        var byDistance = Enumerable.Range(0, m).Where(j => j != centre)
            .Select(j => (J: j, D: Math.Sqrt(Sq(x1[j] - x1[centre]) + Sq(y1[j] - y1[centre]))))
            .Where(t => t.D * k1 > 8).OrderBy(t => t.D).Take(64).ToList();
        if (byDistance.Count < 5) return 1;
        var ratios = byDistance.Select(t => Math.Sqrt(Sq(x2[t.J] - x2[centre]) + Sq(y2[t.J] - y2[centre])) * k2 / (t.D * k1)).OrderBy(r => r).ToList();
        return Math.Clamp(ratios[ratios.Count / 2], 0.2, 5);
    }

    private static double Sq(double v) => v * v;

    /// <summary>A side×side square of the cached photo around (cx, cy) (clamped inside), resized to
    /// c×c, and the transform from full-resolution pixels to crop pixels.</summary>
    private static (float[] Image, CropTransform T) CropAround(RgbImage photo, double cx, double cy, int side, int c, double kx, double ky)
    {
        int x0 = Math.Clamp((int)Math.Round(cx - side / 2.0), 0, photo.Width - side);
        int y0 = Math.Clamp((int)Math.Round(cy - side / 2.0), 0, photo.Height - side);
        var crop = photo.Crop(x0, y0, side, side);
        if (side != c) crop = FolderImageSource.ResizeTo(crop, c, c);
        double s = c / (double)side;
        // full → cached: (x + 0.5)·k − 0.5; cached → crop: (x' − x0 + 0.5)·s − 0.5.
        var t = new CropTransform(kx * s, ky * s, (0.5 * kx - 0.5 - x0 + 0.5) * s - 0.5, (0.5 * ky - 0.5 - y0 + 0.5) * s - 0.5);
        return (PlanarImage.FromRgb(crop), t);
    }

    private RgbImage Photo(int i) =>
        _cache.GetOrAdd(i, k => new Lazy<RgbImage>(() => FolderImageSource.Load(Path.Combine(_imageRoot, _images[k].Name), Settings.MaxSide))).Value;
}
