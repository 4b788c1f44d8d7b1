using MathNet.Numerics.LinearAlgebra;

namespace R2D2.Localization.Geometry;

/// <summary>
/// The minimal absolute pose problem: three world points and their unit bearing vectors give up
/// to four poses. Grunert's formulation: with distances s₂ = u·s₁, s₃ = v·s₁ the law of cosines
/// gives two conics in (u, v); their difference is linear in u, and substituting back leaves a
/// quartic in v, built here by polynomial arithmetic (no memorized coefficients) and solved
/// through its companion matrix, then polished by Newton steps. Each root gives the three points
/// in the camera frame; the pose aligns them with the world points.
/// </summary>
public static class P3P
{
    public static List<Pose> Solve(ReadOnlySpan<double> bearings, ReadOnlySpan<double> points)
    {
        // bearings: 3 unit vectors (9 values); points: 3 world points (9 values)
        var j = bearings.ToArray();
        var p = points.ToArray();
        double a2 = Dist2(p, 1, 2), b2 = Dist2(p, 0, 2), c2 = Dist2(p, 0, 1);
        double ca = Dot(j, 1, 2), cb = Dot(j, 0, 2), cg = Dot(j, 0, 1);
        var results = new List<Pose>();
        if (b2 < 1e-20) return results;

        // E1: b²u² − 2b²cα·v·u + [(b² − a²)v² + 2a²cβ·v − a²] = 0
        // E2: b²u² − 2b²cγ·u   + [−c²v² + 2c²cβ·v + b² − c²]   = 0
        // E1 − E2: (B − B')·u + (C − C') = 0 with B − B' = −2b²cα·v + 2b²cγ.
        var C = new[] { -a2, 2 * a2 * cb, b2 - a2 };      // coefficients in v, ascending
        var Cp = new[] { b2 - c2, 2 * c2 * cb, -c2 };
        var dB = new[] { 2 * b2 * cg, -2 * b2 * ca };       // B − B'
        var num = Sub(Cp, C);                                  // u = (C' − C)/(B − B')
        // b²(C' − C)² + B'(C' − C)(B − B') + C'(B − B')² = 0, B' = −2b²cγ (constant)
        var quartic = Add(Add(Scale(Mul(num, num), b2), Scale(Mul(num, dB), -2 * b2 * cg)), Mul(Cp, Mul(dB, dB)));
        foreach (var v in RealRoots(quartic))
        {
            double den = Eval(dB, v);
            if (Math.Abs(den) < 1e-14) continue;
            double u = Eval(num, v) / den;
            double q = 1 + v * v - 2 * v * cb;
            if (q <= 1e-14) continue;
            double s1 = Math.Sqrt(b2 / q);
            double s2 = u * s1, s3 = v * s1;
            if (s1 <= 0 || s2 <= 0 || s3 <= 0) continue; // points must be in front of the camera
            var cam = new[] { s1 * j[0], s1 * j[1], s1 * j[2], s2 * j[3], s2 * j[4], s2 * j[5], s3 * j[6], s3 * j[7], s3 * j[8] };
            if (Align(p, cam) is { } pose) results.Add(pose);
        }
        return results;
    }

    /// <summary>The rotation and translation mapping the three world points onto the camera-frame
    /// points. P3P's distances make the two triangles congruent, so the orthonormal frames built
    /// on them (edge 1→2, normal, their cross product) give R = F_cam·F_worldᵀ exactly and far
    /// more cheaply than an SVD.</summary>
    private static Pose? Align(double[] world, double[] cam)
    {
        var fw = Frame(world);
        var fc = Frame(cam);
        if (fw == null || fc == null) return null;
        var r = new double[9];
        // F has the frame's axes as columns; R = Fc·Fwᵀ.
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < 3; k++)
                r[3 * i + k] = fc[3 * i] * fw[3 * k] + fc[3 * i + 1] * fw[3 * k + 1] + fc[3 * i + 2] * fw[3 * k + 2];
        var t = new double[3];
        for (int i = 0; i < 3; i++) t[i] = cam[i] - (r[3 * i] * world[0] + r[3 * i + 1] * world[1] + r[3 * i + 2] * world[2]);
        return new Pose(r, t);
    }

    /// <summary>Row i holds the i-th component of the axes e1, e2, e3 (columns).</summary>
    private static double[]? Frame(double[] p)
    {
        double ax = p[3] - p[0], ay = p[4] - p[1], az = p[5] - p[2];
        double bx = p[6] - p[0], by = p[7] - p[1], bz = p[8] - p[2];
        double na = Math.Sqrt(ax * ax + ay * ay + az * az);
        if (na < 1e-15) return null;
        ax /= na; ay /= na; az /= na;
        double nx = ay * bz - az * by, ny = az * bx - ax * bz, nz = ax * by - ay * bx;
        double nn = Math.Sqrt(nx * nx + ny * ny + nz * nz);
        if (nn < 1e-15) return null; // collinear
        nx /= nn; ny /= nn; nz /= nn;
        double cx = ny * az - nz * ay, cy = nz * ax - nx * az, cz = nx * ay - ny * ax; // e3 = n × e1
        return new[] { ax, cx, nx, ay, cy, ny, az, cz, nz };
    }

    /// <summary>Real roots of a polynomial (ascending coefficients) via the companion matrix,
    /// each polished by a few Newton steps.</summary>
    public static List<double> RealRoots(double[] poly)
    {
        int deg = poly.Length - 1;
        // A degenerate minimal sample (coincident or collinear points, as repeated facades give) makes
        // non-finite coefficients: no roots, so RANSAC draws again instead of failing the query.
        if (!poly.All(double.IsFinite)) return new List<double>();
        while (deg > 0 && Math.Abs(poly[deg]) < 1e-14 * poly.Take(deg + 1).Max(Math.Abs)) deg--;
        var roots = new List<double>();
        if (deg < 1) return roots;
        var comp = Matrix<double>.Build.Dense(deg, deg);
        for (int i = 1; i < deg; i++) comp[i, i - 1] = 1;
        for (int i = 0; i < deg; i++) comp[i, deg - 1] = -poly[i] / poly[deg];
        // Wildly scaled coefficients can still defeat the eigenvalue solver: no roots either.
        if (!comp.Enumerate().All(double.IsFinite)) return roots;
        Vector<System.Numerics.Complex> ev;
        try { ev = comp.Evd().EigenValues; }
        catch (MathNet.Numerics.NonConvergenceException) { return roots; }
        foreach (var z in ev)
        {
            if (Math.Abs(z.Imaginary) > 1e-6 * (1 + Math.Abs(z.Real))) continue;
            double x = z.Real;
            for (int it = 0; it < 4; it++)
            {
                double f = 0, df = 0;
                for (int k = deg; k >= 0; k--) { df = df * x + f; f = f * x + poly[k]; }
                if (Math.Abs(df) < 1e-300) break;
                x -= f / df;
            }
            if (double.IsFinite(x)) roots.Add(x);
        }
        return roots;
    }

    private static double Dist2(double[] p, int i, int k)
    {
        double dx = p[3 * i] - p[3 * k], dy = p[3 * i + 1] - p[3 * k + 1], dz = p[3 * i + 2] - p[3 * k + 2];
        return dx * dx + dy * dy + dz * dz;
    }
    private static double Dot(double[] j, int i, int k) => j[3 * i] * j[3 * k] + j[3 * i + 1] * j[3 * k + 1] + j[3 * i + 2] * j[3 * k + 2];
    private static double Eval(double[] poly, double x) { double r = 0; for (int k = poly.Length - 1; k >= 0; k--) r = r * x + poly[k]; return r; }
    private static double[] Mul(double[] a, double[] b)
    {
        var r = new double[a.Length + b.Length - 1];
        for (int i = 0; i < a.Length; i++) for (int k = 0; k < b.Length; k++) r[i + k] += a[i] * b[k];
        return r;
    }
    private static double[] Add(double[] a, double[] b)
    {
        var r = new double[Math.Max(a.Length, b.Length)];
        for (int i = 0; i < a.Length; i++) r[i] += a[i];
        for (int i = 0; i < b.Length; i++) r[i] += b[i];
        return r;
    }
    private static double[] Sub(double[] a, double[] b) => Add(a, Scale(b, -1));
    private static double[] Scale(double[] a, double s) => a.Select(x => x * s).ToArray();
}
