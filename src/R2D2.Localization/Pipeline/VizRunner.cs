using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace R2D2.Localization.Pipeline;

/// <summary>A picture of the extractor's output for one image (`localize viz`).</summary>
/// <param name="OutPath">the PNG; null: the image's file name + <c>.keypoints.png</c> or
/// <c>.heatmaps.png</c> in the current folder (photo.jpg and photo.png apart)</param>
public sealed record VizOptions(string ImagePath, string? OutPath = null);

/// <summary>
/// `localize viz`: the multi-scale keypoints drawn over the image, or its repeatability and
/// reliability maps beside it (<see cref="FeatureViz"/>). The picture may not be the image or the
/// model (refused before the network is loaded). The network is <see cref="FeatureSourceSpec.OpenNetwork"/>'s:
/// RootSIFT and hloc's features have none to draw.
/// </summary>
public static class VizRunner
{
    /// <summary>Draws the keypoints; returns the PNG and their count.</summary>
    public static (string Png, int Keypoints) Keypoints(VizOptions o, FeatureSourceSpec features)
    {
        var png = Output(o, ".keypoints.png", features.Model);
        var rgb = ImageFile.ReadRgb(o.ImagePath);
        using var network = features.OpenNetwork();
        FeatureSet f;
        try { f = new MultiScaleExtractor(network, features.Settings).Extract(rgb); }
        catch (ImageTooSmallException e) { throw new R2D2Exception(o.ImagePath, 0, e.Message); } // said of the image
        FeatureViz.WriteKeypoints(rgb, f, png);
        return (png, f.Count);
    }

    /// <summary>The maps of one forward pass of the image, downscaled first so its longer side is at
    /// most <paramref name="maxSize"/>; returns the PNG and the maps' size.</summary>
    public static (string Png, int Width, int Height) Heatmaps(VizOptions o, FeatureSourceSpec features, int maxSize)
    {
        var png = Output(o, ".heatmaps.png", features.Model);
        var rgb = ImageFile.ReadRgb(o.ImagePath);
        using var network = features.OpenNetwork();
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

    private static string Output(VizOptions o, string suffix, string model)
    {
        var png = o.OutPath ?? Path.GetFileName(o.ImagePath) + suffix;
        OutputFile.RefuseInputs(new[] { ("picture", (string?)png) }, new[] { ("image", (string?)o.ImagePath), ("model", (string?)model) });
        return png;
    }
}
