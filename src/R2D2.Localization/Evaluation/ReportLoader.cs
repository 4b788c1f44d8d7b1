using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Evaluation;

/// <summary>Gathers a report's data from the files of a query run: the map database, the submission
/// with the CSV, inliers, matches and run description beside it, and optionally the ground truth
/// and the image folders. Reads only; nothing is matched again.</summary>
public static class ReportLoader
{
    public static ReportData Load(string mapPath, string posesPath, string? groundTruthPath, string? queryImageFolder, string? mapImageFolder,
        string? title = null)
    {
        if (!File.Exists(mapPath)) throw new FileFormatException(mapPath, 0, "map database not found");
        if (!File.Exists(posesPath)) throw new FileFormatException(posesPath, 0, "poses file not found");
        if (queryImageFolder != null && !Directory.Exists(queryImageFolder))
            throw new FileFormatException(queryImageFolder, 0, "query image folder not found");
        if (mapImageFolder != null && !Directory.Exists(mapImageFolder))
            throw new FileFormatException(mapImageFolder, 0, "map image folder not found");
        List<MapPoint> points;
        Dictionary<int, (string Name, Pose Pose)> images;
        var cameras = new Dictionary<int, Camera>();
        using (var db = FeatureDatabase.OpenReadOnly(mapPath))
        {
            if (!db.HasMap) throw new FeatureDatabaseException(mapPath, "holds no map (run build-map first)");
            points = db.ReadMap();
            var posed = db.ReadImages().Where(i => i.PriorRotation != null && i.PriorTranslation != null).ToList();
            images = posed.ToDictionary(i => i.Id, i => (i.Name, i.PriorPose!));
            var byId = db.ReadCameras().ToDictionary(c => c.Id);
            foreach (var i in posed)
                if (byId.TryGetValue(i.CameraId, out var c)) cameras[i.Id] = c;
            mapImageFolder ??= db.ReadNote("image_root");
        }
        var warnings = new List<string>();
        var estimates = Submission.Read(posesPath, warnings.Add);
        var named = estimates.Select(e => e.Name).ToHashSet(StringComparer.Ordinal);
        // The side files name a query as the query list does; the submission by its base name, or
        // with its folders (--submission-folders).
        string InSubmission(string name) => Submission.CandidateNames(name).FirstOrDefault(named.Contains) ?? Submission.BaseName(name);
        var csvPath = Path.ChangeExtension(posesPath, ".csv");
        var stored = QueryOutputs.ReadStored(posesPath, csvPath).Values.ToDictionary(r => InSubmission(r.Result.Name));
        var inlierPath = QueryInliers.PathFor(posesPath);
        var inliers = File.Exists(inlierPath) ? QueryInliers.Read(inlierPath).Values.ToDictionary(s => InSubmission(s.Name)) : new();
        var matchPath = QueryMatches.PathFor(posesPath);
        var matches = File.Exists(matchPath) ? QueryMatches.Read(matchPath).Values.ToDictionary(s => InSubmission(s.Name)) : new();
        var runPath = QueryRunInfo.PathFor(posesPath);
        var run = File.Exists(runPath) ? QueryRunInfo.Read(runPath) : null;
        // The photos where the run read them, when not given (every card lacked its photo without a word).
        if (queryImageFolder == null && run != null && QueryRunInfo.Setting(run.Settings, "image_root") is { } recordedRoot)
        {
            if (Directory.Exists(recordedRoot)) queryImageFolder = recordedRoot;
            else warnings.Add($"{runPath}: the run read its query photos from {recordedRoot}, which is not there: give --query-images to show them");
        }
        RefuseAnotherMapsRun(mapPath, points, runPath, run, (inlierPath, inliers.Values.Select(s => (s.Name, s.PointIds))), (matchPath, matches.Values.Select(s => (s.Name, s.PointIds))));
        var truth = groundTruthPath != null ? Submission.Read(groundTruthPath, warnings.Add) : null;
        if (truth is { Count: 0 }) throw new FileFormatException(groundTruthPath!, 0, "no poses in the ground truth; nothing to evaluate against");
        var truthByName = truth?.ToDictionary(t => t.Name, t => t.Pose);
        var queries = estimates.Select(e =>
        {
            stored.TryGetValue(e.Name, out var row);
            inliers.TryGetValue(e.Name, out var set);
            matches.TryGetValue(e.Name, out var all);
            var r = row?.Result;
            string? img = queryImageFolder == null ? null : Path.Combine(queryImageFolder, r?.Name ?? e.Name);
            return new ReportQuery(e.Name, e.Pose, truthByName?.GetValueOrDefault(e.Name), r?.Localized ?? true, r?.Matches ?? all?.Count ?? 0,
                r?.Inliers ?? set?.Count ?? 0, set, r?.FallbackImage, r?.Warning, img)
            {
                Status = row?.Status,
                MatchSet = all,
                Seconds = r == null ? null : r.ExtractSeconds + r.MatchSeconds + r.PnpSeconds,
            };
        }).ToList();
        // Ground-truth queries without an estimate are listed too (as missing).
        if (truth != null)
            foreach (var t in truth.Where(t => !named.Contains(t.Name)))
                queries.Add(new ReportQuery(t.Name, null, t.Pose, false, 0, 0, null, null, "no pose in " + posesPath, null));
        // The submission and its CSV are one run's: lines of one the other lacks are said (an edited
        // or merged submission was shown as if the CSV knew nothing of them), and the queries keep
        // the run's order (the query list's), missing ones included.
        if (stored.Count > 0 || (File.Exists(csvPath) && OutputFile.RealPath(csvPath) != OutputFile.RealPath(posesPath)))
        {
            var csvNames = QueryOutputs.CsvNames(csvPath).Select(InSubmission).ToList();
            var inCsv = csvNames.ToHashSet(StringComparer.Ordinal);
            if (estimates.Where(e => !inCsv.Contains(e.Name)).Select(e => e.Name).ToList() is { Count: > 0 } unknown)
                warnings.Add($"{Counted.Of(unknown.Count, "line")} of {posesPath} {(unknown.Count == 1 ? "is" : "are")} not in the run's {csvPath} (first: '{unknown[0]}'): "
                    + "their inliers, matches and status are unknown (the submission was edited, or merged with another run's?)");
            if (csvNames.Where(n => !named.Contains(n)).ToList() is { Count: > 0 } lost)
                warnings.Add($"{Counted.Of(lost.Count, "query", "queries")} of {csvPath} {(lost.Count == 1 ? "has" : "have")} no line in {posesPath} (first: '{lost[0]}'): "
                    + "shown as missing; the submission and its side files differ");
            var order = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var n in csvNames) order.TryAdd(n, order.Count);
            queries = queries.Select((q, i) => (q, i)).OrderBy(x => order.TryGetValue(x.q.Name, out var k) ? k : int.MaxValue).ThenBy(x => x.i).Select(x => x.q).ToList();
        }
        var evaluation = truth != null ? PoseEvaluation.Evaluate(estimates, truth) : null;
        // What is missing is said (the report was written as if every query had 0 inliers of 0
        // matches, no photo, or a share of 100 % over the few queries with a true pose).
        foreach (var (file, lacks) in new[] { (csvPath, "the inliers, matches and times per query"), (inlierPath, "the queries' inliers"), (matchPath, "the queries' matches"), (runPath, "the run's settings and time per stage") })
            if (!File.Exists(file)) warnings.Add($"{file}: not found, so the report lacks {lacks}");
        // A submission names queries by base name (Aachen's are under query/night/…): a photo not at
        // the folder's top is the one file of that name below it (a concatenated submission, without
        // the run's CSV, had every photo "not found").
        if (queryImageFolder != null && queries.Any(q => q.ImagePath != null && !File.Exists(q.ImagePath)))
        {
            var byBaseName = Directory.EnumerateFiles(queryImageFolder, "*", SearchOption.AllDirectories).GroupBy(Path.GetFileName)
                .Where(g => g.Count() == 1).ToDictionary(g => g.Key!, g => g.Single(), StringComparer.Ordinal);
            queries = queries.Select(q => q.ImagePath != null && !File.Exists(q.ImagePath) && byBaseName.TryGetValue(Path.GetFileName(q.ImagePath), out var found)
                ? q with { ImagePath = found } : q).ToList();
        }
        if (queryImageFolder != null && queries.Count(q => q.ImagePath != null && !File.Exists(q.ImagePath)) is var unseen and > 0)
            warnings.Add($"{unseen} of {queries.Count(q => q.ImagePath != null)} query photos not found under {queryImageFolder} (the folder the query list's names are relative to)");
        if (truthByName != null && estimates.Count(e => !truthByName.ContainsKey(e.Name)) is var untrue and > 0)
            warnings.Add($"{untrue} of {estimates.Count} estimates have no true pose in {groundTruthPath}: the thresholds count the other {estimates.Count - untrue}");
        return new ReportData(title ?? $"Localization report: {Path.GetFileName(posesPath)} against {Path.GetFileName(mapPath)}", mapPath, points, images,
            mapImageFolder, queries, evaluation)
        {
            MapKeypoints = KeypointReader(mapPath),
            MapCameras = cameras,
            Run = run,
            Warnings = warnings,
        };
    }

    /// <summary>The files <see cref="Load"/> reads, which a report must not overwrite.</summary>
    public static IEnumerable<(string Role, string? Path)> InputsOf(string mapPath, string posesPath, string? groundTruthPath) => new[]
    {
        ("map", mapPath), ("poses", posesPath), ("CSV", Path.ChangeExtension(posesPath, ".csv")),
        ("inliers file", QueryInliers.PathFor(posesPath)), ("matches file", QueryMatches.PathFor(posesPath)),
        ("run description", QueryRunInfo.PathFor(posesPath)), ("ground truth", groundTruthPath),
    };

    /// <summary>The inliers and matches name map points by id, so they must be of this map: a run
    /// against a map of another size (run.json's map_points), or a point id the map does not hold,
    /// is refused (the report drew another map's points, or none, without a word).</summary>
    private static void RefuseAnotherMapsRun(string mapPath, List<MapPoint> points, string runPath, QueryRunInfo? run,
        params (string File, IEnumerable<(string Query, long[] PointIds)> Sets)[] files)
    {
        var settings = run?.Settings.ToDictionary(kv => kv.Key, kv => kv.Value);
        if (settings != null && settings.TryGetValue("map_points", out var recorded) && recorded != points.Count.ToString(System.Globalization.CultureInfo.InvariantCulture))
            throw new R2D2Exception(runPath, 0, $"the query run was against a map of {recorded} points ({settings.GetValueOrDefault("map", "?")}); "
                + $"{mapPath} holds {points.Count}: report against the run's map");
        var ids = points.Select(p => p.Id).ToHashSet();
        foreach (var (file, sets) in files)
            foreach (var (query, pointIds) in sets)
                foreach (var id in pointIds)
                    if (!ids.Contains(id))
                        throw new FileFormatException(file, 0, $"query '{query}' names map point {id}, which {mapPath} does not hold: the file is of another map (report against the run's map)");
    }

    /// <summary>Keypoints read when drawn, not all at once (a large map holds gigabytes of them),
    /// with the last few kept: neighbouring queries often share their database image.</summary>
    private static Func<int, Keypoints?> KeypointReader(string mapPath)
    {
        var cache = new Dictionary<int, Keypoints?>();
        var order = new Queue<int>();
        return id =>
        {
            if (cache.TryGetValue(id, out var kp)) return kp;
            using (var db = FeatureDatabase.OpenReadOnly(mapPath)) kp = db.ReadKeypoints(id);
            cache[id] = kp;
            order.Enqueue(id);
            if (order.Count > 8) cache.Remove(order.Dequeue());
            return kp;
        };
    }
}
