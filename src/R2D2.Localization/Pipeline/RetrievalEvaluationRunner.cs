using System.Diagnostics;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;

namespace R2D2.Localization.Pipeline;

/// <summary>Queries with true poses: a list with intrinsics, the folder its names are relative to, the ground truth (submission format).</summary>
public sealed record RetrievalQuerySet(string Label, IReadOnlyList<QueryImage> Queries, string ImageRoot, IReadOnlyList<ImagePose> Truth)
{
    /// <summary>The files (or folder) the set was read from: no output may overwrite them.</summary>
    public IReadOnlyList<string> Sources { get; init; } = Array.Empty<string>();

    /// <summary>`LABEL:LIST:IMAGES:TRUTH` (a query list with intrinsics, its image folder, the true
    /// poses). Paths holding ':' are split where the three paths exist (a file, a folder, a file):
    /// such folders could not be given at all.</summary>
    public static RetrievalQuerySet Parse(string spec)
    {
        var f = Split(spec);
        if (f.Length != 4) throw new UsageException($"--set '{spec}': expected LABEL:QUERY_LIST:IMAGE_FOLDER:GROUND_TRUTH"
            + (spec.Count(c => c == ':') > 3 ? " (with a ':' in a path, the three paths must exist, and one split only may fit them)" : ""));
        if (Array.FindIndex(f, x => x.Trim().Length == 0) is var empty and >= 0)
            throw new UsageException($"--set '{spec}': the {new[] { "label", "query list", "image folder", "ground truth" }[empty]} is empty");
        return new RetrievalQuerySet(f[0], QueryInputs.ReadQueries(f[1], null), f[2], Submission.Read(f[3])) { Sources = new[] { f[1], f[3] } };
    }

    private static string[] Split(string spec)
    {
        var f = spec.Split(':');
        if (f.Length <= 4) return f;
        // The label is the first field (no ':'); the rest is cut at two of its colons.
        var rest = f[1..];
        var fits = new List<string[]>();
        for (int i = 1; i < rest.Length - 1; i++)
            for (int j = i + 1; j < rest.Length; j++)
            {
                string list = string.Join(':', rest[..i]), images = string.Join(':', rest[i..j]), truth = string.Join(':', rest[j..]);
                if (File.Exists(list) && Directory.Exists(images) && File.Exists(truth)) fits.Add(new[] { f[0], list, images, truth });
            }
        return fits.Count == 1 ? fits[0] : f;
    }

    /// <summary>The strecha-loc protocol's queries of a Strecha scene: the odd images, by day and (simulated) night.</summary>
    public static IEnumerable<RetrievalQuerySet> Strecha(string folder)
    {
        var scene = StrechaLoc.Load(folder);
        var queries = scene.Queries.Select(q => new QueryImage(q.Name, q.Camera)).ToList();
        var truth = scene.Queries.Select(q => new ImagePose(q.Name, q.Pose)).ToList();
        yield return new RetrievalQuerySet($"{scene.Name} day", queries, scene.DayImages, truth) { Sources = new[] { folder } };
        yield return new RetrievalQuerySet($"{scene.Name} night", queries, scene.NightImages, truth) { Sources = new[] { folder } };
    }
}

/// <summary>What `localize evaluate-retrieval` is given: the map, its model, the query sets.</summary>
public sealed record RetrievalEvaluationInputs
{
    public required string MapPath { get; init; }
    /// <summary>The checkpoint; null: the one the map was built with.</summary>
    public string? Model { get; init; }
    public TorchSharp.torch.Device Device { get; init; } = TorchSharp.torch.CPU;
    /// <summary>Query sets as `LABEL:LIST:IMAGES:TRUTH` (<see cref="RetrievalQuerySet.Parse"/>).</summary>
    public IReadOnlyList<string> Sets { get; init; } = Array.Empty<string>();
    /// <summary>Strecha scene folders: their strecha-loc queries by day and night (<see cref="RetrievalQuerySet.Strecha"/>).</summary>
    public IReadOnlyList<string> StrechaScenes { get; init; } = Array.Empty<string>();
}

public sealed record RetrievalEvaluationOptions
{
    /// <summary>Methods of <see cref="ImageRetrieval.Create"/>; "oracle" is the ground-truth ranking.</summary>
    public IReadOnlyList<string> Methods { get; init; } = new[] { "vlad", "asmk", "oracle" };
    public IReadOnlyList<int> Ks { get; init; } = new[] { 1, 5, 10, 20, 50 };
    public RelevanceOptions Relevance { get; init; } = new();
    /// <summary>The localizer's settings for every localization; the images are each method's. Null
    /// <see cref="LocalizerOptions.VerifiedCandidates"/> and <see cref="LocalizerOptions.CovisibilityClusters"/>
    /// mean what `query` does for retrieved images and for a pairs file: on for the retrieval
    /// methods, off for the oracle (the ground truth's images).</summary>
    public LocalizerOptions Localizer { get; init; } = new();
    /// <summary>Also localize each query with each method's first <see cref="RetrievedImages"/> images, by each scheme.</summary>
    public IReadOnlyList<MatchingScheme> LocalizeSchemes { get; init; } = Array.Empty<MatchingScheme>();
    public int RetrievedImages { get; init; } = 20;
    /// <summary>Where to write the ground-truth pairs (`query db`, the first <see cref="RetrievedImages"/> relevant images of each query); null: not written.</summary>
    public string? GroundTruthPairsPath { get; init; }
    /// <summary>Where to write every localized query's diagnosis as CSV (<see cref="QueryDiagnoses.Csv"/>); null: not written.</summary>
    public string? DiagnosesPath { get; init; }
    /// <summary>The threshold a query's diagnosis counts as within (<see cref="QueryDiagnoses"/>): the finest of Aachen's.</summary>
    public PoseThreshold DiagnosedWithin { get; init; } = ThresholdSet.Aachen.Thresholds[0];
    /// <summary>Folder of cached query features (<see cref="QueryFeatureCache"/>); null: extract every run.</summary>
    public string? FeaturesCache { get; init; }
}

/// <summary>
/// Measures retrieval against the map's ground truth (<see cref="RetrievalEvaluation"/>): each
/// query's features are extracted once, every method ranks the database images for it, and
/// recall@k is counted against the relevant images of the query's true pose. Optionally each
/// method's first images are then used to localize the query by each matching scheme (the
/// oracle: the ground truth's best images), so retrieval and pose accuracy come from one run on
/// the same features.
/// </summary>
public static class RetrievalEvaluationRunner
{
    public const string Oracle = "oracle";

    /// <summary>The map's photos where build-map recorded their folder; none when it did not.</summary>
    private static IEnumerable<string> MapImages(string mapPath)
    {
        using var db = Storage.FeatureDatabase.OpenReadOnly(mapPath);
        return db.ReadNote("image_root") is { } root ? db.ReadImages().Select(i => Path.Combine(root, i.Name)).ToList() : new List<string>();
    }

    /// <summary>Reads the query sets, loads the map and its model (said with the map's size and
    /// index on <paramref name="progress"/>'s Info) and runs the evaluation.</summary>
    public static RetrievalEvaluationResult Run(RetrievalEvaluationInputs inputs, RetrievalEvaluationOptions o, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        if (inputs.Sets.Count == 0 && inputs.StrechaScenes.Count == 0) throw new UsageException("give at least one --set or --strecha");
        CheckOptions(o); // before the query sets and the map are read (and the map described): a wrong option is said first
        var sets = inputs.Sets.Select(RetrievalQuerySet.Parse).Concat(inputs.StrechaScenes.SelectMany(RetrievalQuerySet.Strecha)).ToList();
        if (sets.Count == 0) throw new UsageException("give at least one --set or --strecha");
        var (map, builtWith) = QueryInputs.LoadMap(inputs.MapPath);
        using var _ = map;
        using var source = FeatureSource.ForMap(map.Extractor, inputs.MapPath, inputs.Model, builtWith, inputs.Device, false);
        progress.Info($"{inputs.MapPath} ({map.Images.Count} images, {map.Points.Count} points, ASMK index: "
            + $"{(map.Asmk != null ? $"{map.Asmk.Codebook.Words} words, {map.Asmk.MemoryBytes / 1e6:F1} MB" : "none")})");
        return Run(map, source, inputs.Device, sets, o, progress);
    }

    /// <summary>The option values alone, before any input is read: a run of hours must not end on
    /// what was wrong from the start, nor print the map's summary before a usage error.</summary>
    private static void CheckOptions(RetrievalEvaluationOptions o)
    {
        if (o.Methods.GroupBy(m => m).FirstOrDefault(g => g.Count() > 1) is { } method)
            throw new UsageException($"--methods: '{method.Key}' is given {method.Count()} times: its rows would be the same");
        if (o.Methods.FirstOrDefault(m => m != Oracle && !ImageRetrieval.IsMethod(m)) is { } unknown)
            throw new UsageException($"--methods: '{unknown}' is not one of vlad, asmk, auto, oracle, pairs:FILE, global:PATH");
        if (o.LocalizeSchemes.GroupBy(m => m).FirstOrDefault(g => g.Count() > 1) is { } twiceScheme)
            throw new UsageException($"--localize: {MatchingSchemes.Name(twiceScheme.Key)} is given {twiceScheme.Count()} times: its rows would be the same");
        if (o.DiagnosesPath != null && o.LocalizeSchemes.Count == 0)
            throw new UsageException("--per-query diagnoses localized queries: give --localize 2d3d and/or 2d2d");
        // Text files both: a photo's name there is a slip (it replaced a query or map photo).
        foreach (var (role, path) in new[] { ("ground-truth pairs file", o.GroundTruthPairsPath), ("per-query CSV", o.DiagnosesPath) })
            if (path != null && ImageFile.IsImagePath(path))
                throw new UsageException($"{path}: the {role} is a text file, and this name is an image's: give another name");
    }

    public static RetrievalEvaluationResult Run(MapIndex map, FeatureSource source, TorchSharp.torch.Device? device,
        IReadOnlyList<RetrievalQuerySet> sets, RetrievalEvaluationOptions o, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        CheckOptions(o);
        var outputs = new[] { ("ground-truth pairs file", o.GroundTruthPairsPath), ("per-query CSV", o.DiagnosesPath) };
        // Checked before any work: an output that is an input would be lost (the map, a query list,
        // a pairs file, a query or map photo), and one that cannot be written would fail the run at its end.
        OutputFile.RefuseInputs(outputs,
            sets.SelectMany(s => s.Sources.Select(p => ("query set file", (string?)p))
                    .Concat(s.Queries.Select(q => ("query image", (string?)Path.Combine(s.ImageRoot, q.Name)))))
                .Concat(o.Methods.Select(ImageRetrieval.InputOf).OfType<(string, string?)>())
                .Concat(MapImages(map.Path).Select(f => ("map image", (string?)f)))
                .Append(("map database", map.Path)));
        OutputFile.RefuseAsOutputFiles(outputs, new[] { ("features cache", o.FeaturesCache) });
        var methods = o.Methods.Select(m => m == Oracle ? null : ImageRetrieval.Create(m, map)).ToList();
        int kMax = Math.Max(o.Ks.Max(), o.RetrievedImages);
        var recallRows = new List<RetrievalRecallRow>();
        var locRows = new List<RetrievalLocalizationRow>();
        var gtPairs = new List<(string, string, double?)>();
        var diagnoses = new List<QueryDiagnosisRow>();
        // Every query image with a true pose is looked for before any work: a missing one would
        // otherwise stop the run after the queries before it (minutes on a large set).
        // A set label twice would print two rows nothing tells apart.
        if (sets.GroupBy(s => s.Label).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new UsageException($"--set: the label '{twice.Key}' is given {twice.Count()} times: give each set its own label");
        foreach (var set in sets)
        {
            // Queries and true poses are matched by base name: two of one name could not be told apart.
            foreach (var (what, names, file) in new[] { ("query", set.Queries.Select(q => q.Name), set.Sources.FirstOrDefault()), ("true pose", set.Truth.Select(t => t.Name), set.Sources.LastOrDefault()) })
                if (names.GroupBy(Submission.BaseName).FirstOrDefault(g => g.Count() > 1) is { } same)
                    throw new R2D2Exception(file, 0, $"set '{set.Label}': {what} names {string.Join(" and ", same.Select(n => $"'{n}'"))} have one base name, '{same.Key}', "
                        + "and queries meet their true poses by base name: rename one (nothing was evaluated)");
            var named = set.Truth.Select(t => Submission.BaseName(t.Name)).ToHashSet();
            // None found: the wrong folder, said before any work. Some: those queries fail, each on its
            // own as an unreadable one does, and the others are evaluated (one stopped the run).
            var gone = set.Queries.Where(q => named.Contains(q.SubmissionName) && !File.Exists(Path.Combine(set.ImageRoot, q.Name))).ToList();
            int withTruth = set.Queries.Count(q => named.Contains(q.SubmissionName));
            if (gone.Count > 0 && gone.Count == withTruth)
                throw new R2D2Exception(set.ImageRoot, 0, $"none of the {Counted.Of(withTruth, "query image")} of set '{set.Label}' is there (e.g. {gone[0].Name}): the wrong folder? (nothing was evaluated)");
            if (gone.Count > 0)
                progress.Warning($"set '{set.Label}': {gone.Count} of {Counted.Of(withTruth, "query image")} not found under {set.ImageRoot} (first: {gone[0].Name}): they count as failures");
            // Features read from a file (hloc) that lacks queries: said now, not as each query's failure at the end.
            var evaluated = set.Queries.Where(q => named.Contains(q.SubmissionName)).Select(q => q.Name).ToList();
            var noFeatures = source.Lacking(evaluated.Select(n => Path.Combine(set.ImageRoot, n)).ToList());
            if (noFeatures.Count > 0)
                throw new R2D2Exception(null, 0, $"set '{set.Label}': {source.Description} holds no features for {noFeatures.Count} of its queries (first: {noFeatures[0]}) (nothing was evaluated)");
            // A global-descriptor file without some queries stopped the run at the first (after the
            // queries before it); a pairs file's were counted as misses without a word.
            foreach (var m in methods.OfType<IImageRetrieval>()) ImageRetrieval.CheckLacking(m, evaluated, progress.Warning, $"set '{set.Label}': ");
            // No query with a true pose: every figure would be NaN, and the run would say nothing.
            if (set.Queries.Count > 0 && !set.Queries.Any(q => named.Contains(q.SubmissionName)))
                throw new R2D2Exception(set.Sources.LastOrDefault(), 0, $"set '{set.Label}': none of its {set.Queries.Count} queries (e.g. '{set.Queries[0].SubmissionName}') has a true pose here "
                    + "(names are compared without their folders)");
        }
        var errors = new List<string>();
        // hloc's features are read from their file as fast as from a cache, which could not tell a regenerated file from the old one.
        bool cached = o.FeaturesCache != null && source.Identity.FeatureType != ExtractorIdentity.HlocType;
        if (o.FeaturesCache != null && !cached) progress.Info($"--features-cache: hloc's features are read from their file, not cached");
        var cache = cached ? new QueryFeatureCache(o.FeaturesCache!, source.Identity) : null;
        foreach (var set in sets)
        {
            var truth = set.Truth.ToDictionary(t => Submission.BaseName(t.Name), t => t.Pose);
            // Said once, not only on the progress lines that happen to fall on such a query.
            int untrue = set.Queries.Count(q => !truth.ContainsKey(q.SubmissionName));
            if (untrue > 0) progress.Warning($"set '{set.Label}': {untrue} of {set.Queries.Count} queries have no true pose and are left out");
            var perMethod = o.Methods.Select(_ => new List<(IReadOnlyList<int> Retrieved, IReadOnlySet<int> Relevant)>()).ToList();
            var times = o.Methods.Select(_ => new List<double>()).ToList();
            var estimates = new Dictionary<(int, MatchingScheme), List<QueryResult>>();
            progress.Stage($"retrieval: {set.Label}", set.Queries.Count, advance =>
            {
                foreach (var q in set.Queries)
                {
                    if (!truth.TryGetValue(q.SubmissionName, out var pose)) { advance($"{q.Name}: no true pose, skipped"); continue; }
                    Camera camera;
                    FeatureSet f;
                    double te;
                    var path = Path.Combine(set.ImageRoot, q.Name);
                    try
                    {
                        var image = ImageFile.ReadRgb(path);
                        camera = q.Camera ?? throw new R2D2Exception(null, 0, $"query '{q.Name}' has no camera");
                        camera = Intrinsics.RescaledTo(camera, image.Width, image.Height) ?? camera;
                        (f, te) = cache != null ? cache.GetOrExtract(q.Name, image, img => source.Extract(img, path)) : Timed(source, image, path);
                    }
                    // One unreadable or too small photo is that query's failure (nothing retrieved, no
                    // pose), not the run's: the run goes on and says so at the end.
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        var reason = QuerySetRunner.Reason(e);
                        errors.Add(reason.Contains(path) ? reason : $"{path}: {reason}");
                        var relevantToIt = q.Camera == null ? new HashSet<int>()
                            : RetrievalEvaluation.RelevantRanking(RetrievalEvaluation.SharedPoints(map, q.Camera, pose, o.Relevance), o.Relevance).ToHashSet();
                        foreach (var list in perMethod) list.Add((Array.Empty<int>(), relevantToIt));
                        advance($"{q.Name}: FAILED ({errors[^1]})");
                        continue;
                    }
                    var shared = RetrievalEvaluation.SharedPoints(map, camera, pose, o.Relevance);
                    var ranking = RetrievalEvaluation.RelevantRanking(shared, o.Relevance);
                    var relevant = ranking.ToHashSet();
                    gtPairs.AddRange(ranking.Take(o.RetrievedImages).Select(id => (q.Name, map.Images[id].Name, (double?)null)));
                    for (int m = 0; m < methods.Count; m++)
                    {
                        var (ids, seconds) = methods[m] == null ? (ranking.Take(kMax).ToList(), 0.0) : ImageRetrieval.Timed(methods[m]!, q.Name, f, kMax);
                        perMethod[m].Add((ids, relevant));
                        times[m].Add(seconds);
                        foreach (var scheme in o.LocalizeSchemes)
                        {
                            var lo = o.Localizer with
                            {
                                Matching = scheme, CovisibilityClusters = o.Localizer.CovisibilityClusters ?? methods[m] != null,
                                // As `query` does: verified for retrieved images, not for the ground truth's.
                                VerifiedCandidates = o.Localizer.VerifiedCandidates ?? (methods[m] != null ? LocalizerOptions.AutoVerifiedCandidates : 0),
                                PairsByQuery = new NameIndex<List<int>>(new[] { KeyValuePair.Create(q.Name, ids.Take(o.RetrievedImages).ToList()) }),
                            };
                            var res = Localizer.Localize(q.Name, f, te, camera, map, device, lo);
                            diagnoses.Add(new QueryDiagnosisRow(set.Label, o.Methods[m], scheme,
                                QueryDiagnoses.Diagnose(res, pose, f, camera, map, res.DatabaseImages!, ranking, o.DiagnosedWithin)));
                            (estimates.TryGetValue((m, scheme), out var l) ? l : estimates[(m, scheme)] = new()).Add(res);
                        }
                    }
                    advance($"{q.Name}: {relevant.Count} relevant images");
                }
            });
            // No query sees a map point from its true pose: the map is of another place (or frame), and every figure is empty.
            if (perMethod.Count > 0 && perMethod[0].Count > 0 && perMethod[0].All(x => x.Relevant.Count == 0))
                progress.Warning($"set '{set.Label}': no query has a relevant image in {map.Path} (none sees its points from its true pose): is the map of the same place, in the same frame?");
            for (int m = 0; m < methods.Count; m++)
            {
                recallRows.Add(new RetrievalRecallRow(set.Label, o.Methods[m], perMethod[m].Count, perMethod[m].Count(x => x.Relevant.Count > 0),
                    RetrievalEvaluation.RecallAt(perMethod[m], o.Ks), times[m].Count > 0 ? Statistics.Median(times[m]) * 1000 : double.NaN,
                    times[m].Count > 0 ? times[m].Average() * 1000 : double.NaN));
                foreach (var scheme in o.LocalizeSchemes)
                {
                    var results = estimates.GetValueOrDefault((m, scheme)) ?? new List<QueryResult>();
                    var eval = PoseEvaluation.Evaluate(results.Where(r => r.Localized).Select(r => new ImagePose(Submission.BaseName(r.Name), r.Pose)),
                        set.Queries.Where(q => truth.ContainsKey(q.SubmissionName)).Select(q => new ImagePose(q.SubmissionName, truth[q.SubmissionName])));
                    locRows.Add(new RetrievalLocalizationRow(set.Label, o.Methods[m], scheme, eval,
                        results.Count > 0 ? Statistics.Median(results.Select(r => (double)r.Inliers)) : 0, results.Count > 0 ? results.Average(r => r.MatchSeconds) : 0));
                }
            }
        }
        if (cache is { Damaged.Count: > 0 })
            progress.Warning($"--features-cache: could not read {Counted.Of(cache.Damaged.Count, "file")} (cut short or damaged): extracted again (first: {cache.Damaged[0]})");
        if (o.GroundTruthPairsPath != null) RetrievalPairs.Write(o.GroundTruthPairsPath, gtPairs);
        if (o.DiagnosesPath != null) OutputFile.WriteAllText(o.DiagnosesPath, QueryDiagnoses.Csv(diagnoses));
        return new RetrievalEvaluationResult(recallRows, locRows, o.Ks, diagnoses) { Errors = errors };
    }

    private static (FeatureSet, double) Timed(FeatureSource source, RgbImage image, string file)
    {
        var sw = Stopwatch.StartNew();
        var f = source.Extract(image, file);
        return (f, sw.Elapsed.TotalSeconds);
    }
}
