using R2D2.Localization.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

public class ReadBandwidthTests
{
    [Fact]
    public void TheBandwidthIsAPositiveRate()
    {
        // 16 MB, a few rounds: bounds far from any x86-64 machine, loaded or not (0.05 GB/s is a
        // slow disk's rate; 10 TB/s no memory's).
        double one = ReadBandwidth.GBs(1, rounds: 2, bytes: 16L << 20);
        double two = ReadBandwidth.GBs(2, rounds: 2, bytes: 16L << 20);
        Assert.InRange(one, 0.05, 1e4);
        Assert.InRange(two, 0.05, 1e4);
    }
}
