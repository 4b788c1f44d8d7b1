using System.CommandLine;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize eval-rendered`: MMA on the training validation sets (rendered day/night pairs, viewpoint pairs).</summary>
internal static class EvalRenderedCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model") { Description = "one or more checkpoints ('default': the embedded model)", Required = true, AllowMultipleArgumentsPerToken = true };
        var count = new Option<int>("--pairs") { Description = "pairs of each set (day/night: two per scene, scenes of seeds −1, −2, …; viewpoint: procedural images of a seed training never uses)", DefaultValueFactory = _ => 24 };
        var size = new Option<string>("--size") { Description = "image size WxH", DefaultValueFactory = _ => "384x288" };
        var hardware = new DeviceOptionSet();
        var ex = new ExtractionOptionSet();
        var cmd = new Command("eval-rendered", "MMA at 1/3/5 px of mutual nearest-neighbour matches on the training validation sets: rendered day/night pairs (true flow from the renderer's depth) and viewpoint-change pairs of procedural images.");
        foreach (var o in new Option[] { models, count, size }) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        ex.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var dev = hardware.Resolve(r);
            var wh = r.GetValue(size)!.Split('x');
            if (wh.Length != 2 || !int.TryParse(wh[0], CultureInfo.InvariantCulture, out var w) || !int.TryParse(wh[1], CultureInfo.InvariantCulture, out var h) || w < 16 || h < 16 || w > 4096 || h > 4096)
                throw new UsageException($"--size {r.GetValue(size)}: expected WxH, from 16x16 to 4096x4096");
            // Sizes the extraction cannot take are said now, not after the first pair's rendering.
            if (MultiScaleExtractor.SizeProblem(ex.Get(r), w, h) is { } why)
                throw new UsageException($"--size {r.GetValue(size)}: the rendered images would be {why} (a larger --size or a smaller --min-size)");
            int n = r.GetValue(count) > 0 ? r.GetValue(count) : throw new UsageException("--pairs must be positive");
            var rows = RenderedModelEvaluation.Run(r.GetValue(models)!, n, w, h, ex.Get(r), dev, line => Console.Error.WriteLine($"eval-rendered: {line}"));
            int width = Math.Max(30, rows.Max(x => x.DayNight.Label.Length) + 2);
            Console.WriteLine($"MMA over {Counted.Of(n, "rendered day/night pair")} ({w}x{h}) and {Counted.Of(n, "viewpoint (homography) pair")} ({Math.Max(w, h)}x{Math.Max(w, h)}), mutual nearest neighbours");
            Console.WriteLine("method".PadRight(width) + "  day/night" + string.Concat(RenderedPairsEvaluation.Thresholds.Select(t => $"{t + "px",7}")) + "  matches  keypoints"
                + "   viewpoint" + string.Concat(RenderedPairsEvaluation.Thresholds.Select(t => $"{t + "px",7}")) + "  matches    score");
            foreach (var (dn, vp) in rows)
                Console.WriteLine(dn.Label.PadRight(width) + new string(' ', 11) + Values(dn) + $"{dn.MeanMatches,9:F0}{dn.MeanKeypoints,11:F0}"
                    + new string(' ', 12) + Values(vp) + $"{vp.MeanMatches,9:F0}" + ValidationSets.Score(dn, vp).ToString("F3", CultureInfo.InvariantCulture).PadLeft(9));
            Console.WriteLine("score: the mean of the two MMA at 3 px (how `train --validate-every` picks best.safetensors)");
            return 0;
        }));
        static string Values(MmaRow row) => string.Concat(row.Mma.Select(v => v.ToString("F3", CultureInfo.InvariantCulture).PadLeft(7)));
        return cmd;
    }
}
