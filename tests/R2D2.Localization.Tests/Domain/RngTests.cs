using Xunit;

namespace R2D2.Localization.Tests.Domain;

public class RngTests
{
    [Fact]
    public void SkippingDrawsLeavesTheStreamWhereDrawingThemWould()
    {
        var drawn = new Rng(Rng.Hash(7));
        for (int i = 0; i < 1000; i++) drawn.NextUInt64();
        var skipped = new Rng(Rng.Hash(7));
        skipped.Skip(1000);
        Assert.Equal(drawn.NextUInt64(), skipped.NextUInt64());
        // A normal takes two draws.
        var normals = new Rng(3);
        for (int i = 0; i < 128; i++) normals.Normal();
        var skippedNormals = new Rng(3);
        skippedNormals.Skip(2 * 128);
        Assert.Equal(normals.NextDouble(), skippedNormals.NextDouble());
    }
}
