using System.CommandLine;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize query`: localize query images against a map, write a visuallocalization.net submission.</summary>
internal static class QueryCommand
{
    private sealed class Options
    {
        public readonly Option<string> Map = new("--map") { Description = "map database from build-map", Required = true };
        public readonly Option<string> Queries = new("--queries") { Description = "query list: `name MODEL w h params...` per line (Aachen's *_queries_with_intrinsics.txt), or names only with --intrinsics", Required = true };
        public readonly Option<string?> Intrinsics = new("--intrinsics") { Description = "cameras of the queries: a `name MODEL w h params...` list or a COLMAP database (for a names-only --queries list)" };
        public readonly Option<string> Images = new("--images") { Description = "folder the query names are relative to", Required = true };
        public readonly Option<string> Output = new("--output") { Description = "submission file: `name qw qx qy qz tx ty tz` (world→camera) per query", Required = true };
        public readonly Option<string?> Csv = new("--csv") { Description = "per-query CSV (default: the output with .csv)" };
        public readonly Option<string?> Model = new("--model") { Description = "checkpoint (default: the one the map was built with); must be the map's model" };
        public readonly DeviceOptionSet Hardware = new();
        public readonly Option<string> Precision = new("--precision") { Description = "fp32 or bf16 (see extract)", DefaultValueFactory = _ => "fp32" };
        public readonly Option<double> Threshold = new("--pnp-threshold") { Description = "PnP-RANSAC inlier threshold (px)", DefaultValueFactory = _ => 12 };
        public readonly Option<string> Retrieval = new("--retrieval")
        {
            Description = "2D–3D matching against: 'all' map points, K (the points of the K database images most similar to the query, "
                + "by VLAD of the local descriptors), or 'auto' (all for maps of up to 100,000 points, else 20)",
            DefaultValueFactory = _ => "auto",
        };
        public readonly Option<bool> Resume = new("--resume") { Description = "keep the queries already in the output (and its CSV) and localize only the others" };
        public readonly Option<string?> Pairs = new("--pairs") { Description = "a pairs file `query db` per line (hloc, Aachen): match each query against those database images' points" };

        public void AddTo(Command cmd)
        {
            foreach (var o in new Option[] { Map, Queries, Intrinsics, Images, Output, Csv, Model }) cmd.Options.Add(o);
            Hardware.AddTo(cmd);
            Precision.AcceptOnlyFromAmong("fp32", "bf16");
            foreach (var o in new Option[] { Precision, Threshold, Retrieval, Pairs, Resume }) cmd.Options.Add(o);
        }
    }

    public static Command Create()
    {
        var o = new Options();
        var cmd = new Command("query", "Localize query images against a map: features, 2D–3D matches, PnP-RANSAC; writes the submission and a CSV.");
        o.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() => Run(r, o)));
        return cmd;
    }

    private static int Run(ParseResult r, Options o)
    {
        var mapPath = r.GetValue(o.Map)!;
        var list = QueryInputs.ReadQueries(r.GetValue(o.Queries)!, r.GetValue(o.Intrinsics));
        var dev = o.Hardware.Resolve(r);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (map, builtWith) = QueryInputs.LoadMap(mapPath);
        double loadMap = clock.Elapsed.TotalSeconds;
        using var source = FeatureSource.ForMap(map.Extractor, mapPath, r.GetValue(o.Model), builtWith, dev, r.GetValue(o.Precision) == "bf16");
        double loadModel = clock.Elapsed.TotalSeconds - loadMap;
        Console.WriteLine($"query: {list.Count} image(s) against {mapPath} ({map.Points.Count} points), {source.Description}");
        if (map.Points.Count < 4) Reporter.Warn($"{mapPath}: the map holds {map.Points.Count} 3D point(s): the queries will get fallback poses");
        var options = new LocalizerOptions
        {
            Pnp = new Geometry.PnpOptions { ThresholdPx = r.GetValue(o.Threshold) },
            RetrievedImages = Localization.Retrieval.Parse(r.GetValue(o.Retrieval)!),
            PairsByQuery = r.GetValue(o.Pairs) is { } pf ? QueryInputs.ReadPairs(pf, map) : null,
        };
        var outPath = r.GetValue(o.Output)!;
        var runner = new QuerySetRunner(map, source, dev, new QuerySetOptions
        {
            ImageRoot = r.GetValue(o.Images)!,
            OutputPath = outPath,
            CsvPath = r.GetValue(o.Csv),
            Resume = r.GetValue(o.Resume),
            QueryListPath = r.GetValue(o.Queries),
            OtherInputs = new[] { ("intrinsics", r.GetValue(o.Intrinsics)), ("pairs file", r.GetValue(o.Pairs)) },
            Localizer = options,
            SetupStages = new[] { ("load map", loadMap), ("load model", loadModel) },
        });
        var summary = ConsoleQueryProgress.Run(runner, list, Describe);
        if (summary.KeptCount > 0) Console.WriteLine($"query: {summary.KeptCount} query(ies) done in an earlier run, kept");
        Console.WriteLine(summary.TimingLine);
        Console.WriteLine(summary.Line);
        Console.WriteLine($"wrote {outPath}, {r.GetValue(o.Csv) ?? Path.ChangeExtension(outPath, ".csv")}, {QueryInliers.PathFor(outPath)}, "
            + $"{QueryMatches.PathFor(outPath)} and {QueryRunInfo.PathFor(outPath)}");
        return summary.HasErrors ? 1 : 0;
    }

    private static string Describe(QueryOutcome o)
    {
        var res = o.Result;
        if (o.Kept) return $"{o.Query.Name}: done earlier";
        if (o.IsError) return $"{o.Query.Name}: {QueryOutputs.Word(o.Status)}";
        return $"{o.Query.Name}: {(res.Localized ? "localized" : "NOT localized")}, {res.Matches} matches, {res.Inliers} inliers, "
            + $"{res.ExtractSeconds + res.MatchSeconds + res.PnpSeconds:F2} s";
    }
}
