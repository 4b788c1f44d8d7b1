using System.CommandLine;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize query`: localize query images against a map, write a visuallocalization.net submission.</summary>
internal static class QueryCommand
{
    public static Command Create()
    {
        var mapOpt = new Option<string>("--map") { Description = "map database from build-map", Required = true };
        var queries = new Option<string>("--queries") { Description = "query list: `name MODEL w h params...` per line (Aachen's *_queries_with_intrinsics.txt), or names only with --intrinsics", Required = true };
        var intrinsics = new Option<string?>("--intrinsics") { Description = "cameras of the queries: a `name MODEL w h params...` list or a COLMAP database (for a names-only --queries list)" };
        var images = new Option<string>("--images") { Description = "folder the query names are relative to", Required = true };
        var output = new Option<string>("--output") { Description = "submission file: `name qw qx qy qz tx ty tz` (world→camera) per query", Required = true };
        var csv = new Option<string?>("--csv") { Description = "per-query CSV (default: the output with .csv)" };
        var model = new Option<string?>("--model") { Description = "checkpoint (default: the one the map was built with); must be the map's model" };
        var hardware = new DeviceOptionSet();
        var precision = new Option<string>("--precision") { Description = "fp32 or bf16 (see extract)", DefaultValueFactory = _ => "fp32" };
        precision.AcceptOnlyFromAmong("fp32", "bf16");
        var threshold = new Option<double>("--pnp-threshold") { Description = "PnP-RANSAC inlier threshold (px)", DefaultValueFactory = _ => 12 };
        var retrieval = new Option<string>("--retrieval")
        {
            Description = "2D–3D matching against: 'all' map points, K (the points of the K database images most similar to the query, "
                + "by VLAD of the local descriptors), or 'auto' (all for maps of up to 100,000 points, else 20)",
            DefaultValueFactory = _ => "auto",
        };
        var resume = new Option<bool>("--resume") { Description = "keep the queries already in the output (and its CSV) and localize only the others" };
        var pairs = new Option<string?>("--pairs") { Description = "a pairs file `query db` per line (hloc, Aachen): match each query against those database images' points" };
        var cmd = new Command("query", "Localize query images against a map: features, 2D–3D matches, PnP-RANSAC; writes the submission and a CSV.");
        foreach (var o in new Option[] { mapOpt, queries, intrinsics, images, output, csv, model }) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        foreach (var o in new Option[] { precision, threshold, retrieval, pairs, resume }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var mapPath = r.GetValue(mapOpt)!;
            var list = QueryInputs.ReadQueries(r.GetValue(queries)!, r.GetValue(intrinsics));
            var dev = hardware.Resolve(r);
            var (map, builtWith) = QueryInputs.LoadMap(mapPath);
            using var source = FeatureSource.ForMap(map.Extractor, mapPath, r.GetValue(model), builtWith, dev, r.GetValue(precision) == "bf16");
            Console.WriteLine($"query: {list.Count} image(s) against {mapPath} ({map.Points.Count} points), {source.Description}");
            if (map.Points.Count < 4) Reporter.Warn($"{mapPath}: the map holds {map.Points.Count} 3D point(s): the queries will get fallback poses");
            var options = new LocalizerOptions
            {
                Pnp = new Geometry.PnpOptions { ThresholdPx = r.GetValue(threshold) },
                RetrievedImages = r.GetValue(retrieval) switch
                {
                    "auto" => Retrieval.Auto,
                    "all" => 0,
                    var v when int.TryParse(v, out int k) && k > 0 => k,
                    var v => throw new ArgumentException($"--retrieval must be auto, all or a positive number, not '{v}'"),
                },
                PairsByQuery = r.GetValue(pairs) is { } pf ? QueryInputs.ReadPairs(pf, map) : null,
            };
            var outPath = r.GetValue(output)!;
            var runner = new QuerySetRunner(map, source, dev, new QuerySetOptions
            {
                ImageRoot = r.GetValue(images)!,
                OutputPath = outPath,
                CsvPath = r.GetValue(csv),
                Resume = r.GetValue(resume),
                QueryListPath = r.GetValue(queries),
                OtherInputs = new[] { ("intrinsics", r.GetValue(intrinsics)), ("pairs file", r.GetValue(pairs)) },
                Localizer = options,
            });
            var summary = ConsoleQueryProgress.Run(runner, list, Describe);
            var results = summary.Outcomes.Select(o => o.Result).ToList();
            int kept = summary.Outcomes.Count(o => o.Kept);
            if (kept > 0) Console.WriteLine($"query: {kept} query(ies) done in an earlier run, kept");
            Console.WriteLine($"query: median inliers {Evaluation.PoseEvaluation.Median(results.Select(x => (double)x.Inliers)):F0}; "
                + $"mean time per query: extract {results.Average(x => x.ExtractSeconds):F2} s, match {results.Average(x => x.MatchSeconds):F3} s, "
                + $"PnP {results.Average(x => x.PnpSeconds) * 1000:F1} ms");
            Console.WriteLine(summary.Line);
            Console.WriteLine($"wrote {outPath}, {r.GetValue(csv) ?? Path.ChangeExtension(outPath, ".csv")} and {QueryInliers.PathFor(outPath)}");
            return summary.HasErrors ? 1 : 0;
        }));
        return cmd;
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
