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
            var mapPath = r.GetValue(map)!;
            var outcome = MapBuildJob.Run(new MapBuildRequest
            {
                PosesPath = r.GetValue(poses)!, IntrinsicsPath = r.GetValue(intrinsics), ImagesFolder = r.GetValue(images), Only = r.GetValue(only),
                MapPath = mapPath, Pairs = r.GetValue(pairs), Export = r.GetValue(export), ExportBinary = r.GetValue(exportFormat) == "binary",
                AllowEmpty = r.GetValue(allowEmpty), Stage = r.GetValue(stage)!, Shard = r.GetValue(shard.Shard) == null ? null : shard.Get(r),
                FeaturesPath = r.GetValue(features), ImportedMatches = r.GetValue(matches), Features = net.Spec(r, settings, ex),
                Check = r.GetValue(check), CheckQueries = r.GetValue(checkQueries) ?? Array.Empty<string>(),
            }, new ConsoleProgress("build-map"));
            switch (outcome)
            {
                case MapBuildChecked c:
                    Console.WriteLine($"build-map: check passed: {Counted.Of(c.Images, "posed image")} under {c.ImageRoot}"
                        + (c.Queries > 0 ? $" and {Counted.Of(c.Queries, "query", "queries")}" : "") + $", {c.Source}, {Counted.Of(c.Pairs, "pair")} ({c.PairSpec}); nothing written");
                    break;
                case MapBuildShardDone { Summary: var s } d:
                    Console.WriteLine($"{d.Stage} shard {s.Shard}: {Counted.Of(s.Items, "item")}, {s.Done} done now, {s.Stored} stored already, {s.Seconds:F1} s; {mapPath} complete");
                    break;
                case MapBuildDone d:
                    PrintSummary(mapPath, d.Result);
                    break;
            }
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
