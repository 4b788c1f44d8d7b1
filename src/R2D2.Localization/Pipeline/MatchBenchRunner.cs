using System.Diagnostics;
using R2D2.Localization.Matching;
using static TorchSharp.torch;

namespace R2D2.Localization.Pipeline;

public sealed record MatchBenchOptions
{
    public int Keypoints { get; init; } = 5000;
    /// <summary>Image pairs timed.</summary>
    public int Pairs { get; init; } = 20;
    public int Dim { get; init; } = 128;
    /// <summary>torch.manual_seed of the descriptors.</summary>
    public int Seed { get; init; }
    /// <summary>Untimed pairs first (the first pair again).</summary>
    public int Warmup { get; init; } = 1;
    /// <summary>Rows of the similarity matrix per block; 0: the library's choice for the size.</summary>
    public int BlockRows { get; init; }
    public Device Device { get; init; } = CPU;
}

/// <param name="BlockRows">the rows per block used (the library's choice when none was given)</param>
/// <param name="MatchChecksum">Σ i·keypoints + j over all matches: equal to the PyTorch side's when the matches are</param>
public sealed record MatchBenchResult(int Pairs, int Threads, int BlockRows, double Seconds, double MedianSecondsPerPair, double MinSecondsPerPair,
    double MeanMatches, long MatchChecksum, double? PeakRssMb)
{
    public double PairsPerSecond => Pairs / Seconds;
}

/// <summary>
/// Pairs per second of <see cref="MutualNearestNeighbours"/> on random descriptors (the matching half
/// of tools/bench/match): torch.randn(2·pairs, keypoints, dim) after torch.manual_seed(seed),
/// L2-normalized, the same numbers PyTorch draws with that seed, so the reference script can
/// compare match counts as well as times.
/// </summary>
public static class MatchBenchRunner
{
    public static MatchBenchResult Run(MatchBenchOptions o)
    {
        if (o.Keypoints < 1 || o.Pairs < 1 || o.Dim < 1 || o.Warmup < 0 || o.BlockRows < 0)
            throw new UsageException("--keypoints, --pairs and --dim must be ≥ 1, --warmup and --block-rows ≥ 0");
        int n = o.Keypoints, d = o.Dim;
        var images = RandomDescriptors(2 * o.Pairs, n, d, o.Seed);
        List<Match> Match(int pair) => MutualNearestNeighbours.Match(images[2 * pair], n, images[2 * pair + 1], n, d, o.Device, blockRows: o.BlockRows);
        for (int i = 0; i < o.Warmup; i++) Match(0);
        var perPair = new double[o.Pairs];
        long matches = 0, checksum = 0;
        var total = Stopwatch.StartNew();
        for (int i = 0; i < o.Pairs; i++)
        {
            var sw = Stopwatch.StartNew();
            var found = Match(i);
            perPair[i] = sw.Elapsed.TotalSeconds;
            matches += found.Count;
            foreach (var m in found) checksum += (long)m.I * n + m.J;
        }
        return new MatchBenchResult(o.Pairs, get_num_threads(), o.BlockRows > 0 ? o.BlockRows : MutualNearestNeighbours.BlockRowsFor(n), total.Elapsed.TotalSeconds,
            Statistics.Median(perPair), perPair.Min(), (double)matches / o.Pairs, checksum, ExtractRunner.PeakRssMb());
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
