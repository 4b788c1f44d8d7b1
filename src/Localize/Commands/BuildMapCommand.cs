using System.CommandLine;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize build-map`: a 3D map from images with known poses, stage by stage, resumable.</summary>
internal static class BuildMapCommand
{
    public static Command Create()
    {
        var net = new NetworkOptionSet();
        var ex = new ExtractionOptionSet();
        var images = new Option<string?>("--images") { Description = "folder the image names of the poses file are relative to (default for a kapture folder: its sensors/records_data)" };
        var poses = new Option<string>("--poses")
        {
            Description = "known poses: a COLMAP model folder (cameras.bin/images.bin or cameras.txt/images.txt), a kapture folder (sensors/), an .nvm file, or a folder of Strecha .camera files",
            Required = true,
        };
        var intrinsics = new Option<string?>("--intrinsics") { Description = "with an .nvm: `name MODEL w h params...` per image (Aachen's database_intrinsics.txt) or a COLMAP database with the images' cameras" };
        var map = new Option<string>("--map") { Description = "the map database to build (e.g. maps/NAME.db); reused and completed if it exists", Required = true };
        var pairs = new Option<string?>("--pairs") { Description = "a pairs file (`name1 name2`), 'exhaustive', or poses:K[:ANGLE] (default poses:20:90)" };
        var only = new Option<string[]?>("--only") { Description = "map only these images (names), e.g. a subset of the poses file", AllowMultipleArgumentsPerToken = true };
        var check = new Option<bool>("--check")
        {
            Description = "check the options and inputs (poses, intrinsics, every image, the model) and stop: nothing is written (a cluster submission's pre-flight)",
        };
        var checkQueries = new Option<string[]>("--check-queries")
        {
            Description = "with --check: query lists (names relative to --images, as Aachen's) whose images, and with --model hloc:FILE their features, must be there too",
            AllowMultipleArgumentsPerToken = true,
        };
        var allowEmpty = new Option<bool>("--allow-empty") { Description = "store a map without 3D points instead of failing (e.g. a tiny sample whose images do not overlap)" };
        var export = new Option<string?>("--export") { Description = "folder for the COLMAP model (default: <map>_model next to the map; 'none' to skip); the points also go there as points3D.ply" };
        var stage = new Option<string>("--stage")
        {
            Description = "all (the build), or one shard (--shard) of a long stage into --map, its own database, for `localize merge`: "
                + "extract, or match (reading the merged extraction shards, --features)",
            DefaultValueFactory = _ => "all",
        };
        stage.AcceptOnlyFromAmong("all", "extract", "match");
        var features = new Option<string?>("--features") { Description = "with --stage match: the merged database of the extraction shards (read only)" };
        var matches = new Option<string?>("--matches")
        {
            Description = "with --model hloc:FILE: hloc's matches.h5 (e.g. SuperGlue's) for the pairs, imported instead of matching; then verified against the poses as ours",
        };
        var shard = new ShardOption();
        var exportFormat = new Option<string>("--export-format") { Description = "text (cameras.txt…) or binary (cameras.bin…)", DefaultValueFactory = _ => "text" };
        exportFormat.AcceptOnlyFromAmong("text", "binary");
        var cmd = new Command("build-map", "Build a 3D map from daytime images with known poses: extract, pair, match, verify, triangulate.");
        net.AddTo(cmd); ex.AddTo(cmd);
        foreach (var o in new Option[] { images, poses, intrinsics, map, pairs, only, export, exportFormat, allowEmpty, stage, features, matches, check, checkQueries }) cmd.Options.Add(o);
        shard.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var settings = ex.Get(r);
            var root = MapInputs.ImageRoot(r.GetValue(poses)!, r.GetValue(images));
            // Every input is read and checked before anything is written.
            var posed = MapInputs.ReadPosed(r.GetValue(poses)!, r.GetValue(intrinsics), root, r.GetValue(only), new ConsoleProgress());
            var pairSpec = r.GetValue(pairs) is { } p ? PairSpec.Parse(p) : new MapBuildOptions().Pairs;
            var mapPath = r.GetValue(map)!;
            var exportDir = r.GetValue(export) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(mapPath))!, Path.GetFileNameWithoutExtension(mapPath) + "_model");
            var (stageName, part) = (r.GetValue(stage)!, shard.Get(r));
            if ((stageName == "all") != (r.GetValue(shard.Shard) == null)) throw new UsageException("--stage extract|match and --shard go together");
            if ((stageName == "match") != (r.GetValue(features) != null)) throw new UsageException("--features goes with --stage match (and it needs it)");
            if (r.GetValue(matches) is { } mf)
            {
                if (!net.IsHloc(r)) throw new UsageException("--matches (hloc's matches.h5) goes with hloc's features: --model hloc:FILE (its keypoints are the ones the matches index)");
                if (stageName != "all") throw new UsageException("--matches imports the matches in the build itself: it does not go with --stage");
                if (!File.Exists(mf)) throw new R2D2.Localization.Formats.FileFormatException(mf, 0, Directory.Exists(mf) ? "is a folder, not hloc's matches.h5" : "not found");
            }
            using var source = net.LoadSource(r, settings, ex);
            var inputs = new MapBuildInputs(posed, root, source) { Model = net.MapModel(r), SourceFiles = new[] { ("poses", r.GetValue(poses)), ("intrinsics", r.GetValue(intrinsics)) } };
            var options = new MapBuildOptions
            {
                Pairs = pairSpec,
                Match = new MatchOptions { Device = net.Hardware.Resolve(r) },
                ImportedMatches = r.GetValue(matches),
                AllowEmpty = r.GetValue(allowEmpty),
                ExportFolder = exportDir == "none" ? null : exportDir,
                ExportBinary = r.GetValue(exportFormat) == "binary",
            };
            if (r.GetValue(checkQueries) is { Length: > 0 } && !r.GetValue(check)) throw new UsageException("--check-queries goes with --check");
            if (r.GetValue(check))
            {
                int pairCount = MapBuildRunner.Check(mapPath, inputs, options);
                int queryCount = (r.GetValue(checkQueries) ?? Array.Empty<string>()).Sum(list => MapInputs.CheckQueries(list, root, source));
                Console.WriteLine($"build-map: check passed: {Counted.Of(posed.Count, "posed image")} under {root}"
                    + (queryCount > 0 ? $" and {Counted.Of(queryCount, "query", "queries")}" : "") + $", {source.Description}, {Counted.Of(pairCount, "pair")} ({pairSpec}); nothing written");
                return 0;
            }
            var progress = new ConsoleProgress("build-map");
            var s = stageName switch
            {
                "extract" => ShardRunner.Extract(mapPath, inputs, part, progress),
                "match" => ShardRunner.Match(mapPath, r.GetValue(features)!, inputs, options, part, progress),
                _ => null,
            };
            if (s != null) Console.WriteLine($"{stageName} shard {s.Shard}: {Counted.Of(s.Items, "item")}, {s.Done} done now, {s.Stored} stored already, {s.Seconds:F1} s; {mapPath} complete");
            else PrintSummary(mapPath, MapBuildRunner.Run(mapPath, inputs, options, progress)!);
            return 0;
        }, onInterrupt: "run the same command again to continue: every stage skips what the map database holds"));
        return cmd;
    }

    internal static void PrintSummary(string mapPath, MapBuildResult result)
    {
        var st = result.Stats;
        Console.WriteLine();
        Console.WriteLine($"map {mapPath}: {result.Images} images, {result.Pairs} pairs, {st.Points} 3D points from {st.Tracks} tracks "
            + $"(rejected: {st.RejectedNoConsensus} without consensus, {st.RejectedAngle} by angle; {st.CompletedObservations} observations completed), "
            + $"mean track length {st.MeanTrackLength:F2}, mean reprojection error {st.MeanReprojectionErrorPx:F3} px");
        Console.WriteLine("time per stage: " + string.Join(", ", result.Seconds.Select(kv => $"{kv.Key} {kv.Value:F1} s")));
        if (result.ExportFolder != null) Console.WriteLine($"exported: {result.ExportFolder} (COLMAP model, points3D.ply)");
    }
}
