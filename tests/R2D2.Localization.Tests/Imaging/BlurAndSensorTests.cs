using R2D2.Localization.Imaging;
using Xunit;

namespace R2D2.Localization.Tests.Imaging;

public class BlurAndSensorTests
{
    private static float[] RandomImage(int n, ulong seed)
    {
        var rng = new Rng(seed);
        var img = new float[n];
        for (int i = 0; i < n; i++) img[i] = (float)rng.NextDouble();
        return img;
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Box_is_the_mean_over_the_pixels_inside_the_image(bool interleaved)
    {
        int w = 13, h = 9, size = 5, r = size / 2;
        var layout = new PixelLayout(w, h, 3, interleaved);
        var img = RandomImage(w * h * 3, 1);
        var blurred = (float[])img.Clone();
        Blur.Box(blurred, layout, size);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                {
                    // A separable box with renormalized borders is the mean of the rectangle inside the image.
                    double sum = 0; int count = 0;
                    for (int yy = Math.Max(0, y - r); yy <= Math.Min(h - 1, y + r); yy++)
                        for (int xx = Math.Max(0, x - r); xx <= Math.Min(w - 1, x + r); xx++) { sum += img[layout.Index(xx, yy, c)]; count++; }
                    Assert.Equal(sum / count, blurred[layout.Index(x, y, c)], 1e-6);
                }
    }

    [Fact]
    public void Gaussian_keeps_a_constant_image_and_the_mean_and_is_the_same_in_both_layouts()
    {
        int w = 20, h = 16;
        var flat = Enumerable.Repeat(0.37f, w * h * 3).ToArray();
        Blur.Gaussian(flat, PixelLayout.Planar(w, h), 1.3);
        Assert.All(flat, v => Assert.Equal(0.37f, v, 5));

        var planar = RandomImage(w * h * 3, 2);
        var packed = new float[planar.Length];
        var p = PixelLayout.Planar(w, h); var q = PixelLayout.Packed(w, h);
        for (int c = 0; c < 3; c++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) packed[q.Index(x, y, c)] = planar[p.Index(x, y, c)];
        Blur.Gaussian(planar, p, 0.8);
        Blur.Gaussian(packed, q, 0.8);
        for (int c = 0; c < 3; c++) for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) Assert.Equal(planar[p.Index(x, y, c)], packed[q.Index(x, y, c)]);
    }

    [Fact]
    public void Sensor_exposes_to_the_target_mean_with_shot_and_read_noise_of_the_expected_size()
    {
        var img = Enumerable.Repeat(0.002f, 200_000).ToArray();
        double gain = Sensor.AutoExposureGain(img, 0.05);
        Assert.Equal(25, gain, 1e-4); // 0.002f is not exactly 0.002
        var a = (float[])img.Clone(); var b = (float[])img.Clone();
        Sensor.Expose(a, gain, fullWell: 200, readNoise: 3, seed: 7);
        Sensor.Expose(b, gain, fullWell: 200, readNoise: 3, seed: 7);
        Assert.Equal(a, b);
        // 0.05 of 200 e⁻ = 10 e⁻: variance 10 (shot) + 9 (read) e⁻², mean 10 e⁻ (clipping at 0 is 3 σ away).
        double mean = a.Average(v => v * 200.0), variance = a.Average(v => Math.Pow(v * 200.0 - mean, 2));
        Assert.InRange(mean, 9.9, 10.15);
        Assert.InRange(variance, 18.0, 19.6);
        Assert.Equal(1, Sensor.AutoExposureGain(new float[10], 0.05));
    }

    [Theory]
    [InlineData(37, 23, 9.3, 3)]
    [InlineData(64, 48, 24.0, 4)]
    public void Fractal_field_equals_fractal_noise_at_every_pixel(int w, int h, double cell, int octaves)
    {
        var field = Noise.FractalField(11, w, h, cell, octaves);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) Assert.Equal(Noise.Fractal(11, x, y, cell, octaves), field[y * w + x]);
        Assert.InRange(field.Min(), 0f, 0.5f);
        Assert.InRange(field.Max(), 0.5f, 1f);
    }
}
