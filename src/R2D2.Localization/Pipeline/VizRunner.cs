using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace R2D2.Localization.Pipeline;

/// <summary>A picture of the extractor's output for one image (`localize viz`).</summary>
/// <param name="OutPath">the PNG; null: the image's file name + <c>.keypoints.png</c> or
/// <c>.heatmaps.png</c> in the current folder (photo.jpg and photo.png apart)</param>
/// <param name="ModelPath">the model file, which the picture must not replace (null: none named)</param>
public sealed record VizOptions(string ImagePath, string? OutPath = null, string? ModelPath = null);

/// <summary>
/// `localize viz`: the multi-scale keypoints drawn over the image, or its repeatability and
/// reliability maps beside it (<see cref="FeatureViz"/>). The picture may not be the image or the
/// model (refused before the network is loaded).
/// </summary>
public static class VizRunner
{
    /// <summary>Draws the keypoints; returns the PNG and their count.</summary>
    public static (string Png, int Keypoints) Keypoints(VizOptions o, Func<R2D2Network> loadNetwork, ExtractionSettings settings)
    {
        var png = Output(o, ".keypoints.png");
        var rgb = ImageFile.ReadRgb(o.ImagePath);
        using var network = loadNetwork();
        var f = new MultiScaleExtractor(network, settings).Extract(rgb);
        FeatureViz.WriteKeypoints(rgb, f, png);
        return (png, f.Count);
    }

    /// <summary>The maps of one forward pass of the image, downscaled first so its longer side is at
    /// most <paramref name="maxSize"/>; returns the PNG and the maps' size.</summary>
    public static (string Png, int Width, int Height) Heatmaps(VizOptions o, Func<R2D2Network> loadNetwork, int maxSize)
    {
        var png = Output(o, ".heatmaps.png");
        var rgb = ImageFile.ReadRgb(o.ImagePath);
        using var network = loadNetwork();
        using var scope = NewDisposeScope();
        var input = MultiScaleExtractor.NormalizedInput(rgb);
        int longSide = Math.Max(rgb.Width, rgb.Height);
        if (maxSize > 0 && longSide > maxSize)
        {
            double s = (double)maxSize / longSide;
            input = F.interpolate(input, size: new long[] { (long)Math.Round(rgb.Height * s), (long)Math.Round(rgb.Width * s) },
                mode: InterpolationMode.Bilinear, align_corners: false);
        }
        using var maps = network.Forward(input);
        int h = (int)maps.Repeatability.shape[2], w = (int)maps.Repeatability.shape[3];
        FeatureViz.WriteHeatmaps(rgb, maps.Repeatability.cpu().data<float>().ToArray(), maps.Reliability.cpu().data<float>().ToArray(), w, h, png);
        return (png, w, h);
    }

    private static string Output(VizOptions o, string suffix)
    {
        var png = o.OutPath ?? Path.GetFileName(o.ImagePath) + suffix;
        OutputFile.RefuseInputs(new[] { ("picture", (string?)png) }, new[] { ("image", (string?)o.ImagePath), ("model", o.ModelPath) });
        return png;
    }
}
