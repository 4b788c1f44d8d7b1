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
        return Smooth(Uniform(seed, ix, iy), Uniform(seed, ix + 1, iy), Uniform(seed, ix, iy + 1), Uniform(seed, ix + 1, iy + 1), x - ix, y - iy);
    }

    /// <summary>The lattice values a, b (row iy) and c, d (row iy + 1) blended at the cell offsets (fx, fy) by a smoothstep.</summary>
    private static float Smooth(double a, double b, double c, double d, double fx, double fy)
    {
        fx = fx * fx * (3 - 2 * fx); fy = fy * fy * (3 - 2 * fy);
        return (float)(a + fx * (b - a) + fy * (c + fx * (d - c) - a - fx * (b - a)));
    }

    /// <summary>Fractal value noise in [0, 1]: <paramref name="octaves"/> layers of <see cref="Value"/>
    /// noise, each with half the cell size and half the amplitude of the one before (a 1/f-like spectrum).</summary>
    public static float Fractal(int seed, double x, double y, double cell, int octaves = 3)
    {
        float sum = 0;
        for (int k = 0; k < octaves; k++) sum += (1 << (octaves - 1 - k)) * Value(seed + k, x, y, cell / (1 << k));
        return sum / ((1 << octaves) - 1);
    }

    /// <summary><see cref="Fractal"/> at every pixel (x, y) of a w×h image, row-major: the same values,
    /// with each lattice value hashed once per octave instead of four times per pixel.</summary>
    public static float[] FractalField(int seed, int w, int h, double cell, int octaves)
    {
        var sum = new float[w * h];
        for (int k = 0; k < octaves; k++)
        {
            double c = cell / (1 << k);
            int weight = 1 << (octaves - 1 - k), gw = (int)Math.Floor((w - 1) / c) + 2, gh = (int)Math.Floor((h - 1) / c) + 2;
            var lattice = new double[gw * gh];
            for (int j = 0; j < gh; j++)
                for (int i = 0; i < gw; i++) lattice[j * gw + i] = Uniform(seed + k, i, j);
            for (int y = 0; y < h; y++)
            {
                double fy = y / c;
                int iy = (int)Math.Floor(fy);
                for (int x = 0; x < w; x++)
                {
                    double fx = x / c;
                    int ix = (int)Math.Floor(fx), o = iy * gw + ix;
                    sum[y * w + x] += weight * Smooth(lattice[o], lattice[o + 1], lattice[o + gw], lattice[o + gw + 1], fx - ix, fy - iy);
                }
            }
        }
        for (int i = 0; i < sum.Length; i++) sum[i] /= (1 << octaves) - 1;
        return sum;
    }
}
