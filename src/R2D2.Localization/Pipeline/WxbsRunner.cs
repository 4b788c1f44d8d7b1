using System.Diagnostics;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;

namespace R2D2.Localization.Pipeline;

/// <summary>Which methods a WxBS evaluation compares, how their features are extracted and how F is estimated.</summary>
public sealed record WxbsEvalOptions
{
    /// <summary>Checkpoints ("default": the embedded model) and/or <see cref="HomographyEvalOptions.RootSiftName"/>, in the rows' order.</summary>
    public required IReadOnlyList<string> Models { get; init; }
    public ExtractionSettings Extraction { get; init; } = new();
    public RootSiftSettings RootSift { get; init; } = new();
    /// <summary>R2D2 convolutions in bfloat16.</summary>
    public bool BFloat16 { get; init; }
    /// <summary>The robust estimator of F from each pair's matches (the project's epipolar RANSAC).</summary>
    public FundamentalMethod Ransac { get; init; } = FundamentalMethod.Usac;
    /// <summary>RANSAC's inlier threshold: distance to the epipolar line (px).</summary>
    public double RansacThresholdPx { get; init; } = 1.0;
    public double RansacConfidence { get; init; } = 0.999;
    public IReadOnlyList<int> Thresholds { get; init; } = WxbsEvaluation.DefaultThresholds;
}

/// <summary>One method on one pair: keypoints of each image, mutual nearest-neighbour matches,
/// RANSAC inliers (0 when no F was found), the ground-truth correspondences' errors under the F,
/// their mean (+∞ without F), and the pair's labelling error (the mean of crossval_errors.txt; null when absent).</summary>
public sealed record WxbsPairResult(string Pair, string Method, int Keypoints1, int Keypoints2, int Matches, int Inliers,
    double[] Errors, double MeanError, double? LabellingError, double Seconds);

public sealed record WxbsMethodResult(WxbsSummary Summary, IReadOnlyList<WxbsPairResult> Pairs, double Seconds)
{
    /// <summary>Pairs that could not be read or extracted, a line each: scored as unsolved (every
    /// error infinite); the run went on.</summary>
    public IReadOnlyList<string> Failures { get; init; } = Array.Empty<string>();
}

/// <summary>Every method's result, and the labelling's own row (the solved shares of the pairs'
/// leave-one-out label errors: the ceiling no F estimate can be expected to pass; null when a pair has none).</summary>
public sealed record WxbsResult(IReadOnlyList<WxbsMethodResult> Methods, WxbsSummary? Labelling);

/// <summary>
/// <c>localize eval-wxbs</c>: for each method and each WxBS pair, the features of both images
/// (extracted once each), mutual nearest-neighbour matches, F by the project's epipolar RANSAC
/// (<see cref="EpipolarVerification.EstimateFundamental"/>), and F judged by the pair's
/// hand-labelled correspondences (<see cref="WxbsEvaluation"/>).
/// </summary>
public static class WxbsRunner
{
    public const string LabellingLabel = "labelling (leave-one-out 8-point)";

    public static WxbsResult Run(IReadOnlyList<WxbsPair> pairs, WxbsEvalOptions o, TorchSharp.torch.Device device, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        var methods = new List<WxbsMethodResult>();
        ModelLoader.CheckAll(o.Models, m => string.Equals(m, HomographyEvalOptions.RootSiftName, StringComparison.OrdinalIgnoreCase));
        foreach (var model in o.Models)
        {
            var sw = Stopwatch.StartNew();
            if (string.Equals(model, HomographyEvalOptions.RootSiftName, StringComparison.OrdinalIgnoreCase))
            {
                var sift = new RootSiftExtractor(o.RootSift);
                progress.Info($"{sift.Describe()} on {Counted.Of(pairs.Count, "pair")}");
                methods.Add(RunMethod(pairs, HomographyEvalOptions.RootSiftName, img => sift.Extract(img), o, device, progress, sw));
                continue;
            }
            using var net = ModelLoader.Load(model, device, new NetworkOptions { BFloat16 = o.BFloat16 });
            var extractor = new MultiScaleExtractor(net, o.Extraction);
            var label = ModelLoader.Label(model, o.Models) + (o.BFloat16 ? " bf16" : "");
            progress.Info($"{label} on {Counted.Of(pairs.Count, "pair")}");
            methods.Add(RunMethod(pairs, label, img => extractor.Extract(img), o, device, progress, sw));
        }
        var labelling = pairs.Count > 0 && pairs.All(p => p.LabellingErrors != null)
            ? WxbsEvaluation.Summarize(LabellingLabel, pairs.Select(p => p.LabellingErrors!).ToList(), o.Thresholds)
            : null;
        return new WxbsResult(methods, labelling);
    }

    private static WxbsMethodResult RunMethod(IReadOnlyList<WxbsPair> pairs, string label, Func<RgbImage, FeatureSet> extract,
        WxbsEvalOptions o, TorchSharp.torch.Device device, IProgressSink progress, Stopwatch sw)
    {
        var rows = new List<WxbsPairResult>();
        var failures = new List<string>();
        progress.Stage(label, pairs.Count, advance =>
        {
            foreach (var pair in pairs)
            {
                var t0 = sw.Elapsed;
                FeatureSet f1, f2;
                try
                {
                    f1 = extract(ImageFile.ReadRgb(pair.Image1, o.Extraction.MaxPixels));
                    f2 = extract(ImageFile.ReadRgb(pair.Image2, o.Extraction.MaxPixels));
                }
                // One unreadable pair fails alone (it stopped the run, and the pairs done were lost).
                catch (R2D2Exception e)
                {
                    failures.Add($"{pair.Name}: {e.Message}");
                    var unsolved = Enumerable.Repeat(double.PositiveInfinity, pair.Correspondences.Count).ToArray();
                    rows.Add(new WxbsPairResult(pair.Name, label, 0, 0, 0, 0, unsolved, WxbsEvaluation.PairError(unsolved), null, (sw.Elapsed - t0).TotalSeconds));
                    advance($"{pair.Name}: FAILED ({e.Message})");
                    continue;
                }
                var matches = MutualNearestNeighbours.Match(f1.Descriptors, f1.Count, f2.Descriptors, f2.Count, f1.Dim, device);
                var fit = EpipolarVerification.EstimateFundamental(f1.X, f1.Y, f2.X, f2.Y, matches, o.Ransac, o.RansacThresholdPx, o.RansacConfidence);
                var errors = WxbsEvaluation.Errors(fit.F, pair.Correspondences);
                double? labelling = pair.LabellingErrors is { Count: > 0 } le ? le.Average() : null;
                var row = new WxbsPairResult(pair.Name, label, f1.Count, f2.Count, matches.Count, fit.Inliers.Count, errors,
                    WxbsEvaluation.PairError(errors), labelling, (sw.Elapsed - t0).TotalSeconds);
                rows.Add(row);
                advance($"{pair.Name}: {matches.Count} matches, {fit.Inliers.Count} inliers, mean GT error {row.MeanError:F1} px ({row.Seconds:F0} s)");
            }
        });
        var summary = WxbsEvaluation.Summarize(label, rows.Select(r => (IReadOnlyList<double>)r.Errors).ToList(), o.Thresholds) with
        {
            MedianInliers = Statistics.Median(rows.Select(r => (double)r.Inliers)),
            MeanMatches = rows.Count == 0 ? 0 : rows.Average(r => r.Matches),
            MeanKeypoints = rows.Count == 0 ? 0 : rows.Average(r => (r.Keypoints1 + r.Keypoints2) / 2.0),
        };
        return new WxbsMethodResult(summary, rows, sw.Elapsed.TotalSeconds) { Failures = failures };
    }
}
