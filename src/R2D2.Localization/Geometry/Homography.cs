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

    /// <summary>The inverse of a 3×3 homography (row-major).</summary>
    public static double[] Inverse(ReadOnlySpan<double> h) => TryInverse(h) ?? throw new ArgumentException("singular homography");

    /// <summary>The inverse of a 3×3 homography (row-major); null when it is singular.</summary>
    public static double[]? TryInverse(ReadOnlySpan<double> h)
    {
        double a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], i = h[7], k = h[8];
        double A = e * k - f * i, B = -(d * k - f * g), C = d * i - e * g;
        double det = a * A + b * B + c * C;
        if (!(Math.Abs(det) >= 1e-300)) return null;
        var inv = new[]
        {
            A, -(b * k - c * i), b * f - c * e,
            B, a * k - c * g, -(a * f - c * d),
            C, -(a * i - b * g), a * e - b * d,
        };
        for (int j = 0; j < 9; j++) inv[j] /= det;
        return inv;
    }

    /// <summary>Largest local magnification of <paramref name="h"/> at (x, y) (the Jacobian's larger
    /// singular value): how many source pixels one output pixel spans, for anti-alias blurring.</summary>
    public static double Stretch(ReadOnlySpan<double> h, double x, double y)
    {
        double w = h[6] * x + h[7] * y + h[8];
        double u = (h[0] * x + h[1] * y + h[2]) / w, v = (h[3] * x + h[4] * y + h[5]) / w;
        double a = (h[0] - u * h[6]) / w, b = (h[1] - u * h[7]) / w, c = (h[3] - v * h[6]) / w, d = (h[4] - v * h[7]) / w;
        double s1 = a * a + b * b + c * c + d * d, det = a * d - b * c;
        double disc = Math.Sqrt(Math.Max(0, s1 * s1 / 4 - det * det));
        return Math.Sqrt(s1 / 2 + disc);
    }
}
