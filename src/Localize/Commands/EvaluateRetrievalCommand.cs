using System.CommandLine;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize evaluate-retrieval`: recall@k of retrieval methods against the map's ground
/// truth, and optionally the poses each method's images give, by each matching scheme.</summary>
internal static class EvaluateRetrievalCommand
{
    public static Command Create()
    {
        var map = new Option<string>("--map") { Description = "map database from build-map", Required = true };
        var sets = new Option<string[]>("--set") { Description = "a query set LABEL:QUERY_LIST:IMAGE_FOLDER:GROUND_TRUTH (list with intrinsics, true poses in the submission format; paths holding ':' are split where the three exist); repeatable", AllowMultipleArgumentsPerToken = true };
        var strecha = new Option<string[]>("--strecha") { Description = "Strecha scene folders: their strecha-loc queries (odd images) by day and simulated night", AllowMultipleArgumentsPerToken = true };
        var methods = new Option<string[]>("--methods") { Description = "vlad, asmk, oracle (the ground truth's ranking), pairs:FILE, global:PATH (kapture global_features folder or hloc global-feats .h5); default: vlad asmk oracle", AllowMultipleArgumentsPerToken = true };
        var localize = new Option<string[]>("--localize") { Description = "also localize with each method's images: 2d3d and/or 2d2d", AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => Array.Empty<string>() };
        var retrieved = new Option<int>("--retrieved") { Description = "database images each query is localized against (and written per query with --write-gt-pairs)", DefaultValueFactory = _ => 20 }.AtLeast(1);
        var clusters = new Option<bool?>("--covisibility-clusters") { Description = "PnP per covisibility cluster of the images, keep the best (hloc); default: on for the retrieval methods, off for the oracle; true or false for all" };
        var minShared = new Option<int>("--min-shared") { Description = "relevance: shared map points a database image needs (see README)", DefaultValueFactory = _ => new RelevanceOptions().MinSharedPoints }.AtLeast(1);
        var gtPairs = new Option<string?>("--write-gt-pairs") { Description = "write the ground-truth pairs (`query db`, the best --retrieved relevant images per query): `query --pairs` on them is the oracle run" };
        var model = new Option<string?>("--model") { Description = "checkpoint (default: the one the map was built with; hloc:FILE for a map built from hloc's features)" };
        var guided = new Option<int>("--guided-rounds") { Description = "rounds of pose-guided re-matching after the first PnP (see query)", DefaultValueFactory = _ => new GuidedMatchingOptions().Rounds }.AtLeast(0);
        var pose = new QueryCommand.PoseOptions("candidate poses verified against the map around them (see query); default: as query, on for the retrieval methods and off for the oracle");
        var perQuery = new Option<string?>("--per-query") { Description = "write each localized query's diagnosis as CSV: errors, relevant images matched, reprojection error of its inliers under the estimate and the true pose, support at both, verdict (see README)" };
        var cacheDir = new Option<string?>("--features-cache") { Description = "folder that keeps each query's features between runs (reused when the extractor, the image size and its pixels match), so a sweep of settings extracts once" };
        var hardware = new DeviceOptionSet();
        var cmd = new Command("evaluate-retrieval", "Retrieval recall@1/5/10/20/50 against the map's ground truth (database images sharing map points with the query's true view), per method and query set.");
        foreach (var o in new Option[] { map, sets, strecha, methods, localize, retrieved, clusters, minShared, gtPairs, perQuery, model, cacheDir, guided }.Concat(pose.All)) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        localize.AcceptOnlyFromAmong(MatchingSchemes.Names);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var schemes = r.GetValue(localize)!.Select(m => MatchingSchemes.Parse(m, "--localize")).ToList();
            var inputs = new RetrievalEvaluationInputs
            {
                MapPath = r.GetValue(map)!, Model = r.GetValue(model), Device = hardware.Resolve(r),
                Sets = r.GetValue(sets) ?? Array.Empty<string>(), StrechaScenes = r.GetValue(strecha) ?? Array.Empty<string>(),
            };
            var defaults = new RetrievalEvaluationOptions();
            var result = RetrievalEvaluationRunner.Run(inputs, defaults with
            {
                Methods = r.GetValue(methods) is { Length: > 0 } given ? given : defaults.Methods,
                LocalizeSchemes = schemes,
                RetrievedImages = r.GetValue(retrieved),
                Relevance = new RelevanceOptions { MinSharedPoints = r.GetValue(minShared) },
                GroundTruthPairsPath = r.GetValue(gtPairs),
                DiagnosesPath = r.GetValue(perQuery),
                FeaturesCache = r.GetValue(cacheDir),
                Localizer = pose.Read(r) with { Guided = new GuidedMatchingOptions { Rounds = r.GetValue(guided) }, CovisibilityClusters = r.GetValue(clusters) },
            }, new ConsoleProgress("evaluate-retrieval"));
            Console.WriteLine();
            Console.Write(RetrievalEvaluationTable.Recall(result));
            if (result.Localization.Count > 0)
            {
                Console.WriteLine();
                Console.Write(RetrievalEvaluationTable.Localization(result, ThresholdSet.Aachen.Thresholds.Append(StrechaLoc.Fine).ToList()));
                Console.WriteLine();
                Console.WriteLine($"verdicts against ({ThresholdSet.Aachen.Thresholds[0]}) (see README, \"Why a query missed\"):");
                Console.Write(QueryDiagnoses.Table(result.Diagnoses));
                if (result.Errors.Count > 0) Console.WriteLine($"(not in the verdicts: {Counted.Of(result.Errors.Count, "query image")} that could not be read or extracted)");
            }
            if (r.GetValue(gtPairs) is { } p) Console.WriteLine($"wrote {p}");
            if (r.GetValue(perQuery) is { } pq) Console.WriteLine($"wrote {pq}");
            foreach (var e in result.Errors) Reporter.Error(e);
            if (result.Errors.Count > 0) Reporter.Error($"{Counted.Of(result.Errors.Count, "query image")} could not be read or extracted: counted as nothing retrieved and not localized");
            return result.Errors.Count > 0 ? 1 : 0;
        }));
        return cmd;
    }
}

/// <summary>`localize build-retrieval`: the ASMK index of an existing map (resumable vocabulary training).</summary>
internal static class BuildRetrievalCommand
{
    public static Command Create()
    {
        var map = new Option<string>("--map") { Description = "map database from build-map", Required = true };
        var words = new Option<int>("--words") { Description = "visual words (0: auto; rounded to a square)", DefaultValueFactory = _ => 0 }.AtLeast(0);
        var seed = new Option<int>("--seed") { Description = "seed of the k-means initialization and sampling", DefaultValueFactory = _ => 0 };
        var cmd = new Command("build-retrieval", "Add (or rebuild) the ASMK retrieval index of a map: vocabulary by k-means on the map's descriptors (resumes after a kill), inverted file stored in the map.");
        foreach (var o in new Option[] { map, words, seed }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            var (n, w) = AsmkIndexRunner.AddToMap(r.GetValue(map)!, new AsmkOptions { Words = r.GetValue(words), Seed = r.GetValue(seed) }, new ConsoleProgress("build-retrieval"));
            Console.WriteLine($"build-retrieval: ASMK index of {n} images ({w:N0} visual words) stored in {r.GetValue(map)} ({sw.Elapsed.TotalSeconds:F1} s)");
            return 0;
        }, onInterrupt: "run the same command again to continue: the vocabulary training resumes from its stored parts"));
        return cmd;
    }
}

/// <summary>`localize bench-retrieval`: ASMK's query side at scale on synthetic descriptors (no images).</summary>
internal static class BenchRetrievalCommand
{
    public static Command Create()
    {
        var images = new Option<int>("--images") { Description = "database images of the synthetic street", DefaultValueFactory = _ => 4328 }.AtLeast(2);
        var keypoints = new Option<int>("--keypoints") { Description = "descriptors per image", DefaultValueFactory = _ => 2000 }.AtLeast(10);
        var words = new Option<int>("--words") { Description = "visual words (0: auto; rounded to a square)", DefaultValueFactory = _ => 0 }.AtLeast(0);
        var threads = new Option<int>("--threads") { Description = "CPU threads", DefaultValueFactory = _ => 2 }.Between(1, 1024);
        var queries = new Option<int>("--queries") { Description = "timed queries", DefaultValueFactory = _ => 50 }.AtLeast(1);
        var cmd = new Command("bench-retrieval", "Benchmark: ASMK vocabulary, index memory and query time on a synthetic street of images (no images read).");
        foreach (var o in new Option[] { images, keypoints, words, threads, queries }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            TorchRuntime.SetThreads(r.GetValue(threads));
            var x = RetrievalBenchmark.Run(new RetrievalBenchmarkOptions
            {
                Images = r.GetValue(images), Keypoints = r.GetValue(keypoints), Words = r.GetValue(words), Threads = r.GetValue(threads), Queries = r.GetValue(queries),
            }, new ConsoleProgress("bench-retrieval"));
            Console.WriteLine($"machine : {MachineLine.Describe()}");
            Console.WriteLine($"settings: {r.GetValue(threads)} threads; {x.Images} images × {x.Keypoints} descriptors, {x.Words} words");
            Console.WriteLine($"ASMK vocabulary {x.TrainSeconds:F1} s; encoding {x.EncodeSecondsPerImage * 1000:F1} ms per database image; inverted file {x.IndexBytes / 1e6:F1} MB ({x.IndexBytes / (double)x.Images / 1e3:F1} kB per image)");
            Console.WriteLine($"per query (medians of {r.GetValue(queries)}, after one untimed): ASMK encode {x.QueryEncodeMs:F1} ms + search {x.QuerySearchMs:F1} ms = {x.QueryEncodeMs + x.QuerySearchMs:F1} ms; VLAD (encode + scan) {x.VladMs:F1} ms");
            Console.WriteLine($"posting walk: {x.QueryWalkMB:F1} MB per query, read at {x.QueryWalkMB / x.QuerySearchMs:F1} GB/s by the search; this machine reads {x.ReadGBs:F1} GB/s on the search's {x.SearchThreads} threads (the walk's floor at that rate: {x.QueryWalkMB / x.ReadGBs:F2} ms)");
            Console.WriteLine($"query words: {x.QueryAssignMs:F1} ms ({r.GetValue(threads)} threads); reference, a dot product per centre on 1 thread, {x.QueryAssignOneByOneMs:F1} ms (ratio {x.QueryAssignMs / x.QueryAssignOneByOneMs:F3}); same word for {100 * x.AssignAgreement:F3}% of descriptors");
            Console.WriteLine($"recall@1 (nearest image): ASMK {100 * x.AsmkRecallAt1:F0}%, VLAD {100 * x.VladRecallAt1:F0}%");
            Console.WriteLine($"peak RSS {x.PeakRssMb:F0} MB");
            return 0;
        }));
        return cmd;
    }
}
