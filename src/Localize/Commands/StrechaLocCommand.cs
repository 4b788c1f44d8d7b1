using System.CommandLine;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize strecha-loc`: the strecha-loc protocol end to end, one table per run: for each
/// model and scene the map-build runner, then the query-set runner by day and by night.</summary>
internal static class StrechaLocCommand
{
    private const string Day = "day", Night = "night (simulated)";

    /// <summary>A localized query with its true pose (names prefixed with the scene) and reproj@GT.</summary>
    private sealed record Sample(QueryResult Query, PosedImage Truth, double TrueReprojPx);

    private sealed record Row(string Condition, string Model, PoseEvaluationResult Result, double MedianInliers, double MedianTrueReprojPx);

    public static Command Create()
    {
        var scenes = new Option<string[]>("--scenes") { Description = "Strecha scene folders (images/, night/, cameras/)", Required = true, AllowMultipleArgumentsPerToken = true };
        var models = new Option<string[]>("--model") { Description = "checkpoints and/or 'rootsift'", Required = true, AllowMultipleArgumentsPerToken = true };
        var work = new Option<string>("--work") { Description = "folder for maps, submissions and CSVs (reused: finished stages are skipped)", DefaultValueFactory = _ => "out/strecha-loc" };
        var hardware = new DeviceOptionSet();
        var ex = new ExtractionOptionSet();
        var cmd = new Command("strecha-loc", "The strecha-loc protocol: map from even images with true poses, localize the odd ones by day and (simulated) night.");
        foreach (var o in new Option[] { scenes, models, work }) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        ex.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var dev = hardware.Resolve(r);
            var settings = ex.Get(r);
            var loaded = r.GetValue(scenes)!.Select(StrechaLoc.Load).ToList();
            // The name keys the work folder and the table: two scenes of one name would share a map.
            if (loaded.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1) is { } same)
                throw new R2D2Exception($"--scenes: {string.Join(" and ", same.Select(s => s.Folder))} have the same name '{same.Key}' (it names the work folder): give each scene once, or rename one");
            bool failed = false;
            var rows = new List<Row>();
            foreach (var modelPath in r.GetValue(models)!)
            {
                bool rootsift = modelPath.Equals("rootsift", StringComparison.OrdinalIgnoreCase);
                string modelName = rootsift ? "RootSIFT" : ModelLoader.ModelName(modelPath);
                using var source = rootsift ? FeatureSource.ForRootSift() : FeatureSource.ForR2D2(ModelLoader.Load(modelPath, dev), settings, modelName);
                var perCondition = new Dictionary<string, List<Sample>> { [Day] = new(), [Night] = new() };
                foreach (var scene in loaded)
                {
                    var mapPath = Path.Combine(r.GetValue(work)!, scene.Name, modelName + ".db");
                    var built = MapBuildRunner.Run(mapPath, new MapBuildInputs(scene.Map, scene.DayImages, source) { Model = rootsift ? null : modelPath },
                        new MapBuildOptions { Match = new MatchOptions { Device = dev }, KeepExistingMap = true }, new ConsoleProgress("strecha-loc"));
                    if (built != null) BuildMapCommand.PrintSummary(mapPath, built);
                    var map = QueryInputs.LoadMap(mapPath).Map;
                    foreach (var (condition, folder) in new[] { (Day, scene.DayImages), (Night, scene.NightImages) })
                        failed |= Localize(scene, condition, folder, map, source, dev, perCondition[condition]);
                }
                foreach (var (condition, list) in perCondition)
                {
                    var result = PoseEvaluation.Evaluate(list.ToDictionary(x => x.Query.Name, x => x.Query.Pose), list.Select(x => KeyValuePair.Create(x.Truth.Name, x.Truth.Pose)));
                    rows.Add(new Row(condition, modelName, result, PoseEvaluation.Median(list.Select(x => (double)x.Query.Inliers)), PoseEvaluation.Median(list.Select(x => x.TrueReprojPx))));
                }
            }
            Print(rows, loaded.Select(s => s.Name).ToList());
            return failed ? 1 : 0;
        }));
        return cmd;
    }

    /// <summary>The scene's queries in one condition, through the query-set runner, a line each; true when a query failed with an error.</summary>
    private static bool Localize(StrechaLoc.Scene scene, string condition, string folder, MapIndex map, FeatureSource source, TorchSharp.torch.Device dev,
        List<Sample> samples)
    {
        var truth = scene.Queries.ToDictionary(q => q.Name);
        var runner = new QuerySetRunner(map, source, dev, new QuerySetOptions { ImageRoot = folder });
        var summary = runner.Run(scene.Queries.Select(q => new QueryImage(q.Name, q.Camera)).ToList(), new LinePerQuery(o =>
        {
            var (res, q) = (o.Result, truth[o.Query.Name]);
            return $"  {scene.Name} {condition} {q.Name}: {(res.Localized ? "ok" : "FAILED")}, {res.Inliers} inliers, "
                + $"error {PoseEvaluation.PositionError(res.Pose, q.Pose) * 100:F1} cm / {PoseEvaluation.RotationError(res.Pose, q.Pose) * 180 / Math.PI:F2}°";
        }));
        foreach (var o in summary.Outcomes)
        {
            var q = truth[o.Query.Name];
            samples.Add(new Sample(o.Result with { Name = $"{scene.Name}/{q.Name}" }, q with { Name = $"{scene.Name}/{q.Name}" }, StrechaLoc.TrueReprojection(o.Result, q, map)));
        }
        if (summary.HasErrors) Reporter.Warn($"{scene.Name} {condition}: {summary.Line}");
        return summary.HasErrors;
    }

    /// <summary>A line per finished query on stdout (no bar: the lines are the protocol's log), failures on stderr.</summary>
    private sealed class LinePerQuery(Func<QueryOutcome, string> describe) : IQuerySetProgress
    {
        public void Started(int index, int total, QueryImage query) { }

        public void Finished(int index, int total, QueryOutcome outcome)
        {
            if (outcome.IsError) Reporter.Error(outcome.Result.Warning ?? outcome.Query.Name);
            Console.WriteLine(describe(outcome));
        }
    }

    private static void Print(List<Row> rows, List<string> scenes)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine($"strecha-loc on {string.Join(", ", scenes)}: map = even images with true poses; queries = odd images (night: simulated)");
        var th = ThresholdSet.Aachen.Thresholds.Concat(new[] { StrechaLoc.Fine }).ToList();
        string header = $"{"condition",-19}{"features",-20}" + string.Concat(th.Select(t => $"{t,14}")) + $"{"median pos",12}{"median rot",12}{"med inliers",12}{"reproj@GT",11}";
        Console.WriteLine(header);
        Console.WriteLine(new string('-', header.Length));
        foreach (var row in rows.OrderBy(x => x.Condition).ThenBy(x => x.Model))
            Console.WriteLine($"{row.Condition,-19}{row.Model,-20}" + string.Concat(th.Select(t => $"{row.Result.ShareWithin(t).ToString("P0", inv),14}"))
                + $"{(row.Result.MedianPositionMetres * 100).ToString("F2", inv) + " cm",12}{(row.Result.MedianRotationRadians * 180 / Math.PI).ToString("F3", inv) + "°",12}"
                + $"{row.MedianInliers,12:F0}{row.MedianTrueReprojPx.ToString("F2", inv) + " px",11}");
        Console.WriteLine("reproj@GT: median reprojection error of the PnP-inlier map points under the queries' true poses (points checked against cameras the map never saw)");
    }
}
