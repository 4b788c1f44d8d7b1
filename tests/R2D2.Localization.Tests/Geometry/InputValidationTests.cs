using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Geometry;

/// <summary>The checks that files' rotations, quaternions and cameras go through when read.</summary>
public class InputValidationTests
{
    private static double[] RandomRotation(Random rng)
    {
        var q = new[] { rng.NextDouble() * 2 - 1, rng.NextDouble() * 2 - 1, rng.NextDouble() * 2 - 1, rng.NextDouble() * 2 - 1 };
        return Rotations.FromQuaternion(q);
    }

    [Fact]
    public void RandomRotationsPassAndPrintedOnesToo()
    {
        var rng = new Random(13);
        for (int i = 0; i < 1000; i++)
        {
            var r = RandomRotation(rng);
            Assert.Null(Rotations.FindProblem(r));
            // Printed with 6 decimals, as Strecha's files are.
            Assert.Null(Rotations.FindProblem(r.Select(v => Math.Round(v, 6)).ToArray()));
        }
    }

    [Fact]
    public void PerturbedScaledAndReflectedRotationsFail()
    {
        var rng = new Random(14);
        for (int i = 0; i < 200; i++)
        {
            var r = RandomRotation(rng);
            var perturbed = (double[])r.Clone();
            perturbed[rng.Next(9)] += (rng.Next(2) * 2 - 1) * (0.01 + rng.NextDouble() * 0.5);
            Assert.Contains("not orthonormal", Rotations.FindProblem(perturbed));
            Assert.Contains("not orthonormal", Rotations.FindProblem(r.Select(v => 2 * v).ToArray()));
            Assert.Contains("reflection", Rotations.FindProblem(r.Select(v => -v).ToArray()));
            var swapped = new[] { r[3], r[4], r[5], r[0], r[1], r[2], r[6], r[7], r[8] }; // two rows exchanged
            Assert.Contains("reflection", Rotations.FindProblem(swapped));
        }
        Assert.Contains("not orthonormal", Rotations.FindProblem(new double[9]));
        Assert.Contains("finite", Rotations.FindProblem(new[] { 1, 0, 0, 0, 1, 0, 0, 0, double.NaN }));
    }

    [Fact]
    public void QuaternionsMustBeFiniteAndNormalizable()
    {
        Assert.Null(Rotations.FindQuaternionProblem(new[] { 2.0, 0, 0, 0 })); // normalized when used
        Assert.Null(Rotations.FindQuaternionProblem(new[] { 0.5, 0.5, 0.5, 0.5 }));
        Assert.Contains("~0", Rotations.FindQuaternionProblem(new double[4]));
        Assert.Contains("~0", Rotations.FindQuaternionProblem(new[] { 1e-9, 0, 1e-9, 0 }));
        Assert.Contains("finite", Rotations.FindQuaternionProblem(new[] { 1, 0, double.PositiveInfinity, 0 }));
    }

    public static IEnumerable<object[]> BadCameras() => new[]
    {
        new object[] { CameraModel.SimpleRadial, 640, 480, new[] { 0.0, 320, 240, 0 }, "parameter f = 0 must be positive" },
        new object[] { CameraModel.Pinhole, 640, 480, new[] { 500, -500.0, 320, 240 }, "parameter fy = -500 must be positive" },
        new object[] { CameraModel.SimplePinhole, 640, 480, new[] { double.NaN, 320, 240 }, "parameter f = NaN is not a finite number" },
        new object[] { CameraModel.SimplePinhole, 640, 480, new[] { 500, 1281.0, 240 }, "parameter cx = 1281 lies outside [-640, 1280]" },
        new object[] { CameraModel.SimplePinhole, 640, 480, new[] { 500, 320, -481.0 }, "parameter cy = -481 lies outside [-480, 960]" },
        new object[] { CameraModel.SimpleRadial, 640, 480, new[] { 500, 320, 240, 10.5 }, "parameter k = 10.5 is beyond ±10" },
        new object[] { CameraModel.OpenCV, 640, 480, new[] { 500, 500, 320, 240, 0.1, 0, 1.5, 0 }, "parameter p1 = 1.5 is beyond ±1" },
        new object[] { CameraModel.FullOpenCV, 640, 480, new[] { 500, 500, 320, 240, 0, 0, 0, 0, 0, 0, 0, 2000.0 }, "parameter k6 = 2000 is beyond ±1000" },
        new object[] { CameraModel.SimplePinhole, 0, 480, new[] { 500, 320, 240.0 }, "size must be positive" },
        new object[] { CameraModel.SimplePinhole, 640, 480, new[] { 500, 320.0 }, "needs 3 parameters" },
    };

    [Theory]
    [MemberData(nameof(BadCameras))]
    public void BadCamerasAreNamed(CameraModel model, int w, int h, double[] p, string message)
    {
        var camera = new Camera(7, model, w, h, p);
        Assert.Contains(message, camera.FindProblem());
        Assert.StartsWith("camera 7:", Assert.Throws<ArgumentException>(camera.Validate).Message);
    }

    [Fact]
    public void RealCamerasPass()
    {
        Assert.Null(new Camera(1, CameraModel.SimpleRadial, 1600, 1200, new[] { 1469.2, 799.5, 599.5, -0.0353 }).FindProblem());
        Assert.Null(new Camera(2, CameraModel.FullOpenCV, 640, 480, new[] { 500, 500, 320, 240, 25, 40, 0.001, -0.002, 5, 25.5, 45, 6 }).FindProblem());
        Assert.Null(new Camera(3, CameraModel.OpenCVFisheye, 848, 800, new[] { 284.5, 285.5, 424, 393, 0.0008, 0.031, -0.03, 0.005 }).FindProblem());
    }

    [Fact]
    public void ModelsThatAreNotProjectiveAreRefusedNotApproximated()
    {
        // SIMPLE_RADIAL_FISHEYE's k, and a fisheye's equidistant projection even with zero coefficients,
        // used to be read as a plain pinhole.
        var fisheye = new Camera(1, CameraModel.SimpleRadialFisheye, 640, 480, new[] { 300, 319.5, 239.5, 0.1 });
        var zeroFisheye = new Camera(2, CameraModel.OpenCVFisheye, 640, 480, new[] { 300, 300, 319.5, 239.5, 0, 0, 0, 0 });
        foreach (var c in new[] { fisheye, zeroFisheye })
        {
            Assert.False(c.IsSupported);
            Assert.Contains("supported: SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV, FULL_OPENCV", c.UnsupportedModelProblem);
            Assert.Throws<R2D2Exception>(() => c.HasDistortion);
            Assert.Throws<R2D2Exception>(() => c.Pinhole);
            Assert.Throws<R2D2Exception>(() => c.ImageToNormalized(10, 10));
        }
        // RADIAL's k1 alone is distortion (its parameters start at index 3).
        Assert.True(new Camera(3, CameraModel.Radial, 640, 480, new[] { 500, 320, 240, 0.1, 0 }).HasDistortion);
        Assert.Null(new Camera(4, CameraModel.FullOpenCV, 640, 480, new double[12] { 500, 500, 320, 240, 0, 0, 0, 0, 0, 0, 0, 0 }).UnsupportedModelProblem);
    }
}
