using R2D2.Localization.Features;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Evaluation;

/// <summary>Which models an MMA evaluation compares, and how their features are extracted.</summary>
public sealed record HomographyEvalOptions
{
    /// <summary>The name in <see cref="Models"/> that selects the RootSIFT baseline instead of a checkpoint.</summary>
    public const string RootSiftName = "rootsift";

    /// <summary>Checkpoints and/or <see cref="RootSiftName"/>, in the rows' order.</summary>
    public required IReadOnlyList<string> Models { get; init; }
    public ExtractionSettings Extraction { get; init; } = new();
    public RootSiftSettings RootSift { get; init; } = new();
    /// <summary>R2D2 convolutions in bfloat16.</summary>
    public bool BFloat16 { get; init; }
    /// <summary>Also evaluate each checkpoint with sub-pixel keypoint refinement (an extra row).</summary>
    public bool CompareSubPixel { get; init; }
    public IReadOnlyList<int> Thresholds { get; init; } = MatchingAccuracy.DefaultThresholds;
}

/// <summary>MMA rows of several models on the same homography pairs: per checkpoint a row in the
/// official and one in the centre convention (and a sub-pixel row when asked), the RootSIFT
/// baseline in one row (its two conventions are the same numbers).</summary>
public static class HomographyModelEvaluation
{
    /// <param name="log">Gets a line as each model (or variant) starts.</param>
    public static List<MmaRow> Run(IReadOnlyList<HomographyPair> pairs, HomographyEvalOptions options, TorchSharp.torch.Device device, Action<string>? log = null)
    {
        var rows = new List<MmaRow>();
        var netOptions = new NetworkOptions { BFloat16 = options.BFloat16 };
        ModelLoader.CheckAll(options.Models, m => string.Equals(m, HomographyEvalOptions.RootSiftName, StringComparison.OrdinalIgnoreCase));
        foreach (var modelPath in options.Models)
        {
            if (string.Equals(modelPath, HomographyEvalOptions.RootSiftName, StringComparison.OrdinalIgnoreCase))
            {
                var sift = new RootSiftExtractor(options.RootSift);
                log?.Invoke($"{sift.Describe()} on {Counted.Of(pairs.Count, "pair")}");
                rows.AddRange(HomographyEvaluation.Run(pairs, p => sift.Extract(ImageFile.ReadRgb(p)),
                    new[] { CoordinateConvention.Centre }, HomographyEvalOptions.RootSiftName, options.Thresholds, device));
                continue;
            }
            using var net = ModelLoader.Load(modelPath, device, netOptions);
            var name = ModelLoader.Label(modelPath, options.Models);
            var variants = new List<(string Label, ExtractionSettings S, CoordinateConvention[] C)>
            {
                (name + (netOptions.BFloat16 ? " bf16" : ""), options.Extraction, new[] { CoordinateConvention.Official, CoordinateConvention.Centre }),
            };
            if (options.CompareSubPixel)
                variants.Add((name + (netOptions.BFloat16 ? " bf16" : "") + " +subpixel", options.Extraction with { SubPixel = true }, new[] { CoordinateConvention.Centre }));
            foreach (var (label, s, conventions) in variants)
            {
                var extractor = new MultiScaleExtractor(net, s);
                log?.Invoke($"{label} on {Counted.Of(pairs.Count, "pair")}");
                rows.AddRange(HomographyEvaluation.Run(pairs, p => extractor.Extract(ImageFile.ReadRgb(p)), conventions, label, options.Thresholds, device));
            }
        }
        return rows;
    }
}
