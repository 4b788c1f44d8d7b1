using System.Diagnostics;
using R2D2.Localization.Geometry;
using R2D2.Localization.Training;
using Xunit;

namespace R2D2.Localization.Tests.Training;

public class HomographyPairTests
{
    private static HomographyPairSource Source(long seed = 7, bool jitter = true, int crop = 96) =>
        new(new ProceduralImageSource(), seed, crop, photometric: jitter ? new PhotometricSettings() : PhotometricSettings.Off);

    private static bool Same(TrainingPair a, TrainingPair b) =>
        a.Image1.AsSpan().SequenceEqual(b.Image1) && a.Image2.AsSpan().SequenceEqual(b.Image2) && a.Flow.AsSpan().SequenceEqual(b.Flow);

    [Fact]
    public void GetIsDeterministicPerIndexOnAnyThreadAndDiffersBetweenIndices()
    {
        var s = Source();
        var sequential = Enumerable.Range(0, 8).Select(i => s.Get(i)).ToArray();
        var parallel = new TrainingPair[8];
        Parallel.For(0, 8, i => parallel[i] = Source().Get(i)); // a fresh source, other threads, any order
        for (int i = 0; i < 8; i++) Assert.True(Same(sequential[i], parallel[i]), $"pair {i} differs between runs");
        Assert.False(Same(sequential[0], sequential[1]));
        Assert.False(Same(s.Get(0), Source(seed: 8).Get(0)));
        foreach (var p in sequential)
        {
            Assert.Equal(3 * 96 * 96, p.Image1.Length);
            Assert.Equal(3 * 96 * 96, p.Image2.Length);
            Assert.Equal(2 * 96 * 96, p.Flow.Length);
            Assert.True(p.Dense);
            Assert.All(p.Image1, v => Assert.InRange(v, 0f, 1f));
            Assert.All(p.Image2, v => Assert.InRange(v, 0f, 1f));
        }
    }

    /// <summary>The viewpoint validation set: the same pairs on every call, no photometric change
    /// (image 1 is the procedural image itself), not the pairs `train --pairs generated` draws.</summary>
    [Fact]
    public void TheViewpointValidationSetIsFixedAndApartFromTraining()
    {
        var a = HomographyPairSource.Validation(3, 64);
        var b = HomographyPairSource.Validation(3, 64);
        for (int i = 0; i < 3; i++) Assert.True(Same(a[i].Pair, b[i].Pair), $"validation pair {i} differs between calls");
        Assert.All(a, p => Assert.False(p.Night));
        var training = (HomographyPairSource)TrainingPairSources.Parse(new[] { "generated" }, 64, 0);
        for (int i = 0; i < 3; i++) Assert.False(Same(a[i].Pair, training.Get(i)));
        Assert.Equal(3 * 64 * 64, a[0].Pair.Image1.Length);
    }

    [Fact]
    public void FlowIsTheHomographyAtPixelCentresAndNaNOutsideImage2()
    {
        var s = Source();
        int c = s.CropSize, n = c * c;
        long valid = 0, invalid = 0;
        for (int i = 0; i < 12; i++)
        {
            var sample = s.Sample(i);
            var f = sample.Pair.Flow;
            for (int y = 0; y < c; y++)
                for (int x = 0; x < c; x++)
                {
                    var (u, v) = Homography.Apply(sample.H, x, y);
                    bool inside = u >= 0 && v >= 0 && u <= c - 1 && v <= c - 1;
                    float fx = f[y * c + x], fy = f[n + y * c + x];
                    if (!inside) { Assert.True(float.IsNaN(fx) && float.IsNaN(fy), $"pair {i} ({x},{y}) → ({u:F1},{v:F1}) has flow"); invalid++; continue; }
                    Assert.Equal(u, fx, 1e-3);
                    Assert.Equal(v, fy, 1e-3);
                    valid++;
                }
        }
        Assert.True(valid > 12 * n / 4, $"{valid} pixels with flow");
        Assert.True(invalid > 0);
    }

    [Fact]
    public void WithoutJitterAPixelAndItsFlowTargetHaveTheSameColour()
    {
        var s = Source(jitter: false);
        int c = s.CropSize, n = c * c;
        var pairs = Enumerable.Range(0, 12).Select(i => s.Get(i)).ToList();
        double MeanError(double dx, double dy)
        {
            double sum = 0; long count = 0;
            foreach (var p in pairs)
                for (int k = 0; k < n; k++)
                {
                    if (float.IsNaN(p.Flow[k])) continue;
                    for (int ch = 0; ch < 3; ch++) sum += Math.Abs(p.Image1[ch * n + k] - Bilinear(p.Image2, c, c, ch, p.Flow[k] + dx, p.Flow[n + k] + dy));
                    count += 3;
                }
            return sum / count;
        }
        double exact = MeanError(0, 0);
        // Resampling and the anti-alias blur soften edges, so not zero; unrelated pixels give ~0.2.
        Assert.True(exact < 0.04, $"mean colour error {exact:F4}");
        // A flow off by a pixel in any direction matches clearly worse (so there is no offset).
        foreach (var (dx, dy) in new[] { (1.0, 0.0), (-1.0, 0.0), (0.0, 1.0), (0.0, -1.0) })
        {
            double off = MeanError(dx, dy);
            Assert.True(exact < 0.75 * off, $"error {exact:F4} at the flow, {off:F4} one pixel off ({dx}, {dy})");
        }
    }

    [Fact]
    public void JitterChangesTheImagesAndSometimesMakesImage2Night()
    {
        var s = Source();
        var plain = Source(jitter: false);
        int nights = 0;
        for (int i = 0; i < 40; i++)
        {
            var a = s.Sample(i);
            if (a.Night) nights++;
            if (i < 4) Assert.False(a.Pair.Image2.AsSpan().SequenceEqual(plain.Get(i).Image2));
            // Geometry does not depend on the photometric settings.
            if (i < 4) Assert.True(a.Pair.Flow.AsSpan().SequenceEqual(plain.Get(i).Flow));
        }
        Assert.InRange(nights, 3, 20); // 25% of 40
    }

    [Fact]
    public void ProceduralImagesAreDeterministicVariedAndFast()
    {
        var a = ProceduralImages.Generate(5, 200, 150);
        Assert.Equal(3 * 200 * 150, a.Length);
        Assert.True(a.AsSpan().SequenceEqual(ProceduralImages.Generate(5, 200, 150)));
        Assert.False(a.AsSpan().SequenceEqual(ProceduralImages.Generate(6, 200, 150)));
        // 8-bit values in [0, 1] with real contrast.
        Assert.All(a, v => Assert.True(v >= 0 && v <= 1 && Math.Abs(v * 255 - Math.Round(v * 255)) < 1e-3));
        double mean = a.Average(), sd = Math.Sqrt(a.Average(v => (v - mean) * (v - mean)));
        Assert.True(sd > 0.05, $"contrast {sd:F3}");

        ProceduralImages.Generate(0, 256, 256); // JIT
        var times = new List<double>();
        for (int i = 0; i < 8; i++)
        {
            var sw = Stopwatch.StartNew();
            ProceduralImages.Generate(100 + i, 256, 256);
            times.Add(sw.Elapsed.TotalMilliseconds);
        }
        // ~10–20 ms on one core; the fastest of 8 and a bound 10× that: the test machine is shared
        // (69 ms at best once while other jobs ran), and a regression that matters is 100× (a per-pixel allocation).
        Assert.True(times.Min() < 200, $"{times.Min():F1} ms per 256×256 image at best (all: {string.Join(" ", times.Select(t => t.ToString("F0")))})");
    }

    [Fact]
    public void PhotoFolderSourceGivesCropsOfTheRequestedSize()
    {
        var folder = SharedData.Path_("reference", "r2d2", "images");
        var s = new HomographyPairSource(new FolderImageSource(folder), 3, 64);
        Assert.Contains("photos", s.Describe());
        var p = s.Get(0);
        Assert.Equal(3 * 64 * 64, p.Image1.Length);
        Assert.True(Same(p, new HomographyPairSource(new FolderImageSource(folder), 3, 64).Get(0)));
    }

    [Fact]
    public void RandomTiltKeepsTheCentreAndUnitAreaThere()
    {
        var rng = new Rng(1);
        for (int i = 0; i < 20; i++)
        {
            var t = RandomHomography.Tilt(rng.Uniform(0.1, 1.0), rng.Uniform(0, Math.PI), rng.Uniform(100, 400));
            var (x, y) = Homography.Apply(t, 0, 0);
            Assert.Equal(0, x, 1e-9); Assert.Equal(0, y, 1e-9);
            // Area of a small square about the origin is preserved.
            double e = 1e-3;
            var (ax, ay) = Homography.Apply(t, e, 0); var (bx, by) = Homography.Apply(t, 0, e);
            Assert.Equal(1, (ax * by - ay * bx) / (e * e), 1e-2);
        }
        var h = RandomHomography.SampleCentred(new Rng(2), new HomographySettings(), 192);
        var inv = Homography.Inverse(h);
        var id = Homography.Multiply(h, inv);
        for (int k = 0; k < 9; k++) Assert.Equal(k % 4 == 0 ? 1 : 0, id[k] / id[8], 1e-9);
    }

    internal static float Bilinear(float[] img, int w, int h, int ch, double x, double y)
    {
        x = Math.Clamp(x, 0, w - 1); y = Math.Clamp(y, 0, h - 1);
        int x0 = Math.Min((int)x, w - 2), y0 = Math.Min((int)y, h - 2);
        double fx = x - x0, fy = y - y0;
        int b = ch * w * h;
        double top = img[b + y0 * w + x0] * (1 - fx) + img[b + y0 * w + x0 + 1] * fx;
        double bot = img[b + (y0 + 1) * w + x0] * (1 - fx) + img[b + (y0 + 1) * w + x0 + 1] * fx;
        return (float)(top * (1 - fy) + bot * fy);
    }
}
