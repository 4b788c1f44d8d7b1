using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Synthesis;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize demo`: the project's job on its own scene, out of the box: render the day
/// photos and night queries, build the map, localize the queries, print the table, write the report.
/// A chain of the library's runners: map build, then query set.</summary>
internal static class DemoCommand
{
    /// <summary>The demo's extraction: the official settings with fewer keypoints (small images, 2-core budget).</summary>
    internal static readonly ExtractionSettings DemoSettings = new() { TopK = 2000 };

    /// <summary>The demo's pairs: the 6 nearest cameras within 60° (a small square, photos all around it).</summary>
    private static readonly PairSpec DemoPairs = PairSpec.FromPoses(6, 60);

    internal sealed class Options
    {
        public readonly NetworkOptionSet Net = new();
        public readonly ExtractionOptionSet Extraction = new(DemoSettings);
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

    /// <summary>What the demo runs on, read and checked before anything is written.</summary>
    private sealed record Inputs(string OutDir, string ScenePath, string QueryPath, string TruthPath, DemoScene Scene, List<QueryImage> Queries,
        List<ImagePose> Truth, ExtractionSettings Settings);

    /// <summary>The stages' times in order: each stage ends when the next begins.</summary>
    internal sealed class Timings
    {
        public readonly List<(string Stage, double Seconds)> Items = new();
        public readonly Stopwatch Total = Stopwatch.StartNew(), Stage = Stopwatch.StartNew();

        public void Done(string stage) { Items.Add((stage, Stage.Elapsed.TotalSeconds)); Stage.Restart(); }
        public void Add(string stage, double seconds) { Items.Add((stage, seconds)); Stage.Restart(); }
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
        if (TownDemo.ScenePath(r.GetValue(o.Scene), r.GetValue(o.Output)) is { } town) return TownDemo.Run(r, o, town);
        var t = new Timings();
        var inp = ReadInputs(r, o);
        var sc = inp.Scene;
        Console.WriteLine($"demo: scene {inp.ScenePath} ({sc.Facades.Count} facades, {sc.DayCameras.Count} day photos, {sc.Width}×{sc.Height}), "
            + $"{inp.Queries.Count} night queries ({inp.QueryPath}) → {inp.OutDir}");
        // The model before the rendering: a missing checkpoint stops the demo at once.
        using var source = r.GetValue(o.RenderOnly) ? null : o.Net.LoadSource(r, inp.Settings);
        var dev = o.Net.Hardware.Resolve(r);
        t.Done("load model");
        var data = Render(inp, t);
        if (r.GetValue(o.RenderOnly)) return 0;

        // The map from the day photos, in a fresh database (the images were just rewritten).
        var mapPath = Path.Combine(inp.OutDir, "map.db");
        Console.WriteLine($"demo: features {source!.Description}, top-k {inp.Settings.TopK}");
        var built = MapBuildRunner.Run(mapPath, new MapBuildInputs(data.Day, data.DayFolder, source) { Model = o.Net.MapModel(r) },
            new MapBuildOptions { Pairs = DemoPairs, Match = new MatchOptions { Device = dev }, Fresh = true }, new ConsoleProgress("demo"))!;
        BuildMapCommand.PrintSummary(mapPath, built);
        foreach (var (stage, s) in built.Seconds) t.Add("map: " + stage, s);

        var posesPath = Path.Combine(inp.OutDir, "poses.txt");
        var summary = Localize(QueryInputs.LoadMap(mapPath).Map, source, dev, data, inp, posesPath);
        var results = summary.Outcomes.Select(x => x.Result).ToList();
        t.Add("query: extract", results.Sum(x => x.ExtractSeconds));
        t.Add("query: match", results.Sum(x => x.MatchSeconds));
        t.Add("query: PnP", results.Sum(x => x.PnpSeconds));

        var modelName = ModelLoader.ModelName(r.GetValue(o.Net.Model)!);
        var (runs, reportPath, truthSubset) = Report(inp, data, results, mapPath, posesPath, modelName, source.Description, t);
        Print(runs, t);
        Console.WriteLine($"report: {reportPath}");
        Console.WriteLine($"outputs: {posesPath} (+ .csv, .inliers.txt, .matches.txt, .run.json), {mapPath}; `localize report --map {mapPath} --poses {posesPath} "
            + $"--ground-truth {truthSubset} --query-images {data.NightFolder}` rebuilds the report");
        return summary.HasErrors ? 1 : 0;
    }

    private static Inputs ReadInputs(ParseResult r, Options o)
    {
        var outDir = r.GetValue(o.Output) ?? "out/demo";
        if (int.TryParse(r.GetValue(o.Queries), out _)) throw new ArgumentException("--queries N (a count) is for a town scene; the square takes a query list file");
        var scenePath = r.GetValue(o.Scene) ?? RepoFile(outDir, "maps", DemoFiles.Scene);
        var queryPath = r.GetValue(o.Queries) ?? RepoFile(outDir, "queries", DemoFiles.Queries);
        var truthPath = r.GetValue(o.Truth) ?? RepoFile(outDir, "queries", DemoFiles.GroundTruth);
        var settings = o.Extraction.Get(r);
        var sc = DemoScene.Load(scenePath);
        if (r.GetValue(o.MaxDay) > 0) sc = sc with { DayCameras = sc.DayCameras.Take(Math.Max(2, r.GetValue(o.MaxDay))).ToList() };
        var queryList = QueryList.ReadWithIntrinsics(queryPath);
        if (r.GetValue(o.MaxQueries) > 0) queryList = queryList.Take(r.GetValue(o.MaxQueries)).ToList();
        var gt = Submission.Read(truthPath);
        if (r.GetValue(o.Scale) is var factor && factor != 1)
        {
            if (!(factor > 0 && factor <= 4)) throw new ArgumentException($"--scale {factor}: expected a factor in (0, 4]");
            int w = (int)Math.Round(sc.Width * factor), h = (int)Math.Round(sc.Height * factor);
            sc = sc with { Width = w, Height = h, Focal = sc.Focal * w / sc.Width };
            queryList = queryList.Select(q => q with { Camera = q.Camera is { } c ? Intrinsics.RescaledTo(c, w, h) ?? c : null }).ToList();
        }
        return new Inputs(outDir, scenePath, queryPath, truthPath, sc, queryList, gt, settings);
    }

    private static DemoDataset Render(Inputs inp, Timings t)
    {
        var renderer = new SceneRenderer(inp.Scene);
        t.Done("render: textures");
        DemoDataset data = null!;
        int total = inp.Scene.DayCameras.Count + inp.Queries.Count;
        Reporter.Track("render", total,
            advance => data = DemoDataset.Render(renderer, inp.Queries, inp.QueryPath, inp.Truth, inp.TruthPath, Path.Combine(inp.OutDir, "images"), advance),
            logEvery: Math.Max(1, total / 6));
        t.Done("render: images");
        Console.WriteLine($"render: {data.Day.Count} day photos in {data.DayFolder}, {data.Night.Count} night queries in {data.NightFolder}");
        return data;
    }

    /// <summary>The night queries through the query-set runner, each line with its error against the true pose.</summary>
    private static QuerySetSummary Localize(MapIndex map, FeatureSource source, TorchSharp.torch.Device dev, DemoDataset data, Inputs inp, string posesPath)
    {
        var truthByName = inp.Truth.ToDictionary(t => t.Name, t => t.Pose);
        var runner = new QuerySetRunner(map, source, dev, new QuerySetOptions { ImageRoot = data.NightFolder, OutputPath = posesPath, QueryListPath = inp.QueryPath });
        var summary = ConsoleQueryProgress.Run(runner, data.Night.Select(q => new QueryImage(q.Name, q.Camera)).ToList(), o =>
        {
            var res = o.Result;
            var t = truthByName[Submission.BaseName(o.Query.Name)];
            return $"{o.Query.Name}: {(o.IsError ? QueryOutputs.Word(o.Status) : res.Localized ? "localized" : "NOT localized")}, {res.Inliers} inliers, error "
                + $"{PoseEvaluation.PositionError(res.Pose, t) * 100:F1} cm / {PoseEvaluation.RotationError(res.Pose, t) * 180 / Math.PI:F2}°, "
                + $"{res.ExtractSeconds + res.MatchSeconds + res.PnpSeconds:F1} s";
        });
        Console.WriteLine(summary.Line);
        return summary;
    }

    /// <summary>Evaluates the poses against the truth and writes the HTML report (with the timings up to here).</summary>
    private static (List<EvaluatedRun> Runs, string ReportPath, string TruthSubset) Report(Inputs inp, DemoDataset data, List<QueryResult> results,
        string mapPath, string posesPath, string modelName, string features, Timings t)
    {
        var truthOfQueries = inp.Truth.Where(g => results.Any(x => Submission.BaseName(x.Name) == g.Name)).ToList();
        var evaluation = PoseEvaluation.Evaluate(results.Select(x => new ImagePose(Submission.BaseName(x.Name), x.Pose)), truthOfQueries);
        var runs = new List<EvaluatedRun> { new($"night ({modelName})", evaluation) };
        var truthSubset = Path.Combine(inp.OutDir, "ground-truth.txt");
        Submission.Write(truthSubset, truthOfQueries);
        var reportPath = Path.Combine(inp.OutDir, "report.html");
        var report = HtmlReport.Load(mapPath, posesPath, truthSubset, data.NightFolder, data.DayFolder, $"R2D2.Localization demo: {inp.Scene.Name}, night queries, {modelName}");
        t.Done("evaluate");
        t.Items.Add(("total", t.Total.Elapsed.TotalSeconds));
        HtmlReport.Write(reportPath, report with
        {
            Timings = t.Items,
            Notes = new[]
            {
                $"scene {inp.ScenePath}: {inp.Scene.DayCameras.Count} day photos (map), {inp.Queries.Count} night queries ({inp.QueryPath}), {inp.Scene.Width}×{inp.Scene.Height}",
                $"features: {features}; settings {inp.Settings.ToJson()}",
            },
        });
        Console.WriteLine($"report: written in {t.Stage.Elapsed.TotalSeconds:F1} s");
        return (runs, reportPath, truthSubset);
    }

    private static void Print(List<EvaluatedRun> runs, Timings t) => Print(runs, t.Items);

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

    /// <summary>A demo file of the repository: relative to the working directory when there, else
    /// found above the program's folder (so the demo runs from anywhere in a clone), else the copy
    /// embedded in the library, written to OUT/scene/ (so it runs outside a clone too).</summary>
    internal static string RepoFile(string outDir, string folder, string name)
    {
        var rel = Path.Combine(folder, name);
        if (File.Exists(rel)) return rel;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, rel);
            if (File.Exists(p) && File.Exists(Path.Combine(dir.FullName, "R2D2.Localization.sln"))) return p;
        }
        return DemoFiles.Extract(name, Path.Combine(outDir, "scene"));
    }
}
