using R2D2.Localization.Imaging;
using OpenCvSharp;

namespace R2D2.Localization.Training;

/// <summary>The distribution of photometric changes applied to each image of a pair independently.</summary>
public sealed record PhotometricSettings
{
    public bool Enabled { get; init; } = true;
    /// <summary>Added to every value, uniform in ±this.</summary>
    public double Brightness { get; init; } = 0.08;
    /// <summary>Contrast about the mean, a factor log-uniform in [1/(1+c), 1+c].</summary>
    public double Contrast { get; init; } = 0.35;
    /// <summary>Gamma, log-uniform in [1/(1+g), 1+g].</summary>
    public double Gamma { get; init; } = 0.4;
    /// <summary>Per-channel gain, uniform in 1 ± this (white balance).</summary>
    public double ColourShift { get; init; } = 0.08;
    public double BlurProbability { get; init; } = 0.3;
    public double MaxBlurSigma { get; init; } = 1.2;
    public double NoiseProbability { get; init; } = 0.5;
    public double MaxNoiseSigma { get; init; } = 0.03;
    /// <summary>Probability of a JPEG round trip (quality 30–90); otherwise 8-bit quantization.</summary>
    public double JpegProbability { get; init; } = 0.15;
    /// <summary>Probability that image 2 becomes a night-like image (<see cref="Photometric.Night"/>).</summary>
    public double NightProbability { get; init; } = 0.25;

    public static PhotometricSettings Off => new() { Enabled = false, NightProbability = 0 };
}

/// <summary>Photometric jitter and the night-like darkening, in place on planar RGB [0, 1] images.</summary>
public static class Photometric
{
    /// <summary>Day jitter: white balance, gamma, contrast, brightness, blur, noise, 8-bit or JPEG.</summary>
    public static void Jitter(float[] img, int w, int h, Rng rng, PhotometricSettings s)
    {
        if (!s.Enabled) return;
        int n = w * h;
        double mean = 0;
        for (int i = 0; i < img.Length; i++) mean += img[i];
        float m = (float)(mean / img.Length);
        float gamma = (float)rng.LogUniform(1 / (1 + s.Gamma), 1 + s.Gamma);
        float contrast = (float)rng.LogUniform(1 / (1 + s.Contrast), 1 + s.Contrast);
        float bright = (float)rng.Uniform(-s.Brightness, s.Brightness);
        for (int c = 0; c < 3; c++)
        {
            float gain = (float)rng.Uniform(1 - s.ColourShift, 1 + s.ColourShift);
            var plane = img.AsSpan(c * n, n);
            for (int i = 0; i < n; i++)
            {
                float v = MathF.Pow(Math.Clamp(plane[i] * gain, 0, 1), gamma);
                plane[i] = (v - m) * contrast + m + bright;
            }
        }
        if (rng.Chance(s.BlurProbability)) Blur.Gaussian(img, PixelLayout.Planar(w, h), rng.Uniform(0.3, s.MaxBlurSigma));
        if (rng.Chance(s.NoiseProbability))
        {
            float sigma = (float)rng.Uniform(0, s.MaxNoiseSigma);
            for (int i = 0; i < img.Length; i++) img[i] += sigma * rng.FastNormal();
        }
        Finish(img, w, h, rng, s);
    }

    /// <summary>
    /// A night-like version of a day image: in linear light, a sodium-lamp tint (R 1, G 0.55,
    /// B 0.22) over a dark ambient level plus 1–3 gaussian pools of light, then the night sensor
    /// (<see cref="Sensor"/>: auto-exposure to a low mean, a signal of a few photo-electrons with
    /// photon and read noise), a slight blur (optics), sRGB and 8 bits.
    /// </summary>
    public static void Night(float[] img, int w, int h, Rng rng, PhotometricSettings s)
    {
        int n = w * h;
        var light = new float[n];
        float ambient = (float)rng.LogUniform(0.01, 0.06);
        int pools = 1 + rng.Next(3);
        var pcx = new float[pools]; var pcy = new float[pools]; var pk = new float[pools]; var pa = new float[pools];
        int size = Math.Max(w, h);
        for (int k = 0; k < pools; k++)
        {
            pcx[k] = (float)rng.Uniform(-0.1, 1.1) * w; pcy[k] = (float)rng.Uniform(-0.1, 1.1) * h;
            float sigma = (float)rng.Uniform(0.12, 0.5) * size;
            pk[k] = -0.5f / (sigma * sigma);
            pa[k] = (float)rng.LogUniform(0.3, 2);
        }
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float l = ambient;
                for (int k = 0; k < pools; k++)
                {
                    float dx = x - pcx[k], dy = y - pcy[k];
                    l += pa[k] * MathF.Exp(pk[k] * (dx * dx + dy * dy));
                }
                light[y * w + x] = l;
            }
        Span<float> tint = stackalloc float[] { 1f, 0.55f * (float)rng.Uniform(0.9, 1.1), 0.22f * (float)rng.Uniform(0.8, 1.2) };
        for (int c = 0; c < 3; c++)
        {
            var plane = img.AsSpan(c * n, n);
            for (int i = 0; i < n; i++)
            {
                float v = Srgb.ToLinear(Math.Clamp(plane[i], 0, 1)) * tint[c] * light[i];
                plane[i] = v;
            }
        }
        // Exposure: the linear mean becomes a few percent of full scale, counted in electrons.
        double target = rng.LogUniform(0.02, 0.08), fullWell = rng.LogUniform(100, 400), read = rng.Uniform(1, 4);
        Sensor.Expose(img, Sensor.AutoExposureGain(img, target), fullWell, read, seed: rng.Next(int.MaxValue));
        Blur.Gaussian(img, PixelLayout.Planar(w, h), rng.Uniform(0.4, 0.8));
        for (int i = 0; i < img.Length; i++) img[i] = Srgb.FromLinear(Math.Clamp(img[i], 0, 1));
        Finish(img, w, h, rng, s);
    }

    private static void Finish(float[] img, int w, int h, Rng rng, PhotometricSettings s)
    {
        if (rng.Chance(s.JpegProbability)) JpegRoundTrip(img, w, h, 30 + rng.Next(61));
        else PlanarImage.Quantize(img);
    }

    /// <summary>Encodes as JPEG at <paramref name="quality"/> and decodes (block artefacts, chroma subsampling).</summary>
    public static void JpegRoundTrip(float[] img, int w, int h, int quality)
    {
        var px = Formats.JpegCodec.RoundTrip(PlanarImage.ToRgb(img, w, h), quality).Pixels;
        int n = w * h;
        for (int i = 0; i < n; i++)
        {
            img[i] = px[3 * i] / 255f; img[n + i] = px[3 * i + 1] / 255f; img[2 * n + i] = px[3 * i + 2] / 255f;
        }
    }
}
