using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;

namespace R2D2.Localization.Pipeline;

/// <summary>A `localize query` run as its files name it (see <see cref="QueryRun"/>).</summary>
public sealed record QueryRunOptions
{
    /// <summary>The map database of build-map.</summary>
    public required string MapPath { get; init; }
    /// <summary>The query list (with intrinsics, or names with <see cref="IntrinsicsPath"/>), or a kapture folder.</summary>
    public required string QueriesPath { get; init; }
    public string? IntrinsicsPath { get; init; }
    /// <summary>The folder the query names are relative to; needed unless the queries are a kapture folder (its records).</summary>
    public string? ImagesFolder { get; init; }
    /// <summary>The checkpoint; null: the one the map was built with.</summary>
    public string? Model { get; init; }
    /// <summary>The device, resolved after the list and the map are read (a missing map is said first).</summary>
    public Func<TorchSharp.torch.Device> Device { get; init; } = () => TorchSharp.torch.CPU;
    public bool BFloat16 { get; init; }
    /// <summary>A precision was asked for: refused for a map whose features no network computes.</summary>
    public bool PrecisionGiven { get; init; }
    /// <summary>The localizer's options; its retrieval method and pairs are <see cref="RetrievalMethod"/> and <see cref="PairsPath"/>.</summary>
    public LocalizerOptions Localizer { get; init; } = new();
    /// <summary>vlad, asmk, auto, pairs:FILE or global:PATH (<see cref="ImageRetrieval.Create"/>).</summary>
    public string RetrievalMethod { get; init; } = "auto";
    /// <summary>A pairs file `query db` per line: each query's database images.</summary>
    public string? PairsPath { get; init; }
    /// <summary>hloc's matches.h5 of the queries with their pairs' database images (<see cref="HlocQueryMatches"/>), used instead of
    /// matching here: 2D–2D matches, so the localizer's matching is <see cref="MatchingScheme.ImagePairs"/> whatever it says.</summary>
    public string? MatchesPath { get; init; }
    public required string OutputPath { get; init; }
    public string? CsvPath { get; init; }
    public string? KaptureOutput { get; init; }
    public int SubmissionFolders { get; init; }
    public bool Resume { get; init; }
    public Shard Shard { get; init; } = Shard.All;
}

/// <summary>
/// The query stage from files: <see cref="Open"/> reads the list, loads the map and its model (timed,
/// recorded in the run description) and checks the options against the map; the caller says what
/// is about to run (<see cref="Count"/>, <see cref="Description"/>), then <see cref="Run"/> localizes
/// the queries through the <see cref="QuerySetRunner"/>.
/// </summary>
public sealed class QueryRun : IDisposable
{
    private readonly MapIndex _map;
    private readonly FeatureSource _source;
    private readonly List<QueryImage> _queries;
    private readonly QuerySetRunner _runner;

    /// <summary>The queries this run localizes (its shard's), and the list's.</summary>
    public int Count { get; }
    public int ListCount => _queries.Count;
    public int MapPoints => _map.Points.Count;
    /// <summary>The features' source (model, settings, device).</summary>
    public string Description => _source.Description;
    /// <summary>The files a run writes: the submission, its CSV, inliers, matches and run description.</summary>
    public IReadOnlyList<string> Outputs { get; }

    private QueryRun(MapIndex map, FeatureSource source, List<QueryImage> queries, QuerySetRunner runner, int count, IReadOnlyList<string> outputs)
    {
        (_map, _source, _queries, _runner, Count, Outputs) = (map, source, queries, runner, count, outputs);
    }

    public static QueryRun Open(QueryRunOptions o)
    {
        if (o.SubmissionFolders < 0) throw new UsageException("--submission-folders must be 0 or more");
        if (o.MatchesPath != null && o.PairsPath == null)
            throw new UsageException("--matches needs --pairs: the pairs file the queries were matched on (hloc's pairs-query-*.txt)");
        var list = QueryInputs.ReadQueries(o.QueriesPath, o.IntrinsicsPath);
        var imageRoot = QueryInputs.ImageRoot(o.QueriesPath, o.ImagesFolder);
        var clock = Stopwatch.StartNew();
        var (map, builtWith) = QueryInputs.LoadMap(o.MapPath);
        double loadMap = clock.Elapsed.TotalSeconds;
        FeatureSource? source = null;
        try
        {
            if (o.MatchesPath != null && map.Extractor.FeatureType != ExtractorIdentity.HlocType)
                throw new R2D2Exception(o.MapPath, 0, $"was built from {map.Extractor.Name}: --matches takes hloc's matches of hloc's features (a map built with --model hloc:FILE)");
            if (map.Extractor.FeatureType != ExtractorIdentity.R2D2Type && o.PrecisionGiven)
                throw new UsageException($"--precision applies to R2D2 models; {o.MapPath} was built from {map.Extractor.Name}, whose queries' features are not computed by the network");
            var device = o.Device();
            source = FeatureSource.ForMap(map.Extractor, o.MapPath, o.Model, builtWith, device, o.BFloat16);
            double loadModel = clock.Elapsed.TotalSeconds - loadMap;
            var pairs = o.PairsPath is { } pf ? QueryInputs.ReadPairs(pf, map) : null;
            var localizer = o.Localizer with
            {
                PairsByQuery = pairs,
                RetrievalMethod = ImageRetrieval.Create(o.RetrievalMethod, map),
                ImportedMatches = o.MatchesPath is { } mf
                    ? HlocQueryMatches.Open(mf, o.Shard.Take(list).Select(q => (q.Name, Path.Combine(imageRoot, q.Name))).ToList(), pairs!, map, source) : null,
                Matching = o.MatchesPath != null ? MatchingScheme.ImagePairs : o.Localizer.Matching,
            };
            var runner = new QuerySetRunner(map, source, device, new QuerySetOptions
            {
                ImageRoot = imageRoot,
                KaptureOutput = o.KaptureOutput,
                SubmissionFolders = o.SubmissionFolders,
                OutputPath = o.OutputPath,
                CsvPath = o.CsvPath,
                Resume = o.Resume,
                QueryListPath = o.QueriesPath,
                OtherInputs = new[] { ("intrinsics", o.IntrinsicsPath), ("pairs file", o.PairsPath), ("query matches file", o.MatchesPath) }
                    .Concat(ImageRetrieval.InputOf(o.RetrievalMethod) is { } ri ? new[] { ri } : Array.Empty<(string, string?)>()).ToArray(),
                Localizer = localizer,
                Shard = o.Shard,
                SetupStages = new[] { ("load map", loadMap), ("load model", loadModel) },
            });
            var csv = o.CsvPath ?? Path.ChangeExtension(o.OutputPath, ".csv");
            var outputs = new[] { o.OutputPath, csv, QueryInliers.PathFor(o.OutputPath), QueryMatches.PathFor(o.OutputPath), QueryRunInfo.PathFor(o.OutputPath) };
            return new QueryRun(map, source, list, runner, o.Shard.Take(list).Count, outputs);
        }
        catch
        {
            source?.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>Localizes the queries (an earlier run's kept with --resume), writing the outputs as they finish.</summary>
    public QuerySetSummary Run(IQuerySetProgress? progress = null) => _runner.Run(_queries, progress);

    public void Dispose()
    {
        _source.Dispose();
        _map.Dispose();
    }
}
