using System.Diagnostics;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Synthesis;

namespace R2D2.Localization.Pipeline;

/// <summary>A town demo as a command asks it (see <see cref="TownRunner.Execute"/>).</summary>
/// <param name="NightQueries">null: the scene file's count</param>
/// <param name="Features">the features: the checkpoint the map records, the runs' name in the tables,
/// and the device, resolved before the rendering for a run that goes on to the map (a render-only run needs none)</param>
public sealed record TownJob(string ScenePath, string OutDir, double Scale, int Images, int? NightQueries, bool RenderOnly,
    FeatureSourceSpec Features)
{
    /// <summary>The runs' name in the tables.</summary>
    public string ModelName => ModelLoader.ModelName(Features.Model);
}

/// <summary>The town, the timings in order, and (unless it only rendered) the run.</summary>
public sealed record TownJobResult(TownDataset Data, List<(string Stage, double Seconds)> Timings, TownRunResult? Run);

/// <summary>How the town demo runs: its size and where it writes.</summary>
public sealed record TownRunOptions
{
    public required string OutDir { get; init; }
    /// <summary>Database photos: the first N of the trajectory.</summary>
    public int Images { get; init; } = TownRunner.DefaultImages;
    /// <summary>Night and day queries; null: the scene file's counts.</summary>
    public int? NightQueries { get; init; }
    public int? DayQueries { get; init; }
    /// <summary>Pairs of the map: the nearest cameras looking the same way (a town is too large for all pairs).</summary>
    public PairSpec Pairs { get; init; } = TownRunner.DefaultPairs;
    public MatchOptions Match { get; init; } = new();
    public Localization.LocalizerOptions Localizer { get; init; } = new();
}

/// <summary>What a town run measured: one evaluated run per query set, the time per stage, the outputs.</summary>
/// <param name="Diagnoses">every localized query's diagnosis against its true pose (<see cref="QueryDiagnoses"/>), night then day</param>
public sealed record TownRunResult(TownDataset Data, MapBuildResult Map, string MapPath, List<EvaluatedRun> Runs,
    List<(string Stage, double Seconds)> Timings, List<QuerySetSummary> Summaries, string? ReportPath, List<QueryDiagnosisRow> Diagnoses);

/// <summary>
/// The town demo: render the town (resuming), then the map from the database photos read back
/// through the Aachen-format files (NVM + intrinsics, as `tools/aachen/run` gives them), resuming
/// like build-map; the night (and day) queries; their errors against the true poses and why each
/// one missed (<see cref="QueryDiagnoses"/>: KIND.diagnosis.csv); the HTML report. The stages are
/// the library's runners.
/// </summary>
public static class TownRunner
{
    /// <summary>Where the town demo writes by default (resumed).</summary>
    public const string DefaultOutDir = "out/town";
    /// <summary>Sized for under 15 minutes on 2 cores (see the README's town figures).</summary>
    public const int DefaultImages = 150;
    /// <summary>The 10 nearest cameras within 45° of the same heading: neighbours along the street and across it.</summary>
    public static readonly PairSpec DefaultPairs = PairSpec.FromPoses(10, 45);

    /// <summary>The town file <paramref name="scene"/> names ('town': the repository's, see
    /// <see cref="DemoFiles.Locate"/>; or a file starting with `town SEED`); null: not a town.</summary>
    public static string? ScenePath(string? scene, string? outDir)
    {
        if (scene != "town") return scene != null && TownScene.IsTownFile(scene) ? scene : null;
        // The folder is checked before the embedded scene may be written into it.
        TownDataset.RefuseForeignFolder(outDir ?? DefaultOutDir);
        return DemoFiles.Locate(outDir ?? DefaultOutDir, "maps", DemoFiles.Town);
    }

    /// <summary>The town of the file at <paramref name="scenePath"/>, its images <paramref name="scale"/>
    /// times the file's size, with the first <paramref name="images"/> database photos and
    /// <paramref name="nightQueries"/> night queries (null: the file's count) in <paramref name="outDir"/>:
    /// a count too large, or a folder made from another town, stops here, before any work.</summary>
    public static TownDataset Open(string scenePath, string outDir, double scale, int images, int? nightQueries)
    {
        OutputFile.RefuseFileAsFolder(outDir, "--out");
        var town = TownScene.Load(scenePath).Scaled(scale);
        // The first photos are one position's headings, which share no view: no pair, no map.
        if (images < 2 * town.Headings)
            throw new UsageException($"--images {images}: the first {town.Headings} photos are the headings of one position, which share no view; "
                + $"a map needs 2 positions or more: --images {2 * town.Headings} or more");
        var data = new TownDataset(town, outDir, images, nightQueries);
        data.CheckFolder();
        return data;
    }

    /// <summary>Throws when <paramref name="source"/> would find no features in the town's photos
    /// (a --scale too small for the extraction's sizes): said before they are rendered and mapped.</summary>
    public static void CheckExtractable(TownDataset data, FeatureSource source) =>
        source.RefuseRenderSize(data.Scene.Width, data.Scene.Height, "the town's photos");

    /// <summary>Renders what is missing and writes the Aachen-format files. The folder is checked first.</summary>
    public static TownDataset Render(TownDataset data, IProgressSink progress, List<(string, double)> timings)
    {
        var sw = Stopwatch.StartNew();
        data.CheckFolder();
        var scene = data.Scene.Build(data.Day);
        progress.Info($"town: {scene.Facades.Count} buildings in {scene.Styles!.Count} styles, {scene.Lamps.Count} lamps, {data.Scene.SizeX:F0} × {data.Scene.SizeZ:F0} m");
        var renderer = new SceneRenderer(scene);
        timings.Add(("render: scene", sw.Elapsed.TotalSeconds)); sw.Restart();
        data.WriteFiles();
        int rendered = 0;
        progress.Stage("render", data.ImageCount, advance => data.Render(renderer, (name, done) =>
        {
            if (done) rendered++;
            advance(done ? name : $"{name}: on disk");
        }));
        timings.Add(("render: images", sw.Elapsed.TotalSeconds));
        progress.Info($"render: {Counted.Of(rendered, "image")} rendered, {data.ImageCount - rendered} already on disk, in {data.ImageRoot}");
        return data;
    }

    /// <summary>The town demo from its options: the town opened and checked (<see cref="Open"/>), the
    /// model loaded (<see cref="TownJob.Features"/>; not with <see cref="TownJob.RenderOnly"/>) and checked
    /// against the photos' size, the photos rendered (those on disk kept), then the map, the queries,
    /// their evaluation and the report (<see cref="Run"/>); the timings end with the total.</summary>
    public static TownJobResult Execute(TownJob j, IDemoProgress progress)
    {
        var total = Stopwatch.StartNew();
        if (!j.RenderOnly) j.Features.CheckOptions();
        var data = Open(j.ScenePath, j.OutDir, j.Scale, j.Images, j.NightQueries);
        var town = data.Scene;
        var timings = new List<(string Stage, double Seconds)>();
        using var source = j.RenderOnly ? null : j.Features.Open();
        if (source != null) CheckExtractable(data, source);
        var device = source == null ? null : j.Features.Device(); // before the rendering and the banner: a device that is not there stops the run at once
        progress.Line($"demo: town {j.ScenePath} ({town.BlocksX}×{town.BlocksZ} blocks, {town.Styles} styles, {town.Width}×{town.Height}), "
            + $"{data.Day.Count} database photos (at most {town.MaxImages}), {data.Night.Count} night and {data.DayQueries.Count} day queries → {j.OutDir}");
        timings.Add(("load model", total.Elapsed.TotalSeconds));
        Render(data, progress, timings);
        progress.Line($"render: Aachen layout in {j.OutDir}: {data.NvmPath}, {data.IntrinsicsPath}, {data.ColmapFolder}/, {data.QueryList(true)}, {data.TruthPath(true)}");
        if (source == null) return new TownJobResult(data, timings, null);
        var result = Run(data, source, j.Features.MapModel, device,
            new TownRunOptions { OutDir = j.OutDir, Images = data.Day.Count, NightQueries = j.NightQueries, Match = new MatchOptions { Device = device } },
            progress, timings, j.ModelName);
        timings.Add(("total", total.Elapsed.TotalSeconds));
        return new TownJobResult(data, timings, result);
    }

    /// <summary>The whole run after rendering; the query sets run through <paramref name="progress"/>
    /// (the command line shows their progress), each query described with its error against its true pose.</summary>
    public static TownRunResult Run(TownDataset data, FeatureSource source, string? model, TorchSharp.torch.Device? device, TownRunOptions o,
        IDemoProgress progress, List<(string Stage, double Seconds)> timings, string modelName)
    {
        var total = Stopwatch.StartNew();
        var sw = Stopwatch.StartNew();
        // The map from the files an Aachen user would have: the NVM and the intrinsics list.
        var posed = MapInputs.ReadPosed(data.NvmPath, data.IntrinsicsPath, data.ImageRoot, null, progress);
        var mapPath = data.MapPath;
        var built = MapBuildRunner.Run(mapPath, new MapBuildInputs(posed, data.ImageRoot, source) { Model = model },
            new MapBuildOptions { Pairs = o.Pairs, Match = o.Match }, progress)!;
        foreach (var (stage, s) in built.Seconds) timings.Add(("map: " + stage, s));
        sw.Restart();

        using var map = QueryInputs.LoadMap(mapPath).Map;
        timings.Add(("query: load map", sw.Elapsed.TotalSeconds));
        var runs = new List<EvaluatedRun>();
        var summaries = new List<QuerySetSummary>();
        var diagnoses = new List<QueryDiagnosisRow>();
        string? nightPoses = null;
        foreach (var night in new[] { true, false })
        {
            var shots = night ? data.Night : data.DayQueries;
            if (shots.Count == 0) continue;
            string kind = night ? "night" : "day";
            var listPath = data.QueryList(night);
            var posesPath = Path.Combine(o.OutDir, $"{kind}.txt");
            var queries = QueryList.ReadWithIntrinsics(listPath);
            var truthList = Submission.Read(data.TruthPath(night));
            var truth = new Dictionary<string, Pose>();
            foreach (var t in truthList) truth[t.Name] = t.Pose;
            var diagnosed = new List<QueryDiagnosisRow>();
            var method = o.Localizer.RetrievalMethod ?? ImageRetrieval.Create("auto", map);
            var runner = new QuerySetRunner(map, source, device, new QuerySetOptions
            {
                ImageRoot = data.ImageRoot, OutputPath = posesPath, QueryListPath = listPath, Localizer = o.Localizer, Fresh = true,
                OtherInputs = new[] { ("ground truth", (string?)data.TruthPath(night)), ("diagnosis CSV", DiagnosisPath(o.OutDir, kind)) },
                Localized = (q, f, camera, res) => diagnosed.Add(Diagnose(kind, method, f, camera, res, truth[q.SubmissionName], map, o.Localizer)),
            });
            var summary = progress.RunQueries(runner, queries, x => DemoRunner.Describe(x, truth[x.Query.SubmissionName]));
            summaries.Add(summary);
            var results = summary.Outcomes.Select(x => x.Result).ToList();
            timings.Add(($"query {kind}: extract", results.Sum(x => x.ExtractSeconds)));
            timings.Add(($"query {kind}: match", results.Sum(x => x.MatchSeconds)));
            timings.Add(($"query {kind}: PnP", results.Sum(x => x.PnpSeconds)));
            var evaluation = PoseEvaluation.Evaluate(results.Select(x => new ImagePose(Submission.BaseName(x.Name), x.Pose)), truthList);
            runs.Add(new EvaluatedRun($"{kind} ({modelName})", evaluation));
            OutputFile.WriteAllText(DiagnosisPath(o.OutDir, kind), QueryDiagnoses.Csv(diagnosed));
            diagnoses.AddRange(diagnosed);
            if (night) nightPoses = posesPath;
        }
        sw.Restart();
        // The report shows the night queries: without any (--queries 0) there is none.
        string? reportPath = nightPoses == null ? null : Path.Combine(o.OutDir, "report.html");
        if (nightPoses != null && reportPath != null)
        {
            var report = HtmlReport.Load(mapPath, nightPoses, data.TruthPath(true), data.ImageRoot, data.ImageRoot,
                $"R2D2.Localization town: {data.Scene.Name}, {data.Day.Count} database photos, night queries, {modelName}");
            timings.Add(("report", sw.Elapsed.TotalSeconds));
            HtmlReport.Write(reportPath, report with
            {
                Timings = timings,
                Notes = new[]
                {
                    $"town {data.Scene.Path}: {data.Day.Count} day photos (map), {data.Night.Count} night and {data.DayQueries.Count} day queries, {data.Scene.Width}×{data.Scene.Height}",
                    $"features: {source.Description}; pairs {o.Pairs}",
                },
            });
        }
        WriteSummary(Path.Combine(o.OutDir, "summary.json"), data, built, runs, diagnoses, timings, o);
        return new TownRunResult(data, built, mapPath, runs, timings, summaries, reportPath, diagnoses);
    }

    /// <summary>Where a query set's diagnoses are written: OUT/KIND.diagnosis.csv.</summary>
    public static string DiagnosisPath(string outDir, string kind) => Path.Combine(outDir, $"{kind}.diagnosis.csv");

    /// <summary>One query's diagnosis: matched against the images the localizer retrieved for it (every image when it matched every point).</summary>
    private static QueryDiagnosisRow Diagnose(string kind, IImageRetrieval method, FeatureSet f, Camera camera, QueryResult res,
        Pose truth, MapIndex map, LocalizerOptions lo)
    {
        var images = res.DatabaseImages;
        var relevant = PoseVisibility.Ranking(PoseVisibility.SharedPoints(map, camera, truth));
        var d = QueryDiagnoses.Diagnose(res, truth, f, camera, map, images ?? map.Images.Keys.ToList(), relevant, ThresholdSet.Aachen.Thresholds[0]);
        return new QueryDiagnosisRow(kind, images == null ? "all points" : method.Name, lo.Matching, d);
    }

    /// <summary>The run's figures for scripts (tools/bench/scale/town): the share within each of
    /// Aachen's thresholds and the fine one per query set, the map, the time per stage.</summary>
    private static void WriteSummary(string path, TownDataset data, MapBuildResult built, List<EvaluatedRun> runs, List<QueryDiagnosisRow> diagnoses,
        List<(string Stage, double Seconds)> timings, TownRunOptions o)
    {
        var thresholds = ThresholdSet.Aachen.Thresholds.Append(StrechaLoc.Fine).ToList();
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["images"] = data.Day.Count,
            ["width"] = data.Scene.Width,
            ["height"] = data.Scene.Height,
            ["pairs"] = built.Pairs,
            ["pair_spec"] = o.Pairs.ToString(),
            ["points"] = built.Stats.Points,
            ["mean_track_length"] = built.Stats.MeanTrackLength,
            ["runs"] = new System.Text.Json.Nodes.JsonArray(runs.Select(r => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
            {
                ["label"] = r.Label,
                ["queries"] = r.Result.Queries.Count,
                ["within"] = new System.Text.Json.Nodes.JsonArray(thresholds.Select(t => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonObject
                {
                    ["metres"] = t.PositionMetres, ["degrees"] = t.RotationDegrees, ["share"] = r.Result.ShareWithin(t),
                }).ToArray()),
                ["median_position_m"] = double.IsFinite(r.Result.MedianPositionMetres) ? r.Result.MedianPositionMetres : null,
                ["median_rotation_deg"] = double.IsFinite(r.Result.MedianRotationRadians) ? r.Result.MedianRotationRadians * 180 / Math.PI : null,
            }).ToArray()),
            // Per query set (night, day), how many queries got each verdict of QueryDiagnoses.
            ["verdicts"] = new System.Text.Json.Nodes.JsonObject(diagnoses.GroupBy(d => d.Set).Select(g => new KeyValuePair<string, System.Text.Json.Nodes.JsonNode?>(g.Key,
                new System.Text.Json.Nodes.JsonObject(Enum.GetValues<QueryVerdict>().Select(v => new KeyValuePair<string, System.Text.Json.Nodes.JsonNode?>(QueryDiagnoses.Label(v), g.Count(d => d.Query.Verdict == v))))))),
            ["seconds"] = new System.Text.Json.Nodes.JsonArray(timings.Select(t => (System.Text.Json.Nodes.JsonNode)new System.Text.Json.Nodes.JsonArray(t.Stage, Math.Round(t.Seconds, 2))).ToArray()),
        };
        OutputFile.WriteAllText(path, json.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
