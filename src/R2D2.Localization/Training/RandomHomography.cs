using R2D2.Localization.Geometry;

namespace R2D2.Localization.Training;

/// <summary>
/// The distribution of random viewpoint changes: in-plane rotation, scale, out-of-plane tilt (a
/// plane seen by a camera turned about an axis through the image centre) and translation.
/// </summary>
public sealed record HomographySettings
{
    /// <summary>In-plane rotation, uniform in ±this (degrees)…</summary>
    public double MaxRotationDeg { get; init; } = 30;
    /// <summary>…except with this probability, when it is uniform in ±180°.</summary>
    public double LargeRotationProbability { get; init; } = 0.1;
    /// <summary>Scale of image 2 relative to image 1, log-uniform in [MinScale, MaxScale].</summary>
    public double MinScale { get; init; } = 0.6;
    public double MaxScale { get; init; } = 1.6;
    /// <summary>Out-of-plane tilt, uniform in [0, this] (degrees), about a random in-plane axis.</summary>
    public double MaxTiltDeg { get; init; } = 55;
    /// <summary>Translation of image 2's centre, uniform in ±this × the image size.</summary>
    public double MaxShift { get; init; } = 0.15;

    /// <summary>No geometric change (image 2 = image 1's view): for tests and illumination-only pairs.</summary>
    public static HomographySettings Identity => new() { MaxRotationDeg = 0, LargeRotationProbability = 0, MinScale = 1, MaxScale = 1, MaxTiltDeg = 0, MaxShift = 0 };

    /// <summary>The same distribution with every change multiplied by <paramref name="d"/> ∈ [0, 1]
    /// (angles and shift linearly, scale in log space): a difficulty ramp.</summary>
    public HomographySettings Scaled(double d) => this with
    {
        MaxRotationDeg = MaxRotationDeg * d,
        LargeRotationProbability = LargeRotationProbability * d,
        MinScale = Math.Pow(MinScale, d),
        MaxScale = Math.Pow(MaxScale, d),
        MaxTiltDeg = MaxTiltDeg * d,
        MaxShift = MaxShift * d,
    };
}

public static class RandomHomography
{
    /// <summary>
    /// A random homography about the origin: it maps a point relative to image 1's centre to a
    /// point relative to image 2's centre. The tilt is normalized to keep the area at the centre
    /// (so the sampled scale is the scale there). <paramref name="size"/> (px) sets the translation
    /// range and the focal length of the tilt's perspective.
    /// </summary>
    public static double[] SampleCentred(Rng rng, HomographySettings s, double size)
    {
        double rot = (rng.Chance(s.LargeRotationProbability) ? rng.Uniform(-180, 180) : rng.Uniform(-s.MaxRotationDeg, s.MaxRotationDeg)) * Math.PI / 180;
        double scale = rng.LogUniform(s.MinScale, s.MaxScale);
        double tilt = rng.Uniform(0, s.MaxTiltDeg) * Math.PI / 180;
        double axis = rng.Uniform(0, Math.PI);
        double focal = size * rng.Uniform(0.8, 2.0);
        double tx = rng.Uniform(-s.MaxShift, s.MaxShift) * size, ty = rng.Uniform(-s.MaxShift, s.MaxShift) * size;
        var t = Tilt(tilt, axis, focal);
        double c = Math.Cos(rot) * scale, sn = Math.Sin(rot) * scale;
        var similarity = new double[] { c, -sn, tx, sn, c, ty, 0, 0, 1 };
        return Homography.Multiply(similarity, t);
    }

    /// <summary>K·R·K⁻¹ for a camera turned by <paramref name="angle"/> about the in-plane axis at
    /// <paramref name="axisAngle"/>, then shifted and scaled so the origin stays fixed with unit
    /// area scale there (the local Jacobian has determinant 1).</summary>
    public static double[] Tilt(double angle, double axisAngle, double focal)
    {
        if (angle == 0) return new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
        var r = Rotations.Exp(angle * Math.Cos(axisAngle), angle * Math.Sin(axisAngle), 0);
        var k = new double[] { focal, 0, 0, 0, focal, 0, 0, 0, 1 };
        var kInv = new double[] { 1 / focal, 0, 0, 0, 1 / focal, 0, 0, 0, 1 };
        var h = Homography.Multiply(k, Homography.Multiply(r, kInv));
        // Move the image of the origin back to the origin.
        var (ox, oy) = Homography.Apply(h, 0, 0);
        h = Homography.Multiply(new double[] { 1, 0, -ox, 0, 1, -oy, 0, 0, 1 }, h);
        // Jacobian at the origin of (h0 x + h1 y + h2)/(h6 x + h7 y + h8), with h2 = h5 = 0 there.
        double w = h[8];
        double j00 = (h[0] * w - h[2] * h[6]) / (w * w), j01 = (h[1] * w - h[2] * h[7]) / (w * w);
        double j10 = (h[3] * w - h[5] * h[6]) / (w * w), j11 = (h[4] * w - h[5] * h[7]) / (w * w);
        double norm = 1 / Math.Sqrt(Math.Abs(j00 * j11 - j01 * j10));
        return Homography.Multiply(new double[] { norm, 0, 0, 0, norm, 0, 0, 0, 1 }, h);
    }

    /// <summary>T(to)·H·T(−from): the centred homography moved to image coordinates.</summary>
    public static double[] Recentre(double[] centred, double fromX, double fromY, double toX, double toY) =>
        Homography.Multiply(new double[] { 1, 0, toX, 0, 1, toY, 0, 0, 1 },
            Homography.Multiply(centred, new double[] { 1, 0, -fromX, 0, 1, -fromY, 0, 0, 1 }));
}
