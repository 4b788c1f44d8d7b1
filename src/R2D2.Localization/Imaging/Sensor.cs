namespace R2D2.Localization.Imaging;

/// <summary>
/// A camera sensor in low light, on linear values (1 = full scale): auto-exposure to a mean level,
/// then the signal counted in photo-electrons with photon (shot) noise √e and read noise, clipped
/// to the sensor's range. The one night sensor model behind the rendered night queries and the
/// trainer's night-like images. The noise of value i is <see cref="Noise.Gaussian"/>(seed, 2i) and
/// (seed, 2i + 1): the same seed gives the same image in any thread order.
/// </summary>
public static class Sensor
{
    /// <summary>The gain that brings the mean of <paramref name="linear"/> to <paramref name="targetMean"/> (1 for a black image).</summary>
    public static double AutoExposureGain(ReadOnlySpan<float> linear, double targetMean)
    {
        double mean = 0;
        foreach (var v in linear) mean += v;
        mean /= linear.Length;
        return mean > 0 ? targetMean / mean : 1;
    }

    /// <summary>In place: value × gain, as <paramref name="fullWell"/> electrons at full scale, with
    /// photon noise and <paramref name="readNoise"/> electrons of read noise, back to [0, 1].</summary>
    public static void Expose(float[] linear, double gain, double fullWell, double readNoise, int seed)
    {
        const int chunk = 1 << 14;
        var options = new ParallelOptions { MaxDegreeOfParallelism = linear.Length >= Blur.ParallelFrom ? -1 : 1 };
        Parallel.For(0, (linear.Length + chunk - 1) / chunk, options, c =>
        {
            for (int i = c * chunk, end = Math.Min(linear.Length, i + chunk); i < end; i++)
            {
                double e = linear[i] * gain * fullWell;
                double noisy = e + Math.Sqrt(Math.Max(e, 0)) * Noise.Gaussian(seed, 2L * i) + readNoise * Noise.Gaussian(seed, 2L * i + 1);
                linear[i] = (float)Math.Clamp(noisy / fullWell, 0, 1);
            }
        });
    }
}
