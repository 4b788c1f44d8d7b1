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
        double best = BestSeconds(threads, rounds, _ => Volatile.Write(ref sink, Chains(iterations)));
        return 2.0 * Accumulators * Lanes * iterations * threads / best / 1e9;
    }

    /// <summary>The shortest of <paramref name="rounds"/> wall times of <paramref name="work"/>(w)
    /// run at once on threads w = 0 … threads − 1 (from the first start to the last end).</summary>
    internal static double BestSeconds(int threads, int rounds, Action<int> work)
    {
        double best = double.PositiveInfinity;
        for (int r = 0; r < rounds; r++)
        {
            // Each worker stamps its own start and end: a clock read by the starting thread after
            // the barrier could run late (descheduled on a busy machine) and time almost nothing.
            using var start = new Barrier(threads);
            var begin = new long[threads];
            var end = new long[threads];
            var workers = Enumerable.Range(0, threads).Select(w => new Thread(() =>
            {
                start.SignalAndWait();
                begin[w] = Stopwatch.GetTimestamp();
                work(w);
                end[w] = Stopwatch.GetTimestamp();
            })).ToList();
            foreach (var t in workers) t.Start();
            foreach (var t in workers) t.Join();
            best = Math.Min(best, (end.Max() - begin.Min()) / (double)Stopwatch.Frequency);
        }
        return best;
    }

    /// <summary>Where the chains' sum goes, so the JIT cannot drop them as unused.</summary>
    private static float sink;

    /// <summary>Independent chains: enough to cover the FMA latency (4 cycles) on two units.</summary>
    private const int Accumulators = 12;

    private static float Chains(long iterations) =>
        Vector512.IsHardwareAccelerated ? Chains<Vector512<float>, Ops512>(iterations)
        : Fma.IsSupported ? Chains<Vector256<float>, Ops256>(iterations)
        : Chains<Vector128<float>, Ops128>(iterations);

    /// <summary>The vector operations a chain needs; a struct per width, so the JIT compiles each
    /// instantiation to plain vector instructions.</summary>
    private interface IOps<TV>
    {
        static abstract TV Splat(float x);
        static abstract TV MultiplyAdd(TV a, TV b, TV c);
        static abstract float Sum(TV v);
    }

    private struct Ops512 : IOps<Vector512<float>>
    {
        public static Vector512<float> Splat(float x) => Vector512.Create(x);
        public static Vector512<float> MultiplyAdd(Vector512<float> a, Vector512<float> b, Vector512<float> c) => Avx512F.FusedMultiplyAdd(a, b, c);
        public static float Sum(Vector512<float> v) => Vector512.Sum(v);
    }

    private struct Ops256 : IOps<Vector256<float>>
    {
        public static Vector256<float> Splat(float x) => Vector256.Create(x);
        public static Vector256<float> MultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);
        public static float Sum(Vector256<float> v) => Vector256.Sum(v);
    }

    /// <summary>Without FMA: a multiply and an add (2 FLOP) per step, counted the same.</summary>
    private struct Ops128 : IOps<Vector128<float>>
    {
        public static Vector128<float> Splat(float x) => Vector128.Create(x);
        public static Vector128<float> MultiplyAdd(Vector128<float> a, Vector128<float> b, Vector128<float> c) => a * b + c;
        public static float Sum(Vector128<float> v) => Vector128.Sum(v);
    }

    private static float Chains<TV, TOps>(long n) where TV : struct where TOps : struct, IOps<TV>
    {
        var m = TOps.Splat(0.999999f); var a = TOps.Splat(1e-7f);
        TV c0 = a, c1 = a, c2 = a, c3 = a, c4 = a, c5 = a, c6 = a, c7 = a, c8 = a, c9 = a, c10 = a, c11 = a;
        for (long i = 0; i < n; i++)
        {
            c0 = TOps.MultiplyAdd(c0, m, a); c1 = TOps.MultiplyAdd(c1, m, a); c2 = TOps.MultiplyAdd(c2, m, a);
            c3 = TOps.MultiplyAdd(c3, m, a); c4 = TOps.MultiplyAdd(c4, m, a); c5 = TOps.MultiplyAdd(c5, m, a);
            c6 = TOps.MultiplyAdd(c6, m, a); c7 = TOps.MultiplyAdd(c7, m, a); c8 = TOps.MultiplyAdd(c8, m, a);
            c9 = TOps.MultiplyAdd(c9, m, a); c10 = TOps.MultiplyAdd(c10, m, a); c11 = TOps.MultiplyAdd(c11, m, a);
        }
        // Summed so the chains are not dead code.
        return TOps.Sum(c0) + TOps.Sum(c1) + TOps.Sum(c2) + TOps.Sum(c3) + TOps.Sum(c4) + TOps.Sum(c5)
            + TOps.Sum(c6) + TOps.Sum(c7) + TOps.Sum(c8) + TOps.Sum(c9) + TOps.Sum(c10) + TOps.Sum(c11);
    }
}
