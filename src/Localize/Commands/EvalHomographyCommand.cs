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
        var pairs = new Option<string[]>("--pairs")
        {
            Description = "folders: HPatches sequences (or their root), Oxford (img1, imgK, H1toKp), EVD (1/, 2/, h/)",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var subpixel = new Option<bool>("--compare-subpixel") { Description = "also evaluate with sub-pixel keypoint refinement (extra rows)" };
        var shared = new MethodComparisonOptionSet();
        var cmd = new Command("eval-homography", "Mean matching accuracy (MMA) at 1–10 px of mutual nearest-neighbour matches under ground-truth homographies.");
        shared.AddTo(cmd, pairs, subpixel);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var dev = shared.Hardware.Resolve(r);
            var all = HomographyPairs.FindAll(r.GetValue(pairs)!);
            var options = new HomographyEvalOptions
            {
                Models = r.GetValue(shared.Models)!, Extraction = shared.Extraction.Get(r), BFloat16 = shared.BFloat16(r), CompareSubPixel = r.GetValue(subpixel),
                RootSift = shared.RootSift(r),
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
