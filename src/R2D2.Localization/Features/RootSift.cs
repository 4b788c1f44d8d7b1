using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using OpenCvSharp;
using OpenCvSharp.Features2D;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Features;

/// <summary>Settings of the RootSIFT baseline; stored with its outputs like <see cref="ExtractionSettings"/>.</summary>
public sealed record RootSiftSettings
{
    /// <summary>The image is downscaled (never upscaled) so that its longer side is at most this (px); 0 or less: full size.</summary>
    public int MaxSize { get; init; } = 1024;
    /// <summary>OpenCV SIFT's nfeatures: the keypoints with the strongest responses it keeps.</summary>
    public int MaxFeatures { get; init; } = 5000;

    public void Validate()
    {
        if (MaxFeatures < 1) throw new UsageException($"SIFT features must be ≥ 1 (got {MaxFeatures})");
    }

    public static RootSiftSettings FromJson(string json)
    {
        var d = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json) ?? throw new FormatException("empty settings");
        return new RootSiftSettings { MaxSize = d["max_size"].GetInt32(), MaxFeatures = d["max_features"].GetInt32() };
    }

    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["method"] = "rootsift",
        ["opencv"] = Cv2.GetVersionString() ?? "?",
        ["max_size"] = MaxSize,
        ["max_features"] = MaxFeatures,
    });
}

/// <summary>
/// RootSIFT (Arandjelović &amp; Zisserman, CVPR 2012) on OpenCV's SIFT: the classical baseline that
/// R2D2 is compared with. Each SIFT descriptor is L1-normalized and square-rooted element-wise, so
/// that the dot product of two descriptors is the Hellinger kernel of the histograms and the
/// result is L2-normalized, as the project's matching expects.
///
/// Coordinates. OpenCV's SIFT reports positions in the convention "pixel centre at integer
/// coordinates" of the image it is given, except for a +0.25 px bias in x and y: it doubles the
/// image with a half-pixel-centred bilinear resize (doubled pixel d lies at d/2 − 0.25) but maps
/// keypoints back by d/2, and every later octave is subsampled from that doubled image (OpenCV
/// 4.8+ can avoid this with enable_precise_upscale, which OpenCvSharp does not expose). So a
/// keypoint reported at u in the downscaled image of width w lies at u − 0.25 there, and at
/// x = (u − 0.25 + 0.5)·W/w − 0.5 in the original image of width W (OpenCV's resize maps pixel
/// centres that way). Sizes are scaled by W/w likewise.
/// </summary>
public sealed class RootSiftExtractor
{
    /// <summary>The position bias of OpenCV's SIFT with its default (imprecise) 2× upscale, in its own pixels.</summary>
    public const double OpenCvUpscaleBias = 0.25;

    public RootSiftExtractor(RootSiftSettings? settings = null)
    {
        Settings = settings ?? new RootSiftSettings();
        Settings.Validate();
    }

    public RootSiftSettings Settings { get; }

    public const int Dim = 128;

    public FeatureSet Extract(RgbImage image)
    {
        using var rgb = new Mat(image.Height, image.Width, MatType.CV_8UC3);
        Marshal.Copy(image.Pixels, 0, rgb.Data, image.Pixels.Length);
        using var grey = new Mat();
        Cv2.CvtColor(rgb, grey, ColorConversionCodes.RGB2GRAY);
        return Extract(grey);
    }

    /// <summary>Extracts from an 8-bit single-channel image.</summary>
    public FeatureSet Extract(Mat grey)
    {
        if (grey.Type() != MatType.CV_8UC1) throw new ArgumentException("RootSIFT expects an 8-bit grey image");
        int width = grey.Cols, height = grey.Rows;
        var (w, h) = WorkingSize(width, height, Settings.MaxSize);
        using var work = new Mat();
        if (w != width || h != height) Cv2.Resize(grey, work, new Size(w, h), 0, 0, InterpolationFlags.Area);
        else grey.CopyTo(work);

        using var sift = SIFT.Create(Settings.MaxFeatures);
        using var descMat = new Mat();
        sift.DetectAndCompute(work, null, out var keypoints, descMat);
        int n = keypoints.Length;
        var raw = new float[n * Dim];
        if (n > 0)
        {
            if (descMat.Type() != MatType.CV_32FC1 || descMat.Cols != Dim || descMat.Rows != n)
                throw new InvalidOperationException($"unexpected SIFT descriptor matrix {descMat.Rows}×{descMat.Cols} {descMat.Type()}");
            for (int r = 0; r < n; r++) Marshal.Copy(descMat.Ptr(r), raw, r * Dim, Dim);
        }

        // Best response first; ties keep OpenCV's order so the output is deterministic.
        var order = Enumerable.Range(0, n).OrderByDescending(i => keypoints[i].Response).ThenBy(i => i).ToArray();
        double sx = (double)width / w, sy = (double)height / h;
        var x = new float[n]; var y = new float[n]; var scale = new float[n]; var score = new float[n];
        var desc = new float[n * Dim];
        for (int k = 0; k < n; k++)
        {
            var kp = keypoints[order[k]];
            x[k] = (float)ToOriginal(kp.Pt.X, sx);
            y[k] = (float)ToOriginal(kp.Pt.Y, sy);
            scale[k] = (float)(kp.Size * Math.Sqrt(sx * sy));
            score[k] = kp.Response;
            ToRootSift(raw.AsSpan(order[k] * Dim, Dim), desc.AsSpan(k * Dim, Dim));
        }
        return new FeatureSet
        {
            ImageWidth = width, ImageHeight = height,
            X = x, Y = y, OfficialX = x, OfficialY = y,
            Scale = scale, Score = score,
            Reliability = new float[n], Repeatability = new float[n],
            Descriptors = desc, Dim = Dim,
        };
    }

    /// <summary>The size SIFT runs at: the longer side brought down to maxSize, the aspect ratio kept (rounded).</summary>
    public static (int Width, int Height) WorkingSize(int width, int height, int maxSize)
    {
        int longSide = Math.Max(width, height);
        if (maxSize <= 0 || longSide <= maxSize) return (width, height);
        double s = (double)maxSize / longSide;
        return (Math.Max(1, (int)Math.Round(width * s, MidpointRounding.AwayFromZero)),
                Math.Max(1, (int)Math.Round(height * s, MidpointRounding.AwayFromZero)));
    }

    /// <summary>An OpenCV SIFT coordinate of the working image → the pixel-centre coordinate of the
    /// original image (ratio = original size / working size).</summary>
    public static double ToOriginal(double opencv, double ratio) => (opencv - OpenCvUpscaleBias + 0.5) * ratio - 0.5;

    /// <summary>L1-normalize then square-root: the result has unit L2 norm (a zero histogram stays zero).</summary>
    public static void ToRootSift(ReadOnlySpan<float> sift, Span<float> rootSift)
    {
        double l1 = 0;
        foreach (var v in sift) l1 += Math.Abs(v);
        if (l1 <= 0) { rootSift.Clear(); return; }
        for (int i = 0; i < sift.Length; i++) rootSift[i] = (float)Math.Sqrt(Math.Abs(sift[i]) / l1);
    }

    /// <summary>Label for tables and file metadata.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"RootSIFT ({Settings.MaxFeatures} features, {(Settings.MaxSize > 0 ? $"≤{Settings.MaxSize} px" : "full size")})");
}
