using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Geometry;

public class P3PTests
{
    internal static double[] RandomRotation(Random rng)
    {
        double w = rng.NextDouble() * 2 - 1, x = rng.NextDouble() * 2 - 1, y = rng.NextDouble() * 2 - 1, z = rng.NextDouble() * 2 - 1;
        double n = Math.Sqrt(w * w + x * x + y * y + z * z);
        w /= n; x /= n; y /= n; z /= n;
        return new[]
        {
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        };
    }

    internal static double[] MulT(double[] r, double[] v) => new[]
    {
        r[0] * v[0] + r[3] * v[1] + r[6] * v[2], r[1] * v[0] + r[4] * v[1] + r[7] * v[2], r[2] * v[0] + r[5] * v[1] + r[8] * v[2],
    };

    [Fact]
    public void ExactOnRandomPoses()
    {
        var rng = new Random(7);
        int solved = 0;
        for (int trial = 0; trial < 500; trial++)
        {
            var r = RandomRotation(rng);
            var t = new[] { rng.NextDouble() * 4 - 2, rng.NextDouble() * 4 - 2, rng.NextDouble() * 4 - 2 };
            var truth = new Pose(r, t);
            var bearings = new double[9];
            var points = new double[9];
            for (int i = 0; i < 3; i++)
            {
                // A camera-frame point in front (depth 2–10 m, within a 90° cone), mapped to the world.
                var xc = new[] { rng.NextDouble() * 2 - 1, rng.NextDouble() * 2 - 1, 1.0 };
                double depth = 2 + 8 * rng.NextDouble();
                for (int k = 0; k < 3; k++) xc[k] *= depth;
                var xw = MulT(r, new[] { xc[0] - t[0], xc[1] - t[1], xc[2] - t[2] });
                double n = Math.Sqrt(xc[0] * xc[0] + xc[1] * xc[1] + xc[2] * xc[2]);
                for (int k = 0; k < 3; k++) { bearings[3 * i + k] = xc[k] / n; points[3 * i + k] = xw[k]; }
            }
            var poses = P3P.Solve(bearings, points);
            Assert.InRange(poses.Count, 1, 4);
            double best = poses.Min(p => p.Rotation.Zip(truth.Rotation, (a, b) => Math.Abs(a - b)).Max() + p.Translation.Zip(truth.Translation, (a, b) => Math.Abs(a - b)).Max());
            if (best < 1e-6) solved++;
        }
        // Near-degenerate draws (almost collinear points) may lose precision; nearly all are exact.
        Assert.True(solved >= 495, $"{solved} of 500 exact");
    }

    [Fact]
    public void QuarticRootsArePolished()
    {
        // (x − 1)(x − 2)(x + 3)(x² + 1) = x⁵ − 0x⁴ ... built by multiplication
        double[] p = { 1 };
        foreach (var f in new[] { new double[] { -1, 1 }, new double[] { -2, 1 }, new double[] { 3, 1 }, new double[] { 1, 0, 1 } })
        {
            var r = new double[p.Length + f.Length - 1];
            for (int i = 0; i < p.Length; i++) for (int k = 0; k < f.Length; k++) r[i + k] += p[i] * f[k];
            p = r;
        }
        var roots = P3P.RealRoots(p).OrderBy(x => x).ToArray();
        Assert.Equal(3, roots.Length);
        Assert.Equal(-3, roots[0], 10); Assert.Equal(1, roots[1], 10); Assert.Equal(2, roots[2], 10);
    }

    [Fact]
    public void ADegeneratePolynomialHasNoRootsInsteadOfAnError()
    {
        // Coincident sample points (repeated facades in the town) gave NaN coefficients, and the
        // eigenvalue solver's NonConvergenceException failed the whole query.
        Assert.Empty(P3P.RealRoots(new[] { double.NaN, 1, 2, 1, 1 }));
        Assert.Empty(P3P.RealRoots(new[] { 1, double.PositiveInfinity, 2, 1, 1 }));
    }
}
