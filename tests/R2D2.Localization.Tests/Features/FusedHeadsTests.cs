using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using static TorchSharp.torch;
using Xunit;

namespace R2D2.Localization.Tests.Features;

/// <summary>The fused CPU heads (<see cref="FusedHeads"/>, <see cref="R2D2Network.ForwardForKeypoints"/>)
/// against libtorch's heads of <see cref="R2D2Network.Forward"/> on the same network.</summary>
public class FusedHeadsTests
{
    private static float[] Values(Tensor t)
    {
        using var c = t.to(ScalarType.Float32).cpu().contiguous();
        return c.data<float>().ToArray();
    }

    [Theory]
    [InlineData("r2d2_WASF_N16", false, 161, 121, false)]
    [InlineData("r2d2_WASF_N16", false, 160, 96, false)]
    [InlineData("faster2d2_WASF_N16", false, 161, 121, false)]
    [InlineData("r2d2_WASF_N16", false, 77, 53, true)]      // Winograd trunk: channels-last features
    [InlineData("faster2d2_WASF_N16", false, 77, 53, true)] // the same, brought back for the upsampling
    public void FusedHeadsEqualLibtorchsHeads(string model, bool bf16, int w, int h, bool winograd) => Check(model, bf16, w, h, winograd);

    [BFloat16Theory]
    [InlineData("r2d2_WASF_N16", true, 161, 121, false)]   // bfloat16 trunk: the features converted first
    public void FusedHeadsEqualLibtorchsHeadsInBFloat16(string model, bool bf16, int w, int h, bool winograd) => Check(model, bf16, w, h, winograd);

    private static void Check(string model, bool bf16, int w, int h, bool winograd)
    {
        using var net = new R2D2Network(Checkpoint.Load(SharedData.Model(model)), CPU, new NetworkOptions { BFloat16 = bf16, Winograd = winograd });
        using var x = MultiScaleExtractor.NormalizedInput(ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png")).Crop(0, 0, w, h));
        using var full = net.Forward(x);
        using var maps = net.ForwardForKeypoints(x);
        Assert.Equal(full.Reliability.shape, maps.Reliability.shape);
        Assert.Equal(full.Repeatability.shape, maps.Repeatability.shape);
        // Scores in [0, 1]; the channel sums run in another order than libtorch's 1×1
        // convolution: float rounding only (the parity tests allow 1e-4 on the logits alone).
        foreach (var (a, b, name) in new[] { (full.Reliability, maps.Reliability, "reliability"), (full.Repeatability, maps.Repeatability, "repeatability") })
        {
            var u = Values(a); var v = Values(b);
            double worst = u.Zip(v, (p, q) => Math.Abs(p - q)).Max();
            Assert.True(worst <= 2e-6, $"{model} bf16={bf16} winograd={winograd} {w}×{h} {name}: max |difference| {worst}");
        }
        // Descriptors at every pixel of the map, as the normalized map has them.
        int dim = maps.Dim;
        long plane = full.Descriptors.shape[2] * full.Descriptors.shape[3];
        var pixels = Enumerable.Range(0, (int)plane).Select(i => (long)i).ToArray();
        var at = maps.DescriptorsAt(pixels);
        var map = Values(full.Descriptors);
        double err = 0;
        for (long p = 0; p < plane; p++)
            for (int c = 0; c < dim; c++)
                err = Math.Max(err, Math.Abs(at[p * dim + c] - map[c * plane + p]));
        Assert.True(err <= 1e-6, $"{model} bf16={bf16} winograd={winograd} {w}×{h} descriptors: max |difference| {err}");
    }

    [Fact]
    public void UnfusedHeadsGiveForwardsOutputs()
    {
        using var net = new R2D2Network(Checkpoint.Load(SharedData.Model("r2d2_WASF_N16")), CPU, new NetworkOptions { FusedHeads = false });
        using var x = MultiScaleExtractor.NormalizedInput(ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png")).Crop(0, 0, 96, 64));
        using var full = net.Forward(x);
        using var maps = net.ForwardForKeypoints(x);
        Assert.Equal(Values(full.Reliability), Values(maps.Reliability));
        Assert.Equal(Values(full.Repeatability), Values(maps.Repeatability));
        var at = maps.DescriptorsAt(new long[] { 0, 95, 64 * 96 - 1 });
        var map = Values(full.Descriptors);
        for (int c = 0; c < maps.Dim; c++) Assert.Equal(map[c * 64 * 96 + 95], at[maps.Dim + c]);
    }
}
