using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using static TorchSharp.torch;
using Xunit;

namespace R2D2.Localization.Tests.Features;

/// <summary>The oneDNN blocked-layout trunk (<see cref="NetworkOptions.OneDnnLayout"/>) runs the
/// same kernels as the plain NCHW convolutions without the reorders between them: equal outputs.</summary>
public class OneDnnLayoutTests
{
    private static Tensor Input() =>
        MultiScaleExtractor.NormalizedInput(ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png")).Crop(0, 0, 160, 120));

    private static float[] Values(Tensor t) => t.contiguous().data<float>().ToArray();

    [Theory]
    [InlineData("r2d2_WASF_N16", false)]
    [InlineData("faster2d2_WASF_N16", false)] // max-pool and upsample in between: leaves and re-enters the layout
    public void BlockedLayoutEqualsNchw(string model, bool bf16) => Check(model, bf16);

    [BFloat16Theory]
    [InlineData("r2d2_WASF_N16", true)]
    public void BlockedLayoutEqualsNchwInBFloat16(string model, bool bf16) => Check(model, bf16);

    private static void Check(string model, bool bf16)
    {
        var ckpt = Checkpoint.Load(SharedData.Model(model));
        using var blocked = new R2D2Network(ckpt, CPU, new NetworkOptions { BFloat16 = bf16, Winograd = false });
        using var plain = new R2D2Network(ckpt, CPU, new NetworkOptions { BFloat16 = bf16, OneDnnLayout = false, Winograd = false });
        Assert.True(blocked.UsesOneDnnLayout);
        Assert.False(plain.UsesOneDnnLayout);
        using var x = Input();
        using var a = blocked.Forward(x);
        using var b = plain.Forward(x);
        foreach (var (p, q) in new[] { (a.Descriptors, b.Descriptors), (a.Reliability, b.Reliability), (a.Repeatability, b.Repeatability) })
        {
            Assert.Equal(q.shape, p.shape);
            var (u, v) = (Values(p), Values(q));
            double worst = u.Zip(v, (s, t) => Math.Abs(s - t)).Max();
            // float32: the same oneDNN kernels, bit-identical; bfloat16: the NCHW path rounds the
            // reordered activations the same way, allow the last bf16 bit of a few values.
            Assert.True(worst <= (bf16 ? 2e-2 : 0), $"{model} bf16={bf16}: max |difference| {worst}");
        }
    }

    [Fact]
    public void ChannelsLastKeepsTheNchwPath()
    {
        using var net = new R2D2Network(Checkpoint.Load(SharedData.Model("r2d2_WASF_N16")), CPU, new NetworkOptions { ChannelsLast = true });
        Assert.False(net.UsesOneDnnLayout);
    }

    [Fact]
    public void ProfileTimesEachConvolution()
    {
        using var net = new R2D2Network(Checkpoint.Load(SharedData.Model("r2d2_WASF_N16")), CPU);
        using var x = Input();
        var layers = net.ProfileConvolutions(x, rounds: 1);
        Assert.Equal(9, layers.Count);
        Assert.All(layers, l => Assert.True(l.Seconds > 0 && l.Width == 160 && l.Height == 120));
        Assert.Equal(new long[] { 3, 32, 32, 64, 64, 128, 128, 128, 128 }, layers.Select(l => l.InChannels));
        Assert.Equal(new long[] { 1, 1, 1, 2, 2, 4, 4, 8, 16 }, layers.Select(l => l.Dilation));
        // Σ 2·MACs over the layers = the architecture's count for this image.
        Assert.Equal(2 * net.Architecture.MacsPerPixel * 160 * 120, layers.Sum(l => l.Flop), 1e-6);
    }

    [Fact]
    public void MultiplyAddsPerPixel()
    {
        // 3·32·9 + 32·32·9 + 32·64·9 + 64·64·9 + 64·128·9 + 128·128·9 + 3·128·128·4
        Assert.Equal(483168, R2D2Architecture.Parse("Quad_L2Net_ConfCFS()").MacsPerPixel);
        // Fast: the convolutions after the 2×2 pooling (which follows the third) run on a quarter of the pixels.
        Assert.Equal(864 + 9216 + 18432 + (36864 + 73728 + 147456 + 3 * 65536) / 4.0,
            R2D2Architecture.Parse("Fast_Quad_L2Net_ConfCFS()").MacsPerPixel);
    }
}
