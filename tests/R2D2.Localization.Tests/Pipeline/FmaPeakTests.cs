using R2D2.Localization.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

public class FmaPeakTests
{
    [Fact]
    public void ThePeakIsAPositiveRateOnTheWidestAcceleratedVectors()
    {
        Assert.Contains(FmaPeak.Lanes, new[] { 4, 8, 16 });
        double one = FmaPeak.Gflops(1, rounds: 2, iterations: 200_000);
        double two = FmaPeak.Gflops(2, rounds: 2, iterations: 200_000);
        // Bounds far from any x86-64 core, loaded or not: a twentieth of a multiply-add per lane
        // and nanosecond, and 10 TFLOP/s per thread.
        Assert.InRange(one, 2.0 * FmaPeak.Lanes * 0.05, 1e4);
        Assert.InRange(two, 2.0 * FmaPeak.Lanes * 0.05, 2e4);
    }
}
