using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using R2D2.Localization.Features;
using R2D2.Localization.Matching;
using static TorchSharp.torch;

namespace R2D2.Localization.Cli.Commands;

/// <summary>
/// `localize bench-match`: pairs per second of <see cref="MutualNearestNeighbours"/> on random
/// descriptors, printed as one JSON object; the matching half of tools/bench/match. The
/// descriptors are torch.randn(2·pairs, keypoints, dim) after torch.manual_seed(seed),
/// L2-normalized: the same numbers PyTorch draws with that seed, so the reference script can
/// compare match counts as well as times.
/// </summary>
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
            int n = r.GetValue(keypoints), p = r.GetValue(pairs), d = r.GetValue(dim), w = r.GetValue(warmup), b = r.GetValue(blockRows);
            if (n < 1 || p < 1 || d < 1 || w < 0 || b < 0) throw new UsageException("--keypoints, --pairs and --dim must be ≥ 1, --warmup and --block-rows ≥ 0");
            var dev = hardware.Resolve(r);
            var images = RandomDescriptors(2 * p, n, d, r.GetValue(seed));

            List<Match> Run(int pair) => MutualNearestNeighbours.Match(images[2 * pair], n, images[2 * pair + 1], n, d, dev, blockRows: b);
            for (int i = 0; i < w; i++) Run(0);
            var perPair = new double[p];
            long matches = 0, checksum = 0;
            var total = Stopwatch.StartNew();
            for (int i = 0; i < p; i++)
            {
                var sw = Stopwatch.StartNew();
                var found = Run(i);
                perPair[i] = sw.Elapsed.TotalSeconds;
                matches += found.Count;
                foreach (var m in found) checksum += (long)m.I * n + m.J;
            }
            double seconds = total.Elapsed.TotalSeconds;
            var result = new Dictionary<string, object>
            {
                ["tool"] = "r2d2.localization",
                ["keypoints"] = n, ["dim"] = d, ["pairs"] = p, ["seed"] = r.GetValue(seed), ["warmup"] = w,
                ["threads"] = get_num_threads(), ["device"] = dev.ToString(),
                ["block_rows"] = b > 0 ? b : MutualNearestNeighbours.BlockRowsFor(n),
                ["seconds"] = seconds, ["pairs_per_second"] = p / seconds,
                ["median_seconds_per_pair"] = perPair.Order().ElementAt(p / 2),
                ["min_seconds_per_pair"] = perPair.Min(),
                ["mean_matches"] = (double)matches / p,
                // Σ i·keypoints + j over all matches: equal to the PyTorch side's when the matches are.
                ["match_checksum"] = checksum,
                ["peak_rss_mb"] = R2D2.Localization.Pipeline.ExtractRunner.PeakRssMb() ?? double.NaN,
            };
            Console.WriteLine(JsonSerializer.Serialize(result));
            return 0;
        }));
        return cmd;
    }

    /// <summary>torch.manual_seed(seed); torch.randn(count, n, dim) normalized per row, as float[] per image.</summary>
    private static float[][] RandomDescriptors(int count, int n, int dim, int seed)
    {
        using var scope = NewDisposeScope();
        random.manual_seed(seed);
        var x = randn(count, n, dim, dtype: float32);
        x = x.div(x.norm(-1, true, 2));
        var rows = new float[count][];
        for (int i = 0; i < count; i++) rows[i] = x[i].contiguous().data<float>().ToArray(); // here, in the scope (a lambda would need its own)
        return rows;
    }

}
