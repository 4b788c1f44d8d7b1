using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests;

/// <summary>Random ground truth for poses and rotations (a shared helper of the geometry tests).</summary>
internal static class RandomGeometry
{
    public static double[] UnitQuaternion(Random rng)
    {
        // Four gaussians normalized: uniform on the rotation group.
        var q = new double[4];
        double n = 0;
        for (int i = 0; i < 4; i++) { q[i] = Gaussian(rng); n += q[i] * q[i]; }
        for (int i = 0; i < 4; i++) q[i] /= Math.Sqrt(n);
        return q;
    }

    public static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    public static Pose RandomPose(Random rng, double translationScale = 1) =>
        Pose.FromQuaternion(UnitQuaternion(rng), new[] { Gaussian(rng), Gaussian(rng), Gaussian(rng) }.Select(v => v * translationScale).ToArray());

    /// <summary>A camera at centre c whose optical axis points at target (world up ≈ −y, like images).</summary>
    public static Pose LookAt(double[] c, double[] target, Random rng)
    {
        var z = Normalize(new[] { target[0] - c[0], target[1] - c[1], target[2] - c[2] });
        var up = Normalize(new[] { Gaussian(rng) * 0.1, -1.0, Gaussian(rng) * 0.1 });
        var x = Normalize(Cross(up, z));
        var y = Cross(z, x);
        var r = new[] { x[0], x[1], x[2], y[0], y[1], y[2], z[0], z[1], z[2] }; // rows: camera axes in world
        return Pose.FromCameraCenter(r, c);
    }

    public static double[] Cross(double[] a, double[] b) =>
        new[] { a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0] };

    public static double[] Normalize(double[] v)
    {
        double n = Math.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }
}

public class PoseTests
{
    private static void Near(double[] expected, double[] actual, double tol = 1e-12)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.InRange(actual[i] - expected[i], -tol, tol);
    }

    /// <summary>The Hamilton product p⊗q (w, x, y, z).</summary>
    private static double[] Hamilton(double[] p, double[] q) => new[]
    {
        p[0] * q[0] - p[1] * q[1] - p[2] * q[2] - p[3] * q[3],
        p[0] * q[1] + p[1] * q[0] + p[2] * q[3] - p[3] * q[2],
        p[0] * q[2] - p[1] * q[3] + p[2] * q[0] + p[3] * q[1],
        p[0] * q[3] + p[1] * q[2] - p[2] * q[1] + p[3] * q[0],
    };

    [Fact]
    public void QuarterTurnAboutZTakesXToY()
    {
        double h = Math.Sqrt(0.5);
        var r = Rotations.FromQuaternion(new[] { h, 0, 0, h });
        Near(new double[] { 0, -1, 0, 1, 0, 0, 0, 0, 1 }, r, 1e-15);
        Near(new double[] { 0, 1, 0 }, Rotations.Apply(r, 1, 0, 0), 1e-15);
        // Any scale of the quaternion is the same turn: 1e200 overflowed the norm to ∞ and read as the identity.
        foreach (var scale in new[] { 1e308, 1e200, 1e-100, 3.0 }) Near(r, Rotations.FromQuaternion(new[] { scale, 0, 0, scale }), 1e-15);
        Assert.Null(Rotations.FindQuaternionProblem(new[] { 1e200, 0, 0, 1e200 }));
        Assert.Equal(Math.Sqrt(2) * 1e300, Rotations.QuaternionNorm(new[] { 1e300, 0, 0, 1e300 }), 1e286);
    }

    [Fact]
    public void QuaternionsAreHamiltonAndRoundTrip()
    {
        var rng = new Random(7);
        for (int trial = 0; trial < 1000; trial++)
        {
            var q = RandomGeometry.UnitQuaternion(rng);
            var r = Rotations.FromQuaternion(q);
            // Orthonormal with determinant +1.
            Near(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, Rotations.Multiply(r, Rotations.Transpose(r)), 1e-13);
            double det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
            Assert.Equal(1.0, det, 12);
            // Back to the same quaternion, up to the sign (ours has w ≥ 0).
            var back = Rotations.ToQuaternion(r);
            Assert.True(back[0] >= 0);
            double s = q[0] < 0 ? -1 : 1;
            Near(q.Select(v => s * v).ToArray(), back, 1e-12);
            // Hamilton: composing rotations is the Hamilton product (JPL would reverse it).
            var p = RandomGeometry.UnitQuaternion(rng);
            Near(Rotations.FromQuaternion(Hamilton(p, q)), Rotations.Multiply(Rotations.FromQuaternion(p), r), 1e-13);
        }
    }

    [Theory]
    [InlineData(1, 0, 0)]
    [InlineData(0, 1, 0)]
    [InlineData(0, 0, 1)]
    [InlineData(0.6, 0, 0.8)]
    public void HalfTurnsRoundTrip(double x, double y, double z)
    {
        // w ≈ 0: where the trace formula alone divides by ~0.
        var q = new[] { 1e-9, x, y, z };
        var back = Rotations.ToQuaternion(Rotations.FromQuaternion(q));
        double n = Math.Sqrt(q.Sum(v => v * v));
        double s = Math.Sign(back[1] * x + back[2] * y + back[3] * z);
        Near(q.Select(v => s * v / n).ToArray(), back, 1e-9);
    }

    [Fact]
    public void CameraCentreAndViewingDirection()
    {
        var rng = new Random(11);
        for (int trial = 0; trial < 200; trial++)
        {
            var pose = RandomGeometry.RandomPose(rng, 10);
            var c = pose.CameraCenter;
            Near(new double[3], pose.ToCamera(c[0], c[1], c[2]), 1e-12);
            var d = pose.ViewingDirection;
            // A point 5 m ahead of the camera lies on its optical axis.
            Near(new double[] { 0, 0, 5 }, pose.ToCamera(c[0] + 5 * d[0], c[1] + 5 * d[1], c[2] + 5 * d[2]), 1e-11);
            var again = Pose.FromCameraCenter(pose.Rotation, c);
            Near(pose.Translation, again.Translation, 1e-12);
            Near(pose.Quaternion, Pose.FromQuaternion(pose.Quaternion, pose.Translation).Quaternion, 1e-12);
        }
    }

    [Fact]
    public void RelativePoseChainsCameraCoordinates()
    {
        var rng = new Random(13);
        var p1 = RandomGeometry.RandomPose(rng, 3);
        var p2 = RandomGeometry.RandomPose(rng, 3);
        var rel = Pose.Relative(p1, p2);
        for (int i = 0; i < 20; i++)
        {
            double x = RandomGeometry.Gaussian(rng), y = RandomGeometry.Gaussian(rng), z = RandomGeometry.Gaussian(rng);
            var c1 = p1.ToCamera(x, y, z);
            Near(p2.ToCamera(x, y, z), rel.ToCamera(c1[0], c1[1], c1[2]), 1e-11);
        }
    }
}
