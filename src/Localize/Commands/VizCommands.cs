using System.CommandLine;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize viz keypoints|heatmaps IMAGE`: PNG pictures of the extractor's output.</summary>
internal static class VizCommands
{
    public static Command Create()
    {
        var cmd = new Command("viz", "Draw keypoints or the repeatability/reliability heatmaps of an image.");
        cmd.Subcommands.Add(Keypoints());
        cmd.Subcommands.Add(Heatmaps());
        return cmd;
    }

    private static Command Keypoints()
    {
        var net = new NetworkOptionSet();
        var ex = new ExtractionOptionSet();
        var image = new Argument<string>("image");
        var output = new Option<string?>("--out") { Description = "PNG to write (default: <image file name>.keypoints.png in the current folder: photo.jpg.keypoints.png)" };
        var cmd = new Command("keypoints", "Draw the multi-scale keypoints over the image (circle size: scale; colour: score).") { image };
        net.AddTo(cmd); ex.AddTo(cmd); cmd.Options.Add(output);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var path = r.GetValue(image)!;
            var png = r.GetValue(output) ?? Path.GetFileName(path) + ".keypoints.png"; // photo.jpg and photo.png apart
            OutputFile.RefuseInputs(new[] { ("picture", (string?)png) }, new[] { ("image", (string?)path), ("model", r.GetValue(net.Model)) });
            var rgb = ImageFile.ReadRgb(path);
            using var network = net.Load(r);
            var f = new MultiScaleExtractor(network, ex.Get(r)).Extract(rgb);
            FeatureViz.WriteKeypoints(rgb, f, png);
            Console.WriteLine($"wrote {png}: {f.Count} keypoints");
            return 0;
        }));
        return cmd;
    }

    private static Command Heatmaps()
    {
        var net = new NetworkOptionSet();
        var image = new Argument<string>("image");
        var output = new Option<string?>("--out") { Description = "PNG to write (default: <image file name>.heatmaps.png in the current folder: photo.jpg.heatmaps.png)" };
        var maxSize = new Option<int>("--max-size") { Description = "the image is first downscaled so its longer side is at most this (px)", DefaultValueFactory = _ => 1024 }.Between(16, 16384);
        var cmd = new Command("heatmaps", "Write the image, its repeatability and its reliability maps side by side.") { image };
        net.AddTo(cmd); cmd.Options.Add(output); cmd.Options.Add(maxSize);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var path = r.GetValue(image)!;
            var png = r.GetValue(output) ?? Path.GetFileName(path) + ".heatmaps.png";
            OutputFile.RefuseInputs(new[] { ("picture", (string?)png) }, new[] { ("image", (string?)path), ("model", r.GetValue(net.Model)) });
            var rgb = ImageFile.ReadRgb(path);
            using var network = net.Load(r);
            using var scope = NewDisposeScope();
            var input = MultiScaleExtractor.NormalizedInput(rgb);
            int longSide = Math.Max(rgb.Width, rgb.Height), cap = r.GetValue(maxSize);
            if (cap > 0 && longSide > cap)
            {
                double s = (double)cap / longSide;
                input = F.interpolate(input, size: new long[] { (long)Math.Round(rgb.Height * s), (long)Math.Round(rgb.Width * s) },
                    mode: InterpolationMode.Bilinear, align_corners: false);
            }
            using var o = network.Forward(input);
            int h = (int)o.Repeatability.shape[2], w = (int)o.Repeatability.shape[3];
            FeatureViz.WriteHeatmaps(rgb, o.Repeatability.cpu().data<float>().ToArray(), o.Reliability.cpu().data<float>().ToArray(), w, h, png);
            Console.WriteLine($"wrote {png} ({w}×{h} maps)");
            return 0;
        }));
        return cmd;
    }
}
