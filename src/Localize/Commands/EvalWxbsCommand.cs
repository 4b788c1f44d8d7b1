using System.CommandLine;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize eval-wxbs`: fundamental matrices from mutual-NN matches on WxBS pairs, judged by their hand-labelled correspondences.</summary>
internal static class EvalWxbsCommand
{
    public static Command Create()
    {
        var pairs = new Option<string[]>("--pairs")
        {
            Description = "WxBS pair folders (01.png|jpg, 02.png|jpg, corrs.txt, crossval_errors.txt), or folders holding them (the dataset, a category)",
            DefaultValueFactory = _ => new[] { Path.Combine(Environment.GetEnvironmentVariable("R2D2_SHARED") ?? Path.Combine("..", "shared"), "datasets", "wxbs", "WGALBS") },
            AllowMultipleArgumentsPerToken = true,
        };
        var defaults = new WxbsEvalOptions { Models = Array.Empty<string>() };
        var ransac = new Option<string>("--ransac")
        {
            Description = "F estimator: usac (OpenCV USAC_DEFAULT, LO-RANSAC), magsac (USAC_MAGSAC) or ransac (FM_RANSAC, 7-point)",
            DefaultValueFactory = _ => "usac",
        };
        ransac.AcceptOnlyFromAmong("usac", "magsac", "ransac");
        var threshold = new Option<double>("--ransac-threshold")
        {
            Description = "RANSAC inlier threshold: distance to the epipolar line (px)", DefaultValueFactory = _ => defaults.RansacThresholdPx,
        }.Check(v => v > 0 && double.IsFinite(v), "a positive number");
        var perPair = new Option<bool>("--per-pair") { Description = "also print a row per pair and method" };
        var shared = new MethodComparisonOptionSet();
        var cmd = new Command("eval-wxbs", "WxBS (wide baseline, day/night) pairs: F by RANSAC from mutual nearest-neighbour matches, "
            + "scored by the symmetric epipolar distance of the hand-labelled correspondences; the share of pairs whose mean error is below 1–20 px.");
        shared.AddTo(cmd, pairs, ransac, threshold, perPair);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            // The pairs first: a bad file is reported before the network runtime starts.
            var all = WxbsPairs.FindAll(r.GetValue(pairs)!);
            var dev = shared.Hardware.Resolve(r);
            var options = new WxbsEvalOptions
            {
                Models = r.GetValue(shared.Models)!, Extraction = shared.Extraction.Get(r), BFloat16 = shared.BFloat16(r),
                RootSift = shared.RootSift(r),
                Ransac = r.GetValue(ransac) switch { "magsac" => FundamentalMethod.UsacMagsac, "ransac" => FundamentalMethod.Ransac, _ => FundamentalMethod.Usac },
                RansacThresholdPx = r.GetValue(threshold),
            };
            var result = WxbsRunner.Run(all, options, dev, new StderrProgress());
            Print(result, options, r.GetValue(ransac)!, all.Count, r.GetValue(perPair));
            var failures = result.Methods.SelectMany(m => m.Failures.Select(f => $"{m.Summary.Label}: {f}")).ToList();
            foreach (var f in failures) Reporter.Error(f);
            if (failures.Count > 0) Reporter.Error($"{Counted.Of(failures.Count, "pair run")} failed: scored as unsolved");
            return failures.Count > 0 ? 1 : 0;
        }));
        return cmd;
    }

    private static string F(double v, string format) =>
        double.IsPositiveInfinity(v) ? "inf" : double.IsNaN(v) ? "–" : v.ToString(format, CultureInfo.InvariantCulture);

    private static void Print(WxbsResult result, WxbsEvalOptions o, string ransac, int pairs, bool perPair)
    {
        var rows = result.Methods.Select(m => m.Summary).ToList();
        if (result.Labelling != null) rows.Add(result.Labelling);
        int w = Math.Max(24, rows.Max(s => s.Label.Length) + 2);
        Console.WriteLine($"WxBS: {Counted.Of(pairs, "pair")}; the share solved at t (mean symmetric epipolar distance of the labelled correspondences below t) with F from "
            + $"{ransac} ({o.RansacThresholdPx.ToString(CultureInfo.InvariantCulture)} px) on mutual nearest neighbours");
        Console.WriteLine("method".PadRight(w) + string.Concat(o.Thresholds.Select(t => $"{t + "px",7}"))
            + $"  recall@1-{WxbsEvaluation.RecallMaxThreshold}  med.error  med.inliers  matches  keypoints");
        foreach (var s in rows)
            Console.WriteLine(s.Label.PadRight(w) + string.Concat(s.Solved.Select(v => F(v, "F2").PadLeft(7)))
                + F(s.Recall, "F3").PadLeft(13) + (F(s.MedianError, "F1") + " px").PadLeft(11)
                + F(s.MedianInliers ?? double.NaN, "F0").PadLeft(13) + F(s.MeanMatches ?? double.NaN, "F0").PadLeft(9)
                + F(s.MeanKeypoints ?? double.NaN, "F0").PadLeft(11));
        Console.WriteLine("time: " + string.Join(", ", result.Methods.Select(m =>
            $"{m.Summary.Label} {m.Seconds.ToString("F0", CultureInfo.InvariantCulture)} s")));
        if (!perPair) return;
        int pw = Math.Max(8, result.Methods.SelectMany(m => m.Pairs).Select(p => p.Pair.Length).DefaultIfEmpty(0).Max() + 2);
        Console.WriteLine();
        Console.WriteLine("pair".PadRight(pw) + "method".PadRight(w) + "keypoints".PadLeft(11) + "matches".PadLeft(9) + "inliers".PadLeft(9)
            + "mean error".PadLeft(12) + "≤5px".PadLeft(7) + "labelling".PadLeft(11) + "seconds".PadLeft(9));
        foreach (var p in result.Methods.SelectMany(m => m.Pairs).OrderBy(p => p.Pair, StringComparer.Ordinal))
            Console.WriteLine(p.Pair.PadRight(pw) + p.Method.PadRight(w) + $"{p.Keypoints1}/{p.Keypoints2}".PadLeft(11)
                + p.Matches.ToString(CultureInfo.InvariantCulture).PadLeft(9) + p.Inliers.ToString(CultureInfo.InvariantCulture).PadLeft(9)
                + (F(p.MeanError, "F1") + " px").PadLeft(12)
                + F(p.Errors.Count(e => e <= 5) / (double)Math.Max(p.Errors.Length, 1), "F2").PadLeft(7)
                + (p.LabellingError is { } le ? F(le, "F2") + " px" : "–").PadLeft(11) + F(p.Seconds, "F0").PadLeft(9));
    }

    /// <summary>Progress on stderr (stdout holds only the tables): a line per model and per pair.</summary>
    private sealed class StderrProgress : IProgressSink
    {
        public void Info(string message) => Console.Error.WriteLine($"eval-wxbs: {message}");

        public void Stage(string name, int items, Action<Action<string>> work)
        {
            int i = 0;
            work(line => Console.Error.WriteLine($"eval-wxbs: [{++i}/{items}] {name}: {line}"));
        }

        public void Warning(string message) => Reporter.Warn(message);
        public void Error(string message) => Reporter.Error(message);
    }
}
