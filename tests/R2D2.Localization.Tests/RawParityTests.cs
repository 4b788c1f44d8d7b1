using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;
using Xunit.Abstractions;

namespace R2D2.Localization.Tests;

/// <summary>One forward pass on the 160×120 crop of boat.png against the official outputs.</summary>
public class RawParityTests
{
    private readonly ITestOutputHelper _out;
    public RawParityTests(ITestOutputHelper output) => _out = output;

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
        from m in SharedData.Models
        from v in new[] { (Fold: false, Nhwc: false), (Fold: true, Nhwc: false), (Fold: true, Nhwc: true) }
        select new object[] { m, v.Fold, v.Nhwc };

    // Bounds that hold on any x86-64 CPU. fp32 convolutions sum in an order that depends on the
    // kernel (AVX2 vs AVX-512, oneDNN vs MKL), so the same network moves by a few ULPs of the
    // largest value. Measured with tools/parity/isa-spread on an AMD EPYC with AVX-512 (max abs
    // error against the goldens of ../shared, which PyTorch 1.13 wrote on yet another CPU):
    //   PyTorch 1.13, default ISA           repeatability logits 6.1e-5 .. 2.4e-4 (|max| 337..628), others <= 3.8e-6
    //   PyTorch 1.13, AVX2 only             repeatability logits 1.8e-4 .. 4.0e-4 (relative to |max| <= 7.9e-7), others <= 9.5e-6
    //   TorchSharp/libtorch 2.10, both ISAs see the figures printed by this test (exact path <= 7.9e-7 relative;
    //   batch norm folded into the convolutions <= 2.5e-6 relative)
    // Chosen: error <= 1e-4 + rel * max|golden|, rel = 4e-6 exact (5x the worst spread measured) and
    // 2e-5 with folding (its own rounding comes on top). For the logits of magnitude ~600 that is
    // ~2.6e-3 (exact), far below what any real error (a wrong layer, a wrong constant) gives.
    private const double AbsoluteFloor = 1e-4;
    private static double Relative(bool optimized) => optimized ? 2e-5 : 4e-6;

    [Theory]
    [MemberData(nameof(Cases))]
    public void OutputsEqualOfficial(string model, bool optimized, bool channelsLast)
    {
        // Default layout: oneDNN's blocked one on the CPU; channels-last: NHWC convolutions.
        var options = new NetworkOptions { FoldBatchNorm = optimized, ChannelsLast = channelsLast };
        using var net = new R2D2Network(Checkpoint.Load(SharedData.Model(model)), CPU, options);
        using var input = MultiScaleExtractor.NormalizedInput(Crop());
        using var output = net.Forward(input, keepLogits: true);
        string P(string what) => $"{model}__boat_crop160x120__{what}.f32";
        double rel = Relative(optimized);
        var bounds = new Dictionary<string, double>();
        foreach (var (t, what) in new[] { (output.Descriptors, "descriptors"), (output.Reliability, "reliability"), (output.Repeatability, "repeatability"),
                                         (output.ReliabilityLogits!, "reliability_logits"), (output.RepeatabilityLogits!, "repeatability_logits") })
            bounds[what] = Compare(t, P(what), rel);

        // Local maxima passing both thresholds, in torch.nonzero order. A pixel may differ from the
        // reference only where the bound makes it undecidable: its score within the bound of a
        // threshold, or a 3×3 neighbour within the bound of its value (a near tie).
        var (nms, _) = SharedData.Array<long>("reference", "r2d2", "raw", $"{model}__boat_crop160x120__nms_xy.i64");
        var settings = new ExtractionSettings();
        var rep = output.Repeatability;
        var maxima = rep.eq(nn.functional.max_pool2d(rep, new long[] { 3, 3 }, new long[] { 1, 1 }, new long[] { 1, 1 }))
            .logical_and(rep.Ge(settings.RepeatabilityThreshold)).logical_and(output.Reliability.Ge(settings.ReliabilityThreshold));
        var idx = maxima.view(-1).nonzero().view(-1).data<long>().ToArray();
        int h = (int)rep.shape[2], w = (int)rep.shape[3];
        var repV = rep.contiguous().data<float>().ToArray();
        var relV = output.Reliability.contiguous().data<float>().ToArray();
        var ours = idx.Select(i => (i % w, i / w)).ToHashSet();
        var theirs = Enumerable.Range(0, nms.Length / 2).Select(k => (nms[2 * k], nms[2 * k + 1])).ToHashSet();
        double bRep = bounds["repeatability"], bRel = bounds["reliability"];
        bool Undecidable((long X, long Y) p)
        {
            int i = (int)(p.Y * w + p.X);
            if (Math.Abs(repV[i] - settings.RepeatabilityThreshold) <= bRep || Math.Abs(relV[i] - settings.ReliabilityThreshold) <= bRel) return true;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++)
                {
                    long x = p.X + dx, y = p.Y + dy;
                    if ((dx != 0 || dy != 0) && x >= 0 && y >= 0 && x < w && y < h && Math.Abs(repV[y * w + x] - repV[i]) <= 2 * bRep) return true;
                }
            return false;
        }
        var differing = ours.Except(theirs).Concat(theirs.Except(ours)).ToList();
        var unexplained = differing.Where(p => !Undecidable(p)).ToList();
        _out.WriteLine($"{model} optimized={optimized}: {theirs.Count} reference maxima, {ours.Count} ours, {differing.Count} differ (all within the bound: {unexplained.Count == 0})");
        Assert.True(unexplained.Count == 0, $"maxima differ outside the bound at {string.Join(", ", unexplained.Take(5))}");
        if (differing.Count == 0) Assert.Equal(nms, idx.SelectMany(i => new[] { i % w, i / w }).ToArray()); // same order too
    }

    /// <summary>Compares with a golden; returns the bound used, which the maxima check reuses.</summary>
    private double Compare(Tensor t, string file, double rel)
    {
        var (expected, shape) = SharedData.Array<float>("reference", "r2d2", "raw", file);
        Assert.Equal(shape, t.shape.Skip(1).ToArray());
        double err = MaxAbs(t.contiguous().data<float>().ToArray(), expected);
        double scale = expected.Max(v => Math.Abs((double)v));
        double bound = AbsoluteFloor + rel * scale;
        _out.WriteLine($"{file}: max abs error {err:e2} (relative to max |value| {scale:g4}: {err / scale:e2}), bound {bound:e2}");
        Assert.True(err <= bound, $"{file}: max abs error {err:g3} > {bound:g3}");
        return bound;
    }

    internal static double MaxAbs(float[] a, float[] b)
    {
        Assert.Equal(b.Length, a.Length);
        double m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }
}
