using System.Diagnostics;
using System.Globalization;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;

namespace R2D2.Localization.Pipeline;

/// <summary>How a query set is run and where its results go.</summary>
public sealed record QuerySetOptions
{
    /// <summary>Folder the query names are relative to.</summary>
    public required string ImageRoot { get; init; }
    /// <summary>The submission (its CSV and inliers file go beside it); null: nothing is written.</summary>
    public string? OutputPath { get; init; }
    /// <summary>The per-query CSV; default: the submission with .csv.</summary>
    public string? CsvPath { get; init; }
    /// <summary>Keep the queries an earlier run localized (or found no pose for) and run the others.</summary>
    public bool Resume { get; init; }
    /// <summary>Outputs that every run makes anew by design (the demos'): replacing an earlier run's
    /// poses is not warned about.</summary>
    public bool Fresh { get; init; }
    /// <summary>The query list the queries come from, in its order: named in errors (file:line) and never overwritten.</summary>
    public string? QueryListPath { get; init; }
    /// <summary>Other files the run reads (intrinsics, pairs), which the outputs must not overwrite.</summary>
    public IReadOnlyList<(string Role, string? Path)> OtherInputs { get; init; } = Array.Empty<(string, string?)>();
    public LocalizerOptions Localizer { get; init; } = new();
    /// <summary>The part of the list this run localizes (`--shard`): its outputs hold only those
    /// queries, and `localize merge --queries` joins the shards' outputs in the list's order.</summary>
    public Shard Shard { get; init; } = Shard.All;
    /// <summary>A kapture folder to write the localized queries' poses to (sensors/trajectories.txt,
    /// with records_camera.txt and sensors.txt); the query list's timestamps and sensors when it is a kapture folder.</summary>
    public string? KaptureOutput { get; init; }
    /// <summary>Folders kept before the file name in the submission (<see cref="Submission.NameFor"/>): 1 for multi-camera datasets such as RobotCar Seasons.</summary>
    public int SubmissionFolders { get; init; }
    /// <summary>Stages the caller ran before the queries (load the map, the model) with their seconds, recorded in the run description.</summary>
    public IReadOnlyList<(string Stage, double Seconds)> SetupStages { get; init; } = Array.Empty<(string, double)>();
    /// <summary>Called after each query localized in this run (not those kept from an earlier one)
    /// with its features and the camera it was posed with: what a caller with true poses needs to
    /// diagnose it (<see cref="Evaluation.QueryDiagnoses"/>). Null: nothing kept.</summary>
    public Action<QueryImage, FeatureSet, Camera, QueryResult>? Localized { get; init; }

    public string? Csv => CsvPath ?? (OutputPath == null ? null : Path.ChangeExtension(OutputPath, ".csv"));
}

/// <summary>One query of a run: its result (a fallback pose unless localized), what became of it,
/// and whether an earlier run's lines were kept for it.</summary>
public sealed record QueryOutcome(QueryImage Query, QueryResult Result, QueryStatus Status, bool Kept)
{
    public bool IsError => Status is QueryStatus.Unreadable or QueryStatus.Failed;
}

/// <summary>Where a query set reports its progress: each query as it starts and ends, and the
/// warnings of <see cref="IProgressSink"/> (rescaled intrinsics, no pose found).</summary>
public interface IQuerySetProgress : IProgressSink
{
    void Started(int index, int total, QueryImage query);
    void Finished(int index, int total, QueryOutcome outcome);
}

/// <summary>The outcomes of a run, in the query list's order.</summary>
public sealed record QuerySetSummary(IReadOnlyList<QueryOutcome> Outcomes)
{
    public int Count(QueryStatus s) => Outcomes.Count(o => o.Status == s);
    /// <summary>An image could not be read or a query failed with an error (not merely "not localized").</summary>
    public bool HasErrors => Outcomes.Any(o => o.IsError);

    /// <summary>Queries an earlier run had done, kept.</summary>
    public int KeptCount => Outcomes.Count(o => o.Kept);

    /// <summary>The median inliers and mean times per query (extract, match, PnP), over the queries
    /// that ran (an unreadable image or a failure counted as 0 inliers in 0 s).</summary>
    public string TimingLine
    {
        get
        {
            var results = Outcomes.Where(o => !o.IsError).Select(o => o.Result).ToList();
            if (results.Count == 0) return "query: no query ran to its end";
            return $"query: median inliers {Statistics.Median(results.Select(x => (double)x.Inliers)):F0}; "
                + $"mean time per query: extract {results.Average(x => x.ExtractSeconds):F2} s, match {results.Average(x => x.MatchSeconds):F3} s, "
                + $"PnP {results.Average(x => x.PnpSeconds) * 1000:F1} ms";
        }
    }

    public string Line => $"query: {Counted.Of(Outcomes.Count, "query", "queries")}, {Count(QueryStatus.Localized)} localized, {Count(QueryStatus.Fallback)} fallback, "
        + $"{Count(QueryStatus.Unreadable)} unreadable, {Count(QueryStatus.Failed)} failed";
}

/// <summary>
/// Localizes a set of queries against a map: reads each image, rescales its intrinsics to the
/// image's size, localizes, and writes the submission, CSV, inliers, matches and the run's
/// description (<see cref="QueryRunInfo"/>: settings, model, time per stage) as queries finish
/// (each atomically; see the loop for how often), so a killed run loses little work. Each query is isolated: an
/// unreadable image or any error while localizing it becomes that query's failure, with its
/// reason and the fallback pose, and the run goes on. Before any work, names that would collide
/// in the submission are refused, and so are outputs that would overwrite an input.
/// </summary>
public sealed class QuerySetRunner
{
    private readonly MapIndex _map;
    private readonly FeatureSource _source;
    private readonly TorchSharp.torch.Device? _device;
    private readonly QuerySetOptions _o;
    private readonly DateTime _started = DateTime.UtcNow;
    private string? _listSha256; // the query list's, hashed once
    private readonly Stopwatch _wall = Stopwatch.StartNew();
    private double _writeSeconds;
    private double _lastWriteSeconds;
    private const double QuickWriteSeconds = 0.05;
    /// <summary>Runs of up to this many queries rewrite their outputs after every query, whatever a
    /// write takes: ~30 ms at most at this size (~15 s in all over such a run, a few % of it at
    /// 0.5 s a query), and on a loaded disk a small run's fsync took 50 ms, which spaced the writes of
    /// a 40-query run so that a kill lost most of it.</summary>
    private const int AlwaysWrittenQueries = 1000;
    private readonly Stopwatch _sinceWrite = Stopwatch.StartNew();

    public QuerySetRunner(MapIndex map, FeatureSource source, TorchSharp.torch.Device? device, QuerySetOptions options)
    {
        _map = map;
        _source = source;
        _device = device;
        _o = options;
    }

    public QuerySetSummary Run(IReadOnlyList<QueryImage> queries, IQuerySetProgress? progress = null)
    {
        progress ??= NoProgress.Instance;
        RefuseCollidingNames(queries); // the whole list: every shard refuses it alike
        queries = _o.Shard.Take(queries);
        // Said once before any work, not as every query "unreadable" and a submission of fallback poses.
        if (queries.Count > 0 && _o.ImageRoot != "" && !Directory.Exists(_o.ImageRoot))
            throw new R2D2Exception(_o.ImageRoot, 0, File.Exists(_o.ImageRoot)
                ? "is a file: --images takes the folder the query list's names are relative to" : "image folder not found (--images)");
        if (_o.KaptureOutput != null)
        {
            OutputFile.RefuseFileAsFolder(_o.KaptureOutput, "--kapture-output");
            Kapture.RefuseForeignOutput(_o.KaptureOutput, "--kapture-output");
        }
        RefuseLackingRetrieval(queries, progress);
        var imagePaths = queries.Select(q => Path.Combine(_o.ImageRoot, q.Name)).ToList();
        // Features read from a file (hloc) that lacks queries: said before any work, as a retrieval file's.
        QueryInputs.RefuseLackingFeatures(_source, imagePaths, null);
        string? poses = _o.OutputPath, csv = _o.Csv;
        // A kapture query folder lists its files under sensors/: no output may be one of them.
        var kaptureInputs = (_o.QueryListPath != null && Kapture.SensorsFolder(_o.QueryListPath) is { } qs
            ? Directory.EnumerateFiles(qs).Select(f => ("query kapture file", (string?)f)) : Enumerable.Empty<(string, string?)>()).ToList();
        // Input folders (a kapture global_features folder) hold no output either: a submission written
        // as one of its .gfeat files, or a kapture output inside it, replaced the descriptors.
        var inputFolders = _o.OtherInputs.Where(i => i.Path != null && Directory.Exists(i.Path)).ToList();
        if (poses != null)
        {
            OutputFile.RefuseInputs(
                QueryOutputs.Files(poses, csv),
                new[] { ("map", _map.Path), ("query list", _o.QueryListPath) }.Concat(_o.OtherInputs).Concat(kaptureInputs)
                    .Concat(imagePaths.Select(p => ("query image", (string?)p))));
            OutputFile.RefuseAsOutputFiles(QueryOutputs.Files(poses, csv), inputFolders);
            OutputFile.RefuseBinaryOutputs(QueryOutputs.Files(poses, csv));
        }

        if (_o.KaptureOutput != null)
        {
            var kaptureFiles = new[] { "sensors.txt", "records_camera.txt", "trajectories.txt" }.Select(f => ($"kapture {f}", (string?)Path.Combine(_o.KaptureOutput, "sensors", f))).ToList();
            OutputFile.RefuseInputs(kaptureFiles, kaptureInputs.Concat(_o.OtherInputs).Append(("map", _map.Path)));
            OutputFile.RefuseAsOutputFiles(kaptureFiles, inputFolders);
        }
        // Queries with a pose (or found to have none) are kept; unreadable and failed ones are run again.
        var stored = _o.Resume && poses != null ? QueryOutputs.ReadStored(poses, csv!) : new Dictionary<string, StoredQuery>();
        // Said, as the first write below replaces them: a forgotten --resume lost a long run's poses without a word.
        if (!_o.Resume && !_o.Fresh && poses != null && File.Exists(poses) && File.ReadLines(poses).Count(l => l.Trim().Length > 0 && !l.StartsWith('#')) is var earlier and > 0)
            progress.Warning($"{poses} holds {Counted.Of(earlier, "pose")} of an earlier run, which this run replaces (--resume keeps them and localizes the other queries)");
        if (stored.Count > 0)
        {
            // Kept poses must come from the same map, photos and settings, or the outputs would mix two runs.
            var runInfo = QueryRunInfo.PathFor(poses!);
            if (!File.Exists(runInfo))
                throw new R2D2Exception(runInfo, 0, "--resume: the run description of the outputs is missing, so the settings of their poses are unknown "
                    + "(a run of an older version, or one killed as it began): localize every query again without --resume (nothing was written)");
            var differences = QueryRunInfo.Differences(QueryRunInfo.Read(runInfo).Settings, QueryRunInfo.Flattened(RunSettings(queries.Count, Array.Empty<QueryOutcome>())));
            if (differences.Count > 0)
                throw new R2D2Exception(runInfo, 0, $"--resume: the earlier run differs ({string.Join("; ", differences)}); "
                    + "resume with its inputs and settings, or localize every query again without --resume (nothing was written)");
            // The outputs are rewritten with this list's queries: an earlier one it lacks would be dropped without a word.
            var listed = queries.Select(q => q.Name).ToHashSet(StringComparer.Ordinal);
            var dropped = stored.Keys.Where(n => !listed.Contains(n)).ToList();
            if (dropped.Count > 0)
                throw new R2D2Exception(poses, 0, $"--resume: holds {Counted.Of(dropped.Count, "query", "queries")} of the earlier run that this list lacks (first: '{dropped[0]}'), "
                    + "which the resumed outputs would drop: resume with a list that holds them, or write to another --output (nothing was written)");
        }
        var records = new QueryRecord?[queries.Count];
        var outcomes = new QueryOutcome?[queries.Count];
        for (int i = 0; i < queries.Count; i++)
            if (stored.TryGetValue(queries[i].Name, out var s) && s.Status is QueryStatus.Localized or QueryStatus.Fallback)
            {
                records[i] = s.Record;
                outcomes[i] = new QueryOutcome(queries[i], s.Result, s.Status, Kept: true);
            }

        // The outputs hold the kept queries only, and the run description is this run's, before any
        // query is localized: a kill from here on leaves outputs whose description is their own (a
        // stale description beside new poses let a resume with the old settings keep them).
        if (poses != null) WriteOutputs(poses, csv!, records, outcomes);
        for (int i = 0; i < queries.Count; i++)
        {
            progress.Started(i, queries.Count, queries[i]);
            if (outcomes[i] == null)
            {
                outcomes[i] = LocalizeOne(queries[i], imagePaths[i], progress);
                if (poses != null)
                {
                    records[i] = QueryOutputs.Format(outcomes[i]!.Result, outcomes[i]!.Status, _map, _o.SubmissionFolders);
                    // Rewriting every output after each query costs their size each time (N² in all:
                    // 330 ms a write at 10,000 queries). After each query in a run of up to 1,000 or while
                    // a rewrite is quick, else once the time since the last is 10× what it took: writing
                    // stays within ~10 % of the run, and a kill -9 loses at most that much work, which --resume redoes.
                    if (queries.Count <= AlwaysWrittenQueries || _lastWriteSeconds < QuickWriteSeconds || _sinceWrite.Elapsed.TotalSeconds >= 10 * _lastWriteSeconds)
                        WriteOutputs(poses, csv!, records, outcomes);
                }
            }
            progress.Finished(i, queries.Count, outcomes[i]!);
        }
        // Also when every query was kept: the outputs then hold exactly this list's queries.
        if (poses != null) WriteOutputs(poses, csv!, records, outcomes);
        if (_o.KaptureOutput != null) WriteKapture(_o.KaptureOutput, outcomes.Select(o => o!).ToList());
        return new QuerySetSummary(outcomes.Select(o => o!).ToList());
    }

    private void WriteOutputs(string poses, string csv, QueryRecord?[] records, QueryOutcome?[] outcomes)
    {
        var sw = Stopwatch.StartNew();
        QueryOutputs.Write(poses, csv, records.OfType<QueryRecord>().ToList());
        _writeSeconds += sw.Elapsed.TotalSeconds;
        _lastWriteSeconds = sw.Elapsed.TotalSeconds;
        _sinceWrite.Restart();
        var done = outcomes.OfType<QueryOutcome>().ToList();
        QueryRunInfo.Write(QueryRunInfo.PathFor(poses), RunSettings(records.Length, done), _o.SetupStages.Concat(new[]
        {
            ("query: extract", done.Sum(o => o.Result.ExtractSeconds)),
            ("query: match", done.Sum(o => o.Result.MatchSeconds)),
            ("query: PnP", done.Sum(o => o.Result.PnpSeconds)),
            ("write outputs", _writeSeconds),
            ("total (this invocation)", _wall.Elapsed.TotalSeconds + _o.SetupStages.Sum(s => s.Seconds)),
        }));
    }

    /// <summary>What the run description records: when, against what, with which model and settings, how far.</summary>
    private IEnumerable<(string, object?)> RunSettings(int total, IReadOnlyList<QueryOutcome> done)
    {
        var inv = CultureInfo.InvariantCulture;
        yield return ("started", _started.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", inv));
        yield return ("updated", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", inv));
        yield return ("map", _map.Path);
        yield return ("map_points", _map.Points.Count);
        yield return ("map_images", _map.Images.Count);
        // The index retrieval reads: `localize build-retrieval` adds or rebuilds it in the same map file.
        yield return ("map_asmk", _map.Asmk is { } asmk ? $"{asmk.Images.Count} images, {asmk.Codebook.Fingerprint}" : "none");
        // Paths in full, so that a resume from another folder, or with a trailing slash, compares the files themselves.
        yield return ("query_list", QueryRunInfo.FullPath(_o.QueryListPath));
        // Which part of the list (merge takes each shard of one N once; a copy of one was taken twice).
        yield return ("shard", _o.Shard.ToString());
        // Its content too: shards localized with lists of other cameras under one name merged without a word.
        yield return ("query_list_sha256", _o.QueryListPath != null && File.Exists(_o.QueryListPath) ? _listSha256 ??= ImageFile.ContentHash(_o.QueryListPath) : null);
        yield return ("image_root", QueryRunInfo.FullPath(_o.ImageRoot));
        // The kept lines' names were written with the earlier run's folders: one submission, one scheme.
        yield return ("submission_folders", _o.SubmissionFolders);
        foreach (var (role, path) in _o.OtherInputs.Where(i => i.Path != null)) yield return (role.Replace(' ', '_'), QueryRunInfo.FullPath(path));
        yield return ("queries", total);
        yield return ("done", done.Count);
        yield return ("kept_from_earlier_run", done.Count(o => o.Kept));
        foreach (var s in Enum.GetValues<QueryStatus>()) yield return (QueryOutputs.Word(s), done.Count(o => o.Status == s));
        yield return ("features", _source.Description);
        var id = _source.Identity;
        yield return ("extractor", new (string, object?)[]
        {
            ("type", id.FeatureType), ("model", id.Model), ("net", id.Net), ("weights", id.WeightsHash), ("precision", _source.Precision),
            ("settings", id.Settings.TrimStart().StartsWith('{') ? new JsonObjectText(id.Settings) : id.Settings),
        });
        var l = _o.Localizer;
        yield return ("localizer", new (string, object?)[]
        {
            ("pnp_threshold_px", l.Pnp.ThresholdPx), ("pnp_confidence", l.Pnp.Confidence), ("pnp_max_iterations", l.Pnp.MaxIterations), ("pnp_local_optimization_factor", l.Pnp.LocalOptimizationFactor),
            ("pnp_min_iterations", l.Pnp.MinIterations), ("pnp_local_optimization_min_share", l.Pnp.LocalOptimizationMinShare), ("pnp_seed", l.Pnp.Seed),
            ("min_inliers", l.MinInliers),
            ("min_similarity", float.IsNegativeInfinity(l.MinSimilarity) ? null : l.MinSimilarity),
            ("matched_against", l.PairsByQuery != null ? l.ImportedMatches != null ? "the pairs file's database images, with the query matches file's matches" : "the pairs file's database images"
                : l.RetrievedImages == Retrieval.Auto ? "auto" : l.RetrievedImages == 0 ? "all map points" : $"the points of the {l.RetrievedImages} most similar database images"),
            ("matching", MatchingSchemes.Name(l.Matching)), ("covisibility_clusters", l.CovisibilityClusters is { } c ? c ? "on" : "off" : "auto"),
            ("retrieval_method", RetrievalKind()),
            ("guided_rounds", l.Guided.Rounds), ("guided_radius_px", l.Guided.RadiusPx), ("guided_ratio", l.Guided.Ratio), ("guided_min_similarity", l.Guided.MinSimilarity), ("guided_min_image_votes", l.Guided.MinImageVotes),
            // What "auto" resolves to (a newer build may decide otherwise: a resume then says so).
            ("auto_rules", Localization.Localizer.AutoRules),
            ("verified_candidates", l.VerifiedCandidates is { } vc ? vc.ToString(System.Globalization.CultureInfo.InvariantCulture) : "auto"), ("verify_min_share", l.VerifyMinShare), ("pnp_loss_scale_px", l.Pnp.LossScalePx), ("point_cells", l.PointCells is { } pc ? pc.ToString(System.Globalization.CultureInfo.InvariantCulture) : "auto"),
        });
        yield return ("device", _device?.ToString() ?? "cpu");
    }

    /// <summary>The retrieval the run uses: the map's own method by name, a file's by its kind (the
    /// file is recorded under its own key), "none" when every map point is matched or a pairs file is.</summary>
    private string RetrievalKind() =>
        _o.Localizer.PairsByQuery != null ? "none" : Localization.Localizer.RetrievalUsed(_map, _o.Localizer) is not { } m ? "none"
            : ImageRetrieval.InputOf(m.Name) is { } input ? input.Role : m.Name;

    /// <summary>The localized queries as kapture records: their timestamps and sensors from a kapture
    /// query folder, else 0, 1, … and one sensor per camera.</summary>
    private void WriteKapture(string folder, IReadOnlyList<QueryOutcome> outcomes)
    {
        var done = outcomes.Where(o => o.Status == QueryStatus.Localized && o.Query.Camera != null).ToList();
        List<KaptureImage> images;
        if (_o.QueryListPath != null && Kapture.IsKapture(_o.QueryListPath))
        {
            // Without its trajectories: the queries were read without them, and the poses written are the run's.
            var byName = Kapture.Read(_o.QueryListPath, poses: false).ToDictionary(k => k.Name);
            images = done.Select(o => byName[o.Query.Name] with { Pose = o.Result.Pose }).ToList();
        }
        else images = Kapture.FromImages(done.Select(o => (o.Query.Name, o.Query.Camera!, (Pose?)o.Result.Pose)));
        Kapture.Write(folder, images);
    }

    /// <summary>A global-descriptor file without some queries is refused before any work (each such
    /// query failed on its own, after a run's worth of extraction); a pairs file without some is said,
    /// as those queries get fallback poses.</summary>
    private void RefuseLackingRetrieval(IReadOnlyList<QueryImage> queries, IQuerySetProgress progress)
    {
        if (queries.Count == 0) return;
        if (_o.Localizer.PairsByQuery is { } byQuery) // --pairs FILE: the images each query is matched against
        {
            var none = queries.Where(q => byQuery.Find(q.Name) == null).Select(q => q.Name).ToList();
            if (none.Count > 0) progress.Warning($"--pairs: no pair for {none.Count} of the {queries.Count} queries (first: '{none[0]}'{byQuery.Ambiguity(none[0])}): they get fallback poses");
            return;
        }
        if (Localization.Localizer.RetrievalUsed(_map, _o.Localizer) is not { } method) return;
        if (method.Note is { } note) progress.Warning(note);
        ImageRetrieval.CheckLacking(method, queries.Select(q => q.Name).ToList(), progress.Warning);
    }

    private QueryOutcome LocalizeOne(QueryImage q, string imagePath, IQuerySetProgress progress)
    {
        RgbImage image;
        try
        {
            image = ImageFile.ReadRgb(imagePath, nameWarnings: true); // queries are read one at a time
        }
        catch (Exception e)
        {
            return Failure(q, QueryStatus.Unreadable, Reason(e));
        }
        Camera camera;
        FeatureSet f;
        QueryResult res;
        try
        {
            camera = q.Camera ?? throw new R2D2Exception(_o.QueryListPath, 0, $"query '{q.Name}' has no camera");
            // A camera that cannot be right (e.g. focal 0) fails its query with the reason, not as a pose that RANSAC never finds.
            if (camera.FindProblem() is { } problem) throw new R2D2Exception(_o.QueryListPath, 0, $"query '{q.Name}': {problem}");
            if (Intrinsics.RescaledTo(camera, image.Width, image.Height) is { } scaled)
            {
                progress.Warning($"{q.Name}: image is {image.Width}×{image.Height}, the list says {camera.Width}×{camera.Height}: intrinsics rescaled");
                camera = scaled;
            }
            var sw = Stopwatch.StartNew();
            f = _source.Extract(image, imagePath);
            res = Localization.Localizer.Localize(q.Name, f, sw.Elapsed.TotalSeconds, camera, _map, _device, _o.Localizer);
            if (res.Warning != null) progress.Warning(res.Warning);
        }
        // Whatever one query throws (a camera model without a pinhole part, a solver that does not
        // converge on a degenerate camera, ...) is that query's failure, not the run's.
        catch (Exception e)
        {
            return Failure(q, QueryStatus.Failed, $"{q.Name}: localization failed: {Reason(e)}");
        }
        _o.Localized?.Invoke(q, f, camera, res); // the caller's code: its errors are its own, not the query's
        return new QueryOutcome(q, res, res.Localized ? QueryStatus.Localized : QueryStatus.Fallback, Kept: false);
    }

    private QueryOutcome Failure(QueryImage q, QueryStatus status, string reason)
    {
        var fb = Localization.Localizer.Fallback(_map, Array.Empty<Match>());
        var res = new QueryResult(q.Name, fb.Pose, false, 0, 0, 0, 0, 0, 0, $"{reason}; written with the pose of database image {fb.Name}", fb.Name);
        return new QueryOutcome(q, res, status, Kept: false);
    }

    /// <summary>An exception in words, on one line: the library's own messages name the file; others
    /// get their kind.</summary>
    internal static string Reason(Exception e)
    {
        var text = e is R2D2Exception or IOException or UnauthorizedAccessException or NotSupportedException ? e.Message : $"{e.Message} ({e.GetType().Name})";
        return string.Join(' ', text.Split(new[] { '\r', '\n' }, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Two queries with the same base name would get one line in the submission, which the
    /// benchmark matches on: refused, naming the second (file:line when the list is known).</summary>
    private void RefuseCollidingNames(IReadOnlyList<QueryImage> queries)
    {
        var first = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < queries.Count; i++)
        {
            var name = queries[i].SubmissionNameWith(_o.SubmissionFolders);
            if (name.Length == 0 || name.Any(char.IsWhiteSpace))
                throw new R2D2Exception(_o.QueryListPath, ListLine(i), $"query '{queries[i].Name}': a submission cannot name it (empty or contains white space)");
            if (!first.TryAdd(name, i))
                throw new R2D2Exception(_o.QueryListPath, ListLine(i),
                    $"query '{queries[i].Name}' has the {(_o.SubmissionFolders == 0 ? "base" : "submission")} name '{name}' of '{queries[first[name]].Name}'"
                    + (ListLine(first[name]) is > 0 and var l ? $" (line {l})" : "")
                    + "; the submission names images by base name (with --submission-folders N, their last N folders too), so they would be indistinguishable (nothing was localized)");
        }
    }

    /// <summary>The line of the list holding its i-th query (0 when unknown): the lists skip blank and comment lines.</summary>
    private int ListLine(int index)
    {
        if (_o.QueryListPath == null || !File.Exists(_o.QueryListPath)) return 0;
        int lineNo = 0, data = 0;
        foreach (var raw in TextInput.ReadLines(_o.QueryListPath))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            if (data++ == index) return lineNo;
        }
        return 0;
    }

    private sealed class NoProgress : IQuerySetProgress
    {
        public static readonly NoProgress Instance = new();
        public void Started(int index, int total, QueryImage query) { }
        public void Finished(int index, int total, QueryOutcome outcome) { }
    }
}
