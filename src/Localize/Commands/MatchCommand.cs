using System.CommandLine;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize match`: mutual nearest-neighbour matches of image pairs of a feature database.</summary>
internal static class MatchCommand
{
    public static Command Create()
    {
        var database = new Option<string>("--database") { Description = "feature database (from extract --database)", Required = true };
        var pairs = new Option<string>("--pairs")
        {
            Description = "a pairs file (`name1 name2` per line), 'exhaustive', 'poses:K[:ANGLE]' (K nearest camera centres among the "
                + "images with pose priors, viewing directions within ANGLE degrees, default 90), or 'covisibility:K' (the K images sharing "
                + "most 3D points of the map in the database)",
            Required = true,
        };
        var minSim = new Option<float>("--min-similarity") { Description = "drop mutual matches whose descriptor similarity (cosine, -1 to 1) is below this", DefaultValueFactory = _ => -1f }.Between(-1f, 1f);
        var hardware = new DeviceOptionSet();
        var verify = new Option<string>("--verify")
        {
            Description = "geometric verification into two_view_geometries: none, fundamental (OpenCV USAC F-matrix RANSAC, no poses needed), "
                + "or poses (epipolar distance ≤ 4 px from the images' pose priors and cameras)",
            DefaultValueFactory = _ => "none",
        };
        verify.AcceptOnlyFromAmong("none", "fundamental", "poses");
        var shard = new ShardOption();
        var shardOut = new Option<string?>("--out") { Description = "with --shard: the shard's own database for its matches (--database is read only), for `localize merge`" };
        var cmd = new Command("match", "Match image pairs of a feature database (mutual nearest neighbours); resumable.");
        foreach (var o in new Option[] { database, pairs, minSim }) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        cmd.Options.Add(verify);
        shard.AddTo(cmd);
        cmd.Options.Add(shardOut);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var dev = hardware.Resolve(r);
            var dbPath = r.GetValue(database)!;
            var method = r.GetValue(verify)!;
            var shardOf = r.GetValue(shard.Shard) == null ? (Shard?)null : shard.Get(r);
            var outPath = r.GetValue(shardOut);
            // The log every 100 pairs and no stage time: the summary line below gives it.
            var m = MatchRunner.RunDatabase(dbPath, PairSpec.Parse(r.GetValue(pairs)!), new MatchOptions
            {
                Device = dev, MinSimilarity = r.GetValue(minSim),
                Verify = method == "none" ? null : new VerifyOptions { Method = method == "poses" ? VerifyMethod.Poses : VerifyMethod.Fundamental },
            }, shardOf, outPath, new ConsoleProgress(logEvery: 100, stageTimes: false),
                n => Console.WriteLine($"match: {Counted.Of(n, "pair")} in {dbPath} on {dev}"));
            if (outPath != null)
            {
                Console.WriteLine($"match shard {shardOf}: {m.Matched} matched, {m.Skipped} skipped (stored), {m.Seconds:F1} s → {outPath}");
                return 0;
            }
            if (m.Verified is { } verified) Console.WriteLine($"verify: {Counted.Of(verified, "pair")} verified ({method})");
            Console.WriteLine($"match: {m.Matched} matched ({m.PairsPerSecond:F1} pairs/s, mean {m.MeanMatches:F0} matches), {m.Skipped} skipped (stored), {m.Seconds:F1} s");
            return 0;
        }, onInterrupt: "run the same command again to continue: the pairs already matched are kept"));
        return cmd;
    }
}
