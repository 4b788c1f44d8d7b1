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
        var models = new Option<string[]>("--model")
        {
            Description = $"one or more checkpoints, and/or '{HomographyEvalOptions.RootSiftName}' for the RootSIFT baseline (OpenCV SIFT)",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var pairs = new Option<string[]>("--pairs")
        {
            Description = "folders: HPatches sequences (or their root), Oxford (img1, imgK, H1toKp), EVD (1/, 2/, h/)",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var hardware = new DeviceOptionSet();
        var subpixel = new Option<bool>("--compare-subpixel") { Description = "also evaluate with sub-pixel keypoint refinement (extra rows)" };
        var precision = new Option<string>("--precision")
        {
            Description = "R2D2 network precision: fp32 (equal to the official outputs) or bf16 (convolutions in bfloat16)",
            DefaultValueFactory = _ => "fp32",
        };
        precision.AcceptOnlyFromAmong("fp32", "bf16");
        var siftDefaults = new RootSiftSettings();
        var siftFeatures = new Option<int>("--sift-features") { Description = "RootSIFT: OpenCV SIFT's nfeatures", DefaultValueFactory = _ => siftDefaults.MaxFeatures }.Between(1, 1_000_000);
        var siftMaxSize = new Option<int>("--sift-max-size")
        {
            Description = "RootSIFT: downscale images so the longer side is at most this (px); 0: full size",
            DefaultValueFactory = _ => siftDefaults.MaxSize,
        }.Between(0, 16384);
        var ex = new ExtractionOptionSet();
        var cmd = new Command("eval-homography", "Mean matching accuracy (MMA) at 1–10 px of mutual nearest-neighbour matches under ground-truth homographies.");
        foreach (var o in new Option[] { models, pairs }) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        foreach (var o in new Option[] { subpixel, precision, siftFeatures, siftMaxSize }) cmd.Options.Add(o);
        ex.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var dev = hardware.Resolve(r);
            var all = HomographyPairs.FindAll(r.GetValue(pairs)!);
            var options = new HomographyEvalOptions
            {
                Models = r.GetValue(models)!, Extraction = ex.Get(r), BFloat16 = r.GetValue(precision) == "bf16", CompareSubPixel = r.GetValue(subpixel),
                RootSift = new RootSiftSettings { MaxFeatures = r.GetValue(siftFeatures), MaxSize = r.GetValue(siftMaxSize) },
            };
            var rows = HomographyModelEvaluation.Run(all, options, dev, line => Console.Error.WriteLine($"eval-homography: {line}"));
            Print(rows, options.Thresholds, all.Count);
            return 0;
        }));
        return cmd;
    }

    private static void Print(List<MmaRow> rows, IReadOnlyList<int> thresholds, int pairs)
    {
        int w = Math.Max(30, rows.Max(r => r.Label.Length) + 2);
        Console.WriteLine($"MMA over {Counted.Of(pairs, "pair")}, mutual nearest neighbours");
        Console.WriteLine("method".PadRight(w) + string.Concat(thresholds.Select(t => $"{t + "px",7}")) + "  matches  keypoints");
        foreach (var row in rows)
            Console.WriteLine(row.Label.PadRight(w) + string.Concat(row.Mma.Select(v => v.ToString("F3", CultureInfo.InvariantCulture).PadLeft(7)))
                + $"{row.MeanMatches,9:F0}{row.MeanKeypoints,11:F0}");
    }
}
