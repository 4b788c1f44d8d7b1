using System.Diagnostics;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace R2D2.Localization.Pipeline;

/// <summary>
/// The CPU's float32 multiply-add limit on the given threads: each thread runs chains of
/// independent fused multiply-adds on the widest vectors the runtime accelerates, nothing read
/// from memory, so only the FMA units' throughput bounds it. The extraction benchmark's
/// yardstick besides libtorch's sgemm, which on some AVX-512 CPUs (AMD Zen 5 measured) reaches
/// only half of it while oneDNN's convolutions reach most of it.
/// </summary>
public static class FmaPeak
{
    /// <summary>Vector width used, in float32 lanes (16: AVX-512, 8: AVX2 + FMA, 4 otherwise).</summary>
    public static int Lanes => Vector512.IsHardwareAccelerated ? 16 : Fma.IsSupported ? 8 : 4;

    /// <summary>GFLOP/s (2 per multiply-add) of all threads together, best of <paramref name="rounds"/>.</summary>
    public static double Gflops(int threads, int rounds = 5, long iterations = 20_000_000)
    {
        threads = Math.Max(1, threads);
        Chains(1000); // JIT and warm-up
        double best = double.PositiveInfinity;
        for (int r = 0; r < rounds; r++)
        {
            using var start = new Barrier(threads + 1);
            var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() => { start.SignalAndWait(); Chains(iterations); })).ToList();
            foreach (var t in workers) t.Start();
            start.SignalAndWait();
            long t0 = Stopwatch.GetTimestamp();
            foreach (var t in workers) t.Join();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return 2.0 * Accumulators * Lanes * iterations * threads / best / 1e9;
    }

    /// <summary>Independent chains: enough to cover the FMA latency (4 cycles) on two units.</summary>
    private const int Accumulators = 12;

    private static float Chains(long iterations) =>
        Vector512.IsHardwareAccelerated ? Chains512(iterations) : Fma.IsSupported ? Chains256(iterations) : Chains128(iterations);

    private static float Chains512(long n)
    {
        var m = Vector512.Create(0.999999f); var a = Vector512.Create(1e-7f);
        Vector512<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (long i = 0; i < n; i++)
        {
            c0 = Avx512F.FusedMultiplyAdd(c0, m, a); c1 = Avx512F.FusedMultiplyAdd(c1, m, a);
            c2 = Avx512F.FusedMultiplyAdd(c2, m, a); c3 = Avx512F.FusedMultiplyAdd(c3, m, a);
            c4 = Avx512F.FusedMultiplyAdd(c4, m, a); c5 = Avx512F.FusedMultiplyAdd(c5, m, a);
            c6 = Avx512F.FusedMultiplyAdd(c6, m, a); c7 = Avx512F.FusedMultiplyAdd(c7, m, a);
            c8 = Avx512F.FusedMultiplyAdd(c8, m, a); c9 = Avx512F.FusedMultiplyAdd(c9, m, a);
            c10 = Avx512F.FusedMultiplyAdd(c10, m, a); c11 = Avx512F.FusedMultiplyAdd(c11, m, a);
        }
        return Vector512.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    private static float Chains256(long n)
    {
        var m = Vector256.Create(0.999999f); var a = Vector256.Create(1e-7f);
        Vector256<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (long i = 0; i < n; i++)
        {
            c0 = Fma.MultiplyAdd(c0, m, a); c1 = Fma.MultiplyAdd(c1, m, a);
            c2 = Fma.MultiplyAdd(c2, m, a); c3 = Fma.MultiplyAdd(c3, m, a);
            c4 = Fma.MultiplyAdd(c4, m, a); c5 = Fma.MultiplyAdd(c5, m, a);
            c6 = Fma.MultiplyAdd(c6, m, a); c7 = Fma.MultiplyAdd(c7, m, a);
            c8 = Fma.MultiplyAdd(c8, m, a); c9 = Fma.MultiplyAdd(c9, m, a);
            c10 = Fma.MultiplyAdd(c10, m, a); c11 = Fma.MultiplyAdd(c11, m, a);
        }
        return Vector256.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }

    /// <summary>Without FMA: a multiply and an add (2 FLOP) per step, counted the same.</summary>
    private static float Chains128(long n)
    {
        var m = Vector128.Create(0.999999f); var a = Vector128.Create(1e-7f);
        Vector128<float> c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (long i = 0; i < n; i++)
        {
            c0 = c0 * m + a; c1 = c1 * m + a; c2 = c2 * m + a; c3 = c3 * m + a;
            c4 = c4 * m + a; c5 = c5 * m + a; c6 = c6 * m + a; c7 = c7 * m + a;
            c8 = c8 * m + a; c9 = c9 * m + a; c10 = c10 * m + a; c11 = c11 * m + a;
        }
        return Vector128.Sum(c0 + c1 + c2 + c3 + c4 + c5 + c6 + c7 + c8 + c9 + c10 + c11);
    }
}
