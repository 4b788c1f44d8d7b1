using System.Numerics;

namespace R2D2.Localization.Pipeline;

/// <summary>
/// The machine's memory read bandwidth on the given threads: each thread streams its own part of
/// an array far larger than the caches and counts its bits (a popcount per 8 bytes, as ASMK's
/// posting walk does per code). The yardstick of the retrieval benchmarks: the walk reads a few
/// hundred MB per query at Aachen's size, so its bytes over this rate are a floor on its time. The
/// rate varies between machines, and on a shared VM from run to run (37–54 GB/s on 2 threads of
/// this project's machine within a few minutes, idle).
/// </summary>
public static class ReadBandwidth
{
    /// <summary>GB/s of all threads together, best of <paramref name="rounds"/>, over
    /// <paramref name="bytes"/> (rounded down to whole ulongs; the array is written once first, so
    /// that every page is backed). 128 MB: beyond the last-level caches of the CPUs this project
    /// runs on, and little beside a benchmark's own peak memory.</summary>
    public static double GBs(int threads, int rounds = 5, long bytes = 128L << 20)
    {
        threads = Math.Max(1, threads);
        var data = new ulong[Math.Max(threads, bytes / 8)];
        for (long i = 0; i < data.LongLength; i++) data[i] = (ulong)i * SplitMix64.Gamma;
        double best = FmaPeak.BestSeconds(threads, rounds, w =>
        {
            long from = data.LongLength * w / threads, to = data.LongLength * (w + 1) / threads;
            long b0 = 0, b1 = 0, b2 = 0, b3 = 0; // four chains, so that the count keeps up with the memory
            for (long i = from; i < to; i += 1 << 20)
            {
                var part = data.AsSpan((int)i, (int)Math.Min(1 << 20, to - i)); // arrays of ulongs stay below 2^31 elements here
                int k = 0;
                for (; k + 4 <= part.Length; k += 4)
                {
                    b0 += BitOperations.PopCount(part[k]); b1 += BitOperations.PopCount(part[k + 1]);
                    b2 += BitOperations.PopCount(part[k + 2]); b3 += BitOperations.PopCount(part[k + 3]);
                }
                for (; k < part.Length; k++) b0 += BitOperations.PopCount(part[k]);
            }
            Interlocked.Add(ref sink, b0 + b1 + b2 + b3);
        });
        return data.LongLength * 8.0 / best / 1e9;
    }

    /// <summary>Where the counts go, so the JIT cannot drop the loops as unused.</summary>
    private static long sink;
}
