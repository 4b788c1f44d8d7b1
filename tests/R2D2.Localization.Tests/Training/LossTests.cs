using R2D2.Localization.Features;
using R2D2.Localization.Training;
using Xunit;
using static TorchSharp.torch;

namespace R2D2.Localization.Tests.Training;

public class LossTests
{
    private static float[] Values(Tensor t) => t.detach().cpu().contiguous().data<float>().ToArray();

    [Fact]
    public void QuantizerSplitsScoresBetweenNeighbouringBinsAndSaturatesTheEnds()
    {
        // 3 bins over [0, 1]: centres 1, 0.5, 0 (highest first), half-width 0.5.
        var q = Values(Losses.Quantize(tensor(new[] { 0.75f, 1.2f, -0.3f, 0.5f }), 3));
        Assert.Equal(new[] { 0.5f, 0.5f, 0f, 1f, 0f, 0f, 0f, 0f, 1f, 0f, 1f, 0f }, q.Select(v => MathF.Round(v, 5)));
    }

    [Fact]
    public void AveragePrecisionByHand()
    {
        // Ranking: positive 0.9, negative 0.6, positive 0.3 → exact AP = (1/1 + 2/3)/2.
        var scores = tensor(new[] { 0.9f, 0.6f, 0.3f }).view(1, 3);
        var labels = tensor(new[] { 1f, 0f, 1f }).view(1, 3);
        // 11 bins: every score on a bin centre, so the histogram AP is the exact one.
        Assert.Equal(5.0 / 6, Values(Losses.AveragePrecision(scores, labels, bins: 11))[0], 5);
        // 2 bins (centres 1 and 0): memberships [.9 .1], [.6 .4], [.3 .7]; h = [1.8, 1.2], r = [1.2, .8];
        // precision = [1.2/1.8, 2/3], recall increments [.6, .4] → AP = 2/3.
        Assert.Equal(2.0 / 3, Values(Losses.AveragePrecision(scores, labels, bins: 2))[0], 5);
        // A weight of 0 removes the negative: AP = 1.
        var weights = tensor(new[] { 1f, 0f, 1f }).view(1, 3);
        Assert.Equal(1.0, Values(Losses.AveragePrecision(scores, labels, weights, bins: 11))[0], 5);
    }

    [Fact]
    public void HistogramApTendsToTheExactApAsBinsGrow()
    {
        var rng = new Random(3);
        int n = 60;
        var s = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble()).ToArray();
        var l = Enumerable.Range(0, n).Select(i => i % 5 == 0 ? 1f : 0f).ToArray();
        // Exact AP: mean over positives of the precision at their rank.
        var order = Enumerable.Range(0, n).OrderByDescending(i => s[i]).ToArray();
        double exact = 0; int hits = 0;
        for (int r = 0; r < n; r++)
            if (l[order[r]] == 1) { hits++; exact += hits / (double)(r + 1); }
        exact /= hits;
        var errors = new[] { 5, 20, 100, 1000, 20000 }.Select(bins =>
            Math.Abs(Values(Losses.AveragePrecision(tensor(s).view(1, n), tensor(l).view(1, n), bins: bins))[0] - exact)).ToArray();
        Assert.True(errors[^1] < 1e-3, $"errors {string.Join(", ", errors)}");
        Assert.True(errors[^1] < errors[0] / 10, $"errors {string.Join(", ", errors)}");
    }

    [Fact]
    public void ScatteredHistogramEqualsTheSumOfMemberships()
    {
        var g = new TorchSharp.torch.Generator(11);
        var scores = rand(new long[] { 7, 50 }, generator: g).Mul(1.6).Sub(0.3); // beyond both ends too
        var w = rand(new long[] { 7, 50 }, generator: g);
        foreach (int bins in new[] { 2, 5, 20 })
        {
            var reference = Losses.Quantize(scores, bins).mul(w.unsqueeze(-1)).sum(1);
            Assert.True(Losses.Histogram(scores, w, bins).allclose(reference, rtol: 1e-5, atol: 1e-5), $"{bins} bins");
        }
    }

    [Fact]
    public void ReliabilityWeighting()
    {
        // 1 − [AP·R + κ(1 − R)] with AP .8, R .25, κ .5 = 1 − (.2 + .375).
        var v = Values(Losses.ReliabilityWeightedAp(tensor(new[] { 0.8f, 0.3f }), tensor(new[] { 0.25f, 0f }), 0.5));
        Assert.Equal(0.425, v[0], 5);
        Assert.Equal(0.5, v[1], 5); // unreliable: 1 − κ whatever the AP
    }

    [Fact]
    public void CosineSimilarityLossByHand()
    {
        Tensor Map(params float[] v) => tensor(v).view(1, 1, 2, 2);
        // One 2×2 window: orthogonal → 1; (1,0,0,0)·(1,1,0,0)/√2 → 1 − 1/√2; identical → 0.
        Assert.Equal(1.0, Values(Losses.CosineSimilarity(Map(1, 0, 0, 0), Map(0, 1, 0, 0), n: 2))[0], 5);
        Assert.Equal(1 - 1 / Math.Sqrt(2), Values(Losses.CosineSimilarity(Map(1, 0, 0, 0), Map(1, 1, 0, 0), n: 2))[0], 5);
        Assert.Equal(0.0, Values(Losses.CosineSimilarity(Map(0.2f, 0.5f, 0.1f, 0.7f), Map(0.2f, 0.5f, 0.1f, 0.7f), n: 2))[0], 5);
        // Masking the differing pixel makes the windows equal.
        Assert.Equal(0.0, Values(Losses.CosineSimilarity(Map(1, 1, 0, 1), Map(1, 0, 0, 1), Map(1, 0, 1, 1), n: 2))[0], 5);
    }

    [Fact]
    public void PeakinessMatchesADirectComputation()
    {
        var rng = new Random(5);
        int h = 5, w = 6, n = 2;
        var m = Enumerable.Range(0, h * w).Select(_ => (float)rng.NextDouble()).ToArray();
        float At(float[] a, int y, int x) => y < 0 || x < 0 || y >= h || x >= w ? 0 : a[y * w + x];
        var smooth = new float[h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float s = 0;
                for (int dy = -1; dy <= 1; dy++) for (int dx = -1; dx <= 1; dx++) s += At(m, y + dy, x + dx);
                smooth[y * w + x] = s / 9; // zero padding counted, as torch's avg_pool2d
            }
        double total = 0;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                float max = float.MinValue, sum = 0;
                for (int dy = -n / 2; dy <= n / 2; dy++)
                    for (int dx = -n / 2; dx <= n / 2; dx++)
                    {
                        int yy = y + dy, xx = x + dx;
                        if (yy >= 0 && xx >= 0 && yy < h && xx < w) max = Math.Max(max, smooth[yy * w + xx]);
                        sum += At(smooth, yy, xx);
                    }
                total += max - sum / ((n + 1) * (n + 1));
            }
        double expected = 1 - total / (h * w);
        Assert.Equal(expected, Values(Losses.Peakiness(tensor(m).view(1, 1, h, w), n))[0], 5);
        // A constant map has no peak at all: (far from the zero padding) max − mean = 0.
        Assert.True(Values(Losses.Peakiness(TorchScalars.Full(new long[] { 1, 1, 40, 40 }, 0.3f), 4))[0] > 0.95);
    }

    [Fact]
    public void WarpByFlowSamplesImageTwoAtTheFlow()
    {
        int h = 4, w = 5;
        var map2 = TorchScalars.Arange(h * w, dtype: float32).view(1, 1, h, w);
        var flow = new float[2 * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                flow[y * w + x] = x + 1;            // one pixel to the right
                flow[h * w + y * w + x] = y;
            }
        flow[0] = float.NaN;                          // unknown at (0,0)
        var (warped, valid) = Losses.WarpByFlow(map2, tensor(flow).view(1, 2, h, w));
        var v = Values(warped);
        var m = Values(valid);
        Assert.Equal(0, m[0]);
        Assert.Equal(0, v[0]);
        Assert.Equal(2, v[1], 4);        // (1,0) → image 2's (2,0) = 2
        Assert.Equal(w * 2 + 3, v[2 * w + 2], 4);
    }

    [Fact]
    public void SamplerPutsTheTruePositiveFirstAndExcludesNearbyDistractors()
    {
        int h = 48, w = 48, d = 16, shift = 3;
        var rng = new Rng(1);
        // Random unit descriptors; image 2 is image 1 shifted right by 3 px.
        var d1 = nn.functional.normalize(randn(new long[] { 1, d, h, w }, generator: new TorchSharp.torch.Generator(7)), p: 2, dim: 1);
        var d2 = d1.roll(shift, 3);
        var flow = new float[2 * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) { flow[y * w + x] = x + shift; flow[h * w + y * w + x] = y; }
        var pair = new TrainingPair(new float[3 * h * w], new float[3 * h * w], flow, h, w, Dense: true);
        var sampler = new CorrespondenceSampler(new SamplerSettings { Border = 8, QueryStep = 8, DistractorStep = 4 });
        var rel = TorchScalars.Full(new long[] { 1, 1, h, w }, 0.5f);
        var s = sampler.Sample(d1, d2, rel, rel, new[] { pair }, rng);
        Assert.True(s.Queries > 0);
        var scores = s.Scores.cpu();
        for (int q = 0; q < s.Queries; q++)
            Assert.Equal(1.0, scores[q, 0].item<float>(), 4); // the positive is the query itself
        Assert.All(Values(s.Labels.narrow(1, 1, s.Labels.shape[1] - 1)), v => Assert.Equal(0, v));
        // Each query loses the distractors within 5 px of its target: a 4-px grid puts 4 to 9 there.
        var removed = Values(s.Weights.Eq(0).sum(1).to(float32));
        Assert.All(removed, v => Assert.InRange(v, 4, 9));
        Assert.All(Values(s.Reliability), v => Assert.Equal(0.5, v, 5));
        // AP with perfect descriptors is high: every negative is a random direction.
        var ap = Values(Losses.AveragePrecision(s.Scores, s.Labels, s.Weights));
        Assert.True(ap.Average() > 0.9, $"mean AP {ap.Average()}");
    }
}
