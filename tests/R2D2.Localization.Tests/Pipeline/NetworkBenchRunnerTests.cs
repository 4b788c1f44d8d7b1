using R2D2.Localization.Features;
using R2D2.Localization.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

public class NetworkBenchRunnerTests
{
    [Fact]
    public void ReportsPeakFlopsProfileAndComparison()
    {
        var boat = SharedData.Path_("reference", "r2d2", "images", "boat.png");
        // One 256×256 level (boat's sizes 512, 431, 362, 304 exceed --max-size 300): a fast run.
        var settings = new ExtractionSettings { MaxSize = 300 };
        var r = NetworkBenchRunner.Run(new NetworkBenchOptions
        {
            Model = SharedData.Model("r2d2_WASF_N16"), Images = new[] { boat }, Extraction = settings,
            SgemmSize = 128, ProfileRounds = 1, Compare = new[] { "fp32", "fp32-nchw" }, Rounds = 1,
        }, ProgressSink.None);
        Assert.True((double)((Dictionary<string, object>)r["sgemm"]!)["gflops"] > 0);
        Assert.True((double)((Dictionary<string, object>)r["fma"]!)["gflops"] > 0);
        var image = Assert.Single((List<Dictionary<string, object>>)r["images"]!);
        Assert.Equal(256L * 256, image["pyramid_pixels"]);
        Assert.Equal(2 * 483168.0 * 256 * 256 / 1e9, (double)image["gflop"], 1e-9);
        Assert.Equal(9, ((List<Dictionary<string, object>>)r["layers"]!).Count); // one size: largest = smallest level
        Assert.Equal(new[] { "fp32", "fp32-nchw" }, ((Dictionary<string, object>)r["compare"]!).Keys);
        Assert.Throws<UsageException>(() => NetworkBenchRunner.Run(new NetworkBenchOptions
        {
            Model = SharedData.Model("r2d2_WASF_N16"), Images = new[] { boat }, Compare = new[] { "fp64" },
        }, ProgressSink.None));
    }
}
