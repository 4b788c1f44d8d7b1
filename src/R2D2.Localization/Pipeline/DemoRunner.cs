using System.Diagnostics;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Synthesis;

namespace R2D2.Localization.Pipeline;

/// <summary>What the square demo runs on: its files (null: the repository's, see
/// <see cref="DemoFiles.Locate"/>) and the reductions for quick checks.</summary>
public sealed record DemoOptions
{
    /// <summary>Images, map, poses and report (rewritten on each run).</summary>
    public string OutDir { get; init; } = DemoRunner.DefaultOutDir;
    public string? ScenePath { get; init; }
    /// <summary>The night query list, `name MODEL w h params...`.</summary>
    public string? QueryPath { get; init; }
    /// <summary>The queries' true poses, submission format.</summary>
    public string? TruthPath { get; init; }
    /// <summary>Only the first N day cameras (at least 2; 0: all).</summary>
    public int MaxDay { get; init; }
    /// <summary>Only the first N queries (0: all).</summary>
    public int MaxQueries { get; init; }
    /// <summary>The images this many times the scene's size, in (0, 4].</summary>
    public double Scale { get; init; } = 1;
    public ExtractionSettings Settings { get; init; } = DemoRunner.DefaultSettings;
}

/// <summary>What the square demo runs on, read and checked before anything is written.</summary>
public sealed record DemoInputs(string OutDir, string ScenePath, string QueryPath, string TruthPath, DemoScene Scene, List<QueryImage> Queries,
    List<ImagePose> Truth, ExtractionSettings Settings)
{
    /// <summary>The images the rendering writes: the day photos and the night queries.</summary>
    public int ImageCount => Scene.DayCameras.Count + Queries.Count;
}

/// <summary>What a square demo run measured and wrote.</summary>
public sealed record DemoRunResult(string MapPath, MapBuildResult Map, string PosesPath, QuerySetSummary Summary, List<EvaluatedRun> Runs,
    string ReportPath, string TruthSubset, double ReportSeconds);

/// <summary>The stages' times in order: each stage ends when the next begins; the total runs from the start.</summary>
public sealed class StageTimings
{
    public readonly List<(string Stage, double Seconds)> Items = new();
    private readonly Stopwatch _total = Stopwatch.StartNew(), _stage = Stopwatch.StartNew();

    /// <summary>The stage that began when the last one ended is done now.</summary>
    public void Done(string stage) { Items.Add((stage, _stage.Elapsed.TotalSeconds)); _stage.Restart(); }
    /// <summary>A stage measured elsewhere (a runner's own times); the next stage begins now.</summary>
    public void Add(string stage, double seconds) { Items.Add((stage, seconds)); _stage.Restart(); }
    /// <summary>Adds the time since the start as "total".</summary>
    public void AddTotal() => Items.Add(("total", _total.Elapsed.TotalSeconds));
}

/// <summary>What the demos (the square, the town) show while they run: the query sets under the
/// command line's bar, and the map when it is built. The defaults show nothing.</summary>
public interface IDemoProgress : IProgressSink
{
    /// <summary>Runs a query set; <paramref name="describe"/> makes each query's status line (its error against the true pose).</summary>
    QuerySetSummary RunQueries(QuerySetRunner runner, IReadOnlyList<QueryImage> queries, Func<QueryOutcome, string> describe) => runner.Run(queries);
    /// <summary>The square demo's map is built (the town's result carries its map).</summary>
    void MapBuilt(string mapPath, MapBuildResult result) { }
    /// <summary>A line of the run's own (what it is about to do, what the rendering wrote).</summary>
    void Line(string line) { }
    /// <summary>Where the rendering of <paramref name="images"/> images reports (default: here).</summary>
    IProgressSink ForRendering(int images) => this;
}

/// <summary>A demo as a command asks it: whether to stop after rendering, and the features (the
/// model the map records and the runs are named by, and the device, resolved as the model is
/// loaded, before the banner; not for a render-only run).</summary>
public sealed record DemoJob(bool RenderOnly, FeatureSourceSpec Features)
{
    /// <summary>The runs' name in the tables.</summary>
    public string ModelName => ModelLoader.ModelName(Features.Model);
}

/// <summary>A demo's inputs, rendered photos, timings and (unless it only rendered) its run.</summary>
public sealed record DemoJobResult(DemoInputs Inputs, DemoDataset Data, StageTimings Timings, DemoRunResult? Run);

/// <summary>
/// The square demo (`localize demo`): read the scene, the night query list and the true poses
/// (the repository's by default), render the day photos and night queries, build the map from the
/// day photos in a fresh database, localize the queries, evaluate them, write the HTML report. The
/// stages are the library's runners.
/// </summary>
public static class DemoRunner
{
    /// <summary>Where the square demo writes by default.</summary>
    public const string DefaultOutDir = "out/demo";

    /// <summary>The demo's extraction: the official settings with fewer keypoints (small images, 2-core budget).</summary>
    public static readonly ExtractionSettings DefaultSettings = new() { TopK = 2000 };

    /// <summary>The demo's pairs: the 6 nearest cameras within 60° (a small square, photos all around it).</summary>
    public static readonly PairSpec Pairs = PairSpec.FromPoses(6, 60);

    /// <summary>Reads and checks the inputs (the reductions applied); nothing is written but the
    /// embedded demo files where the repository's are not found.</summary>
    /// <summary>An input file given with <paramref name="option"/> must be there (null: not given).</summary>
    public static void CheckGiven(string option, string? path)
    {
        if (path != null && !File.Exists(path))
            throw new R2D2Exception(path, 0, Directory.Exists(path) ? $"is a folder: {option} takes a file" : $"not found ({option})");
    }

    public static DemoInputs Read(DemoOptions o)
    {
        OutputFile.RefuseFileAsFolder(o.OutDir, "--out");
        // The square rewrites its folder: a town's (hours of mapping at 1,000 images) is not its to replace.
        if (File.Exists(Path.Combine(o.OutDir, "town.txt")))
            throw new R2D2Exception(Path.Combine(o.OutDir, "town.txt"), 0, "--out holds a town's run, which the square demo would replace: "
                + "give another --out, or --scene town (with its --images and --queries) to continue the town");
        if (o.MaxDay < 0) throw new UsageException($"--max-day {o.MaxDay}: expected 0 (all) or more");
        if (o.MaxQueries < 0) throw new UsageException($"--max-queries {o.MaxQueries}: expected 0 (all) or more");
        DemoFiles.RefuseForeignFolder(o.OutDir, SquareStamp, "square demo", name => name is "images" or "scene" or "ground-truth.txt" or "report.html"
            || name.StartsWith("map.db", StringComparison.Ordinal) || name.StartsWith("poses.", StringComparison.Ordinal),
            new[] { DemoFiles.Scene, DemoFiles.Queries, DemoFiles.GroundTruth }, () => IsEarlierSquareRun(o.OutDir));
        // Inputs given are checked before the embedded files are written for those not given (a
        // missing --scene left OUT/scene/ with the embedded query list behind).
        foreach (var (option, path) in new[] { ("--scene", o.ScenePath), ("--queries", o.QueryPath), ("--ground-truth", o.TruthPath) })
            CheckGiven(option, path);
        var scenePath = o.ScenePath ?? DemoFiles.Locate(o.OutDir, "maps", DemoFiles.Scene);
        var queryPath = o.QueryPath ?? DemoFiles.Locate(o.OutDir, "queries", DemoFiles.Queries);
        var truthPath = o.TruthPath ?? DemoFiles.Locate(o.OutDir, "queries", DemoFiles.GroundTruth);
        var sc = DemoScene.Load(scenePath);
        if (o.MaxDay > 0) sc = sc with { DayCameras = sc.DayCameras.Take(Math.Max(2, o.MaxDay)).ToList() };
        var queryList = QueryList.ReadWithIntrinsics(queryPath);
        if (o.MaxQueries > 0) queryList = queryList.Take(o.MaxQueries).ToList();
        var gt = Submission.Read(truthPath);
        if (o.Scale != 1)
        {
            if (!(o.Scale > 0 && o.Scale <= 4)) throw new UsageException($"--scale {o.Scale}: expected a factor in (0, 4]");
            int w = (int)Math.Round(sc.Width * o.Scale), h = (int)Math.Round(sc.Height * o.Scale);
            var unscaled = sc.Camera();
            sc = sc with { Width = w, Height = h, Focal = sc.Focal * w / sc.Width };
            queryList = queryList.Select(q =>
            {
                // The scene's own camera becomes the scaled scene's: rescaling it per axis gave fy another
                // ratio than fx where w/W and h/H round apart (--scale 0.3), and the list was refused.
                if (q.Camera is { } own && DemoDataset.IsSceneCamera(own, unscaled))
                    return q with { Camera = sc.Camera(own.Id) };
                try { return q with { Camera = q.Camera is { } c ? Intrinsics.RescaledTo(c, w, h) ?? c : null }; }
                catch (R2D2Exception e) { throw new R2D2Exception(queryPath, 0, $"'{q.Name}': {e.Message} (the scene {scenePath} renders {w}×{h})"); }
            }).ToList();
        }
        RefuseOverwritingInputs(o.OutDir, scenePath, queryPath, truthPath);
        return new DemoInputs(o.OutDir, scenePath, queryPath, truthPath, sc, queryList, gt, o.Settings);
    }

    /// <summary>The file that marks a folder as the square demo's (see <see cref="DemoFiles.RefuseForeignFolder"/>).</summary>
    public const string SquareStamp = "square.txt";

    /// <summary>A square demo's folder from before <see cref="SquareStamp"/>: its rendering wrote the
    /// day photos' COLMAP model (images/day-model/cameras.txt), which a folder of someone else's hardly holds.</summary>
    private static bool IsEarlierSquareRun(string outDir) =>
        File.Exists(Path.Combine(outDir, "images", "day-model", "cameras.txt")) && File.Exists(Path.Combine(outDir, "images", "day-model", "images.txt"));

    /// <summary>The scene, the query list and the ground truth must not be among the files the demo
    /// writes into OUT (a ground truth at OUT/poses.txt became the estimates): refused before anything is written.</summary>
    private static void RefuseOverwritingInputs(string outDir, string scenePath, string queryPath, string truthPath)
    {
        var outputs = new[] { "map.db", "map.db-wal", "map.db-shm", "ground-truth.txt", "report.html", SquareStamp }.Select(f => Path.Combine(outDir, f))
            .Concat(QueryOutputs.Files(Path.Combine(outDir, "poses.txt")).Select(f => f.Path!)).Select(f => ("demo output", (string?)f));
        OutputFile.RefuseInputs(outputs, new[] { ("scene", (string?)scenePath), ("query list", queryPath), ("ground truth", truthPath) },
            new[] { ("image folder", (string?)Path.Combine(outDir, "images")) });
    }

    /// <summary>The square demo from its options: read and check the inputs, load the model
    /// (<see cref="DemoJob.Features"/>, before the rendering: a missing checkpoint or device stops it
    /// at once, before its banner; not with <see cref="DemoJob.RenderOnly"/>), render, then build,
    /// query, evaluate and report.</summary>
    public static DemoJobResult Execute(DemoOptions o, DemoJob job, IDemoProgress progress)
    {
        var t = new StageTimings();
        if (!job.RenderOnly) job.Features.CheckOptions();
        // Opened before Read, which writes the embedded scene files into OUT: a damaged checkpoint left OUT/scene/ behind.
        using var source = job.RenderOnly ? null : job.Features.Open();
        var inp = Read(o);
        var sc = inp.Scene;
        source?.RefuseRenderSize(sc.Width, sc.Height, "the demo's photos");
        var device = source == null ? null : job.Features.Device();
        progress.Line($"demo: scene {inp.ScenePath} ({sc.Facades.Count} facades, {Counted.Of(sc.DayCameras.Count, "day photo")}, {sc.Width}×{sc.Height}), "
            + $"{Counted.Of(inp.Queries.Count, "night query", "night queries")} ({inp.QueryPath}) → {inp.OutDir}");
        t.Done("load model");
        var data = Render(inp, progress.ForRendering(inp.ImageCount), t);
        progress.Line($"render: {Counted.Of(data.Day.Count, "day photo")} in {data.DayFolder}, {Counted.Of(data.Night.Count, "night query", "night queries")} in {data.NightFolder}");
        var run = source == null ? null : Run(inp, data, source, job.Features.MapModel, device, progress, t, job.ModelName);
        return new DemoJobResult(inp, data, t, run);
    }

    /// <summary>Renders the day photos and night queries into OUT/images (see <see cref="DemoDataset.Render"/>).</summary>
    public static DemoDataset Render(DemoInputs inp, IProgressSink progress, StageTimings t)
    {
        OutputFile.WriteAllText(Path.Combine(inp.OutDir, SquareStamp), "the square demo's run (localize demo): its photos, map and results; it may be run again here\n");
        var renderer = new SceneRenderer(inp.Scene);
        t.Done("render: textures");
        DemoDataset data = null!;
        progress.Stage("render", inp.ImageCount,
            advance => data = DemoDataset.Render(renderer, inp.Queries, inp.QueryPath, inp.Truth, inp.TruthPath, Path.Combine(inp.OutDir, "images"), advance));
        t.Done("render: images");
        return data;
    }

    /// <summary>The run after rendering: the map (a fresh database: the images were just rewritten),
    /// the queries, their evaluation and the report (with the timings up to it).</summary>
    public static DemoRunResult Run(DemoInputs inp, DemoDataset data, FeatureSource source, string? model, TorchSharp.torch.Device? device,
        IDemoProgress progress, StageTimings t, string modelName)
    {
        var mapPath = Path.Combine(inp.OutDir, "map.db");
        progress.Info($"features {source.Description}, top-k {inp.Settings.TopK}");
        var built = MapBuildRunner.Run(mapPath, new MapBuildInputs(data.Day, data.DayFolder, source) { Model = model },
            new MapBuildOptions { Pairs = Pairs, Match = new MatchOptions { Device = device }, Fresh = true }, progress)!;
        progress.MapBuilt(mapPath, built);
        foreach (var (stage, s) in built.Seconds) t.Add("map: " + stage, s);

        var posesPath = Path.Combine(inp.OutDir, "poses.txt");
        var truthByName = inp.Truth.ToDictionary(g => g.Name, g => g.Pose);
        using var map = QueryInputs.LoadMap(mapPath).Map;
        var runner = new QuerySetRunner(map, source, device,
            new QuerySetOptions { ImageRoot = data.NightFolder, OutputPath = posesPath, QueryListPath = inp.QueryPath , Fresh = true });
        var summary = progress.RunQueries(runner, data.Night.Select(q => new QueryImage(q.Name, q.Camera)).ToList(),
            o => Describe(o, truthByName[o.Query.SubmissionName]));
        var results = summary.Outcomes.Select(x => x.Result).ToList();
        t.Add("query: extract", results.Sum(x => x.ExtractSeconds));
        t.Add("query: match", results.Sum(x => x.MatchSeconds));
        t.Add("query: PnP", results.Sum(x => x.PnpSeconds));

        var truthOfQueries = inp.Truth.Where(g => results.Any(x => Submission.BaseName(x.Name) == g.Name)).ToList();
        var evaluation = PoseEvaluation.Evaluate(results.Select(x => new ImagePose(Submission.BaseName(x.Name), x.Pose)), truthOfQueries);
        var runs = new List<EvaluatedRun> { new($"night ({modelName})", evaluation) };
        var truthSubset = Path.Combine(inp.OutDir, "ground-truth.txt");
        Submission.Write(truthSubset, truthOfQueries);
        var reportPath = Path.Combine(inp.OutDir, "report.html");
        var report = HtmlReport.Load(mapPath, posesPath, truthSubset, data.NightFolder, data.DayFolder, $"R2D2.Localization demo: {inp.Scene.Name}, night queries, {modelName}");
        t.Done("evaluate");
        t.AddTotal();
        var sw = Stopwatch.StartNew();
        HtmlReport.Write(reportPath, report with
        {
            Timings = t.Items,
            Notes = new[]
            {
                $"scene {inp.ScenePath}: {Counted.Of(inp.Scene.DayCameras.Count, "day photo")} (map), {Counted.Of(inp.Queries.Count, "night query", "night queries")} ({inp.QueryPath}), {inp.Scene.Width}×{inp.Scene.Height}",
                $"features: {source.Description}; settings {inp.Settings.ToJson()}",
            },
        });
        return new DemoRunResult(mapPath, built, posesPath, summary, runs, reportPath, truthSubset, sw.Elapsed.TotalSeconds);
    }

    /// <summary>A query's status line in the demos: localized or not (or its error), inliers, its error against the true pose, its time.</summary>
    public static string Describe(QueryOutcome o, Pose truth)
    {
        var res = o.Result;
        return $"{o.Query.Name}: {(o.IsError ? QueryOutputs.Word(o.Status) : res.Localized ? "localized" : "NOT localized")}, {res.Inliers} inliers, error "
            + $"{PoseEvaluation.PositionError(res.Pose, truth) * 100:F1} cm / {PoseEvaluation.RotationError(res.Pose, truth) * 180 / Math.PI:F2}°, "
            + $"{res.ExtractSeconds + res.MatchSeconds + res.PnpSeconds:F1} s";
    }
}
