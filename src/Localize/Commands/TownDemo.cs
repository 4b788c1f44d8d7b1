using System.CommandLine;
using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize demo --scene town`: the town runner (render, map, queries, evaluation) with the demo's tables.</summary>
internal static class TownDemo
{
    public static int Run(ParseResult r, DemoCommand.Options o, string scenePath)
    {
        var total = Stopwatch.StartNew();
        // The square's options, which a town has no use for, are refused rather than ignored.
        foreach (var option in new Option[] { o.Truth, o.MaxDay, o.MaxQueries })
            if (r.GetResult(option) is { Implicit: false })
                throw new UsageException($"{option.Name} is for the square's scene; a town takes --images N and --queries N (its true poses are its own)");
        var outDir = r.GetValue(o.Output) ?? TownRunner.DefaultOutDir;
        var queries = r.GetValue(o.Queries);
        int? night = queries == null ? null : int.TryParse(queries, out int n) && n >= 0 ? n
            : throw new UsageException($"--queries {queries}: a town takes the number of night queries");
        var data = TownRunner.Open(scenePath, outDir, r.GetValue(o.Scale), r.GetValue(o.Images), night);
        Interruption.Hint("run the same command again to continue: the rendered photos and the map database are kept");
        var town = data.Scene;
        var settings = o.Extraction.Get(r);
        Console.WriteLine($"demo: town {scenePath} ({town.BlocksX}×{town.BlocksZ} blocks, {town.Styles} styles, {town.Width}×{town.Height}), "
            + $"{data.Day.Count} database photos (at most {town.MaxImages}), {data.Night.Count} night and {data.DayQueries.Count} day queries → {outDir}");
        var timings = new List<(string Stage, double Seconds)>();
        using var source = r.GetValue(o.RenderOnly) ? null : o.Net.LoadSource(r, settings, o.Extraction);
        if (source != null) TownRunner.CheckExtractable(data, source);
        timings.Add(("load model", total.Elapsed.TotalSeconds));
        var progress = new ConsoleDemoProgress();
        TownRunner.Render(data, progress, timings);
        Console.WriteLine($"render: Aachen layout in {outDir}: {data.NvmPath}, {data.IntrinsicsPath}, {data.ColmapFolder}/, {data.QueryList(true)}, {data.TruthPath(true)}");
        if (source == null) return 0;
        var modelName = ModelLoader.ModelName(r.GetValue(o.Net.Model)!);
        var result = TownRunner.Run(data, source, o.Net.MapModel(r), o.Net.Hardware.Resolve(r),
            new TownRunOptions { OutDir = outDir, Images = data.Day.Count, NightQueries = night, Match = new MatchOptions { Device = o.Net.Hardware.Resolve(r) } },
            progress, timings, modelName);
        BuildMapCommand.PrintSummary(result.MapPath, result.Map);
        timings.Add(("total", total.Elapsed.TotalSeconds));
        DemoCommand.Print(result.Runs, timings);
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
