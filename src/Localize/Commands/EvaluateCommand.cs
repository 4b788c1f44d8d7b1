using System.CommandLine;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize evaluate`: estimated poses against ground truth, as visuallocalization.net scores them.</summary>
internal static class EvaluateCommand
{
    public static Command Create()
    {
        var poses = new Option<string[]>("--poses")
        {
            Description = "estimated poses, submission format (name qw qx qy qz tx ty tz, world→camera); several files give several rows and curves",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var truth = new Option<string>("--ground-truth") { Description = "ground-truth poses, same format", Required = true };
        var labels = new Option<string[]>("--label") { Description = "the name of a run in the tables, the plot and its CSV: one --label per --poses file, in order (default: the file's name)" };
        var plot = new Option<string?>("--plot") { Description = "cumulative error plot (.png or .svg); default: <first poses file>.errors.png beside it" };
        var noCsv = new Option<bool>("--no-csv") { Description = "write no per-query CSV (default: <poses file>.errors.csv beside each poses file)" };
        var noPlot = new Option<bool>("--no-plot") { Description = "write no plot" };
        var linear = new Option<bool>("--linear") { Description = "linear position axis (0–10 m) instead of log (1 cm–10 m)" };
        var extra = new Option<string[]>("--extra-threshold")
        {
            Description = "more thresholds, each METRES,DEGREES (e.g. 0.05,0.5), reported in a third table",
            AllowMultipleArgumentsPerToken = true,
        };
        var cmd = new Command("evaluate", "Score estimated poses against ground truth: shares within the Aachen thresholds (current and v1.0), "
            + "median errors, missing queries (counted as failures), a cumulative error plot, and each run's errors query by query (CSV).");
        foreach (var o in new Option[] { poses, labels, truth, plot, noPlot, linear, extra, noCsv }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var x = PoseEvaluationRunner.Run(new PoseEvaluationOptions
            {
                TruthPath = r.GetValue(truth)!, PosePaths = r.GetValue(poses)!, Labels = r.GetValue(labels) is { Length: > 0 } l ? l : null,
                Extra = (r.GetValue(extra) ?? Array.Empty<string>()).Select(ParseThreshold).ToList(),
                PlotPath = r.GetValue(plot), NoPlot = r.GetValue(noPlot), NoCsv = r.GetValue(noCsv),
                Scale = r.GetValue(linear) ? ErrorScale.Linear : ErrorScale.Log,
            }, new ConsoleProgress(), (runs, extraSet) =>
            {
                Console.WriteLine();
                foreach (var set in new[] { ThresholdSet.Aachen, ThresholdSet.AachenV1_0, extraSet }.Where(s => s.Thresholds.Count > 0))
                {
                    Console.Write(PoseEvaluationTable.Thresholds(set, runs));
                    Console.WriteLine();
                }
                Console.Write(PoseEvaluationTable.Summary(runs));
                Console.WriteLine("(missing queries count as failures in the shares and as infinite errors in the medians)");
            });
            for (int i = 0; i < x.CsvPaths.Count; i++) Console.WriteLine($"per-query errors of {x.Runs[i].Label}: {x.CsvPaths[i]}");
            if (x.PlotPath != null) Console.WriteLine($"plot: {x.PlotPath}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>"0.05,0.5" → (0.05 m, 0.5°).</summary>
    internal static PoseThreshold ParseThreshold(string text)
    {
        var parts = text.Split(',');
        if (parts.Length == 2
            && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double m) && m > 0 && double.IsFinite(m)
            && double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double deg) && deg > 0 && deg <= 180)
            return PoseThreshold.FromDegrees(m, deg);
        throw new UsageException($"--extra-threshold '{text}': expected METRES,DEGREES with metres positive and degrees in (0, 180], e.g. 0.05,0.5");
    }
}
