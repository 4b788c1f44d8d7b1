using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using static TorchSharp.torch;
using Xunit;
using F = TorchSharp.torch.nn.functional;

namespace R2D2.Localization.Tests.Features;

/// <summary>Winograd's convolution (<see cref="WinogradConvolution"/>) against libtorch's direct
/// one, and the network with it (<see cref="NetworkOptions.Winograd"/>) against the network without.
/// Both vector widths run on any CPU (emulated, slow but exact, where it lacks them), hence the small sizes.</summary>
public class WinogradConvolutionTests
{
    private static float[] Values(Tensor t)
    {
        using var c = t.to(ScalarType.Float32).cpu().contiguous();
        return c.data<float>().ToArray();
    }

    /// <summary>Runs the convolution on an N=1 NCHW tensor (converted to channels last and back).</summary>
    private static unsafe float[] Run(WinogradConvolution conv, Tensor x, bool relu, int threads)
    {
        long h = x.shape[2], w = x.shape[3];
        using var view = x.permute(0, 2, 3, 1);
        using var nhwc = view.contiguous();
        using var y = zeros(1, h, w, conv.OutChannels);
        fixed (byte* xp = nhwc.bytes, yp = y.bytes) conv.Run((float*)xp, (float*)yp, (int)h, (int)w, relu, threads);
        using var nchw = y.permute(0, 3, 1, 2);
        return Values(nchw);
    }

    [Theory]
    [InlineData(16, 64, 3, 1, 13, 11, false)]
    [InlineData(32, 64, 3, 2, 20, 17, true)]    // R2D2's convs 4-5
    [InlineData(64, 128, 3, 4, 23, 29, true)]   // conv 6
    [InlineData(128, 64, 2, 4, 19, 22, false)]  // conv 7: 2×2, padding half the dilation
    [InlineData(16, 64, 2, 8, 30, 9, true)]     // conv 8
    [InlineData(32, 64, 2, 16, 37, 40, false)]  // conv 9
    [InlineData(16, 64, 3, 16, 10, 7, true)]    // dilation beyond the map: only the centre tap
    [InlineData(16, 64, 2, 2, 1, 1, false)]     // one pixel
    [InlineData(16, 64, 3, 3, 14, 25, false)]   // odd dilation
    [InlineData(32, 32, 3, 1, 15, 12, true)]    // conv 2: a register block of 32 output channels
    [InlineData(48, 96, 3, 1, 11, 13, true)]    // r2d2_WASF_N8_big's conv 3: 64 + 32
    [InlineData(96, 48, 2, 4, 9, 17, false)]    // 48
    [InlineData(16, 80, 3, 2, 8, 8, false)]     // 64 + 16
    public void EqualsTheDirectConvolution(int cin, int cout, int k, int d, int h, int w, bool relu)
    {
        int pad = d * (k - 1) / 2;
        var gen = new TorchSharp.torch.Generator((ulong)(1234 + cin + k * 7 + d * 13 + h));
        using var x = randn(new long[] { 1, cin, h, w }, generator: gen).relu_();
        using var weight = randn(new long[] { cout, cin, k, k }, generator: gen).MulInPlace(1.0 / Math.Sqrt(cin * k * k));
        using var bias = randn(new long[] { cout }, generator: gen).MulInPlace(0.1);
        using var direct0 = F.conv2d(x, weight, bias, padding: new long[] { pad, pad }, dilation: new long[] { d, d });
        using var direct = relu ? direct0.relu() : direct0.alias();
        var expected = Values(direct);
        using var conv = new WinogradConvolution(Values(weight), Values(bias), cout, cin, k, pad, d, vectorBits: 512);
        Assert.Equal(5 - k, conv.TileSize);
        var got = Run(conv, x, relu, threads: 2);
        // The AVX2 kernel: the same sums in the same order per lane, so the same bits.
        using (var conv256 = new WinogradConvolution(Values(weight), Values(bias), cout, cin, k, pad, d, vectorBits: 256))
            Assert.Equal(got, Run(conv256, x, relu, threads: 2));
        Assert.Equal(expected.Length, got.Length);
        double scale = Math.Max(1, expected.Max(Math.Abs)), worst = 0;
        for (int i = 0; i < got.Length; i++) worst = Math.Max(worst, Math.Abs(got[i] - expected[i]));
        // Float rounding only: transforms that add and halve, 16 products instead of 36 (measured
        // ~6e-7 of the largest output at 128 channels); a wrong tap or tile edge would be O(1).
        Assert.True(worst <= 1e-5 * scale, $"{cin}→{cout} {k}×{k} d{d} {h}×{w}: max |difference| {worst} (largest output {scale})");
        if (relu) Assert.All(got, v => Assert.True(v >= 0));
        // Each tile is computed by one thread in a fixed order: the same bits on any thread count.
        Assert.Equal(got, Run(conv, x, relu, threads: 1));
    }

    [Theory]
    [InlineData(3, 32, 3, 1, 1)]    // R2D2's first convolution: 3 channels in
    [InlineData(32, 40, 3, 1, 1)]   // 40 out: not a multiple of 16
    [InlineData(24, 64, 3, 1, 1)]   // 24 in
    [InlineData(64, 64, 5, 2, 1)]   // 5×5
    [InlineData(64, 64, 3, 0, 1)]   // output smaller than the input
    public void RefusesWhatItCannotRun(int cin, int cout, int k, int pad, int d)
    {
        Assert.False(WinogradConvolution.Supports(cin, cout, k, pad, d));
        Assert.Throws<ArgumentException>(() => new WinogradConvolution(new float[cout * cin * k * k], new float[cout], cout, cin, k, pad, d));
    }

    [Fact]
    public void NetworkWithWinogradMatchesTheDirectNetwork()
    {
        var ckpt = Checkpoint.Load(SharedData.Model("r2d2_WASF_N16"));
        using var wino = new R2D2Network(ckpt, CPU, new NetworkOptions { Winograd = true });
        using var direct = new R2D2Network(ckpt, CPU, new NetworkOptions { Winograd = false });
        var boat = ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png"));
        using var x1 = MultiScaleExtractor.NormalizedInput(boat.Crop(100, 80, 67, 45));
        using var x2 = MultiScaleExtractor.NormalizedInput(boat.Crop(300, 200, 67, 45));
        using var x = cat(new[] { x1, x2 }, 0); // a batch of two: each image its own map
        using var a = wino.Forward(x);
        using var b = direct.Forward(x);
        foreach (var (p, q, name, bound) in new[] { (a.Reliability, b.Reliability, "reliability", 1e-5), (a.Repeatability, b.Repeatability, "repeatability", 1e-5), (a.Descriptors, b.Descriptors, "descriptors", 1e-5) })
        {
            Assert.Equal(q.shape, p.shape);
            var u = Values(p); var v = Values(q);
            double worst = u.Zip(v, (s, t) => Math.Abs(s - t)).Max();
            Assert.True(worst <= bound, $"{name}: max |difference| {worst}");
        }
    }
}
