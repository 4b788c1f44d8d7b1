namespace R2D2.Localization.Geometry;

/// <summary>Planar homographies (3×3, row-major, acting on homogeneous pixel coordinates).</summary>
public static class Homography
{
    public static (double X, double Y) Apply(ReadOnlySpan<double> h, double x, double y)
    {
        double w = h[6] * x + h[7] * y + h[8];
        return ((h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w);
    }

    /// <summary>H' such that H' maps points in the pixel-centre convention when H maps points in
    /// a convention shifted by (d, d) (e.g. d = 0.5 for "pixel centres at +0.5"): H' = T⁻¹·H·T.</summary>
    public static double[] Shift(ReadOnlySpan<double> h, double d)
    {
        // T = translation by +d, T⁻¹ = translation by −d.
        var t = new double[] { 1, 0, d, 0, 1, d, 0, 0, 1 };
        var ti = new double[] { 1, 0, -d, 0, 1, -d, 0, 0, 1 };
        return Multiply(ti, Multiply(h.ToArray(), t));
    }

    public static double[] Multiply(double[] a, double[] b)
    {
        var r = new double[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 3; k++)
                    r[3 * i + j] += a[3 * i + k] * b[3 * k + j];
        return r;
    }
}
