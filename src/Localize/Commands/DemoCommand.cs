using System.CommandLine;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize demo`: the project's job on its own scene, out of the box: render the day
/// photos and night queries, build the map, localize the queries, print the table, write the report.
/// It parses the options, calls <see cref="DemoRunner"/> (the town: <see cref="TownRunner"/>) and prints.</summary>
internal static class DemoCommand
{
    internal sealed class Options
    {
        public readonly NetworkOptionSet Net = new();
        public readonly ExtractionOptionSet Extraction = new(DemoRunner.DefaultSettings);
        public readonly Option<string?> Scene = new("--scene") { Description = "scene file, or 'town' (maps/town.scene: a generated town; see --images) (default: maps/demo-square.scene of the repository)" };
        public readonly Option<string?> Queries = new("--queries") { Description = "night query list, `name MODEL w h params...` (default: queries/demo-square-night.txt); for a town, the number of night queries" };
        public readonly Option<int> Images = new("--images") { Description = $"town: the number of database photos (default {TownRunner.DefaultImages}; the town file's streets set the maximum)", DefaultValueFactory = _ => TownRunner.DefaultImages };
        public readonly Option<string?> Truth = new("--ground-truth") { Description = "the queries' true poses, submission format (default: queries/demo-square-night.poses.txt)" };
        public readonly Option<string?> Output = new("--out") { Description = "output folder: images, map, poses, report (default out/demo, rewritten on each run; out/town for a town, resumed)" };
        public readonly Option<bool> RenderOnly = new("--render-only") { Description = "only render the day and night images" };
        public readonly Option<int> MaxDay = new("--max-day") { Description = "use only the first N day cameras (0: all; for quick checks)" };
        public readonly Option<int> MaxQueries = new("--max-queries") { Description = "localize only the first N queries (0: all)" };
        public readonly Option<double> Scale = new("--scale") { Description = "render the images this many times the scene's size (e.g. 0.5; for quick checks)", DefaultValueFactory = _ => 1.0 };

        public void AddTo(Command cmd)
        {
            Net.AddTo(cmd); Extraction.AddTo(cmd);
            foreach (var o in new Option[] { Scene, Queries, Images, Truth, Output, RenderOnly, MaxDay, MaxQueries, Scale }) cmd.Options.Add(o);
        }
    }

    public static Command Create()
    {
        var o = new Options();
        var cmd = new Command("demo", "The demo: render the project's scene (maps/demo-square.scene: day photos with known poses, dark noisy night queries), build the map, "
            + "localize the night queries, print the threshold table and the time per stage, write an HTML report.");
        o.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() => Run(r, o)));
        return cmd;
    }

    private static int Run(ParseResult r, Options o)
    {
        if (o.Net.IsHloc(r))
            throw new UsageException($"--model {r.GetValue(o.Net.Model)}: hloc's features were extracted elsewhere, and the demo renders its own photos: give a checkpoint, 'default' or 'rootsift'");
        if (TownRunner.ScenePath(r.GetValue(o.Scene), r.GetValue(o.Output)) is { } town) return TownDemo.Run(r, o, town);
        // A scene file that is not there is said as such, not as a town option given to the square.
        DemoRunner.CheckGiven("--scene", r.GetValue(o.Scene));
        if (int.TryParse(r.GetValue(o.Queries), out _)) throw new UsageException("--queries N (a count) is for a town scene; the square takes a query list file");
        if (r.GetResult(o.Images) is { Implicit: false }) throw new UsageException("--images N is for a town scene; the square's photos are its scene file's day lines (--max-day N takes the first N)");
        var settings = o.Extraction.Get(r);
        var x = DemoRunner.Execute(new DemoOptions
        {
            OutDir = r.GetValue(o.Output) ?? DemoRunner.DefaultOutDir, ScenePath = r.GetValue(o.Scene), QueryPath = r.GetValue(o.Queries), TruthPath = r.GetValue(o.Truth),
            MaxDay = r.GetValue(o.MaxDay), MaxQueries = r.GetValue(o.MaxQueries), Scale = r.GetValue(o.Scale), Settings = settings,
        }, new DemoJob(r.GetValue(o.RenderOnly), o.Net.Spec(r, settings, o.Extraction)), new ConsoleDemoProgress());
        if (x.Run is not { } result) return 0;
        var (data, t) = (x.Data, x.Timings);
        Console.WriteLine($"report: written in {result.ReportSeconds:F1} s");
        Print(result.Runs, t.Items);
        Console.WriteLine($"report: {result.ReportPath}");
        Console.WriteLine($"outputs: {result.PosesPath} (+ .csv, .inliers.txt, .matches.txt, .run.json), {result.MapPath}; `localize report --map {Reporter.Shell(result.MapPath)} "
            + $"--poses {Reporter.Shell(result.PosesPath)} --ground-truth {Reporter.Shell(result.TruthSubset)} --query-images {Reporter.Shell(data.NightFolder)}` rebuilds the report");
        return result.Summary.HasErrors ? 1 : 0;
    }

    /// <summary>The threshold tables, the summary and the time per stage.</summary>
    internal static void Print(List<EvaluatedRun> runs, IReadOnlyList<(string Stage, double Seconds)> items)
    {
        Console.WriteLine();
        Console.Write(PoseEvaluationTable.Thresholds(ThresholdSet.Aachen, runs));
        Console.WriteLine();
        Console.Write(PoseEvaluationTable.Thresholds(new ThresholdSet("fine", new[] { StrechaLoc.Fine }), runs));
        Console.WriteLine();
        Console.Write(PoseEvaluationTable.Summary(runs));
        Console.WriteLine();
        Console.WriteLine("time per stage:");
        foreach (var (stage, s) in items) Console.WriteLine($"  {stage,-24}{s.ToString("F1", CultureInfo.InvariantCulture),8} s");
        Console.WriteLine();
    }
}

/// <summary>The demos' progress: the runners' stages and lines (after "demo: "), each query set under
/// a bar with its summary line after it, the map's summary when it is built.</summary>
internal sealed class ConsoleDemoProgress() : ConsoleProgress("demo"), IDemoProgress
{
    public QuerySetSummary RunQueries(QuerySetRunner runner, IReadOnlyList<QueryImage> queries, Func<QueryOutcome, string> describe)
    {
        var summary = ConsoleQueryProgress.Run(runner, queries, describe);
        Console.WriteLine(summary.Line);
        return summary;
    }

    public void MapBuilt(string mapPath, MapBuildResult result) => BuildMapCommand.PrintSummary(mapPath, result);

    public void Line(string line) => Console.WriteLine(line);

    /// <summary>The rendering's progress: a log line per sixth of the images, no stage time.</summary>
    public IProgressSink ForRendering(int images) => new ConsoleProgress("demo", logEvery: Math.Max(1, images / 6), stageTimes: false);
}
