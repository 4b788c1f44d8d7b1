using R2D2.Localization.Geometry;

namespace R2D2.Localization.Training;

/// <summary>A homography pair with its ground truth: H maps image-1 pixels to image-2 pixels
/// (3×3 row-major, pixel-centre convention).</summary>
public sealed record HomographyPairSample(TrainingPair Pair, double[] H, bool Night);

/// <summary>
/// Dense training pairs from random viewpoint changes of single images, as R2D2 is trained on
/// web images: image 1 is a crop of a source image, image 2 the source seen through a random
/// homography (<see cref="RandomHomography"/>), each then jittered photometrically on its own
/// (<see cref="Photometric"/>; image 2 sometimes made night-like). The source image is requested
/// just large enough to cover both views, so neither has empty areas (except for the rare extreme
/// draws, where image 2 is filled with black outside the source and those pixels get no flow).
/// Everything is drawn from (seed, index) alone.
/// </summary>
public sealed class HomographyPairSource : ITrainingPairSource
{
    private readonly IImageSource _images;
    private readonly ulong _seed;

    public HomographyPairSource(IImageSource images, long seed, int cropSize = 192,
        HomographySettings? geometry = null, PhotometricSettings? photometric = null)
    {
        if (cropSize < 8) throw new ArgumentOutOfRangeException(nameof(cropSize), "crops need at least 8 pixels");
        _images = images; Seed = seed; _seed = (ulong)seed; CropSize = cropSize;
        Geometry = geometry ?? new HomographySettings();
        Photometric = photometric ?? new PhotometricSettings();
    }

    public long Seed { get; }
    public int CropSize { get; }
    public HomographySettings Geometry { get; }
    public PhotometricSettings Photometric { get; }
    /// <summary>The largest source image a pair may request, in crop sizes (larger draws are redrawn).</summary>
    public double MaxSourceFactor { get; init; } = 4;

    public string Describe() => $"homography pairs from {_images.Describe()} (seed {Seed}, {CropSize}×{CropSize} crops)";

    public TrainingPair Get(long index) => Sample(index).Pair;

    public HomographyPairSample Sample(long index)
    {
        int c = CropSize;
        var rng = new Rng(Rng.Hash(_seed, (ulong)index, 1));
        double centre = (c - 1) / 2.0;
        double maxSource = MaxSourceFactor * c;
        double[] a = Identity;
        double bx0 = 0, by0 = 0, bx1 = c - 1, by1 = c - 1;
        for (int attempt = 0; ; attempt++)
        {
            // After many extreme draws (horizon in view, or a huge source), a plain crop.
            var h = attempt < 30 ? RandomHomography.Recentre(RandomHomography.SampleCentred(rng, Geometry, c), centre, centre, centre, centre) : Identity;
            var inv = Homography.Inverse(h);
            bool ok = true;
            double minX = 0, minY = 0, maxX = c - 1, maxY = c - 1;
            // Image 2's corners (its area reaches half a pixel beyond the outer pixel centres) in image-1 coordinates.
            foreach (var (x, y) in new[] { (-0.5, -0.5), (c - 0.5, -0.5), (-0.5, c - 0.5), (c - 0.5, c - 0.5) })
            {
                double w = inv[6] * x + inv[7] * y + inv[8];
                if (w <= 1e-3) { ok = false; break; }
                double u = (inv[0] * x + inv[1] * y + inv[2]) / w, v = (inv[3] * x + inv[4] * y + inv[5]) / w;
                minX = Math.Min(minX, u); maxX = Math.Max(maxX, u); minY = Math.Min(minY, v); maxY = Math.Max(maxY, v);
            }
            if (!ok || maxX - minX > maxSource || maxY - minY > maxSource) continue;
            a = h; bx0 = minX; by0 = minY; bx1 = maxX; by1 = maxY;
            break;
        }

        // The source image covers image 1 (at integer offset, so image 1 is an exact copy) and
        // image 2's footprint, with a margin of 2 px for bilinear sampling.
        int ox = (int)Math.Floor(bx0) - 2, oy = (int)Math.Floor(by0) - 2;
        int sw = (int)Math.Ceiling(bx1) + 3 - ox, sh = (int)Math.Ceiling(by1) + 3 - oy;
        var source = _images.Get(Rng.Hash(_seed, (ulong)index, 2), sw, sh);

        int n = c * c, sn = sw * sh;
        var img1 = new float[3 * n];
        for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < c; y++)
                Array.Copy(source, ch * sn + (y - oy) * sw - ox, img1, ch * n + y * c, c);

        // Image 2 samples the source at A⁻¹·p (image-2 pixel → image 1 → source). Where it
        // shrinks the source, blur first so bilinear sampling does not alias.
        var toSource = Homography.Multiply(new double[] { 1, 0, -ox, 0, 1, -oy, 0, 0, 1 }, Homography.Inverse(a));
        var img2 = new float[3 * n];
        PlanarImage.WarpAntiAliased(source, sw, sh, toSource, img2, c, c, centre, centre);

        var flow = FlowOf(a, c, c, c, c);
        bool night = rng.Chance(Photometric.NightProbability);
        Training.Photometric.Jitter(img1, c, c, new Rng(Rng.Hash(_seed, (ulong)index, 3)), Photometric);
        var rng2 = new Rng(Rng.Hash(_seed, (ulong)index, 4));
        if (night) Training.Photometric.Night(img2, c, c, rng2, Photometric);
        else Training.Photometric.Jitter(img2, c, c, rng2, Photometric);
        return new HomographyPairSample(new TrainingPair(img1, img2, flow, c, c, Dense: true), a, night);
    }

    /// <summary>Dense flow of a homography: H·(x, y) for every pixel of a w1×h1 image 1, NaN where
    /// it falls outside [0, w2 − 1]×[0, h2 − 1] of image 2 (between pixel centres, so bilinear
    /// lookups there are well defined) or behind the horizon.</summary>
    public static float[] FlowOf(ReadOnlySpan<double> h, int w1, int h1, int w2, int h2)
    {
        int n = w1 * h1;
        var flow = new float[2 * n];
        for (int y = 0; y < h1; y++)
            for (int x = 0; x < w1; x++)
            {
                double w = h[6] * x + h[7] * y + h[8];
                double u = (h[0] * x + h[1] * y + h[2]) / w, v = (h[3] * x + h[4] * y + h[5]) / w;
                bool inside = w > 0 && u >= 0 && v >= 0 && u <= w2 - 1 && v <= h2 - 1;
                flow[y * w1 + x] = inside ? (float)u : float.NaN;
                flow[n + y * w1 + x] = inside ? (float)v : float.NaN;
            }
        return flow;
    }

    private static readonly double[] Identity = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };

    /// <summary>The seed of <see cref="Validation"/>'s pairs; `localize train` derives its sources'
    /// seeds from --seed by small steps, so training never draws these images.</summary>
    public const long ValidationSeed = long.MinValue;

    /// <summary>A fixed set of viewpoint-change pairs of procedural images (the training
    /// distribution of homographies, no photometric change): the validation that sees a model
    /// forget viewpoint changes (graf) while it learns illumination from rendered pairs.</summary>
    public static IReadOnlyList<HomographyPairSample> Validation(int count, int size = 256)
    {
        var source = new HomographyPairSource(new ProceduralImageSource(), ValidationSeed, size, photometric: PhotometricSettings.Off);
        var pairs = new HomographyPairSample[count];
        Parallel.For(0, count, i => pairs[i] = source.Sample(i));
        return pairs;
    }
}
