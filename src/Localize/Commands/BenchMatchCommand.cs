using System.CommandLine;
using System.Text.Json;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize bench-match`: <see cref="MatchBenchRunner"/>'s pairs per second, printed as one JSON object.</summary>
internal static class BenchMatchCommand
{
    public static Command Create()
    {
        var keypoints = new Option<int>("--keypoints") { Description = "keypoints per image", DefaultValueFactory = _ => 5000 };
        var pairs = new Option<int>("--pairs") { Description = "image pairs timed", DefaultValueFactory = _ => 20 };
        var dim = new Option<int>("--dim") { Description = "descriptor dimension", DefaultValueFactory = _ => 128 };
        var seed = new Option<int>("--seed") { Description = "torch.manual_seed of the descriptors", DefaultValueFactory = _ => 0 };
        var warmup = new Option<int>("--warmup") { Description = "untimed pairs first (the first pair again)", DefaultValueFactory = _ => 1 };
        var blockRows = new Option<int>("--block-rows") { Description = "rows of the similarity matrix per block (0: the library's choice for the size)" };
        var hardware = new DeviceOptionSet("cpu");
        var cmd = new Command("bench-match", "Benchmark: mutual nearest-neighbour matches per second on random descriptors (JSON).");
        foreach (var o in new Option[] { keypoints, pairs, dim, seed, warmup, blockRows }) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var o = new MatchBenchOptions
            {
                Keypoints = r.GetValue(keypoints), Pairs = r.GetValue(pairs), Dim = r.GetValue(dim), Seed = r.GetValue(seed), Warmup = r.GetValue(warmup),
                BlockRows = r.GetValue(blockRows), Device = hardware.Resolve(r),
            };
            var x = MatchBenchRunner.Run(o);
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["tool"] = "r2d2.localization",
                ["keypoints"] = o.Keypoints, ["dim"] = o.Dim, ["pairs"] = o.Pairs, ["seed"] = o.Seed, ["warmup"] = o.Warmup,
                ["threads"] = x.Threads, ["device"] = o.Device.ToString(), ["block_rows"] = x.BlockRows,
                ["seconds"] = x.Seconds, ["pairs_per_second"] = x.PairsPerSecond,
                ["median_seconds_per_pair"] = x.MedianSecondsPerPair, ["min_seconds_per_pair"] = x.MinSecondsPerPair,
                ["mean_matches"] = x.MeanMatches, ["match_checksum"] = x.MatchChecksum,
                ["peak_rss_mb"] = x.PeakRssMb, // null where unknown (JSON has no NaN)
            }));
            return 0;
        }));
        return cmd;
    }
}
