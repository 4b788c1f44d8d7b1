namespace R2D2.Localization.Imaging;

/// <summary>Where channel c of pixel (x, y) lives in a float image: planar (C×H×W, the trainer's
/// layout) or interleaved (H×W×C, the renderer's and OpenCV's).</summary>
public readonly record struct PixelLayout(int Width, int Height, int Channels, bool Interleaved)
{
    public static PixelLayout Planar(int width, int height, int channels = 3) => new(width, height, channels, false);
    public static PixelLayout Packed(int width, int height, int channels = 3) => new(width, height, channels, true);

    public int Index(int x, int y, int c) => Interleaved ? (y * Width + x) * Channels + c : (c * Height + y) * Width + x;
    /// <summary>Distance between horizontally and vertically neighbouring values of one channel.</summary>
    public int StepX => Interleaved ? Channels : 1;
    public int StepY => Width * StepX;
}

/// <summary>
/// Separable blurs of float images, in place, rows first, then columns. The one implementation
/// behind the renderer's optics (a box) and the trainer's augmentation (a gaussian).
/// </summary>
public static class Blur
{
    /// <summary>Images of at least this many values are filtered on all cores.</summary>
    internal const int ParallelFrom = 1 << 18;

    /// <summary>A gaussian of standard deviation <paramref name="sigma"/> pixels, truncated at 3σ,
    /// borders replicated; below 0.2 px it would not change an 8-bit image and is skipped.</summary>
    public static void Gaussian(float[] image, PixelLayout layout, double sigma)
    {
        if (sigma < 0.2) return;
        int r = Math.Max(1, (int)Math.Ceiling(3 * sigma));
        var k = new float[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) sum += k[i + r] = (float)Math.Exp(-0.5 * i * i / (sigma * sigma));
        for (int i = 0; i < k.Length; i++) k[i] = (float)(k[i] / sum);
        Separable(image, layout, k, renormalize: false);
    }

    /// <summary>A size×size box (odd sizes; 1 and less: none). Near the borders each value is the
    /// mean of the pixels the box covers inside the image, so borders do not darken.</summary>
    public static void Box(float[] image, PixelLayout layout, int size)
    {
        if (size <= 1) return;
        var k = new float[2 * (size / 2) + 1];
        Array.Fill(k, 1f);
        Separable(image, layout, k, renormalize: true);
    }

    /// <summary>Each line filtered with kernel k (centre at k.Length / 2). renormalize: taps outside the
    /// image are left out and the sum divided by the weights inside; otherwise the edge value is repeated.</summary>
    private static void Separable(float[] image, PixelLayout l, float[] k, bool renormalize)
    {
        // Rows: one line per (channel, y), starting at x = 0; then columns: one per (channel, x).
        Lines(image, l.Channels * l.Height, i => l.Index(0, i % l.Height, i / l.Height), l.StepX, l.Width, k, renormalize);
        Lines(image, l.Channels * l.Width, i => l.Index(i % l.Width, 0, i / l.Width), l.StepY, l.Height, k, renormalize);
    }

    private static void Lines(float[] image, int count, Func<int, int> start, int step, int length, float[] k, bool renormalize)
    {
        int r = k.Length / 2;
        // Small images (training crops, made on many threads already) stay on the calling thread.
        var options = new ParallelOptions { MaxDegreeOfParallelism = image.Length >= ParallelFrom ? -1 : 1 };
        Parallel.For(0, count, options, () => new float[length + 2 * r], (line, _, buffer) =>
        {
            int s = start(line);
            for (int x = -r; x < length + r; x++) buffer[x + r] = image[s + Math.Clamp(x, 0, length - 1) * step];
            for (int x = 0; x < length; x++)
            {
                // Taps j cover pixels x + j − r; renormalized, only those inside [0, length).
                int j0 = renormalize ? Math.Max(0, r - x) : 0, j1 = renormalize ? Math.Min(k.Length, length + r - x) : k.Length;
                float acc = 0, weight = 0;
                for (int j = j0; j < j1; j++)
                {
                    acc += k[j] * buffer[x + j];
                    weight += k[j];
                }
                image[s + x * step] = renormalize ? acc / weight : acc;
            }
            return buffer;
        }, _ => { });
    }
}
