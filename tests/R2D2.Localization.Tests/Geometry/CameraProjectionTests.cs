using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Geometry;

public class CameraProjectionTests
{
    public static IEnumerable<object[]> Cameras() => new[]
    {
        new object[] { new Camera(1, CameraModel.SimplePinhole, 1600, 1200, new[] { 1400.0, 799.5, 599.5 }) },
        new object[] { new Camera(2, CameraModel.SimpleRadial, 1600, 1200, new[] { 1469.2, 799.5, 599.5, -0.0353 }) },
        new object[] { new Camera(3, CameraModel.Radial, 1024, 768, new[] { 977.0, 511.5, 383.5, 0.05, -0.01 }) },
        new object[] { new Camera(4, CameraModel.OpenCV, 3072, 2048, new[] { 2759.0, 2764.0, 1520.0, 1006.0, -0.1, 0.05, 0.001, -0.002 }) },
    };

    [Theory]
    [MemberData(nameof(Cameras))]
    public void UndistortionInvertsProjection(Camera camera)
    {
        var rng = new Random(5);
        for (int i = 0; i < 200; i++)
        {
            double x = rng.NextDouble() * 1.2 - 0.6, y = rng.NextDouble() * 0.9 - 0.45, z = 1 + rng.NextDouble() * 20;
            var (px, py) = camera.Project(x * z, y * z, z);
            var (u, v) = camera.ImageToNormalized(px, py);
            Assert.Equal(x, u, 9);
            Assert.Equal(y, v, 9);
            // The undistorted pixel is the pinhole projection.
            var (ux, uy) = camera.UndistortPixel(px, py);
            var k = camera.Pinhole;
            Assert.Equal(k.Fx * x + k.Cx, ux, 6);
            Assert.Equal(k.Fy * y + k.Cy, uy, 6);
        }
    }

    [Fact]
    public void ProjectionMatrixMatchesThePinholeProjection()
    {
        var cam = new Camera(1, CameraModel.Pinhole, 640, 480, new[] { 500.0, 510, 319.5, 239.5 });
        var pose = Pose.FromQuaternion(new[] { 0.9, 0.1, -0.2, 0.3 }, new[] { 0.5, -1, 4 });
        var p = cam.ProjectionMatrix(pose);
        var xw = new[] { 0.3, -0.2, 1.5 };
        var xc = pose.ToCamera(xw[0], xw[1], xw[2]);
        var (px, py) = cam.Project(xc[0], xc[1], xc[2]);
        double w = p[8] * xw[0] + p[9] * xw[1] + p[10] * xw[2] + p[11];
        Assert.Equal(px, (p[0] * xw[0] + p[1] * xw[1] + p[2] * xw[2] + p[3]) / w, 9);
        Assert.Equal(py, (p[4] * xw[0] + p[5] * xw[1] + p[6] * xw[2] + p[7]) / w, 9);
    }
}
