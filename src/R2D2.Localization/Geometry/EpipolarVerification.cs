using OpenCvSharp;

namespace R2D2.Localization.Geometry;

/// <summary>How the fundamental matrix is estimated when no poses are known.</summary>
public enum FundamentalMethod
{
    /// <summary>OpenCV's classic RANSAC (FM_RANSAC) with the 7-point solver.</summary>
    Ransac,
    /// <summary>OpenCV's USAC framework with its default settings (USAC_DEFAULT: LO-RANSAC).</summary>
    Usac,
    /// <summary>OpenCV's USAC with MAGSAC++ scoring (USAC_MAGSAC).</summary>
    UsacMagsac,
    /// <summary>OpenCV's normalized 8-point algorithm on all matches at once (FM_8POINT), no
    /// sampling: for correspondences known to be right (hand-labelled ones); every match is kept.</summary>
    EightPoint,
}

/// <summary>A fundamental matrix (3×3 row-major, x₂ᵀ·F·x₁ = 0; null when none was found) and the matches it keeps.</summary>
public sealed record FundamentalFit(double[]? F, List<Match> Inliers);

/// <summary>
/// Geometric verification of matches between two images: a correct match has each keypoint on the
/// epipolar line of the other. With known poses and intrinsics (mapping with posed database
/// images, as hloc's triangulation does) F follows from the poses and a match is kept when both
/// keypoints lie within a few pixels of the epipolar line of their partner; without poses, F is
/// estimated robustly from the matches themselves. Pure functions on keypoint arrays (pixel-centre
/// coordinates, as in <see cref="FeatureSet"/>) and match lists.
/// </summary>
public static class EpipolarVerification
{
    /// <summary>hloc's default for triangulation with known poses (max_error = 4 px).</summary>
    public const double DefaultMaxErrorPx = 4;

    /// <summary>F = K₂⁻ᵀ·[t]ₓ·R·K₁⁻¹ with (R, t) the pose of camera 2 relative to camera 1, so that
    /// x₂ᵀ·F·x₁ = 0 for pixel positions x₁, x₂ of one 3D point. Zero when the centres coincide.</summary>
    public static double[] FundamentalFromPoses(Pose pose1, PinholeIntrinsics k1, Pose pose2, PinholeIntrinsics k2)
    {
        var rel = Pose.Relative(pose1, pose2);
        var t = rel.Translation;
        var tx = new[] { 0, -t[2], t[1], t[2], 0, -t[0], -t[1], t[0], 0 };
        var e = Rotations.Multiply(tx, rel.Rotation);
        return Rotations.Multiply(Rotations.Multiply(Rotations.Transpose(InverseK(k2)), e), InverseK(k1));
    }

    private static double[] InverseK(PinholeIntrinsics k) =>
        new[] { 1 / k.Fx, 0, -k.Cx / k.Fx, 0, 1 / k.Fy, -k.Cy / k.Fy, 0, 0, 1 };

    /// <summary>Distances (px) of x₁ to the epipolar line Fᵀ·x₂ in image 1 and of x₂ to F·x₁ in
    /// image 2. +∞ when a line is undefined (zero F, or a keypoint at the epipole): nothing can be
    /// said of such a match, and verification rejects it.</summary>
    public static (double InImage1, double InImage2) Distances(ReadOnlySpan<double> f, double x1, double y1, double x2, double y2)
    {
        // Line in image 2: l₂ = F·x₁; in image 1: l₁ = Fᵀ·x₂.
        double a2 = f[0] * x1 + f[1] * y1 + f[2], b2 = f[3] * x1 + f[4] * y1 + f[5], c2 = f[6] * x1 + f[7] * y1 + f[8];
        double a1 = f[0] * x2 + f[3] * y2 + f[6], b1 = f[1] * x2 + f[4] * y2 + f[7];
        double algebraic = x2 * a2 + y2 * b2 + c2; // x₂ᵀ·F·x₁, the same for both lines
        double n2 = Math.Sqrt(a2 * a2 + b2 * b2), n1 = Math.Sqrt(a1 * a1 + b1 * b1);
        return (n1 > 0 ? Math.Abs(algebraic) / n1 : double.PositiveInfinity,
                n2 > 0 ? Math.Abs(algebraic) / n2 : double.PositiveInfinity);
    }

    /// <summary>The symmetric epipolar distance √(d₁² + d₂²) of the two distances of <see cref="Distances"/>
    /// (px): the square root of Hartley &amp; Zisserman's symmetric epipolar error (eq. 11.10), as
    /// kornia's symmetrical_epipolar_distance(squared=False) computes it. +∞ when a line is undefined.</summary>
    public static double SymmetricDistance(ReadOnlySpan<double> f, double x1, double y1, double x2, double y2)
    {
        var (d1, d2) = Distances(f, x1, y1, x2, y2);
        return Math.Sqrt(d1 * d1 + d2 * d2);
    }

    /// <summary>The matches whose keypoints are both within <paramref name="maxErrorPx"/> of their
    /// partner's epipolar line (symmetric, as hloc checks both images).</summary>
    public static List<Match> KeepConsistent(float[] x1, float[] y1, float[] x2, float[] y2, IReadOnlyList<Match> matches,
        ReadOnlySpan<double> f, double maxErrorPx = DefaultMaxErrorPx)
    {
        if (f.Length != 9) throw new ArgumentException("F must be 3×3 (9 values, row-major)");
        var kept = new List<Match>();
        foreach (var m in matches)
        {
            var (d1, d2) = Distances(f, x1[m.I], y1[m.I], x2[m.J], y2[m.J]);
            if (d1 <= maxErrorPx && d2 <= maxErrorPx) kept.Add(m);
        }
        return kept;
    }

    /// <summary>Verification with known poses: F from the poses, then <see cref="KeepConsistent(float[], float[], float[], float[], IReadOnlyList{Match}, ReadOnlySpan{double}, double)"/>.</summary>
    public static List<Match> KeepConsistent(float[] x1, float[] y1, float[] x2, float[] y2, IReadOnlyList<Match> matches,
        Pose pose1, PinholeIntrinsics k1, Pose pose2, PinholeIntrinsics k2, double maxErrorPx = DefaultMaxErrorPx) =>
        KeepConsistent(x1, y1, x2, y2, matches, FundamentalFromPoses(pose1, k1, pose2, k2), maxErrorPx);

    /// <summary>
    /// Verification without poses: F estimated from the matches by OpenCV's findFundamentalMat
    /// (<paramref name="method"/>; a match is an inlier within <paramref name="thresholdPx"/> of its
    /// epipolar line; <paramref name="confidence"/> sets when sampling stops). Fewer than 8 matches,
    /// or no model found: F is null and no match is kept.
    /// </summary>
    public static FundamentalFit EstimateFundamental(float[] x1, float[] y1, float[] x2, float[] y2, IReadOnlyList<Match> matches,
        FundamentalMethod method = FundamentalMethod.Usac, double thresholdPx = 1.0, double confidence = 0.999)
    {
        if (matches.Count < 8) return new FundamentalFit(null, new List<Match>());
        var p1 = matches.Select(m => new Point2d(x1[m.I], y1[m.I])).ToArray();
        var p2 = matches.Select(m => new Point2d(x2[m.J], y2[m.J])).ToArray();
        using var mask = new Mat();
        using var f = Cv2.FindFundamentalMat(p1, p2, OpenCvMethod(method), thresholdPx, confidence, mask);
        // A 3×3 result; the 7-point solver alone may stack several (9×3), which RANSAC never returns.
        // The 8-point solver fills no mask: it keeps every match.
        bool all = method == FundamentalMethod.EightPoint;
        if (f.Empty() || f.Rows != 3 || f.Cols != 3 || (!all && mask.Empty())) return new FundamentalFit(null, new List<Match>());
        var fd = new double[9];
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++) fd[3 * r + c] = f.Type() == MatType.CV_64FC1 ? f.At<double>(r, c) : f.At<float>(r, c);
        var inliers = new List<Match>();
        for (int i = 0; i < matches.Count; i++)
            if (all || mask.At<byte>(i) != 0) inliers.Add(matches[i]);
        return new FundamentalFit(fd, inliers);
    }

    /// <summary>The flag values of cv::findFundamentalMat; OpenCvSharp's enum only names the classic
    /// ones, the USAC flags (cv::USAC_DEFAULT = 32, cv::USAC_MAGSAC = 38) pass through as numbers.</summary>
    private static FundamentalMatMethods OpenCvMethod(FundamentalMethod method) => method switch
    {
        FundamentalMethod.Ransac => FundamentalMatMethods.Ransac,
        FundamentalMethod.Usac => (FundamentalMatMethods)32,
        FundamentalMethod.UsacMagsac => (FundamentalMatMethods)38,
        FundamentalMethod.EightPoint => FundamentalMatMethods.Point8,
        _ => throw new ArgumentOutOfRangeException(nameof(method)),
    };
}
