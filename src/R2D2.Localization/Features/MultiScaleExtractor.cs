using R2D2.Localization.Formats;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace R2D2.Localization.Features;

/// <summary>One processed pyramid level, for logs and timing.</summary>
public sealed record PyramidLevel(int Width, int Height, double Scale, int Keypoints);

public sealed class ImageTooSmallException : R2D2Exception
{
    public ImageTooSmallException(string message) : base(message) { }
}

/// <summary>
/// Multi-scale R2D2 extraction with the official semantics: each level is bilinearly resized
/// (align_corners=False, no antialias) from the previous one, sizes round(H·s) × round(W·s) with
/// Python's round-half-even; a level runs only inside the size and scale ranges; keypoints are
/// 3×3 local maxima of repeatability passing both thresholds; score = reliability ×
/// repeatability; the top-k scores are kept.
/// </summary>
public sealed class MultiScaleExtractor
{
    /// <summary>The input normalization of R2D2 networks (ImageNet's RGB mean and std), for
    /// extraction and training alike.</summary>
    internal static readonly float[] InputMean = { 0.485f, 0.456f, 0.406f };
    internal static readonly float[] InputStd = { 0.229f, 0.224f, 0.225f };

    public MultiScaleExtractor(R2D2Network network, ExtractionSettings? settings = null)
    {
        Network = network;
        Settings = settings ?? new ExtractionSettings();
        Settings.Validate();
    }

    public R2D2Network Network { get; }
    public ExtractionSettings Settings { get; }

    /// <summary>The network input for an image: ToTensor (u8/255) then Normalize, as torchvision does, 1×3×H×W.</summary>
    public static Tensor NormalizedInput(RgbImage image)
    {
        using var scope = NewDisposeScope();
        var u8 = TorchScalars.Copied<byte>(image.Pixels, new long[] { image.Height, image.Width, 3 }, ScalarType.Byte);
        var x = u8.permute(2, 0, 1).contiguous().to(float32).Div(255);
        var mean = TorchScalars.Copied<float>(InputMean, new long[] { 3, 1, 1 }, float32);
        var std = TorchScalars.Copied<float>(InputStd, new long[] { 3, 1, 1 }, float32);
        return x.sub(mean).div(std).unsqueeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>The sizes and scales of the levels that will be processed for a W×H image.</summary>
    public IReadOnlyList<(int Width, int Height, double Scale)> PlanLevels(int width, int height) => PlanLevels(Settings, width, height);

    /// <summary>The levels <paramref name="st"/> processes for a W×H image (no network needed: a
    /// command checks its sizes before it loads one).</summary>
    public static IReadOnlyList<(int Width, int Height, double Scale)> PlanLevels(ExtractionSettings st, int width, int height)
    {
        var levels = new List<(int, int, double)>();
        int longSide = Math.Max(width, height);
        double maxS = Math.Min(st.MaxScale, st.MaxSize > 0 ? (double)st.MaxSize / longSide : double.PositiveInfinity);
        double s = 1.0;
        int nw = width, nh = height;
        while (s + 0.001 >= Math.Max(st.MinScale, (double)st.MinSize / longSide))
        {
            if (s - 0.001 <= maxS) levels.Add((nw, nh, s));
            s /= st.ScaleFactor;
            nh = Side(height, s);
            nw = Side(width, s);
            if (nw < 1 || nh < 1) break;
        }
        return levels;
    }

    /// <summary>Why a width×height image gives no features (no pyramid level within the size range), or null.
    /// A scale range other than [0, 1] is named too: it is what excludes a level that fits the sizes.</summary>
    public string? SizeProblem(int width, int height) => SizeProblem(Settings, width, height);

    public static string? SizeProblem(ExtractionSettings settings, int width, int height) => PlanLevels(settings, width, height).Count > 0 ? null
        : $"{width}×{height} px: no pyramid level fits the size range {settings.MinSize}–{(settings.MaxSize > 0 ? settings.MaxSize.ToString() : "∞")} px"
          + (settings.MinScale > 0 || settings.MaxScale < 1
              ? FormattableString.Invariant($" and the scale range {settings.MinScale:0.###}–{settings.MaxScale:0.###} of the full size")
              : "");

    /// <summary>A level's side: Python's round (half to even) of side × scale, as the official code.</summary>
    private static int Side(int side, double scale) => (int)Math.Round(side * scale, MidpointRounding.ToEven);

    public FeatureSet Extract(RgbImage image, List<PyramidLevel>? levelsOut = null)
    {
        using var input = NormalizedInput(image);
        return Extract(input, image.Width, image.Height, levelsOut);
    }

    /// <summary>
    /// Reads and extracts an image file; also returns the reduction it was decoded at (1: whole).
    /// Within <see cref="ExtractionSettings.MaxPixels"/> the whole image is decoded and the pyramid
    /// starts from it, as the official code's does: the features are the official ones. A larger
    /// image is refused, except a sequential JPEG that can be decoded at 1/2, 1/4 or 1/8 size under
    /// the limit while staying at least as large as the pyramid's first processed level (the
    /// largest one --max-size lets through): then memory follows the reduced size and the pyramid
    /// joins the official one's scales there, keypoints in the file's pixel coordinates. Its levels
    /// are not bit-identical to the official ones (libjpeg's DCT scaling averages blocks; the
    /// official pyramid resizes bilinearly, level after level, from the full image), which is why
    /// only images that would otherwise be refused are decoded reduced.
    /// </summary>
    public ExtractedFile ExtractFile(string path, List<PyramidLevel>? levelsOut = null)
    {
        var header = ImageFile.ReadHeader(path);
        int reduction = ReductionFor(path, header);
        // The header the keypoints are scaled with is the one the decoding is checked against (a file
        // replaced by one of another size in between is refused, not put in the wrong pixels).
        var (image, sha256) = ImageFile.ReadRgbAndHash(path, Settings.MaxPixels, reduction, header);
        using var input = NormalizedInput(image);
        return new ExtractedFile(Extract(input, header.Width, header.Height, levelsOut), reduction, sha256);
    }

    /// <summary>1 for an image within the pixel limit, else the smallest JPEG reduction that fits
    /// the limit and the pyramid (see <see cref="ExtractFile"/>); refuses the image when none does.</summary>
    public int ReductionFor(string path, ImageHeader header)
    {
        long max = Math.Min(Settings.MaxPixels, ImageLimits.MaxPixelsLimit);
        if (header.Pixels <= max) return 1;
        var plan = PlanLevels(header.Width, header.Height);
        string why;
        if (header.Format != ImageFormat.Jpeg) why = "only JPEGs can be decoded at reduced size";
        else if (header.ProgressiveJpeg) why = "a progressive JPEG needs memory for the whole image to decode, even reduced";
        else if (plan.Count == 0) why = "no pyramid level fits the size range";
        else
        {
            foreach (int r in ImageFile.JpegReductions)
            {
                int w = ImageFile.ReducedSide(header.Width, r), h = ImageFile.ReducedSide(header.Height, r);
                if ((long)w * h <= max && plan[0].Width <= w && plan[0].Height <= h) return r;
            }
            why = $"decoded at 1/2, 1/4 or 1/8 size it is either still over the limit or smaller than the pyramid's first level "
                + $"({plan[0].Width}×{plan[0].Height}; a smaller --max-size allows more reduction)";
        }
        throw new ImageFileException(path, $"{ImageFile.OverLimit(header, max)}; {why}");
    }

    /// <summary>Extracts from the network input of a <paramref name="width"/>×<paramref name="height"/>
    /// image, or of a reduced decode of it (then smaller: the pyramid starts at its first level
    /// no larger than the input, resized from it).</summary>
    public FeatureSet Extract(Tensor input, int width, int height, List<PyramidLevel>? levelsOut = null)
    {
        var st = Settings;
        var plan = PlanLevels(width, height);
        if (plan.Count == 0) throw new ImageTooSmallException($"image is {SizeProblem(width, height)} (--min-size, --max-size, --min-scale and --max-scale set them)");

        var xs = new List<float>(); var ys = new List<float>(); var oxs = new List<float>(); var oys = new List<float>();
        var scales = new List<float>(); var rels = new List<float>(); var reps = new List<float>();
        var descs = new List<float[]>();
        int dim = Network.Architecture.DescriptorDim;

        using var _ = no_grad();
        double s = 1.0;
        int inH = (int)input.shape[2], inW = (int)input.shape[3];
        while (Side(height, s) > inH || Side(width, s) > inW) s /= st.ScaleFactor;
        if (s < plan[0].Scale - 1e-12)
            throw new ArgumentException($"a {inW}×{inH} input is smaller than the first pyramid level of a {width}×{height} image");
        var level = input.to(Network.Device);
        if (Side(height, s) != inH || Side(width, s) != inW)
        {
            var joined = F.interpolate(level, size: new long[] { Side(height, s), Side(width, s) }, mode: InterpolationMode.Bilinear, align_corners: false);
            if (!ReferenceEquals(level, input)) level.Dispose();
            level = joined;
        }
        int planIndex = 0;
        while (planIndex < plan.Count)
        {
            int nh = (int)level.shape[2], nw = (int)level.shape[3];
            if (Math.Abs(plan[planIndex].Scale - s) < 1e-12)
            {
                planIndex++;
                int before = xs.Count;
                ExtractLevel(level, width, height, nw, nh, s, dim, xs, ys, oxs, oys, scales, rels, reps, descs);
                levelsOut?.Add(new PyramidLevel(nw, nh, s, xs.Count - before));
                if (planIndex == plan.Count) break;
            }
            s /= st.ScaleFactor;
            var next = F.interpolate(level, size: new long[] { Side(height, s), Side(width, s) }, mode: InterpolationMode.Bilinear, align_corners: false);
            if (!ReferenceEquals(level, input)) level.Dispose();
            level = next;
        }
        if (!ReferenceEquals(level, input)) level.Dispose();

        // score = reliability × repeatability (float32, as the official code); best first.
        int n = xs.Count;
        var score = new float[n];
        for (int i = 0; i < n; i++) score[i] = rels[i] * reps[i];
        var order = Enumerable.Range(0, n).OrderByDescending(i => score[i]).ThenBy(i => i).ToArray();
        if (st.TopK > 0 && order.Length > st.TopK) order = order[..st.TopK];
        var d = new float[order.Length * dim];
        for (int k = 0; k < order.Length; k++) Array.Copy(descs[order[k]], 0, d, k * dim, dim);
        float[] Pick(List<float> l) => order.Select(i => l[i]).ToArray();
        return new FeatureSet
        {
            ImageWidth = width, ImageHeight = height,
            X = Pick(xs), Y = Pick(ys), OfficialX = Pick(oxs), OfficialY = Pick(oys),
            Scale = Pick(scales), Score = order.Select(i => score[i]).ToArray(),
            Reliability = Pick(rels), Repeatability = Pick(reps),
            Descriptors = d, Dim = dim,
        };
    }

    private void ExtractLevel(Tensor level, int width, int height, int nw, int nh, double s, int dim,
        List<float> xs, List<float> ys, List<float> oxs, List<float> oys, List<float> scales,
        List<float> rels, List<float> reps, List<float[]> descs)
    {
        using var scope = NewDisposeScope();
        using var output = Network.ForwardForKeypoints(level);
        var rep = output.Repeatability;
        var rel = output.Reliability;
        // The map may be smaller than the level (Fast-R2D2 on odd sizes): index in its own grid.
        int mw = (int)rep.shape[3], mh = (int)rep.shape[2];
        var maxima = rep.eq(F.max_pool2d(rep, new long[] { 3, 3 }, new long[] { 1, 1 }, new long[] { 1, 1 }))
            .logical_and(rep.Ge(Settings.RepeatabilityThreshold))
            .logical_and(rel.Ge(Settings.ReliabilityThreshold));
        var idx = maxima.view(-1).nonzero().view(-1);
        int count = (int)idx.shape[0];
        if (count == 0) return;
        var c = rel.view(-1).index_select(0, idx).cpu().data<float>().ToArray();
        var q = rep.view(-1).index_select(0, idx).cpu().data<float>().ToArray();
        var flat = idx.cpu().data<long>().ToArray();
        var d = output.DescriptorsAt(flat);
        float[]? repMap = Settings.SubPixel ? rep.cpu().contiguous().data<float>().ToArray() : null;

        float scale = (float)(32 / s);
        double rx = (double)width / nw, ry = (double)height / nh;
        for (int k = 0; k < count; k++)
        {
            int iy = (int)(flat[k] / mw), ix = (int)(flat[k] % mw);
            double fx = ix, fy = iy;
            if (repMap != null)
            {
                fx += PeakOffset(repMap, ix, iy, mw, mh, 1, 0);
                fy += PeakOffset(repMap, ix, iy, mw, mh, 0, 1);
            }
            // Official: x = float32(float32(ix)·W)/nw; ours: pixel-centre convention.
            oxs.Add((float)fx * width / nw);
            oys.Add((float)fy * height / nh);
            xs.Add((float)((fx + 0.5) * rx - 0.5));
            ys.Add((float)((fy + 0.5) * ry - 0.5));
            scales.Add(scale);
            rels.Add(c[k]);
            reps.Add(q[k]);
            descs.Add(d.AsSpan(k * dim, dim).ToArray());
        }
    }

    /// <summary>Vertex of the parabola through the peak and its two neighbours along (dx, dy),
    /// clamped to ±0.5 px; 0 at the border or on a flat neighbourhood.</summary>
    public static double PeakOffset(float[] map, int x, int y, int w, int h, int dx, int dy)
    {
        int x0 = x - dx, y0 = y - dy, x1 = x + dx, y1 = y + dy;
        if (x0 < 0 || y0 < 0 || x1 >= w || y1 >= h) return 0;
        double a = map[y0 * w + x0], b = map[y * w + x], c = map[y1 * w + x1];
        double den = a - 2 * b + c;
        if (den >= -1e-12) return 0;
        return Math.Clamp(0.5 * (a - c) / den, -0.5, 0.5);
    }
}
