using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Mapping;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Storage;
using R2D2.Localization.Synthesis;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize demo`: the project's job on its own scene, out of the box: render the day
/// photos and night queries, build the map, localize the queries, print the table, write the report.</summary>
internal static class DemoCommand
{
    /// <summary>The demo's extraction: the official settings with fewer keypoints (small images, 2-core budget).</summary>
    internal static readonly ExtractionSettings DemoSettings = new() { TopK = 2000 };

    public static Command Create()
    {
        var net = new NetworkOptionSet();
        var ex = new ExtractionOptionSet(DemoSettings);
        var scene = new Option<string?>("--scene") { Description = "scene file (default: maps/demo-square.scene of the repository)" };
        var queries = new Option<string?>("--queries") { Description = "night query list, `name MODEL w h params...` (default: queries/demo-square-night.txt)" };
        var truth = new Option<string?>("--ground-truth") { Description = "the queries' true poses, submission format (default: queries/demo-square-night.poses.txt)" };
        var output = new Option<string>("--out") { Description = "output folder: images, map, poses, report (rewritten on each run)", DefaultValueFactory = _ => "out/demo" };
        var renderOnly = new Option<bool>("--render-only") { Description = "only render the day and night images" };
        var maxDay = new Option<int>("--max-day") { Description = "use only the first N day cameras (0: all; for quick checks)" };
        var maxQueries = new Option<int>("--max-queries") { Description = "localize only the first N queries (0: all)" };
        var scale = new Option<double>("--scale") { Description = "render the images this many times the scene's size (e.g. 0.5; for quick checks)", DefaultValueFactory = _ => 1.0 };
        var cmd = new Command("demo", "The demo: render the project's scene (maps/demo-square.scene: day photos with known poses, dark noisy night queries), build the map, "
            + "localize the night queries, print the threshold table and the time per stage, write an HTML report.");
        net.AddTo(cmd); ex.AddTo(cmd);
        foreach (var o in new Option[] { scene, queries, truth, output, renderOnly, maxDay, maxQueries, scale }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var total = Stopwatch.StartNew();
            var timings = new List<(string Stage, double Seconds)>();
            var sw = Stopwatch.StartNew();
            void Done(string stage) { timings.Add((stage, sw.Elapsed.TotalSeconds)); sw.Restart(); }

            var outDir = r.GetValue(output)!;
            var scenePath = r.GetValue(scene) ?? RepoFile(outDir, "maps", DemoFiles.Scene);
            var queryPath = r.GetValue(queries) ?? RepoFile(outDir, "queries", DemoFiles.Queries);
            var truthPath = r.GetValue(truth) ?? RepoFile(outDir, "queries", DemoFiles.GroundTruth);
            var settings = ex.Get(r);
            // 1. Read and check the inputs before anything is written.
            var sc = DemoScene.Load(scenePath);
            if (r.GetValue(maxDay) > 0) sc = sc with { DayCameras = sc.DayCameras.Take(Math.Max(2, r.GetValue(maxDay))).ToList() };
            var queryList = QueryList.ReadWithIntrinsics(queryPath);
            if (r.GetValue(maxQueries) > 0) queryList = queryList.Take(r.GetValue(maxQueries)).ToList();
            var gt = Submission.Read(truthPath);
            if (r.GetValue(scale) is var factor && factor != 1)
            {
                if (!(factor > 0 && factor <= 4)) throw new ArgumentException($"--scale {factor}: expected a factor in (0, 4]");
                int w = (int)Math.Round(sc.Width * factor), h = (int)Math.Round(sc.Height * factor);
                sc = sc with { Width = w, Height = h, Focal = sc.Focal * w / sc.Width };
                queryList = queryList.Select(q => q with { Camera = q.Camera is { } c ? Intrinsics.RescaledTo(c, w, h) ?? c : null }).ToList();
            }
            Console.WriteLine($"demo: scene {scenePath} ({sc.Facades.Count} facades, {sc.DayCameras.Count} day photos, {sc.Width}×{sc.Height}), "
                + $"{queryList.Count} night queries ({queryPath}) → {outDir}");

            // The model before the rendering: a missing checkpoint stops the demo at once.
            var modelArg = r.GetValue(net.Model)!;
            using var source = r.GetValue(renderOnly) ? null : net.LoadSource(r, settings);
            var dev = TorchRuntime.ResolveDevice(r.GetValue(net.Device));
            Done("load model");

            // 2. Render.
            var renderer = new SceneRenderer(sc);
            Done("render: textures");
            DemoDataset data = null!;
            Reporter.Track("render", sc.DayCameras.Count + queryList.Count,
                advance => data = DemoDataset.Render(renderer, queryList, queryPath, gt, truthPath, Path.Combine(outDir, "images"), advance),
                logEvery: Math.Max(1, (sc.DayCameras.Count + queryList.Count) / 6));
            Done("render: images");
            Console.WriteLine($"render: {data.Day.Count} day photos in {data.DayFolder}, {data.Night.Count} night queries in {data.NightFolder}");
            if (r.GetValue(renderOnly)) return 0;

            // 3. Map from the day photos (a fresh database: the images were just rewritten).
            var mapPath = Path.Combine(outDir, "map.db");
            foreach (var f in new[] { mapPath, mapPath + "-wal", mapPath + "-shm" }) File.Delete(f);
            Console.WriteLine($"demo: features {source!.Description}, top-k {settings.TopK}");
            var o = new MapBuildOptions { PairsPerImage = 6, MaxViewAngleDeg = 60 };
            var pairs = MapBuilder.PairsFromPoses(data.Day, o);
            MapBuildResult built;
            MapIndex map;
            using (var db = FeatureDatabase.Open(mapPath))
            {
                if (!net.IsRootSift(r)) db.WriteNote("model_path", BuildMapCommand.ModelPathNote(modelArg));
                db.WriteNote("image_root", Path.GetFullPath(data.DayFolder));
                built = MapBuild.Run(db, data.Day, data.DayFolder, source, pairs, o, dev, new ConsoleProgress(), null);
                map = MapIndex.Load(db);
            }
            BuildMapCommand.PrintSummary(mapPath, built, null);
            foreach (var (stage, s) in built.Seconds) timings.Add(("map: " + stage, s));
            sw.Restart();

            // 4. Localize the night queries.
            var posesPath = Path.Combine(outDir, "poses.txt");
            var truthByName = gt.ToDictionary(t => t.Name, t => t.Pose);
            var runner = new QuerySetRunner(map, source, dev, new QuerySetOptions { ImageRoot = data.NightFolder, OutputPath = posesPath, QueryListPath = queryPath });
            var summary = ConsoleQueryProgress.Run(runner, data.Night.Select(q => new QueryImage(q.Name, q.Camera)).ToList(), o =>
            {
                var res = o.Result;
                var t = truthByName[Submission.BaseName(o.Query.Name)];
                return $"{o.Query.Name}: {(o.IsError ? QueryOutputs.Word(o.Status) : res.Localized ? "localized" : "NOT localized")}, {res.Inliers} inliers, error "
                    + $"{PoseEvaluation.PositionError(res.Pose, t) * 100:F1} cm / {PoseEvaluation.RotationError(res.Pose, t) * 180 / Math.PI:F2}°, "
                    + $"{res.ExtractSeconds + res.MatchSeconds + res.PnpSeconds:F1} s";
            });
            var results = summary.Outcomes.Select(o => o.Result).ToList();
            Console.WriteLine(summary.Line);
            timings.Add(("query: extract", results.Sum(x => x.ExtractSeconds)));
            timings.Add(("query: match", results.Sum(x => x.MatchSeconds)));
            timings.Add(("query: PnP", results.Sum(x => x.PnpSeconds)));
            sw.Restart();

            // 5. Evaluate and report.
            var truthOfQueries = gt.Where(t => results.Any(x => Submission.BaseName(x.Name) == t.Name)).ToList();
            var evaluation = PoseEvaluation.Evaluate(results.Select(x => new ImagePose(Submission.BaseName(x.Name), x.Pose)), truthOfQueries);
            var runs = new List<EvaluatedRun> { new($"night ({ModelLoader.ModelName(modelArg)})", evaluation) };
            var truthSubset = Path.Combine(outDir, "ground-truth.txt");
            Submission.Write(truthSubset, truthOfQueries);
            var reportPath = Path.Combine(outDir, "report.html");
            var report = HtmlReport.Load(mapPath, posesPath, truthSubset, data.NightFolder, data.DayFolder,
                $"R2D2.Localization demo: {sc.Name}, night queries, {ModelLoader.ModelName(modelArg)}");
            Done("evaluate");
            timings.Add(("total", total.Elapsed.TotalSeconds));
            HtmlReport.Write(reportPath, report with
            {
                Timings = timings,
                Notes = new[]
                {
                    $"scene {scenePath}: {sc.DayCameras.Count} day photos (map), {queryList.Count} night queries ({queryPath}), {sc.Width}×{sc.Height}",
                    $"features: {source.Description}; settings {settings.ToJson()}",
                },
            });

            Console.WriteLine($"report: written in {sw.Elapsed.TotalSeconds:F1} s");
            Console.WriteLine();
            Console.Write(PoseEvaluationTable.Thresholds(ThresholdSet.Aachen, runs));
            Console.WriteLine();
            Console.Write(PoseEvaluationTable.Thresholds(new ThresholdSet("fine", new[] { StrechaLoc.Fine }), runs));
            Console.WriteLine();
            Console.Write(PoseEvaluationTable.Summary(runs));
            Console.WriteLine();
            Console.WriteLine("time per stage:");
            foreach (var (stage, s) in timings) Console.WriteLine($"  {stage,-24}{s.ToString("F1", CultureInfo.InvariantCulture),8} s");
            Console.WriteLine();
            Console.WriteLine($"report: {reportPath}");
            Console.WriteLine($"outputs: {posesPath} (+ .csv, .inliers.txt), {mapPath}; `localize report --map {mapPath} --poses {posesPath} "
                + $"--ground-truth {truthSubset} --query-images {data.NightFolder}` rebuilds the report");
            return summary.HasErrors ? 1 : 0;
        }));
        return cmd;
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
