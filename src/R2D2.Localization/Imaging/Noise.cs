namespace R2D2.Localization.Imaging;

/// <summary>Deterministic value noise and hashing (no global state: the same seed gives the same texture everywhere).</summary>
public static class Noise
{
    public static ulong Hash(ulong x) => SplitMix64.Mix(x + SplitMix64.Gamma);

    /// <summary>A uniform value in [0, 1) from integer coordinates and a seed.</summary>
    public static double Uniform(int seed, long a, long b = 0) =>
        (Hash(Hash((ulong)seed * 0x632BE59BD9B4E019UL ^ (ulong)a) ^ (ulong)b * 0x85EBCA77C2B2AE63UL) >> 11) * (1.0 / (1UL << 53));

    /// <summary>A standard normal value from a counter (Box–Muller on two hashed uniforms).</summary>
    public static double Gaussian(int seed, long index)
    {
        double u1 = Uniform(seed, index, 1), u2 = Uniform(seed, index, 2);
        return Math.Sqrt(-2 * Math.Log(1 - u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Smooth value noise in [0, 1] with a lattice of the given cell size (texels).</summary>
    public static float Value(int seed, double x, double y, double cell)
    {
        x /= cell; y /= cell;
        long ix = (long)Math.Floor(x), iy = (long)Math.Floor(y);
        double fx = x - ix, fy = y - iy;
        fx = fx * fx * (3 - 2 * fx); fy = fy * fy * (3 - 2 * fy);
        double a = Uniform(seed, ix, iy), b = Uniform(seed, ix + 1, iy), c = Uniform(seed, ix, iy + 1), d = Uniform(seed, ix + 1, iy + 1);
        return (float)(a + fx * (b - a) + fy * (c + fx * (d - c) - a - fx * (b - a)));
    }

    /// <summary>Three octaves of value noise in [0, 1].</summary>
    public static float Fractal(int seed, double x, double y, double cell) =>
        (4 * Value(seed, x, y, cell) + 2 * Value(seed + 1, x, y, cell / 2) + Value(seed + 2, x, y, cell / 4)) / 7;
}
