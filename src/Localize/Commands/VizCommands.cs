using System.CommandLine;
using R2D2.Localization.Pipeline;

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
            var (png, count) = VizRunner.Keypoints(new VizOptions(r.GetValue(image)!, r.GetValue(output)), net.Spec(r, ex.Get(r), ex));
            Console.WriteLine($"wrote {png}: {count} keypoints");
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
            var (png, w, h) = VizRunner.Heatmaps(new VizOptions(r.GetValue(image)!, r.GetValue(output)), net.Spec(r, new ExtractionSettings()), r.GetValue(maxSize));
            Console.WriteLine($"wrote {png} ({w}×{h} maps)");
            return 0;
        }));
        return cmd;
    }
}
