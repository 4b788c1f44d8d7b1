using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

public class IntrinsicsTests
{
    private static readonly Camera Cam = new(1, CameraModel.Pinhole, 1600, 1200, new[] { 1400.0, 1390, 799.5, 599.5 });

    /// <summary>A half-size copy: focal lengths halve, pixel centres map onto pixel centres.</summary>
    [Fact]
    public void ARescaledCopyGetsRescaledIntrinsics()
    {
        Assert.Null(Intrinsics.RescaledTo(Cam, 1600, 1200));
        var half = Intrinsics.RescaledTo(Cam, 800, 600)!;
        Assert.Equal(new[] { 700.0, 695, 399.5, 299.5 }, half.Params);
        Assert.NotNull(Intrinsics.RescaledTo(Cam, 801, 600)); // a pixel of rounding is still a copy
    }

    /// <summary>An image of another shape (stored rotated, or cropped) is refused: its camera was
    /// stretched to fit, with only a warning, and the map or query went on with wrong intrinsics.</summary>
    [Theory]
    [InlineData(1200, 1600)]
    [InlineData(1600, 900)]
    public void AnotherShapeIsNoRescaledCopy(int w, int h) =>
        Assert.Contains("another shape, not a rescaled copy", Assert.Throws<R2D2Exception>(() => Intrinsics.RescaledTo(Cam, w, h)).Message);
}
