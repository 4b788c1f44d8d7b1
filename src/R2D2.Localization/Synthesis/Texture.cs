using R2D2.Localization.Imaging;
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
    public static Rgb FromSrgb(int r, int g, int b) => new(Srgb.ToLinear(r / 255f), Srgb.ToLinear(g / 255f), Srgb.ToLinear(b / 255f));

    public Rgb Times(float m) => new(R * m, G * m, B * m);

    public Rgb Mix(Rgb o, float t) => new(R + t * (o.R - R), G + t * (o.G - G), B + t * (o.B - B));
}
