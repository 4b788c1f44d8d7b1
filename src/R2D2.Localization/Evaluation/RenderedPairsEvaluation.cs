using System.Globalization;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Matching;
using R2D2.Localization.Training;

namespace R2D2.Localization.Evaluation;

/// <summary>
/// MMA on rendered day/night pairs (<see cref="RenderedPairSource.Validation"/>): mutual
/// nearest-neighbour matches of the extracted keypoints, a match correct within t px when image 1's
/// keypoint, carried by the true flow (bilinear between pixel centres), lands within t px of its
/// match. A keypoint without flow (sky, outside image 2, hidden there) makes its match wrong, as a
/// keypoint outside the overlap does under a homography.
/// </summary>
public static class RenderedPairsEvaluation
{
    public static readonly int[] Thresholds = { 1, 3, 5 };

    public static MmaRow Run(IReadOnlyList<RenderedPairSample> pairs, Func<RgbImage, FeatureSet> extract, string label,
        IReadOnlyList<int>? thresholds = null, TorchSharp.torch.Device? device = null) =>
        Run(pairs.Select(s => s.Pair).ToList(), extract, label, thresholds, device);

    /// <summary>The same over any pairs with a true flow (rendered, or homography pairs).</summary>
    public static MmaRow Run(IReadOnlyList<TrainingPair> pairs, Func<RgbImage, FeatureSet> extract, string label,
        IReadOnlyList<int>? thresholds = null, TorchSharp.torch.Device? device = null)
    {
        thresholds ??= Thresholds;
        var sums = new double[thresholds.Count];
        double matches = 0, keypoints = 0;
        foreach (var p in pairs)
        {
            var f1 = extract(PlanarImage.ToRgb(p.Image1, p.Width, p.Height));
            var f2 = extract(PlanarImage.ToRgb(p.Image2, p.Width, p.Height));
            var m = MutualNearestNeighbours.Match(f1.Descriptors, f1.Count, f2.Descriptors, f2.Count, f1.Dim, device);
            matches += m.Count;
            keypoints += (f1.Count + f2.Count) / 2.0;
            var acc = OfPair(m, f1.X, f1.Y, f2.X, f2.Y, p.Flow, p.Width, p.Height, thresholds);
            for (int t = 0; t < thresholds.Count; t++) sums[t] += acc[t];
        }
        int n = Math.Max(pairs.Count, 1);
        return new MmaRow(label, sums.Select(s => s / n).ToArray(), matches / n, keypoints / n, pairs.Count);
    }

    /// <summary>Per threshold, the share of correct matches of one pair (0 without matches); the flow
    /// is planar 2×H×W (<see cref="TrainingPair"/>), coordinates the project's pixel centres.</summary>
    public static double[] OfPair(IReadOnlyList<Match> matches, float[] x1, float[] y1, float[] x2, float[] y2,
        float[] flow, int width, int height, IReadOnlyList<int> thresholds)
    {
        var r = new double[thresholds.Count];
        if (matches.Count == 0) return r;
        foreach (var m in matches)
        {
            if (!FlowAt(flow, width, height, x1[m.I], y1[m.I], out var u, out var v)) continue;
            double d = Math.Sqrt((u - x2[m.J]) * (u - x2[m.J]) + (v - y2[m.J]) * (v - y2[m.J]));
            for (int t = 0; t < thresholds.Count; t++) if (d <= thresholds[t]) r[t]++;
        }
        for (int t = 0; t < r.Length; t++) r[t] /= matches.Count;
        return r;
    }

    /// <summary>The flow at (x, y): bilinear where the 4 pixels around have flow, else the nearest
    /// pixel's; false where that has none or (x, y) is outside the image.</summary>
    public static bool FlowAt(float[] flow, int w, int h, double x, double y, out double u, out double v)
    {
        u = v = double.NaN;
        if (!(x >= -0.5 && y >= -0.5 && x < w - 0.5 && y < h - 0.5)) return false;
        int n = w * h;
        int x0 = Math.Clamp((int)Math.Floor(x), 0, Math.Max(0, w - 2)), y0 = Math.Clamp((int)Math.Floor(y), 0, Math.Max(0, h - 2));
        int x1 = Math.Min(x0 + 1, w - 1), y1 = Math.Min(y0 + 1, h - 1);
        int a = y0 * w + x0, b = y0 * w + x1, c = y1 * w + x0, d = y1 * w + x1;
        if (!float.IsNaN(flow[a]) && !float.IsNaN(flow[b]) && !float.IsNaN(flow[c]) && !float.IsNaN(flow[d]))
        {
            double fx = Math.Clamp(x - x0, 0, 1), fy = Math.Clamp(y - y0, 0, 1);
            double Lerp(int off) => (1 - fy) * ((1 - fx) * flow[off + a] + fx * flow[off + b]) + fy * ((1 - fx) * flow[off + c] + fx * flow[off + d]);
            u = Lerp(0); v = Lerp(n);
            return true;
        }
        int k = Math.Clamp((int)Math.Round(y), 0, h - 1) * w + Math.Clamp((int)Math.Round(x), 0, w - 1);
        if (float.IsNaN(flow[k])) return false;
        u = flow[k]; v = flow[n + k];
        return true;
    }
}

/// <summary>
/// The training validation (`localize train --validate-every`, `localize eval-rendered`): MMA at
/// 1/3/5 px on two fixed sets no training run draws. Day/night: rendered pairs of held-apart
/// scenes (<see cref="RenderedPairSource.Validation"/>: illumination and viewpoint change, what the
/// night queries need). Viewpoint: homography pairs of held-apart procedural images
/// (<see cref="HomographyPairSource.Validation"/>: what graf measures, and what a run on rendered
/// pairs alone forgot). The score, by which a run keeps its best weights, is the mean of the two
/// sets' MMA at 3 px: neither may be traded away for the other.
/// </summary>
public sealed class ValidationSets
{
    public static readonly IReadOnlyList<string> Columns = new[] { "mma1", "mma3", "mma5", "matches", "keypoints", "vp_mma1", "vp_mma3", "vp_mma5", "vp_matches", "score" };
    public const string ScoreColumn = "score";

    public required IReadOnlyList<TrainingPair> DayNight { get; init; }
    public required IReadOnlyList<TrainingPair> Viewpoint { get; init; }

    /// <summary><paramref name="pairs"/> of each set: day/night at width×height, viewpoint pairs square at the larger side.</summary>
    public static ValidationSets Make(int pairs, int width = 384, int height = 288) => new()
    {
        DayNight = RenderedPairSource.Validation(pairs, width, height).Select(p => p.Pair).ToList(),
        Viewpoint = HomographyPairSource.Validation(pairs, Math.Max(width, height)).Select(p => p.Pair).ToList(),
    };

    public (MmaRow DayNight, MmaRow Viewpoint) Evaluate(Func<RgbImage, FeatureSet> extract, string label, TorchSharp.torch.Device? device = null) =>
        (RenderedPairsEvaluation.Run(DayNight, extract, label, device: device), RenderedPairsEvaluation.Run(Viewpoint, extract, label, device: device));

    public static double Score(MmaRow dayNight, MmaRow viewpoint) => (dayNight.Mma[1] + viewpoint.Mma[1]) / 2;

    /// <summary>The values of <see cref="Columns"/>.</summary>
    public static double[] Row(MmaRow dayNight, MmaRow viewpoint) =>
        dayNight.Mma.Concat(new[] { dayNight.MeanMatches, dayNight.MeanKeypoints }).Concat(viewpoint.Mma)
            .Concat(new[] { viewpoint.MeanMatches, Score(dayNight, viewpoint) }).ToArray();
}

/// <summary>Several models on the same validation pairs (<c>localize eval-rendered</c>).</summary>
public static class RenderedModelEvaluation
{
    public static List<(MmaRow DayNight, MmaRow Viewpoint)> Run(IReadOnlyList<string> models, int pairCount, int width, int height, ExtractionSettings extraction,
        TorchSharp.torch.Device device, Action<string>? log = null)
    {
        // RootSIFT has no network to load: said as such (it was "rootsift: file not found").
        if (models.FirstOrDefault(m => string.Equals(m, "rootsift", StringComparison.OrdinalIgnoreCase)) is { } sift)
            throw new UsageException($"--model {sift}: eval-rendered compares R2D2 networks (checkpoints or 'default'); RootSIFT's MMA on homographies: localize eval-homography --model rootsift");
        // Every model loaded before the pairs are made: a bad path fails at once, not after the first model's run.
        var nets = new List<R2D2Network>();
        try
        {
            foreach (var model in models) nets.Add(ModelLoader.Load(model, device));
            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"rendering {Counted.Of(pairCount, "day/night validation pair")} at {width}×{height} and {Counted.Of(pairCount, "viewpoint pair")} at {Math.Max(width, height)}²"));
            var sets = ValidationSets.Make(pairCount, width, height);
            var rows = new List<(MmaRow, MmaRow)>();
            foreach (var (model, net) in models.Zip(nets))
            {
                var extractor = new MultiScaleExtractor(net, extraction);
                log?.Invoke($"{ModelLoader.Label(model, models)} on {Counted.Of(pairCount, "day/night pair")} and {Counted.Of(pairCount, "viewpoint pair")}");
                rows.Add(sets.Evaluate(img => extractor.Extract(img), ModelLoader.Label(model, models), device));
            }
            return rows;
        }
        finally
        {
            foreach (var net in nets) net.Dispose();
        }
    }
}
