namespace R2D2.Localization.Synthesis;

/// <summary>A linear-light RGB texture (rows top to bottom) with drawing in metres and bilinear sampling.</summary>
public sealed class Texture
{
    public Texture(int width, int height, double texelsPerMetre)
    {
        Width = width; Height = height; TexelsPerMetre = texelsPerMetre;
        Rgb = new float[width * height * 3];
    }

    public int Width { get; }
    public int Height { get; }
    public double TexelsPerMetre { get; }
    /// <summary>Linear RGB, interleaved.</summary>
    public float[] Rgb { get; }

    /// <summary>Bilinear sample at texel coordinates (texel centres at integers), clamped to the edge.</summary>
    public void Sample(double s, double t, Span<float> rgb)
    {
        s = Math.Clamp(s, 0, Width - 1); t = Math.Clamp(t, 0, Height - 1);
        int x0 = Math.Min((int)s, Width - 2 < 0 ? 0 : Width - 2), y0 = Math.Min((int)t, Height - 2 < 0 ? 0 : Height - 2);
        int x1 = Math.Min(x0 + 1, Width - 1), y1 = Math.Min(y0 + 1, Height - 1);
        float fx = (float)(s - x0), fy = (float)(t - y0);
        int a = (y0 * Width + x0) * 3, b = (y0 * Width + x1) * 3, c = (y1 * Width + x0) * 3, d = (y1 * Width + x1) * 3;
        for (int k = 0; k < 3; k++)
        {
            float top = Rgb[a + k] + fx * (Rgb[b + k] - Rgb[a + k]);
            float bottom = Rgb[c + k] + fx * (Rgb[d + k] - Rgb[c + k]);
            rgb[k] = top + fy * (bottom - top);
        }
    }

    /// <summary>Fills the rectangle [x0, x1) × [y0, y1) given in metres from the top-left corner,
    /// optionally modulating the colour per texel (argument: texel x, y).</summary>
    public void Fill(double x0, double y0, double x1, double y1, Rgb colour, Func<int, int, float>? modulate = null)
    {
        int ix0 = Math.Max(0, (int)Math.Round(x0 * TexelsPerMetre)), ix1 = Math.Min(Width, (int)Math.Round(x1 * TexelsPerMetre));
        int iy0 = Math.Max(0, (int)Math.Round(y0 * TexelsPerMetre)), iy1 = Math.Min(Height, (int)Math.Round(y1 * TexelsPerMetre));
        for (int y = iy0; y < iy1; y++)
            for (int x = ix0; x < ix1; x++)
            {
                float m = modulate?.Invoke(x, y) ?? 1f;
                int i = (y * Width + x) * 3;
                Rgb[i] = colour.R * m; Rgb[i + 1] = colour.G * m; Rgb[i + 2] = colour.B * m;
            }
    }

    /// <summary>Multiplies the rectangle (metres) by a per-texel factor.</summary>
    public void Modulate(double x0, double y0, double x1, double y1, Func<int, int, float> factor)
    {
        int ix0 = Math.Max(0, (int)Math.Round(x0 * TexelsPerMetre)), ix1 = Math.Min(Width, (int)Math.Round(x1 * TexelsPerMetre));
        int iy0 = Math.Max(0, (int)Math.Round(y0 * TexelsPerMetre)), iy1 = Math.Min(Height, (int)Math.Round(y1 * TexelsPerMetre));
        for (int y = iy0; y < iy1; y++)
            for (int x = ix0; x < ix1; x++)
            {
                float m = factor(x, y);
                int i = (y * Width + x) * 3;
                Rgb[i] *= m; Rgb[i + 1] *= m; Rgb[i + 2] *= m;
            }
    }

    /// <summary>A rectangle outline of the given thickness (metres).</summary>
    public void Frame(double x0, double y0, double x1, double y1, double thickness, Rgb colour)
    {
        Fill(x0, y0, x1, y0 + thickness, colour);
        Fill(x0, y1 - thickness, x1, y1, colour);
        Fill(x0, y0, x0 + thickness, y1, colour);
        Fill(x1 - thickness, y0, x1, y1, colour);
    }

    /// <summary>A filled disc (metres); <paramref name="upperHalf"/>: only the part above its centre (an arch).</summary>
    public void Disc(double cx, double cy, double radius, Rgb colour, bool upperHalf = false)
    {
        double r = radius * TexelsPerMetre, x = cx * TexelsPerMetre, y = cy * TexelsPerMetre;
        for (int ty = Math.Max(0, (int)(y - r)); ty <= Math.Min(Height - 1, upperHalf ? (int)y : (int)(y + r) + 1); ty++)
            for (int tx = Math.Max(0, (int)(x - r)); tx <= Math.Min(Width - 1, (int)(x + r) + 1); tx++)
            {
                if ((tx - x) * (tx - x) + (ty - y) * (ty - y) > r * r) continue;
                int i = (ty * Width + tx) * 3;
                Rgb[i] = colour.R; Rgb[i + 1] = colour.G; Rgb[i + 2] = colour.B;
            }
    }
}

/// <summary>A linear-light colour.</summary>
public readonly record struct Rgb(float R, float G, float B)
{
    /// <summary>From 8-bit sRGB values.</summary>
    public static Rgb FromSrgb(int r, int g, int b) => new(ToLinear(r / 255f), ToLinear(g / 255f), ToLinear(b / 255f));

    public static float ToLinear(float c) => c <= 0.04045f ? c / 12.92f : MathF.Pow((c + 0.055f) / 1.055f, 2.4f);

    public static float ToSrgb(float c) => c <= 0.0031308f ? 12.92f * c : 1.055f * MathF.Pow(c, 1 / 2.4f) - 0.055f;

    public Rgb Times(float m) => new(R * m, G * m, B * m);

    public Rgb Mix(Rgb o, float t) => new(R + t * (o.R - R), G + t * (o.G - G), B + t * (o.B - B));
}

/// <summary>Deterministic value noise and hashing (no global state: the same seed gives the same texture everywhere).</summary>
public static class Noise
{
    public static ulong Hash(ulong x)
    {
        // SplitMix64's finalizer.
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

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
