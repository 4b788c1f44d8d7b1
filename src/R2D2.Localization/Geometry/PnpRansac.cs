namespace R2D2.Localization.Geometry;

public sealed record PnpOptions
{
    /// <summary>Inlier threshold on the reprojection error (px). hloc's default is 12 (for
    /// Aachen's 1,600 px queries); with a wide threshold, points on one facade fit a pose moved
    /// along the facade by a metre while a few wrong matches elsewhere join its inliers. On the
    /// town's 100 night queries (512×384) 8 px with <see cref="LossScalePx"/> 2 put 84 % / 70 %
    /// within (0.25 m, 2°) at 100 / 1,000 images against 12 px and 4 px's 80 % / 67 %. The
    /// localizer gives it in pixels of the largest pyramid level (<c>Localizer.DetectionScale</c>).</summary>
    public double ThresholdPx { get; init; } = 8;
    public double Confidence { get; init; } = 0.9999;
    public int MinIterations { get; init; } = 16;
    public int MaxIterations { get; init; } = 10_000;
    /// <summary>Scale of the Cauchy loss of the final refinement (px).</summary>
    public double LossScalePx { get; init; } = 2;
    /// <summary>A hypothesis is locally optimized when its score is under this many times the best's
    /// (1: only a new best, the textbook LO-RANSAC). A raw minimal-sample pose near the truth scores
    /// worse than an optimized wrong one that explains as many matches, and was never optimized: on
    /// the town's night queries which of two such poses won depended on RANSAC's draws (30 queries,
    /// five seeds: 73.3–80.0 % within (0.25 m, 2°) with 1; 80.0 % for every seed with 1.5).</summary>
    public double LocalOptimizationFactor { get; init; } = 1.5;
    /// <summary>...and has at least this share of the best's inliers (a new best is always optimized).
    /// MSAC scores saturate: with fewer than 1 − 1/<see cref="LocalOptimizationFactor"/> of the matches
    /// inliers, a pose that explains almost none scores within the factor too, and optimizing every
    /// hypothesis made the Aachen-size query's PnP 3× slower (0.12 → 0.36 s; docs/speed.md, "What the run shows").</summary>
    public double LocalOptimizationMinShare { get; init; } = 0.5;
    public int Seed { get; init; } = 0;
}

/// <param name="Optimized">how many hypotheses were locally optimized</param>
public sealed record PnpResult(Pose Pose, int[] Inliers, int Iterations, int Optimized = 0);

/// <summary>
/// Absolute pose from 2D–3D matches: LO-RANSAC over minimal P3P samples with an MSAC score and an
/// adaptive iteration count; each model scoring within <see cref="PnpOptions.LocalOptimizationFactor"/>
/// of the best is locally optimized (robust Gauss–Newton on its inliers, then re-scored) and kept if
/// it is then the best; the final pose is refined on all inliers with a Cauchy loss, and its
/// inliers are those within the threshold of the refined pose.
/// </summary>
public static class PnpRansac
{
    /// <param name="inliersToBeat">the caller keeps the pose only if it has more inliers than this
    /// (another match set's pose has that many): the adaptive stop then assumes at least this many
    /// + 1 inliers, so a set that cannot beat it is given up after the iterations that would have
    /// found such a pose with <see cref="PnpOptions.Confidence"/>, not after MaxIterations. The
    /// samples are the same; only when to stop changes.</param>
    public static PnpResult? Estimate(ReadOnlySpan<double> pixels, ReadOnlySpan<double> points, PinholeIntrinsics k, PnpOptions? options = null,
        int inliersToBeat = 0)
    {
        var o = options ?? new PnpOptions();
        int n = pixels.Length / 2;
        if (n < 3 || points.Length != 3 * n) return null;
        var px = pixels.ToArray();
        var pw = points.ToArray();
        // Solved about the points' centroid c (X = c + X′, t = t′ − R·c): with world coordinates far
        // from the points (UTM: 5.6e6 m), rotation and translation updates are nearly collinear
        // and the refinement lost an order of magnitude of precision (1–3 cm instead of 1–4 mm).
        var centroid = new double[3];
        for (int i = 0; i < n; i++) for (int j = 0; j < 3; j++) centroid[j] += pw[3 * i + j] / n;
        for (int i = 0; i < n; i++) for (int j = 0; j < 3; j++) pw[3 * i + j] -= centroid[j];
        var bearings = new double[3 * n];
        for (int i = 0; i < n; i++)
        {
            double x = (px[2 * i] - k.Cx) / k.Fx, y = (px[2 * i + 1] - k.Cy) / k.Fy, norm = Math.Sqrt(x * x + y * y + 1);
            bearings[3 * i] = x / norm; bearings[3 * i + 1] = y / norm; bearings[3 * i + 2] = 1 / norm;
        }
        var rng = new Rng(Rng.Hash(unchecked((ulong)o.Seed)));
        double thr2 = o.ThresholdPx * o.ThresholdPx;
        Pose? best = null;
        double bestScore = double.PositiveInfinity;
        int bestInliers = 0, iterations = 0, optimized = 0;
        long needed = inliersToBeat > 0 ? Needed(inliersToBeat + 1, n, o) : o.MaxIterations;
        Span<int> sample = stackalloc int[3];
        var b9 = new double[9];
        var p9 = new double[9];
        while (iterations < Math.Max(o.MinIterations, Math.Min(needed, o.MaxIterations)))
        {
            iterations++;
            sample[0] = rng.Next(n);
            do sample[1] = rng.Next(n); while (sample[1] == sample[0]);
            do sample[2] = rng.Next(n); while (sample[2] == sample[0] || sample[2] == sample[1]);
            for (int s = 0; s < 3; s++)
                for (int c = 0; c < 3; c++) { b9[3 * s + c] = bearings[3 * sample[s] + c]; p9[3 * s + c] = pw[3 * sample[s] + c]; }
            foreach (var pose in P3P.Solve(b9, p9))
            {
                var (score, count) = Score(pose, px, pw, k, thr2);
                if (score >= bestScore * o.LocalOptimizationFactor) continue;
                if (score >= bestScore && count < o.LocalOptimizationMinShare * bestInliers) continue;
                var candidate = pose;
                optimized++;
                // Local optimization: refine on the inliers while the score improves.
                for (int lo = 0; lo < 4; lo++)
                {
                    var inl = Inliers(candidate, px, pw, k, thr2);
                    if (inl.Length < 4) break;
                    var refined = PoseRefinement.Refine(candidate, px, pw, k, inl, o.ThresholdPx, iterations: 5);
                    var (s2, c2) = Score(refined, px, pw, k, thr2);
                    if (s2 >= score) break;
                    candidate = refined; score = s2; count = c2;
                }
                if (score >= bestScore) continue;
                best = candidate; bestScore = score; bestInliers = count;
                needed = Needed(Math.Max(bestInliers, inliersToBeat + 1), n, o);
            }
        }
        if (best == null) return null;
        var inliers = Inliers(best, px, pw, k, thr2);
        if (inliers.Length < 4) return null;
        var final = PoseRefinement.Refine(best, px, pw, k, inliers, o.LossScalePx, iterations: 20);
        var finalInliers = Inliers(final, px, pw, k, thr2);
        // The refined pose is kept even when a few marginal matches fall outside the threshold:
        // going back to the local optimization's pose (refined with the threshold as loss scale) for
        // one inlier fewer cost precision (town and demo night queries: README, "Localizing
        // queries"). Only a refinement that lost half the inliers (diverged) is undone.
        if (2 * finalInliers.Length < inliers.Length) { final = best; finalInliers = inliers; }
        var r = final.Rotation; var t = final.Translation;
        var m = centroid;
        var world = new Pose(r, new[] { t[0] - (r[0] * m[0] + r[1] * m[1] + r[2] * m[2]), t[1] - (r[3] * m[0] + r[4] * m[1] + r[5] * m[2]), t[2] - (r[6] * m[0] + r[7] * m[1] + r[8] * m[2]) });
        return new PnpResult(world, finalInliers, iterations, optimized);
    }

    /// <summary>RANSAC's iterations for <see cref="PnpOptions.Confidence"/> of drawing one all-inlier
    /// minimal sample when <paramref name="inliers"/> of the <paramref name="n"/> matches are inliers.</summary>
    private static long Needed(int inliers, int n, PnpOptions o)
    {
        double w = Math.Min(1.0, (double)inliers / n);
        double denom = Math.Log(1 - w * w * w);
        return denom >= 0 ? o.MaxIterations : w >= 1 ? 0 : (long)Math.Ceiling(Math.Log(1 - o.Confidence) / denom);
    }

    /// <summary>Squared reprojection error (px²); +∞ behind the camera.</summary>
    public static double SquaredError(Pose pose, double[] px, double[] pw, int i, PinholeIntrinsics k)
    {
        var r = pose.Rotation; var t = pose.Translation;
        double x = r[0] * pw[3 * i] + r[1] * pw[3 * i + 1] + r[2] * pw[3 * i + 2] + t[0];
        double y = r[3] * pw[3 * i] + r[4] * pw[3 * i + 1] + r[5] * pw[3 * i + 2] + t[1];
        double z = r[6] * pw[3 * i] + r[7] * pw[3 * i + 1] + r[8] * pw[3 * i + 2] + t[2];
        if (z <= 1e-9) return double.PositiveInfinity;
        double du = k.Fx * x / z + k.Cx - px[2 * i], dv = k.Fy * y / z + k.Cy - px[2 * i + 1];
        return du * du + dv * dv;
    }

    private static (double Score, int Count) Score(Pose pose, double[] px, double[] pw, PinholeIntrinsics k, double thr2)
    {
        double s = 0; int c = 0;
        int n = px.Length / 2;
        for (int i = 0; i < n; i++)
        {
            double e = SquaredError(pose, px, pw, i, k);
            if (e <= thr2) { s += e; c++; } else s += thr2;
        }
        return (s, c);
    }

    private static int[] Inliers(Pose pose, double[] px, double[] pw, PinholeIntrinsics k, double thr2)
    {
        var r = new List<int>();
        for (int i = 0; i < px.Length / 2; i++) if (SquaredError(pose, px, pw, i, k) <= thr2) r.Add(i);
        return r.ToArray();
    }
}

/// <summary>Gauss–Newton refinement of a pose on reprojection error with a Cauchy loss
/// (iteratively reweighted), the points fixed; updates R ← exp([ω]×)·R, t ← t + δ.</summary>
public static class PoseRefinement
{
    public static Pose Refine(Pose pose, double[] px, double[] pw, PinholeIntrinsics k, int[] use, double lossScalePx, int iterations)
    {
        var r = (double[])pose.Rotation.Clone();
        var t = (double[])pose.Translation.Clone();
        double c2 = lossScalePx * lossScalePx;
        var h = new double[36];
        var g = new double[6];
        // Allocated once: a stackalloc inside the loops would grow the stack with every point.
        Span<double> ju = stackalloc double[6], jv = stackalloc double[6];
        for (int it = 0; it < iterations; it++)
        {
            Array.Clear(h); Array.Clear(g);
            foreach (int i in use)
            {
                double X = pw[3 * i], Y = pw[3 * i + 1], Z = pw[3 * i + 2];
                double rx = r[0] * X + r[1] * Y + r[2] * Z, ry = r[3] * X + r[4] * Y + r[5] * Z, rz = r[6] * X + r[7] * Y + r[8] * Z;
                double x = rx + t[0], y = ry + t[1], z = rz + t[2];
                if (z <= 1e-9) continue;
                double iz = 1 / z;
                double eu = k.Fx * x * iz + k.Cx - px[2 * i], ev = k.Fy * y * iz + k.Cy - px[2 * i + 1];
                double w = 1 / (1 + (eu * eu + ev * ev) / c2);
                // d(u,v)/d(xc): [fx/z, 0, −fx·x/z²; 0, fy/z, −fy·y/z²]; dxc/dω = −[R·X]×, dxc/dt = I
                double a0 = k.Fx * iz, a2 = -k.Fx * x * iz * iz, b1 = k.Fy * iz, b2 = -k.Fy * y * iz * iz;
                // −[p]× = [[0, pz, −py], [−pz, 0, px], [py, −px, 0]] with p = R·X
                ju[0] = a2 * ry;             ju[1] = a0 * rz - a2 * rx;  ju[2] = -a0 * ry;
                jv[0] = -b1 * rz + b2 * ry;  jv[1] = -b2 * rx;           jv[2] = b1 * rx;
                ju[3] = a0; ju[4] = 0; ju[5] = a2;
                jv[3] = 0; jv[4] = b1; jv[5] = b2;
                for (int a = 0; a < 6; a++)
                {
                    g[a] += w * (ju[a] * eu + jv[a] * ev);
                    for (int b = a; b < 6; b++) h[6 * a + b] += w * (ju[a] * ju[b] + jv[a] * jv[b]);
                }
            }
            for (int a = 0; a < 6; a++) { for (int b = 0; b < a; b++) h[6 * a + b] = h[6 * b + a]; h[6 * a + a] *= 1 + 1e-9; }
            var step = SolveSpd(h, g, 6);
            if (step == null) break;
            var dr = Rotations.Exp(-step[0], -step[1], -step[2]);
            r = Rotations.Multiply(dr, r);
            for (int c = 0; c < 3; c++) t[c] -= step[3 + c];
            if (step.Sum(Math.Abs) < 1e-12) break;
        }
        return new Pose(r, t);
    }

    /// <summary>Cholesky solve of a small symmetric positive definite system; null if not SPD.</summary>
    private static double[]? SolveSpd(double[] a, double[] b, int n)
    {
        var l = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = a[n * i + j];
                for (int k = 0; k < j; k++) s -= l[n * i + k] * l[n * j + k];
                if (i == j) { if (s <= 0) return null; l[n * i + i] = Math.Sqrt(s); }
                else l[n * i + j] = s / l[n * j + j];
            }
        var y = new double[n];
        for (int i = 0; i < n; i++) { double s = b[i]; for (int k = 0; k < i; k++) s -= l[n * i + k] * y[k]; y[i] = s / l[n * i + i]; }
        var x = new double[n];
        for (int i = n - 1; i >= 0; i--) { double s = y[i]; for (int k = i + 1; k < n; k++) s -= l[n * k + i] * x[k]; x[i] = s / l[n * i + i]; }
        return x;
    }
}
