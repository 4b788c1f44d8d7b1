using R2D2.Localization.Mapping;
using Xunit;

namespace R2D2.Localization.Tests.Mapping;

/// <summary>The VLAD codebook: freeing k-means' temporaries per step (memory bounded by the samples,
/// not by samples × clusters) left its result exactly as it was.</summary>
public class VladTests
{
    [Fact]
    public void TheCodebookOfFixedSamplesIsUnchanged()
    {
        var r = new Rng(5);
        var samples = new float[3000 * 16];
        for (int i = 0; i < samples.Length; i++) samples[i] = (float)r.Normal();
        var cb = Vlad.TrainCodebook(samples, 16, 12, seed: 3);
        Assert.Equal(12 * 16, cb.Length);
        // A hash of the codebook's bits, recorded before the change (and again when k-means++'s
        // seeding moved from System.Random to Rng, the one generator).
        long h = 0;
        foreach (var v in cb) h = h * 31 + BitConverter.SingleToInt32Bits(v);
        Assert.Equal(-8757984387916709504L, h);
    }
}
