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
        public readonly Option<string> Queries = new("--queries") { Description = "query list: `name MODEL w h params...` per line (Aachen's *_queries_with_intrinsics.txt), names only with --intrinsics, or a kapture folder", Required = true };
        public readonly Option<string?> Intrinsics = new("--intrinsics") { Description = "cameras of the queries: a `name MODEL w h params...` list or a COLMAP database (for a names-only --queries list)" };
        public readonly Option<string?> Images = new("--images") { Description = "folder the query names are relative to (default for a kapture folder: its sensors/records_data)" };
        public readonly Option<int> SubmissionFolders = new("--submission-folders")
        {
            Description = "keep the last N folders of each query's name in the submission (1 for multi-camera datasets: RobotCar Seasons' rear/NAME.jpg); 0: the base name (Aachen)",
            DefaultValueFactory = _ => 0,
        };
        public readonly Option<string?> Kapture = new("--kapture-output") { Description = "also write the localized poses as a kapture folder (sensors/trajectories.txt, records_camera.txt, sensors.txt)" };
        public readonly Option<string> Output = new("--output") { Description = "submission file: `name qw qx qy qz tx ty tz` (world→camera) per query", Required = true };
        public readonly Option<string?> Csv = new("--csv") { Description = "per-query CSV (default: the output with .csv)" };
        public readonly Option<string?> Model = new("--model") { Description = "checkpoint (default: the one the map was built with); must be the map's model (hloc:FILE for a map built from hloc's features)" };
        public readonly DeviceOptionSet Hardware = new();
        public readonly ShardOption Shard = new();
        public readonly Option<string> Precision = new("--precision") { Description = "fp32 or bf16 (see extract)", DefaultValueFactory = _ => "fp32" };
        public readonly PoseOptions Pose = new($"pose the query again against the map around each of the N best cluster poses (the database images that see what it would see) and keep the pose with most inliers; 0: off; default: {LocalizerOptions.AutoVerifiedCandidates} for retrieved images, off for --pairs");
        public readonly Option<string> Retrieval = new("--retrieval")
        {
            Description = "2D–3D matching against: 'all' map points, K (the points of the K database images most similar to the query, "
                + "by --retrieval-method), or 'auto' (20 when the map has more images and an ASMK index; with VLAD only, 20 above 100,000 points; else all; 20 when --retrieval-method names a method)",
            DefaultValueFactory = _ => "auto",
        };
        public readonly Option<string> Method = new("--retrieval-method")
        {
            Description = "how --retrieval K picks images: vlad, asmk, auto (asmk when the map has its index, else vlad), pairs:FILE (hloc `q db` or kapture `q, db, score`), global:PATH (global descriptors, ranked by cosine: a kapture global_features folder or hloc's global-feats-*.h5)",
            DefaultValueFactory = _ => "auto",
        };
        public readonly Option<string> Matching = new("--matching") { Description = "2d3d: query descriptors against the map points'; 2d2d: against each retrieved image's, lifted to 3D (hloc)", DefaultValueFactory = _ => "2d3d" };
        public readonly Option<bool?> Clusters = new("--covisibility-clusters") { Description = "PnP per covisibility cluster of the database images, keep the pose with most inliers (hloc); default: on for retrieved images, off for --pairs; `--covisibility-clusters false` turns it off" };
        public readonly Option<int> Guided = new Option<int>("--guided-rounds") { Description = "rounds of pose-guided re-matching after the first PnP: each map point near the query is compared with the keypoints near its projection, then PnP again (0: off)", DefaultValueFactory = _ => new GuidedMatchingOptions().Rounds }.AtLeast(0);
        public readonly Option<bool> Resume = new("--resume") { Description = "keep the queries already in the output (and its CSV) and localize only the others" };
        public readonly Option<string?> Pairs = new("--pairs") { Description = "a pairs file `query db` per line (hloc, Aachen): match each query against those database images' points" };
        public readonly Option<string?> Matches = new("--matches")
        {
            Description = "hloc's matches.h5 of the queries with their --pairs images (SuperGlue, LightGlue… on the features of a map built with --model hloc:FILE): "
                + "used instead of matching here, lifted to 3D through each image's observations (hloc's localize_sfm; implies --matching 2d2d)",
        };

        public void AddTo(Command cmd)
        {
            foreach (var o in new Option[] { Map, Queries, Intrinsics, Images, Output, Csv, SubmissionFolders, Kapture, Model }) cmd.Options.Add(o);
            Hardware.AddTo(cmd);
            Precision.AcceptOnlyFromAmong("fp32", "bf16");
            Matching.AcceptOnlyFromAmong(MatchingSchemes.Names);
            foreach (var o in new Option[] { Precision, Pose.Threshold, Pose.LossScale, Retrieval, Method, Matching, Clusters, Guided, Pose.PointCells, Pose.Verify, Pose.VerifyShare, Pairs, Matches, Resume }) cmd.Options.Add(o);
            Shard.AddTo(cmd);
        }
    }

    /// <summary>
    /// The localizer's options that query, evaluate-retrieval and bench-scale share, defined once:
    /// --pnp-threshold, --pnp-loss-scale, --verify-candidates (its default's meaning differs by
    /// command, hence the description), --verify-min-share and --point-cells.
    /// </summary>
    internal sealed class PoseOptions(string verifyDescription)
    {
        public readonly Option<double> Threshold = new("--pnp-threshold") { Description = "PnP-RANSAC inlier threshold (px of the largest pyramid level: the image's pixels when its longer side is at most the map's max size, else scaled up with it)", DefaultValueFactory = _ => new Geometry.PnpOptions().ThresholdPx };
        public readonly Option<double> LossScale = new("--pnp-loss-scale") { Description = "scale of the Cauchy loss of PnP's final refinement (px of the largest pyramid level, as --pnp-threshold)", DefaultValueFactory = _ => new Geometry.PnpOptions().LossScalePx };
        public readonly Option<int?> Verify = new("--verify-candidates") { Description = verifyDescription };
        public readonly Option<double> VerifyShare = new Option<double>("--verify-min-share")
        {
            Description = "verify only the candidates with at least this share of the best candidate's inliers (the best always; 0: all N)",
            DefaultValueFactory = _ => new LocalizerOptions().VerifyMinShare,
        }.Between(0.0, 1.0);
        public readonly Option<string> PointCells = new("--point-cells")
        {
            Description = $"2D–3D search within the map's ASMK vocabulary cells: compare each query descriptor only with the points that have its coarse cell among their N nearest (0: with every point, exact; auto: {PointSearch.AutoCells} from {PointSearch.AutoMinPairs / 1_000_000} M query × point pairs, else exact)",
            DefaultValueFactory = _ => "auto",
        };

        public IEnumerable<Option> All => new Option[] { PointCells, Verify, VerifyShare, Threshold, LossScale };

        /// <summary>The localizer's defaults with these five as given; refused unless PnP's two are
        /// positive and --verify-candidates is 0 or more.</summary>
        public LocalizerOptions Read(ParseResult r)
        {
            double threshold = r.GetValue(Threshold), lossScale = r.GetValue(LossScale);
            // Infinity too: every match an inlier, a pose 37 m off "localized".
            if (!(threshold > 0 && lossScale > 0 && double.IsFinite(threshold) && double.IsFinite(lossScale)))
                throw new UsageException("--pnp-threshold and --pnp-loss-scale must be positive finite numbers");
            return new LocalizerOptions
            {
                Pnp = new Geometry.PnpOptions { ThresholdPx = threshold, LossScalePx = lossScale },
                PointCells = PointSearch.Parse(r.GetValue(PointCells)!),
                VerifiedCandidates = r.GetValue(Verify) is < 0 ? throw new UsageException("--verify-candidates must be 0 or more") : r.GetValue(Verify),
                VerifyMinShare = r.GetValue(VerifyShare),
            };
        }
    }

    public static Command Create()
    {
        var o = new Options();
        var cmd = new Command("query", "Localize query images against a map: features, 2D–3D matches, PnP-RANSAC; writes the submission and a CSV.");
        o.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() => Run(r, o), onInterrupt: "run the same command with --resume to continue: the queries already localized are kept"));
        return cmd;
    }

    private static int Run(ParseResult r, Options o)
    {
        var shard = o.Shard.Get(r);
        using var run = QueryRun.Open(new QueryRunOptions
        {
            MapPath = r.GetValue(o.Map)!, QueriesPath = r.GetValue(o.Queries)!, IntrinsicsPath = r.GetValue(o.Intrinsics), ImagesFolder = r.GetValue(o.Images),
            Model = r.GetValue(o.Model), Device = () => o.Hardware.Resolve(r), BFloat16 = r.GetValue(o.Precision) == "bf16",
            PrecisionGiven = r.GetResult(o.Precision) is { Implicit: false },
            Localizer = o.Pose.Read(r) with
            {
                RetrievedImages = RetrievedImages(r, o),
                Matching = MatchesBeside(r, o),
                CovisibilityClusters = r.GetValue(o.Clusters),
                Guided = new GuidedMatchingOptions { Rounds = r.GetValue(o.Guided) },
            },
            RetrievalMethod = r.GetValue(o.Method)!, PairsPath = r.GetValue(o.Pairs), MatchesPath = r.GetValue(o.Matches),
            OutputPath = r.GetValue(o.Output)!, CsvPath = r.GetValue(o.Csv), KaptureOutput = r.GetValue(o.Kapture),
            SubmissionFolders = r.GetValue(o.SubmissionFolders), Resume = r.GetValue(o.Resume), Shard = shard,
        });
        var mapPath = r.GetValue(o.Map)!;
        if (!shard.IsAll) Console.WriteLine($"query: shard {shard}: {run.Count} of the list's {run.ListCount} queries");
        Console.WriteLine($"query: {Counted.Of(run.Count, "image")} against {mapPath} ({run.MapPoints} points), {run.Description}");
        if (run.MapPoints < 4) Reporter.Warn($"{mapPath}: the map holds {Counted.Of(run.MapPoints, "3D point")}: the queries will get fallback poses");
        var summary = ConsoleQueryProgress.Run(run.Count, progress => run.Run(progress), Describe);
        if (summary.KeptCount > 0) Console.WriteLine($"query: {Counted.Of(summary.KeptCount, "query", "queries")} done in an earlier run, kept");
        Console.WriteLine(summary.TimingLine);
        Console.WriteLine(summary.Line);
        Console.WriteLine($"wrote {string.Join(", ", run.Outputs.SkipLast(1))} and {run.Outputs[^1]}");
        return summary.HasErrors ? 1 : 0;
    }

    /// <summary>--retrieval, with what the other options imply: a method named with --retrieval-method
    /// retrieves (under 'auto' a small map matched every point and the method, a pairs file or
    /// global descriptors included, was ignored without a word); --pairs gives each query its images,
    /// so neither applies beside it (the file won and the rest was ignored).</summary>
    private static int RetrievedImages(ParseResult r, Options o)
    {
        bool methodGiven = r.GetResult(o.Method) is { Implicit: false } && r.GetValue(o.Method) != "auto";
        bool retrievalGiven = r.GetResult(o.Retrieval) is { Implicit: false } && r.GetValue(o.Retrieval) != "auto";
        if (r.GetValue(o.Pairs) != null && (methodGiven || retrievalGiven))
            throw new UsageException($"--pairs gives each query its database images: {(methodGiven ? "--retrieval-method" : "--retrieval")} does not apply beside it (give one or the other)");
        int k = Localization.Retrieval.Parse(r.GetValue(o.Retrieval)!);
        if (methodGiven && k == 0)
            throw new UsageException($"--retrieval-method {r.GetValue(o.Method)}: --retrieval all matches every map point, retrieving nothing (give --retrieval K)");
        return methodGiven && k == Localization.Retrieval.Auto ? Localization.Retrieval.AutoImages : k;
    }

    /// <summary>--matching, which --matches sets to 2d2d: a 2d3d asked for beside it is refused.</summary>
    private static MatchingScheme MatchesBeside(ParseResult r, Options o)
    {
        var scheme = MatchingSchemes.Parse(r.GetValue(o.Matching)!);
        if (r.GetValue(o.Matches) != null && scheme != MatchingScheme.ImagePairs && r.GetResult(o.Matching) is { Implicit: false })
            throw new UsageException("--matches gives 2D–2D matches with the database images: --matching 2d2d (or leave --matching out)");
        return scheme;
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
