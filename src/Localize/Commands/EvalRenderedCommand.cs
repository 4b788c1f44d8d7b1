using System.CommandLine;
using System.Globalization;
using R2D2.Localization.Evaluation;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize eval-rendered`: MMA on rendered day/night pairs of held-apart scenes (the training validation set).</summary>
internal static class EvalRenderedCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model") { Description = "one or more checkpoints ('default': the embedded model)", Required = true, AllowMultipleArgumentsPerToken = true };
        var count = new Option<int>("--pairs") { Description = "day/night pairs (two per scene; scenes of seeds −1, −2, …, never used for training)", DefaultValueFactory = _ => 24 };
        var size = new Option<string>("--size") { Description = "image size WxH", DefaultValueFactory = _ => "384x288" };
        var hardware = new DeviceOptionSet();
        var ex = new ExtractionOptionSet();
        var cmd = new Command("eval-rendered", "MMA at 1/3/5 px of mutual nearest-neighbour matches on rendered day/night pairs (true flow from the renderer's depth).");
        foreach (var o in new Option[] { models, count, size }) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        ex.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var dev = hardware.Resolve(r);
            var wh = r.GetValue(size)!.Split('x');
            if (wh.Length != 2 || !int.TryParse(wh[0], CultureInfo.InvariantCulture, out var w) || !int.TryParse(wh[1], CultureInfo.InvariantCulture, out var h) || w < 16 || h < 16 || w > 4096 || h > 4096)
                throw new ArgumentException($"--size {r.GetValue(size)}: expected WxH, from 16x16 to 4096x4096");
            int n = r.GetValue(count) > 0 ? r.GetValue(count) : throw new ArgumentException("--pairs must be positive");
            var rows = RenderedModelEvaluation.Run(r.GetValue(models)!, n, w, h, ex.Get(r), dev, line => Console.Error.WriteLine($"eval-rendered: {line}"));
            int width = Math.Max(30, rows.Max(x => x.Label.Length) + 2);
            Console.WriteLine($"MMA over {n} rendered day/night pair(s) ({w}x{h}), mutual nearest neighbours");
            Console.WriteLine("method".PadRight(width) + string.Concat(RenderedPairsEvaluation.Thresholds.Select(t => $"{t + "px",7}")) + "  matches  keypoints");
            foreach (var row in rows)
                Console.WriteLine(row.Label.PadRight(width) + string.Concat(row.Mma.Select(v => v.ToString("F3", CultureInfo.InvariantCulture).PadLeft(7)))
                    + $"{row.MeanMatches,9:F0}{row.MeanKeypoints,11:F0}");
            return 0;
        }));
        return cmd;
    }
}
