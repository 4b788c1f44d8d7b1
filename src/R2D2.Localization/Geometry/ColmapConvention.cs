namespace R2D2.Localization.Geometry;

/// <summary>
/// The one place where COLMAP's pixel convention meets the project's (COLMAP's files and database,
/// kapture's and Aachen's lists, which share it). COLMAP puts the centre of
/// the top-left pixel at (0.5, 0.5); the project puts it at (0, 0) (DESIGN.md). Everything that
/// crosses the boundary — keypoints, principal points, fundamental matrices and homographies —
/// goes through here, so a point and the camera or matrix that explains it never disagree by
/// half a pixel. The essential matrix and relative poses live in normalized camera coordinates
/// and need nothing.
/// </summary>
public static class ColmapConvention
{
    /// <summary>COLMAP coordinate = project coordinate + this.</summary>
    public const double PixelOffset = 0.5;

    public static float ToColmap(float v) => (float)(v + PixelOffset);
    public static float FromColmap(float v) => (float)(v - PixelOffset);

    public static Camera CameraToColmap(Camera c) => c.WithPrincipalPointShift(PixelOffset);
    public static Camera CameraFromColmap(Camera c) => c.WithPrincipalPointShift(-PixelOffset);

    /// <summary>Homography (row-major 3×3) from the project's convention to COLMAP's:
    /// x_c = T·x with T a translation by +0.5, so H_c = T·H·T⁻¹.</summary>
    public static double[] HomographyToColmap(double[] h) => Homography.Shift(h, -PixelOffset);
    public static double[] HomographyFromColmap(double[] h) => Homography.Shift(h, PixelOffset);

    /// <summary>Fundamental matrix (row-major 3×3): x2_cᵀ·F_c·x1_c = x2ᵀ·(Tᵀ·F_c·T)·x1, so
    /// F = Tᵀ·F_c·T and F_c = T⁻ᵀ·F·T⁻¹.</summary>
    public static double[] FundamentalToColmap(double[] f) => ShiftFundamental(f, -PixelOffset);
    public static double[] FundamentalFromColmap(double[] f) => ShiftFundamental(f, PixelOffset);

    private static double[] ShiftFundamental(double[] f, double d)
    {
        var t = new double[] { 1, 0, d, 0, 1, d, 0, 0, 1 };
        var tt = new double[] { 1, 0, 0, 0, 1, 0, d, d, 1 };
        return Homography.Multiply(tt, Homography.Multiply(f, t));
    }
}
