using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;

namespace R2D2.Localization.Pipeline;

public sealed record StrechaLocOptions
{
    /// <summary>Maps go to WORK/SCENE/MODEL.db; a finished one of the same inputs is reused.</summary>
    public required string WorkFolder { get; init; }
    public TorchSharp.torch.Device? Device { get; init; }
    public ExtractionSettings Extraction { get; init; } = new();
}

/// <summary>One row of the protocol's table: a condition and a model, over every scene.</summary>
public sealed record StrechaLocRow(string Condition, string Model, PoseEvaluationResult Result, double MedianInliers, double MedianTrueReprojPx);

public sealed record StrechaLocResult(IReadOnlyList<StrechaLocRow> Rows, IReadOnlyList<string> Scenes, bool HasErrors);

/// <summary>What the run says as it goes: a built map, a line per finished query, a query's error, a scene's count of them.</summary>
public sealed class StrechaLocReport
{
    public Action<string, MapBuildResult>? MapBuilt { get; init; }
    public Action<string>? QueryLine { get; init; }
    public Action<string>? Error { get; init; }
    public Action<string>? Warning { get; init; }
}

/// <summary>
/// The strecha-loc protocol end to end (<see cref="StrechaLoc"/>): for each model and scene, the
/// map-build runner on the even images with their true poses, then the query-set runner on the odd
/// ones by day and by (simulated) night; one row per condition and model over all scenes.
/// </summary>
public static class StrechaLocRunner
{
    public const string Day = "day", Night = "night (simulated)";

    /// <summary>A localized query with its true pose (names prefixed with the scene) and reproj@GT.</summary>
    private sealed record Sample(QueryResult Query, PosedImage Truth, double TrueReprojPx);

    /// <summary>A map's file name in the work folder: the model's, and for other extraction settings
    /// than the defaults a short hash of them, so that a run with other settings builds its own map
    /// beside the earlier one (it stopped on the earlier map's features, with advice it could not take).</summary>
    internal static string MapName(string modelName, ExtractionSettings? settings)
    {
        modelName = modelName.Replace('/', '_'); // a row name with its folder's (RowName)
        if (settings == null || settings.ToJson() == new ExtractionSettings().ToJson()) return modelName;
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(settings.ToJson()));
        return $"{modelName}-{Convert.ToHexString(hash, 0, 4).ToLowerInvariant()}";
    }

    /// <summary>A model's row (and map) name among <paramref name="models"/>: RootSIFT, or the
    /// model's <see cref="ModelLoader.Label"/> (two runs' best.safetensors shared one map and one row name).</summary>
    internal static string RowName(string model, IReadOnlyList<string> models) =>
        model.Equals("rootsift", StringComparison.OrdinalIgnoreCase) ? "RootSIFT"
            : ModelLoader.Label(model, models.Where(m => !m.Equals("rootsift", StringComparison.OrdinalIgnoreCase)));

    /// <param name="models">checkpoints, or "rootsift"</param>
    public static StrechaLocResult Run(IReadOnlyList<string> sceneFolders, IReadOnlyList<string> models, StrechaLocOptions o,
        StrechaLocReport? report = null, IProgressSink? progress = null)
    {
        report ??= new StrechaLocReport();
        var scenes = sceneFolders.Select(StrechaLoc.Load).ToList();
        // The name keys the work folder and the table: two scenes of one name would share a map.
        if (scenes.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1) is { } same)
            throw new R2D2Exception($"--scenes: {string.Join(" and ", same.Select(s => s.Folder))} have the same name '{same.Key}' (it names the work folder): give each scene once, or rename one");
        // The maps go to WORK/SCENE/: never into a scene's own folders (a --work inside images/ put
        // map files among the photos, one equal to the scene's parent put them in the scene folder).
        OutputFile.RefuseInputs(Array.Empty<(string, string?)>(),
            scenes.SelectMany(s => new[] { ("scene's images/", (string?)s.DayImages), ("scene's night/", s.NightImages), ("scene's cameras/", Path.Combine(s.Folder, "cameras")), ("scene folder", s.Folder) }),
            scenes.Select(s => ("--work folder of the scene's maps", (string?)Path.Combine(o.WorkFolder, s.Name))));
        if (models.FirstOrDefault(FeatureSource.IsHloc) is { } hloc)
            throw new UsageException($"--model {hloc}: strecha-loc compares extractors it runs itself (checkpoints, 'rootsift'); hloc's features go through build-map, query and evaluate");
        ModelLoader.CheckAll(models, m => m.Equals("rootsift", StringComparison.OrdinalIgnoreCase));
        bool failed = false;
        var rows = new List<StrechaLocRow>();
        foreach (var modelPath in models)
        {
            bool rootsift = modelPath.Equals("rootsift", StringComparison.OrdinalIgnoreCase);
            string modelName = RowName(modelPath, models);
            using var source = rootsift ? FeatureSource.ForRootSift() : FeatureSource.ForR2D2(ModelLoader.Load(modelPath, o.Device), o.Extraction, ModelLoader.ModelName(modelPath));
            var perCondition = new Dictionary<string, List<Sample>> { [Day] = new(), [Night] = new() };
            foreach (var scene in scenes)
            {
                var mapPath = Path.Combine(o.WorkFolder, scene.Name, MapName(modelName, rootsift ? null : o.Extraction) + ".db");
                var built = MapBuildRunner.Run(mapPath, new MapBuildInputs(scene.Map, scene.DayImages, source) { Model = rootsift ? null : modelPath },
                    new MapBuildOptions { Match = new MatchOptions { Device = o.Device }, KeepExistingMap = true }, progress);
                if (built != null) report.MapBuilt?.Invoke(mapPath, built);
                using var map = QueryInputs.LoadMap(mapPath).Map;
                foreach (var (condition, folder) in new[] { (Day, scene.DayImages), (Night, scene.NightImages) })
                    failed |= Localize(scene, condition, folder, map, source, o.Device, perCondition[condition], report);
            }
            foreach (var (condition, list) in perCondition)
            {
                var result = PoseEvaluation.Evaluate(list.ToDictionary(x => x.Query.Name, x => x.Query.Pose), list.Select(x => KeyValuePair.Create(x.Truth.Name, x.Truth.Pose)));
                rows.Add(new StrechaLocRow(condition, modelName, result, Statistics.Median(list.Select(x => (double)x.Query.Inliers)),
                    Statistics.Median(list.Select(x => x.TrueReprojPx))));
            }
        }
        return new StrechaLocResult(rows, scenes.Select(s => s.Name).ToList(), failed);
    }

    /// <summary>The scene's queries in one condition, through the query-set runner, a line each; true when a query failed with an error.</summary>
    private static bool Localize(StrechaLoc.Scene scene, string condition, string folder, MapIndex map, FeatureSource source, TorchSharp.torch.Device? device,
        List<Sample> samples, StrechaLocReport report)
    {
        var truth = scene.Queries.ToDictionary(q => q.Name);
        var runner = new QuerySetRunner(map, source, device, new QuerySetOptions { ImageRoot = folder });
        var summary = runner.Run(scene.Queries.Select(q => new QueryImage(q.Name, q.Camera)).ToList(), new LinePerQuery(o =>
        {
            var (res, q) = (o.Result, truth[o.Query.Name]);
            if (o.IsError) report.Error?.Invoke(res.Warning ?? o.Query.Name);
            report.QueryLine?.Invoke($"  {scene.Name} {condition} {q.Name}: {(res.Localized ? "ok" : "FAILED")}, {res.Inliers} inliers, "
                + $"error {PoseEvaluation.PositionError(res.Pose, q.Pose) * 100:F1} cm / {PoseEvaluation.RotationError(res.Pose, q.Pose) * 180 / Math.PI:F2}°");
        }));
        foreach (var o in summary.Outcomes)
        {
            var q = truth[o.Query.Name];
            samples.Add(new Sample(o.Result with { Name = $"{scene.Name}/{q.Name}" }, q with { Name = $"{scene.Name}/{q.Name}" }, StrechaLoc.TrueReprojection(o.Result, q, map)));
        }
        if (summary.HasErrors) report.Warning?.Invoke($"{scene.Name} {condition}: {summary.Line}");
        return summary.HasErrors;
    }

    private sealed class LinePerQuery(Action<QueryOutcome> finished) : IQuerySetProgress
    {
        public void Started(int index, int total, QueryImage query) { }
        public void Finished(int index, int total, QueryOutcome outcome) => finished(outcome);
    }
}
