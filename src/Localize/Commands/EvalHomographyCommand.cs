using System.CommandLine;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize eval-homography`: MMA of mutual-NN matches on pairs with a ground-truth homography.</summary>
internal static class EvalHomographyCommand
{
    public static Command Create()
    {
        var models = new Option<string[]>("--model") { Description = "one or more checkpoints", Required = true, AllowMultipleArgumentsPerToken = true };
        var pairs = new Option<string[]>("--pairs")
        {
            Description = "folders: HPatches sequences (or their root), Oxford (img1, imgK, H1toKp), EVD (1/, 2/, h/)",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores)" };
        var subpixel = new Option<bool>("--compare-subpixel") { Description = "also evaluate with sub-pixel keypoint refinement (extra rows)" };
        var ex = new ExtractionOptionSet();
        var cmd = new Command("eval-homography", "Mean matching accuracy (MMA) at 1–10 px of mutual nearest-neighbour matches under ground-truth homographies.");
        foreach (var o in new Option[] { models, pairs, device, threads, subpixel }) cmd.Options.Add(o);
        ex.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            TorchRuntime.SetThreads(r.GetValue(threads));
            var dev = TorchRuntime.ResolveDevice(r.GetValue(device));
            var all = r.GetValue(pairs)!.SelectMany(HomographyPairs.Find).ToList();
            if (all.Count == 0) throw new ArgumentException("no homography pairs found in --pairs");
            var settings = ex.Get(r);
            var thresholds = MatchingAccuracy.DefaultThresholds;
            var rows = new List<MmaRow>();
            foreach (var modelPath in r.GetValue(models)!)
            {
                using var net = ModelLoader.Load(modelPath, dev);
                var variants = new List<(string Label, ExtractionSettings S, CoordinateConvention[] C)>
                {
                    (ModelLoader.ModelName(modelPath), settings, new[] { CoordinateConvention.Official, CoordinateConvention.Centre }),
                };
                if (r.GetValue(subpixel))
                    variants.Add((ModelLoader.ModelName(modelPath) + " +subpixel", settings with { SubPixel = true }, new[] { CoordinateConvention.Centre }));
                foreach (var (label, s, conventions) in variants)
                {
                    var extractor = new MultiScaleExtractor(net, s);
                    Console.Error.WriteLine($"eval-homography: {label} on {all.Count} pair(s)");
                    rows.AddRange(HomographyEvaluation.Run(all, p => extractor.Extract(ImageFile.ReadRgb(p)), conventions, label, thresholds, dev));
                }
            }
            Print(rows, thresholds, all.Count);
            return 0;
        }));
        return cmd;
    }

    private static void Print(List<MmaRow> rows, int[] thresholds, int pairs)
    {
        int w = Math.Max(30, rows.Max(r => r.Label.Length) + 2);
        Console.WriteLine($"MMA over {pairs} pair(s), mutual nearest neighbours");
        Console.WriteLine("method".PadRight(w) + string.Concat(thresholds.Select(t => $"{t + "px",7}")) + "  matches  keypoints");
        foreach (var row in rows)
            Console.WriteLine(row.Label.PadRight(w) + string.Concat(row.Mma.Select(v => v.ToString("F3", CultureInfo.InvariantCulture).PadLeft(7)))
                + $"{row.MeanMatches,9:F0}{row.MeanKeypoints,11:F0}");
    }
}
