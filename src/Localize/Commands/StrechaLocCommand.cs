using System.CommandLine;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Mapping;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize strecha-loc`: the strecha-loc protocol end to end, one table per run.</summary>
internal static class StrechaLocCommand
{
    public static Command Create()
    {
        var scenes = new Option<string[]>("--scenes") { Description = "Strecha scene folders (images/, night/, cameras/)", Required = true, AllowMultipleArgumentsPerToken = true };
        var models = new Option<string[]>("--model") { Description = "checkpoints and/or 'rootsift'", Required = true, AllowMultipleArgumentsPerToken = true };
        var work = new Option<string>("--work") { Description = "folder for maps, submissions and CSVs (reused: finished stages are skipped)", DefaultValueFactory = _ => "out/strecha-loc" };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores)" };
        var ex = new ExtractionOptionSet();
        var cmd = new Command("strecha-loc", "The strecha-loc protocol: map from even images with true poses, localize the odd ones by day and (simulated) night.");
        foreach (var o in new Option[] { scenes, models, work, device, threads }) cmd.Options.Add(o);
        ex.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            TorchRuntime.SetThreads(r.GetValue(threads));
            var dev = TorchRuntime.ResolveDevice(r.GetValue(device));
            var settings = ex.Get(r);
            var loaded = r.GetValue(scenes)!.Select(StrechaLoc.Load).ToList();
            bool failed = false;
            var rows = new List<(string Condition, string Model, PoseEvaluationResult Result, double MedianInliers, double MedianTrueReprojPx)>();
            foreach (var modelPath in r.GetValue(models)!)
            {
                bool rootsift = modelPath.Equals("rootsift", StringComparison.OrdinalIgnoreCase);
                string modelName = rootsift ? "RootSIFT" : ModelLoader.ModelName(modelPath);
                using var source = rootsift ? FeatureSource.ForRootSift() : FeatureSource.ForR2D2(ModelLoader.Load(modelPath, dev), settings, modelName);
                var perCondition = new Dictionary<string, List<(QueryResult Q, PosedImage Truth, double TrueReproj)>> { ["day"] = new(), ["night (simulated)"] = new() };
                foreach (var scene in loaded)
                {
                    var mapPath = Path.Combine(r.GetValue(work)!, scene.Name, modelName + ".db");
                    Directory.CreateDirectory(Path.GetDirectoryName(mapPath)!);
                    MapIndex map;
                    using (var db = FeatureDatabase.Open(mapPath))
                    {
                        if (!db.HasMap)
                        {
                            Console.WriteLine($"strecha-loc: {scene.Name}, {modelName}: building the map from {scene.Map.Count} even images");
                            var pairs = MapBuilder.PairsFromPoses(scene.Map, new MapBuildOptions());
                            if (!rootsift) db.WriteNote("model_path", Path.GetFullPath(modelPath));
                            var res = MapBuild.Run(db, scene.Map, scene.DayImages, source, pairs, new MapBuildOptions(), dev, new ConsoleProgress(), null);
                            BuildMapCommand.PrintSummary(mapPath, res, null);
                        }
                        map = MapIndex.Load(db);
                    }
                    foreach (var (condition, folder) in new[] { ("day", scene.DayImages), ("night (simulated)", scene.NightImages) })
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
                            perCondition[condition].Add((o.Result with { Name = $"{scene.Name}/{q.Name}" }, q with { Name = $"{scene.Name}/{q.Name}" }, TrueReprojection(o.Result, q, map)));
                        }
                        if (summary.HasErrors)
                        {
                            Reporter.Warn($"{scene.Name} {condition}: {summary.Line}");
                            failed = true;
                        }
                    }
                }
                foreach (var (condition, list) in perCondition)
                {
                    var result = PoseEvaluation.Evaluate(list.ToDictionary(x => x.Q.Name, x => x.Q.Pose), list.Select(x => KeyValuePair.Create(x.Truth.Name, x.Truth.Pose)));
                    rows.Add((condition, modelName, result, PoseEvaluation.Median(list.Select(x => (double)x.Q.Inliers)), PoseEvaluation.Median(list.Select(x => x.TrueReproj))));
                }
            }
            Print(rows, loaded.Select(s => s.Name).ToList());
            return failed ? 1 : 0;
        }));
        return cmd;
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

        public void Warning(string message) { }
    }

    /// <summary>Median reprojection error (px) of the query's PnP-inlier 3D points under the query's TRUE pose:
    /// a check of the map's points against a camera the map never saw.</summary>
    private static double TrueReprojection(QueryResult res, PosedImage truth, MapIndex map)
    {
        if (res.InlierXY == null || res.InlierPoints == null) return double.NaN;
        var errs = new List<double>();
        for (int k = 0; k < res.InlierPoints.Length; k++)
        {
            var p = map.Points[res.InlierPoints[k]];
            var xc = truth.Pose.ToCamera(p.X, p.Y, p.Z);
            if (xc[2] <= 0) continue;
            var (u, v) = truth.Camera.Project(xc[0], xc[1], xc[2]);
            errs.Add(Math.Sqrt((u - res.InlierXY[2 * k]) * (u - res.InlierXY[2 * k]) + (v - res.InlierXY[2 * k + 1]) * (v - res.InlierXY[2 * k + 1])));
        }
        return errs.Count == 0 ? double.NaN : PoseEvaluation.Median(errs);
    }

    private static void Print(List<(string Condition, string Model, PoseEvaluationResult Result, double MedianInliers, double MedianTrueReprojPx)> rows, List<string> scenes)
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
