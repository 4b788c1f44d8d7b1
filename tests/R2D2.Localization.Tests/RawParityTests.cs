using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace R2D2.Localization.Tests;

/// <summary>One forward pass on the 160×120 crop of boat.png against the official outputs.</summary>
public class RawParityTests
{
    private static RgbImage Crop() => ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png")).Crop(0, 0, 160, 120);

    [Fact]
    public void InputNormalizationAndResizeMatchTorchvision()
    {
        var (rgb, _) = SharedData.Array<byte>("reference", "r2d2", "raw", "boat_crop160x120_rgb.u8");
        Assert.Equal(rgb, Crop().Pixels);
        using var input = MultiScaleExtractor.NormalizedInput(Crop());
        var (expected, _) = SharedData.Array<float>("reference", "r2d2", "raw", "boat_crop160x120_input.f32");
        var e1 = MaxAbs(input.data<float>().ToArray(), expected); Assert.True(e1 <= 1e-6, $"input error {e1}");
        using var resized = nn.functional.interpolate(input, size: new long[] { 101, 135 }, mode: InterpolationMode.Bilinear, align_corners: false);
        var (expR, _) = SharedData.Array<float>("reference", "r2d2", "raw", "boat_crop160x120_input_resized_135x101.f32");
        var e2 = MaxAbs(resized.contiguous().data<float>().ToArray(), expR); Assert.True(e2 <= 1e-5, $"resize error {e2}"); // torch 2.10 vs 1.13 bilinear kernels differ in the last bits
    }

    public static IEnumerable<object[]> Cases() =>
        from m in SharedData.Models from fold in new[] { false, true } select new object[] { m, fold };

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutputsEqualOfficial(string model, bool optimized)
    {
        var options = new NetworkOptions { FoldBatchNorm = optimized, ChannelsLast = optimized };
        using var net = new R2D2Network(Checkpoint.Load(SharedData.Model(model)), CPU, options);
        using var input = MultiScaleExtractor.NormalizedInput(Crop());
        using var output = net.Forward(input, keepLogits: true);
        string P(string what) => $"{model}__boat_crop160x120__{what}.f32";
        Compare(output.Descriptors, P("descriptors"), 1e-4);
        Compare(output.Reliability, P("reliability"), 1e-4);
        Compare(output.Repeatability, P("repeatability"), 1e-4);
        Compare(output.ReliabilityLogits!, P("reliability_logits"), optimized ? 1e-3 : 1e-4);
        Compare(output.RepeatabilityLogits!, P("repeatability_logits"), optimized ? 1e-3 : 1e-4);

        // Local maxima passing both thresholds, in torch.nonzero order.
        var (nms, shape) = SharedData.Array<long>("reference", "r2d2", "raw", $"{model}__boat_crop160x120__nms_xy.i64");
        var settings = new ExtractionSettings();
        var rep = output.Repeatability;
        var maxima = rep.eq(nn.functional.max_pool2d(rep, new long[] { 3, 3 }, new long[] { 1, 1 }, new long[] { 1, 1 }))
            .logical_and(rep.ge(settings.RepeatabilityThreshold)).logical_and(output.Reliability.ge(settings.ReliabilityThreshold));
        var idx = maxima.view(-1).nonzero().view(-1).data<long>().ToArray();
        long w = rep.shape[3];
        var ours = idx.SelectMany(i => new[] { i % w, i / w }).ToArray();
        Assert.Equal(shape[0], ours.Length / 2);
        Assert.Equal(nms, ours);
    }

    private static void Compare(Tensor t, string file, double tol)
    {
        var (expected, shape) = SharedData.Array<float>("reference", "r2d2", "raw", file);
        Assert.Equal(shape, t.shape.Skip(1).ToArray());
        double err = MaxAbs(t.contiguous().data<float>().ToArray(), expected);
        Assert.True(err <= tol, $"{file}: max abs error {err:g3} > {tol:g1}");
    }

    internal static double MaxAbs(float[] a, float[] b)
    {
        Assert.Equal(b.Length, a.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }
}
