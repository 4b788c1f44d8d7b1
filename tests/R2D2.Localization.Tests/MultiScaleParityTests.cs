using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using Xunit;
using Xunit.Abstractions;

namespace R2D2.Localization.Tests;

/// <summary>Default multi-scale extraction against the official extract.py outputs.</summary>
public class MultiScaleParityTests
{
    private readonly ITestOutputHelper _out;
    public MultiScaleParityTests(ITestOutputHelper output) => _out = output;

    [Theory]
    [InlineData("boat", "r2d2_WASF_N16")]
    [InlineData("peppers", "r2d2_WASF_N16")]
    [InlineData("test", "r2d2_WASF_N16")]
    [InlineData("boat", "r2d2_WASF_N8_big")]
    public void KeypointsDescriptorsAndScoresMatchOfficial(string image, string model)
    {
        using var net = new R2D2Network(Checkpoint.Load(SharedData.Model(model)));
        var extractor = new MultiScaleExtractor(net);
        var features = extractor.Extract(ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", image + ".png")));
        var r = Parity.Compare(features, $"{image}__{model}");
        _out.WriteLine(r.ToString());
        Assert.True(r.Matched >= 0.99, r.ToString());
        Assert.True(r.MinCosine >= 0.999, r.ToString());
        Assert.True(r.MaxScoreDiff <= 1e-4, r.ToString());
    }
}

/// <summary>Compares features with a reference multiscale output as sets (the reference has tied scores).</summary>
public static class Parity
{
    public sealed record Result(int Reference, int Ours, double Matched, double MinCosine, double MaxScoreDiff)
    {
        public override string ToString() =>
            $"reference {Reference}, ours {Ours}: matched {Matched:P2}, min cosine {MinCosine:F6}, max score diff {MaxScoreDiff:g3}";
    }

    public static Result Compare(FeatureSet ours, string stem)
    {
        var kp = SharedData.Raw<float>("reference", "r2d2", "multiscale", stem + ".keypoints.f32");
        var desc = SharedData.Raw<float>("reference", "r2d2", "multiscale", stem + ".descriptors.f32");
        var scores = SharedData.Raw<float>("reference", "r2d2", "multiscale", stem + ".scores.f32");
        int n = scores.Length, dim = ours.Dim;
        // Index ours by (scale, integer cell) for a fast neighbour search.
        var grid = new Dictionary<(float, int, int), List<int>>();
        for (int i = 0; i < ours.Count; i++)
        {
            var key = (ours.Scale[i], (int)MathF.Floor(ours.OfficialX[i]), (int)MathF.Floor(ours.OfficialY[i]));
            if (!grid.TryGetValue(key, out var l)) grid[key] = l = new List<int>();
            l.Add(i);
        }
        int matched = 0;
        double minCos = 1, maxScore = 0;
        for (int r = 0; r < n; r++)
        {
            float x = kp[3 * r], y = kp[3 * r + 1], s = kp[3 * r + 2];
            int best = -1; double bestD = 0.5;
            for (int dx = -1; dx <= 1; dx++)
                for (int dy = -1; dy <= 1; dy++)
                    if (grid.TryGetValue((s, (int)MathF.Floor(x) + dx, (int)MathF.Floor(y) + dy), out var l))
                        foreach (var i in l)
                        {
                            double d = Math.Sqrt(Math.Pow(ours.OfficialX[i] - x, 2) + Math.Pow(ours.OfficialY[i] - y, 2));
                            if (d <= bestD) { bestD = d; best = i; }
                        }
            if (best < 0) continue;
            matched++;
            double cos = 0;
            for (int k = 0; k < dim; k++) cos += desc[r * dim + k] * ours.Descriptors[best * dim + k];
            minCos = Math.Min(minCos, cos);
            maxScore = Math.Max(maxScore, Math.Abs(scores[r] - ours.Score[best]));
        }
        return new Result(n, ours.Count, (double)matched / n, minCos, maxScore);
    }
}

/// <summary>The bfloat16 trunk (opt-in speed mode) stays close to the official float32 output.</summary>
public class BFloat16Tests
{
    private readonly ITestOutputHelper _out;
    public BFloat16Tests(ITestOutputHelper output) => _out = output;

    [Features.BFloat16Fact]
    public void BFloat16ExtractionStaysCloseToOfficial()
    {
        using var net = new R2D2Network(Checkpoint.Load(SharedData.Model("r2d2_WASF_N16")), null, new NetworkOptions { BFloat16 = true });
        var f = new MultiScaleExtractor(net).Extract(ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png")));
        var r = Parity.Compare(f, "boat__r2d2_WASF_N16");
        _out.WriteLine(r.ToString());
        Assert.True(r.Matched >= 0.80, r.ToString());
        Assert.True(r.MinCosine >= 0.99, r.ToString());
    }
}
