using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Geometry;

/// <summary>Camera.UndistortPixels: keypoint arrays to pixels of the pinhole part, as every geometric stage sees them.</summary>
public class UndistortPixelsTests
{
    [Theory]
    [MemberData(nameof(CameraProjectionTests.Cameras), MemberType = typeof(CameraProjectionTests))]
    public void KeypointsBecomeTheirPinholeProjections(Camera camera)
    {
        var rng = new Random(9);
        int n = 100;
        var (x, y, px, py) = (new float[n], new float[n], new double[n], new double[n]);
        for (int i = 0; i < n; i++)
        {
            double u = rng.NextDouble() * 1.2 - 0.6, v = rng.NextDouble() * 0.9 - 0.45;
            (double a, double b) = camera.Project(u, v, 1);
            (x[i], y[i]) = ((float)a, (float)b);
            var k = camera.Pinhole;
            (px[i], py[i]) = (k.Fx * u + k.Cx, k.Fy * v + k.Cy);
        }
        var (ux, uy) = camera.UndistortPixels(x, y);
        for (int i = 0; i < n; i++)
        {
            Assert.Equal(px[i], ux[i], 0.01); // float keypoints: ~1e-4 px
            Assert.Equal(py[i], uy[i], 0.01);
        }
        if (!camera.HasDistortion) Assert.Same(x, ux); // nothing to undo: the input itself, no copy
        else Assert.NotSame(x, ux);
    }
}
