namespace R2D2.Localization;

/// <summary>
/// A small deterministic random generator (SplitMix64). Pair sources create one per pair from
/// <see cref="Hash"/>(seed, index, stream), never share one between pairs, so Get(i) depends on
/// nothing but its arguments and is safe on any thread.
/// </summary>
public sealed class Rng
{
    private ulong _state;

    public Rng(ulong seed) { _state = seed; }

    /// <summary>A well-mixed 64-bit seed from a few numbers (e.g. source seed, pair index, stream id).</summary>
    public static ulong Hash(ulong a, ulong b = 0, ulong c = 0)
    {
        ulong h = SplitMix64.Mix(a + SplitMix64.Gamma);
        h = SplitMix64.Mix(h ^ (b + 0xD1B54A32D192ED03UL));
        return SplitMix64.Mix(h ^ (c + 0x8CB92BA72F3D8DD7UL));
    }

    public ulong NextUInt64()
    {
        _state += SplitMix64.Gamma;
        return SplitMix64.Mix(_state);
    }

    /// <summary>Skips the next <paramref name="draws"/> 64-bit draws (of <see cref="NextUInt64"/>; every other
    /// method takes one, <see cref="Normal"/> two) at once: the state is a counter.</summary>
    public void Skip(long draws) => _state += unchecked((ulong)draws * SplitMix64.Gamma);

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public double Uniform(double lo, double hi) => lo + (hi - lo) * NextDouble();

    public float UniformF(float lo, float hi) => lo + (hi - lo) * (float)NextDouble();

    /// <summary>Uniform integer in [0, n).</summary>
    public int Next(int n) => (int)((NextUInt64() >> 33) * (ulong)n >> 31);

    public bool Chance(double p) => NextDouble() < p;

    /// <summary>Standard normal (Box–Muller; one value per call keeps the stream simple).</summary>
    public double Normal()
    {
        double u = 1.0 - NextDouble(), v = NextDouble();
        return Math.Sqrt(-2 * Math.Log(u)) * Math.Cos(2 * Math.PI * v);
    }

    /// <summary>Approximately standard normal and cheap (sum of four 16-bit uniforms, Irwin–Hall):
    /// for image noise, where the tails do not matter.</summary>
    public float FastNormal()
    {
        ulong u = NextUInt64();
        uint s = (uint)(u & 0xFFFF) + (uint)((u >> 16) & 0xFFFF) + (uint)((u >> 32) & 0xFFFF) + (uint)(u >> 48);
        // Mean 2·65535, variance 4/12 in units of 65536².
        return (s - 131070f) * (1.7320508f / 65536f);
    }

    /// <summary>log-uniform in [lo, hi] (for scale-like quantities).</summary>
    public double LogUniform(double lo, double hi) => Math.Exp(Uniform(Math.Log(lo), Math.Log(hi)));
}
