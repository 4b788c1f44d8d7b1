using System.CommandLine;
using System.Diagnostics;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Synthesis;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize demo --scene town`: the town runner (render, map, queries, evaluation) with the demo's tables.</summary>
internal static class TownDemo
{
    /// <summary>The town file <paramref name="scene"/> names ('town', or a file starting with `town SEED`); null: not a town.</summary>
    public static string? ScenePath(string? scene, string? outDir) =>
        scene == "town" ? DemoCommand.RepoFile(outDir ?? "out/town", "maps", DemoFiles.Town) : scene != null && TownScene.IsTownFile(scene) ? scene : null;

    public static int Run(ParseResult r, DemoCommand.Options o, string scenePath)
    {
        var total = Stopwatch.StartNew();
        var outDir = r.GetValue(o.Output) ?? "out/town";
        var queries = r.GetValue(o.Queries);
        int? night = queries == null ? null : int.TryParse(queries, out int n) && n >= 0 ? n
            : throw new ArgumentException($"--queries {queries}: a town takes the number of night queries");
        var town = TownScene.Load(scenePath).Scaled(r.GetValue(o.Scale));
        var data = new TownDataset(town, outDir, r.GetValue(o.Images), night); // a count too large stops here, before any work
        data.CheckFolder();
        var settings = o.Extraction.Get(r);
        Console.WriteLine($"demo: town {scenePath} ({town.BlocksX}×{town.BlocksZ} blocks, {town.Styles} styles, {town.Width}×{town.Height}), "
            + $"{data.Day.Count} database photos (at most {town.MaxImages}), {data.Night.Count} night and {data.DayQueries.Count} day queries → {outDir}");
        var timings = new List<(string Stage, double Seconds)>();
        using var source = r.GetValue(o.RenderOnly) ? null : o.Net.LoadSource(r, settings);
        timings.Add(("load model", total.Elapsed.TotalSeconds));
        var progress = new ConsoleProgress("demo");
        TownRunner.Render(data, progress, timings);
        Console.WriteLine($"render: Aachen layout in {outDir}: {data.NvmPath}, {data.IntrinsicsPath}, {data.ColmapFolder}/, {data.QueryList(true)}, {data.TruthPath(true)}");
        if (source == null) return 0;
        var modelName = ModelLoader.ModelName(r.GetValue(o.Net.Model)!);
        var truth = new Dictionary<string, Geometry.Pose>();
        foreach (var nightSet in new[] { true, false }) foreach (var t in Submission.Read(data.TruthPath(nightSet))) truth[t.Name] = t.Pose;
        var result = TownRunner.Run(data, source, o.Net.MapModel(r), o.Net.Hardware.Resolve(r),
            new TownRunOptions { OutDir = outDir, Images = data.Day.Count, NightQueries = night, Match = new MatchOptions { Device = o.Net.Hardware.Resolve(r) } },
            progress, (runner, list) =>
            {
                var summary = ConsoleQueryProgress.Run(runner, list, x => Describe(x, truth[x.Query.SubmissionName]));
                Console.WriteLine(summary.Line);
                return summary;
            }, timings, modelName);
        BuildMapCommand.PrintSummary(result.MapPath, result.Map);
        timings.Add(("total", total.Elapsed.TotalSeconds));
        DemoCommand.Print(result.Runs, timings);
        Console.WriteLine($"report: {result.ReportPath}");
        return result.Summaries.Any(s => s.HasErrors) ? 1 : 0;
    }

    private static string Describe(QueryOutcome o, Geometry.Pose truth)
    {
        var res = o.Result;
        return $"{o.Query.Name}: {(o.IsError ? QueryOutputs.Word(o.Status) : res.Localized ? "localized" : "NOT localized")}, {res.Inliers} inliers, error "
            + $"{PoseEvaluation.PositionError(res.Pose, truth) * 100:F1} cm / {PoseEvaluation.RotationError(res.Pose, truth) * 180 / Math.PI:F2}°, "
            + $"{res.ExtractSeconds + res.MatchSeconds + res.PnpSeconds:F1} s";
    }
}
