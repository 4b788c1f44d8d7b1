namespace R2D2.Localization.Geometry;

/// <summary>
/// COLMAP's initial camera for an image it knows nothing of, as its feature extractor registers
/// one: SIMPLE_RADIAL, f = 1.2 × the larger side, the principal point at the centre, no distortion,
/// no prior focal length. The project registers such a camera too, and knows one when it reads it
/// (it is no calibration).
/// </summary>
public static class ColmapGuess
{
    public const double FocalFactor = 1.2;

    public static Camera For(int width, int height) =>
        new(0, CameraModel.SimpleRadial, width, height, new[] { FocalFactor * Math.Max(width, height), (width - 1) / 2.0, (height - 1) / 2.0, 0 });

    /// <summary>Whether a camera, of any model, is such a guess.</summary>
    public static bool Is(Camera c)
    {
        if (c.HasPriorFocalLength) return false;
        double f = FocalFactor * Math.Max(c.Width, c.Height);
        var names = c.Model.ParamNames;
        for (int i = 0; i < names.Count; i++)
        {
            double expected = names[i] switch { "f" or "fx" or "fy" => f, "cx" => (c.Width - 1) / 2.0, "cy" => (c.Height - 1) / 2.0, _ => 0 };
            if (Math.Abs(c.Params[i] - expected) > 1e-6 * Math.Max(1, Math.Abs(expected))) return false;
        }
        return true;
    }
}
