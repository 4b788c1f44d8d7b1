using MathNet.Numerics.LinearAlgebra;

namespace R2D2.Localization.Geometry;

/// <summary>One view of a 3D point: the camera's 3×4 projection matrix P = K·[R | t]
/// (row-major, world→camera pose) and the observed pixel (x, y), pixel-centre convention.</summary>
public readonly record struct Observation(double[] P, double X, double Y);

/// <summary>
/// Multi-view triangulation, pure: linear DLT, RANSAC over the observations of a track, and a
/// robust Gauss–Newton refinement of the point with the cameras fixed.
/// </summary>
public static class Triangulation
{
    /// <summary>Linear (DLT) triangulation: the X minimizing ‖A·X‖ with rows x·P₃ − P₁,
    /// y·P₃ − P₂ (each row normalized for conditioning), solved about the first camera's centre
    /// (X = O + X′): with world coordinates far from the cameras the plain system lost its
    /// precision (the scale benchmark's 3.2 km street kept 18 % of its tracks, 1.5 m between
    /// cameras 8 m from the facades). Null when degenerate.</summary>
    public static double[]? Dlt(IReadOnlyList<Observation> obs)
    {
        if (obs.Count < 2) return null;
        var o = CameraCentre(obs[0].P) ?? new double[3];
        var a = Matrix<double>.Build.Dense(2 * obs.Count, 4);
        for (int i = 0; i < obs.Count; i++)
        {
            var p = obs[i].P;
            for (int c = 0; c < 4; c++)
            {
                // Column 3 of P·[I O; 0 1]: each row's translation moved to the new origin.
                double p0 = c < 3 ? p[c] : p[3] + p[0] * o[0] + p[1] * o[1] + p[2] * o[2];
                double p1 = c < 3 ? p[4 + c] : p[7] + p[4] * o[0] + p[5] * o[1] + p[6] * o[2];
                double p2 = c < 3 ? p[8 + c] : p[11] + p[8] * o[0] + p[9] * o[1] + p[10] * o[2];
                a[2 * i, c] = obs[i].X * p2 - p0;
                a[2 * i + 1, c] = obs[i].Y * p2 - p1;
            }
            for (int r = 2 * i; r < 2 * i + 2; r++)
            {
                double n = Math.Sqrt(a.Row(r).DotProduct(a.Row(r)));
                if (n > 0) a.SetRow(r, a.Row(r) / n);
            }
        }
        var svd = a.Svd(computeVectors: true);
        var v = svd.VT.Row(3);
        if (Math.Abs(v[3]) < 1e-12) return null; // point at infinity
        return new[] { o[0] + v[0] / v[3], o[1] + v[1] / v[3], o[2] + v[2] / v[3] };
    }

    /// <summary>The centre C of a camera P = [M | p₄] (M·C = −p₄), or null when M is singular.</summary>
    public static double[]? CameraCentre(double[] p)
    {
        double m00 = p[0], m01 = p[1], m02 = p[2], m10 = p[4], m11 = p[5], m12 = p[6], m20 = p[8], m21 = p[9], m22 = p[10];
        double det = m00 * (m11 * m22 - m12 * m21) - m01 * (m10 * m22 - m12 * m20) + m02 * (m10 * m21 - m11 * m20);
        if (Math.Abs(det) < 1e-300) return null;
        double b0 = -p[3], b1 = -p[7], b2 = -p[11];
        // Cramer's rule.
        return new[]
        {
            (b0 * (m11 * m22 - m12 * m21) - m01 * (b1 * m22 - m12 * b2) + m02 * (b1 * m21 - m11 * b2)) / det,
            (m00 * (b1 * m22 - m12 * b2) - b0 * (m10 * m22 - m12 * m20) + m02 * (m10 * b2 - b1 * m20)) / det,
            (m00 * (m11 * b2 - b1 * m21) - m01 * (m10 * b2 - b1 * m20) + b0 * (m10 * m21 - m11 * m20)) / det,
        };
    }

    /// <summary>Depth of X in the camera of P (the third homogeneous coordinate; positive in
    /// front of a camera whose P = K·[R | t] with K's last row (0, 0, 1)).</summary>
    public static double Depth(double[] p, double[] x) => p[8] * x[0] + p[9] * x[1] + p[10] * x[2] + p[11];

    /// <summary>Reprojection error in pixels; +∞ behind the camera.</summary>
    public static double ReprojectionError(in Observation o, double[] x)
    {
        var p = o.P;
        double w = Depth(p, x);
        if (w <= 0) return double.PositiveInfinity;
        double u = (p[0] * x[0] + p[1] * x[1] + p[2] * x[2] + p[3]) / w;
        double v = (p[4] * x[0] + p[5] * x[1] + p[6] * x[2] + p[7]) / w;
        return Math.Sqrt((u - o.X) * (u - o.X) + (v - o.Y) * (v - o.Y));
    }

    /// <summary>The largest angle (radians) between the rays from the camera centres to X.</summary>
    public static double MaxTriangulationAngle(IReadOnlyList<double[]> centres, double[] x)
    {
        double best = 0;
        for (int i = 0; i < centres.Count; i++)
            for (int j = i + 1; j < centres.Count; j++)
                best = Math.Max(best, Angle(Sub(centres[i], x), Sub(centres[j], x)));
        return best;
    }

    /// <summary>
    /// RANSAC over pairs of observations (all pairs when few, else random ones): each pair gives a
    /// DLT point, inliers are the observations reprojecting within the threshold in front of
    /// the camera; the best set is re-triangulated. Returns the point and the inlier indices.
    /// </summary>
    public static (double[] Point, int[] Inliers)? Ransac(IReadOnlyList<Observation> obs, double thresholdPx,
        int minInliers = 2, int maxPairs = 200, Rng? rng = null)
    {
        int n = obs.Count;
        if (n < 2) return null;
        var candidates = new List<(int, int)>();
        if (n * (n - 1) / 2 <= maxPairs)
        {
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) candidates.Add((i, j));
        }
        else
        {
            rng ??= new Rng(Rng.Hash(12345));
            for (int k = 0; k < maxPairs; k++)
            {
                int i = rng.Next(n), j = rng.Next(n - 1);
                if (j >= i) j++;
                candidates.Add((i, j));
            }
        }
        int[]? best = null;
        double bestCost = double.PositiveInfinity;
        foreach (var (i, j) in candidates)
        {
            var x = Dlt(new[] { obs[i], obs[j] });
            if (x == null) continue;
            var inl = new List<int>();
            double cost = 0;
            for (int k = 0; k < n; k++)
            {
                double e = ReprojectionError(obs[k], x);
                if (e <= thresholdPx) { inl.Add(k); cost += e * e; }
            }
            if (best == null || inl.Count > best.Length || (inl.Count == best.Length && cost < bestCost))
            {
                best = inl.ToArray();
                bestCost = cost;
            }
        }
        if (best == null || best.Length < minInliers) return null;
        var point = Dlt(best.Select(k => obs[k]).ToList());
        if (point == null) return null;
        // Inliers of the re-triangulated point (it can only gain or keep observations here).
        var final = Enumerable.Range(0, n).Where(k => ReprojectionError(obs[k], point) <= thresholdPx).ToArray();
        return final.Length >= minInliers ? (point, final) : null;
    }

    /// <summary>Refines X (cameras fixed) by Gauss–Newton on the reprojection error with a
    /// Cauchy loss of scale <paramref name="lossScalePx"/> (iteratively reweighted).</summary>
    public static double[] Refine(IReadOnlyList<Observation> obs, double[] x0, double lossScalePx = 2.0, int iterations = 10)
    {
        var x = (double[])x0.Clone();
        double c2 = lossScalePx * lossScalePx;
        // Allocated once: a stackalloc inside the loops would grow the stack with every observation.
        Span<double> ju = stackalloc double[3], jv = stackalloc double[3];
        for (int it = 0; it < iterations; it++)
        {
            var h = new double[9];
            var g = new double[3];
            foreach (var o in obs)
            {
                var p = o.P;
                double w = Depth(p, x);
                if (w <= 1e-12) continue;
                double u = (p[0] * x[0] + p[1] * x[1] + p[2] * x[2] + p[3]) / w;
                double v = (p[4] * x[0] + p[5] * x[1] + p[6] * x[2] + p[7]) / w;
                double ru = u - o.X, rv = v - o.Y;
                double weight = 1 / (1 + (ru * ru + rv * rv) / c2); // Cauchy IRLS weight
                // ∂u/∂X = (P₁ − u·P₃)/w, ∂v/∂X = (P₂ − v·P₃)/w
                for (int k = 0; k < 3; k++) { ju[k] = (p[k] - u * p[8 + k]) / w; jv[k] = (p[4 + k] - v * p[8 + k]) / w; }
                for (int a = 0; a < 3; a++)
                {
                    g[a] += weight * (ju[a] * ru + jv[a] * rv);
                    for (int b = 0; b < 3; b++) h[3 * a + b] += weight * (ju[a] * ju[b] + jv[a] * jv[b]);
                }
            }
            var step = Solve3(h, g);
            if (step == null) break;
            for (int k = 0; k < 3; k++) x[k] -= step[k];
            if (Math.Abs(step[0]) + Math.Abs(step[1]) + Math.Abs(step[2]) < 1e-12 * (1 + Math.Abs(x[0]) + Math.Abs(x[1]) + Math.Abs(x[2]))) break;
        }
        return x;
    }

    private static double[]? Solve3(double[] h, double[] g)
    {
        var m = Matrix<double>.Build.DenseOfRowMajor(3, 3, h);
        if (Math.Abs(m.Determinant()) < 1e-300) return null;
        return m.Solve(Vector<double>.Build.DenseOfArray(g)).ToArray();
    }

    private static double[] Sub(double[] a, double[] b) => new[] { a[0] - b[0], a[1] - b[1], a[2] - b[2] };

    private static double Angle(double[] a, double[] b)
    {
        double d = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
        double na = Math.Sqrt(a[0] * a[0] + a[1] * a[1] + a[2] * a[2]), nb = Math.Sqrt(b[0] * b[0] + b[1] * b[1] + b[2] * b[2]);
        return Math.Acos(Math.Clamp(d / (na * nb), -1, 1));
    }
}
