using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;
using F = TorchSharp.torch.nn.functional;

namespace R2D2.Localization.Tests.Features;

/// <summary>Space-to-batch of the dilated convolutions (<see cref="PhaseSplit"/>,
/// <see cref="NetworkOptions.SplitDilated"/>): the split-layout convolution is the dilated one.</summary>
public class PhaseSplitTests
{
    private static double MaxAbs(Tensor a, Tensor b)
    {
        using var d = (a - b).abs().max();
        return Value(d);
    }

    /// <summary>A one-element tensor's value, read without a Scalar (ToDouble makes one nothing holds).</summary>
    private static double Value(Tensor t)
    {
        using var d = t.to(ScalarType.Float64).contiguous();
        return d.data<double>().ToArray()[0];
    }

    [Theory]
    [InlineData(3, 2, 2, 16, 2)]   // conv 4-5 of R2D2
    [InlineData(3, 4, 4, 16, 4)]   // conv 6
    [InlineData(2, 2, 4, 16, 2)]   // conv 7: 2×2, padding half the dilation
    [InlineData(2, 4, 8, 16, 4)]   // conv 8
    [InlineData(2, 8, 16, 16, 8)]  // conv 9
    [InlineData(2, 8, 16, 2, 2)]   // capped by the option
    [InlineData(3, 4, 4, 1, 1)]    // off
    [InlineData(3, 1, 1, 16, 1)]   // undilated
    [InlineData(3, 0, 2, 16, 1)]   // output smaller than the input: not split
    [InlineData(3, 6, 6, 16, 2)]   // dilation 6: only 2 divides it
    public void FactorDividesPaddingAndDilation(long k, long p, long d, int max, int expected) =>
        Assert.Equal(expected, PhaseSplit.Factor(k, p, d, max));

    [Theory]
    [InlineData(16, 16, 2)]
    [InlineData(23, 17, 2)]
    [InlineData(23, 17, 4)]
    [InlineData(37, 29, 8)]
    [InlineData(5, 3, 8)]          // smaller than the factor: empty phases
    public void MergeUndoesSplit(int h, int w, int f)
    {
        foreach (var dtype in new[] { float32, bfloat16, float64 })
            RoundTrip(h, w, f, dtype);
    }

    private static void RoundTrip(int h, int w, int f, ScalarType dtype)
    {
        using var x = randn(new long[] { 2, 3, h, w }, dtype: dtype);
        var parts = PhaseSplit.Split(x, f);
        var blocks = PhaseSplit.Blocks(h, w, f);
        Assert.Equal(blocks.Count, parts.Length);
        Assert.Equal(h * (long)w, blocks.Sum(b => b.Rows * b.Cols * b.Height * b.Width));
        // Part 0, sub-image 0 is x[:, :, 0::f, 0::f].
        using (var first = x.index(TensorIndex.Colon, TensorIndex.Colon, TensorIndex.Slice(0, null, f), TensorIndex.Slice(0, null, f)))
        using (var p0 = parts[0].narrow(0, 0, 2))
            Assert.Equal(0.0, MaxAbs(first, p0));
        using var y = PhaseSplit.Merge(parts, f, h, w);
        Assert.Equal(0.0, MaxAbs(x, y));
        foreach (var p in parts) p.Dispose();
    }

    /// <summary>Random input, odd and even sizes, both kernel shapes of R2D2 (3×3 with padding d,
    /// 2×2 with padding d/2), every factor the padding and dilation allow: float64 equal to
    /// rounding, float32 within a few ulps of the sums.</summary>
    [Theory]
    [InlineData(3, 2)]
    [InlineData(3, 4)]
    [InlineData(3, 8)]
    [InlineData(2, 4)]
    [InlineData(2, 8)]
    [InlineData(2, 16)]
    public void SplitConvolutionEqualsDilatedConvolution(int k, int d)
    {
        long p = (k - 1) * d / 2;
        var rng = new Random(k * 100 + d);
        foreach (var (h, w) in new[] { (33, 21), (40, 24), (17, 50), (7, 5) })
            foreach (var dtype in new[] { float64, float32 })
                for (int f = 2; f <= 16; f *= 2)
                {
                    if (PhaseSplit.Factor(k, p, d, f) != f) continue;
                    using var g = new Generator((ulong)rng.Next());
                    using var x = randn(new long[] { 1, 6, h, w }, dtype: dtype, generator: g);
                    using var wt = randn(new long[] { 5, 6, k, k }, dtype: dtype, generator: g);
                    using var b = randn(new long[] { 5 }, dtype: dtype, generator: g);
                    using var expected = F.conv2d(x, wt, b, padding: new[] { p, p }, dilation: new long[] { d, d });
                    var parts = PhaseSplit.Split(x, f);
                    var outs = parts.Select(q => F.conv2d(q, wt, b, padding: new[] { p / f, p / f }, dilation: new long[] { d / f, d / f })).ToArray();
                    using var actual = PhaseSplit.Merge(outs, f, h, w);
                    Assert.Equal(expected.shape, actual.shape);
                    double tol = dtype == float64 ? 1e-12 : 1e-5;
                    using var scale = expected.abs().max();
                    double diff = MaxAbs(expected, actual);
                    Assert.True(diff <= tol * Math.Max(1, Value(scale)), $"k={k} d={d} f={f} {h}×{w} {dtype}: max |difference| {diff}");
                    foreach (var t in parts.Concat(outs)) t.Dispose();
                }
    }

    private static Tensor Input(int w, int h) =>
        MultiScaleExtractor.NormalizedInput(ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png")).Crop(0, 0, w, h));

    /// <summary>The whole network split (up to 16: factors 2, 2, 4, 2, 4, 8 for convolutions 4-9,
    /// with the reshuffles between them; or only the last one or two convolutions) against
    /// unsplit, at an odd and an even size, in both layouts.</summary>
    [Theory]
    [InlineData("r2d2_WASF_N16", 16, 2, true)]
    [InlineData("r2d2_WASF_N16", 2, 2, true)]
    [InlineData("r2d2_WASF_N16", 4, 16, true)]  // one split convolution: dense in, dense out
    [InlineData("r2d2_WASF_N16", 4, 8, true)]
    [InlineData("r2d2_WASF_N16", 16, 2, false)]
    [InlineData("r2d2_WASF_N16", 4, 16, false)]
    [InlineData("faster2d2_WASF_N16", 16, 2, true)]
    [InlineData("faster2d2_WASF_N16", 4, 8, true)]
    public void SplitNetworkEqualsUnsplit(string model, int split, int minDilation, bool oneDnn)
    {
        var ckpt = Checkpoint.Load(SharedData.Model(model));
        using var a = new R2D2Network(ckpt, CPU, new NetworkOptions { SplitDilated = 1, OneDnnLayout = oneDnn, Winograd = false });
        using var b = new R2D2Network(ckpt, CPU, new NetworkOptions { SplitDilated = split, SplitMinDilation = minDilation, OneDnnLayout = oneDnn, Winograd = false });
        foreach (var (w, h) in new[] { (161, 121), (160, 96) })
        {
            using var x = Input(w, h);
            using var p = a.Forward(x, keepLogits: true);
            using var q = b.Forward(x, keepLogits: true);
            foreach (var (u, v, name) in new[] { (p.Descriptors, q.Descriptors, "descriptors"), (p.ReliabilityLogits!, q.ReliabilityLogits!, "reliability logits"),
                         (p.RepeatabilityLogits!, q.RepeatabilityLogits!, "repeatability logits") })
            {
                Assert.Equal(u.shape, v.shape);
                using var scale = u.abs().max();
                double diff = MaxAbs(u, v);
                // float32 summation order only: the bound of the parity tests with folded batch norms.
                Assert.True(diff <= 2e-5 * Value(scale), $"{model} split {split} from dilation {minDilation} {w}×{h} {name}: max |difference| {diff} of {Value(scale)}");
            }
        }
    }

    [Fact]
    public void ProfileReportsTheSplit()
    {
        using var net = new R2D2Network(Checkpoint.Load(SharedData.Model("r2d2_WASF_N16")), CPU, new NetworkOptions { SplitDilated = 16, SplitMinDilation = 2, Winograd = false });
        using var x = Input(161, 121);
        var layers = net.ProfileConvolutions(x, rounds: 1);
        Assert.Equal(new[] { 1, 1, 1, 2, 2, 4, 2, 4, 8 }, layers.Select(l => l.Split));
        Assert.All(layers, l => Assert.True(l.Width == 161 && l.Height == 121 && l.LayoutSeconds <= l.Seconds));
        Assert.Equal(0, layers[0].LayoutSeconds);
        // Direct float32 convolutions split the last one (dilation 16) by 4 (bfloat16 none: below); the
        // Winograd ones (the default on AVX-512 and AVX2 CPUs) take any dilation as it is.
        using var direct = new R2D2Network(Checkpoint.Load(SharedData.Model("r2d2_WASF_N16")), CPU, new NetworkOptions { Winograd = false });
        Assert.Equal(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 4 }, direct.ProfileConvolutions(x, rounds: 1).Select(l => l.Split));
        using var byDefault = new R2D2Network(Checkpoint.Load(SharedData.Model("r2d2_WASF_N16")), CPU);
        Assert.Equal(WinogradConvolution.Accelerated ? new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1 } : new[] { 1, 1, 1, 1, 1, 1, 1, 1, 4 },
            byDefault.ProfileConvolutions(x, rounds: 1).Select(l => l.Split));
    }

    [BFloat16Fact]
    public void BFloat16SplitsNothing()
    {
        using var x = Input(161, 121);
        using var bf16 = new R2D2Network(Checkpoint.Load(SharedData.Model("r2d2_WASF_N16")), CPU, new NetworkOptions { BFloat16 = true });
        Assert.All(bf16.ProfileConvolutions(x, rounds: 1), l => Assert.Equal(1, l.Split));
    }
}
