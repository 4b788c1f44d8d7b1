namespace R2D2.Localization.Tests.Geometry;

/// <summary>Random posed pinhole cameras around a cloud of points, for property tests.</summary>
internal sealed class SyntheticScene
{
    public readonly List<double[]> Points = new();
    public readonly List<(double[] R, double[] T, double[] P, double[] Centre)> Cameras = new();
    public const double F = 800, Cx = 320, Cy = 240;
    private readonly Random _rng;

    public SyntheticScene(int seed, int cameras, int points)
    {
        _rng = new Random(seed);
        for (int i = 0; i < points; i++) Points.Add(new[] { U(-2, 2), U(-2, 2), U(-1, 1) });
        for (int c = 0; c < cameras; c++)
        {
            // Centre on a ring 8–10 m away, looking at the origin with a little jitter.
            double a = U(0, 2 * Math.PI), r = U(8, 10);
            var centre = new[] { r * Math.Cos(a), r * Math.Sin(a), U(-1, 1) };
            var target = new[] { U(-0.3, 0.3), U(-0.3, 0.3), U(-0.3, 0.3) };
            var z = Normalize(Sub(target, centre));
            var x = Normalize(Cross(z, new[] { 0.0, 0, 1 }));
            var y = Cross(z, x);
            var rot = new[] { x[0], x[1], x[2], y[0], y[1], y[2], z[0], z[1], z[2] }; // rows: camera axes in world
            var t = new[] { -(rot[0] * centre[0] + rot[1] * centre[1] + rot[2] * centre[2]),
                            -(rot[3] * centre[0] + rot[4] * centre[1] + rot[5] * centre[2]),
                            -(rot[6] * centre[0] + rot[7] * centre[1] + rot[8] * centre[2]) };
            var p = new double[12];
            for (int j = 0; j < 4; j++)
            {
                double r0 = j < 3 ? rot[j] : t[0], r1 = j < 3 ? rot[3 + j] : t[1], r2 = j < 3 ? rot[6 + j] : t[2];
                p[j] = F * r0 + Cx * r2; p[4 + j] = F * r1 + Cy * r2; p[8 + j] = r2;
            }
            Cameras.Add((rot, t, p, centre));
        }
    }

    public (double X, double Y) Project(int camera, double[] x, double noisePx = 0)
    {
        var p = Cameras[camera].P;
        double w = p[8] * x[0] + p[9] * x[1] + p[10] * x[2] + p[11];
        return ((p[0] * x[0] + p[1] * x[1] + p[2] * x[2] + p[3]) / w + Gauss() * noisePx,
                (p[4] * x[0] + p[5] * x[1] + p[6] * x[2] + p[7]) / w + Gauss() * noisePx);
    }

    public double U(double lo, double hi) => lo + (hi - lo) * _rng.NextDouble();
    public double Gauss() => Math.Sqrt(-2 * Math.Log(1 - _rng.NextDouble())) * Math.Cos(2 * Math.PI * _rng.NextDouble());
    public int Next(int n) => _rng.Next(n);

    private static double[] Sub(double[] a, double[] b) => new[] { a[0] - b[0], a[1] - b[1], a[2] - b[2] };
    private static double[] Cross(double[] a, double[] b) => new[] { a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0] };
    private static double[] Normalize(double[] a) { double n = Math.Sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]); return new[] { a[0] / n, a[1] / n, a[2] / n }; }
    public static double Distance(double[] a, double[] b) => Math.Sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}
