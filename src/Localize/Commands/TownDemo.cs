using System.CommandLine;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize demo --scene town`: the town runner (render, map, queries, evaluation) with the demo's tables.</summary>
internal static class TownDemo
{
    public static int Run(ParseResult r, DemoCommand.Options o, string scenePath)
    {
        // The square's options, which a town has no use for, are refused rather than ignored.
        foreach (var option in new Option[] { o.Truth, o.MaxDay, o.MaxQueries })
            if (r.GetResult(option) is { Implicit: false })
                throw new UsageException($"{option.Name} is for the square's scene; a town takes --images N and --queries N (its true poses are its own)");
        var outDir = r.GetValue(o.Output) ?? TownRunner.DefaultOutDir;
        var queries = r.GetValue(o.Queries);
        int? night = queries == null ? null : int.TryParse(queries, out int n) && n >= 0 ? n
            : throw new UsageException($"--queries {queries}: a town takes the number of night queries");
        Interruption.Hint("run the same command again to continue: the rendered photos and the map database are kept");
        var settings = o.Extraction.Get(r);
        var x = TownRunner.Execute(new TownJob(scenePath, outDir, r.GetValue(o.Scale), r.GetValue(o.Images), night, r.GetValue(o.RenderOnly),
            o.Net.Spec(r, settings, o.Extraction)), new ConsoleDemoProgress());
        if (x.Run is not { } result) return 0;
        BuildMapCommand.PrintSummary(result.MapPath, result.Map);
        DemoCommand.Print(result.Runs, x.Timings);
        if (result.Diagnoses.Count > 0)
        {
            Console.WriteLine();
            var perQuery = string.Join(", ", new[] { "night", "day" }.Select(k => TownRunner.DiagnosisPath(outDir, k)).Where(File.Exists));
            Console.WriteLine($"why queries missed ({R2D2.Localization.Evaluation.ThresholdSet.Aachen.Thresholds[0]}; README, \"Why a query missed\"; per query: {perQuery}):");
            Console.Write(R2D2.Localization.Evaluation.QueryDiagnoses.Table(result.Diagnoses));
        }
        if (result.ReportPath != null) Console.WriteLine($"report: {result.ReportPath}");
        return result.Summaries.Any(s => s.HasErrors) ? 1 : 0;
    }
}
