namespace R2D2.Localization.Geometry;

/// <summary>
/// A camera model as COLMAP names and numbers it. The ids and parameter orders are part of
/// COLMAP's database and model files, so they never change. Projection and undistortion will
/// live beside these names (one type owns them, see DESIGN.md); this file is pure data.
/// </summary>
public sealed class CameraModel
{
    private CameraModel(int id, string name, params string[] paramNames)
    {
        Id = id;
        Name = name;
        ParamNames = paramNames;
        int cx = Array.IndexOf(paramNames, "cx");
        PrincipalPoint = cx < 0 ? null : (cx, cx + 1);
    }

    /// <summary>COLMAP's model id (the <c>model</c> column of the <c>cameras</c> table).</summary>
    public int Id { get; }
    /// <summary>COLMAP's model name, e.g. SIMPLE_RADIAL.</summary>
    public string Name { get; }
    /// <summary>The parameters in COLMAP's order.</summary>
    public IReadOnlyList<string> ParamNames { get; }
    public int ParamCount => ParamNames.Count;

    /// <summary>Indices of (cx, cy) in the parameters, or null for models without a principal
    /// point (equirectangular). Needed to move the principal point between pixel conventions.</summary>
    public (int Cx, int Cy)? PrincipalPoint { get; }

    public static readonly CameraModel SimplePinhole = new(0, "SIMPLE_PINHOLE", "f", "cx", "cy");
    public static readonly CameraModel Pinhole = new(1, "PINHOLE", "fx", "fy", "cx", "cy");
    public static readonly CameraModel SimpleRadial = new(2, "SIMPLE_RADIAL", "f", "cx", "cy", "k");
    public static readonly CameraModel Radial = new(3, "RADIAL", "f", "cx", "cy", "k1", "k2");
    public static readonly CameraModel OpenCV = new(4, "OPENCV", "fx", "fy", "cx", "cy", "k1", "k2", "p1", "p2");
    public static readonly CameraModel OpenCVFisheye = new(5, "OPENCV_FISHEYE", "fx", "fy", "cx", "cy", "k1", "k2", "k3", "k4");
    public static readonly CameraModel FullOpenCV = new(6, "FULL_OPENCV",
        "fx", "fy", "cx", "cy", "k1", "k2", "p1", "p2", "k3", "k4", "k5", "k6");
    public static readonly CameraModel Fov = new(7, "FOV", "fx", "fy", "cx", "cy", "omega");
    public static readonly CameraModel SimpleRadialFisheye = new(8, "SIMPLE_RADIAL_FISHEYE", "f", "cx", "cy", "k");
    public static readonly CameraModel RadialFisheye = new(9, "RADIAL_FISHEYE", "f", "cx", "cy", "k1", "k2");
    public static readonly CameraModel ThinPrismFisheye = new(10, "THIN_PRISM_FISHEYE",
        "fx", "fy", "cx", "cy", "k1", "k2", "p1", "p2", "k3", "k4", "sx1", "sy1");
    public static readonly CameraModel RadTanThinPrismFisheye = new(11, "RAD_TAN_THIN_PRISM_FISHEYE",
        "fx", "fy", "cx", "cy", "k0", "k1", "k2", "k3", "k4", "k5", "p0", "p1", "s0", "s1", "s2", "s3");
    public static readonly CameraModel SimpleDivision = new(12, "SIMPLE_DIVISION", "f", "cx", "cy", "k");
    public static readonly CameraModel Division = new(13, "DIVISION", "fx", "fy", "cx", "cy", "k");
    public static readonly CameraModel SimpleFisheye = new(14, "SIMPLE_FISHEYE", "f", "cx", "cy");
    public static readonly CameraModel Fisheye = new(15, "FISHEYE", "fx", "fy", "cx", "cy");
    public static readonly CameraModel Eucm = new(16, "EUCM", "fx", "fy", "cx", "cy", "alpha", "beta");
    /// <summary>Its two parameters are the panorama's width and height in pixels.</summary>
    public static readonly CameraModel Equirectangular = new(17, "EQUIRECTANGULAR", "width", "height");

    /// <summary>Every model, indexed by id.</summary>
    public static IReadOnlyList<CameraModel> All { get; } = new[]
    {
        SimplePinhole, Pinhole, SimpleRadial, Radial, OpenCV, OpenCVFisheye, FullOpenCV, Fov,
        SimpleRadialFisheye, RadialFisheye, ThinPrismFisheye, RadTanThinPrismFisheye,
        SimpleDivision, Division, SimpleFisheye, Fisheye, Eucm, Equirectangular,
    };

    public static bool TryFromId(int id, out CameraModel model)
    {
        model = id >= 0 && id < All.Count ? All[id] : null!;
        return model != null;
    }

    public static CameraModel FromId(int id) =>
        TryFromId(id, out var m) ? m : throw new ArgumentException($"unknown COLMAP camera model id {id}");

    /// <summary>By COLMAP name, case-insensitive (cameras.txt and query lists write it upper case).</summary>
    public static CameraModel FromName(string name) =>
        All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase))
        ?? throw new ArgumentException($"unknown COLMAP camera model '{name}' (known: {string.Join(", ", All.Select(m => m.Name))})");

    public override string ToString() => Name;
}

/// <summary>
/// A camera's intrinsics. <see cref="Params"/> are in COLMAP's order for <see cref="Model"/>, in the
/// project's pixel convention: the centre of the top-left pixel is (0, 0), so the principal point
/// of a W×H image with a centred optical axis is ((W−1)/2, (H−1)/2), not COLMAP's (W/2, H/2).
/// <see cref="HasPriorFocalLength"/> is COLMAP's flag that the focal length is trusted (e.g. from
/// EXIF or a calibration) rather than guessed.
/// </summary>
public sealed partial record Camera(int Id, CameraModel Model, int Width, int Height, double[] Params, bool HasPriorFocalLength = false)
{
    /// <summary>Radial distortion coefficients act on normalized coordinates, where real lenses stay
    /// within |k1| ≲ 1; beyond this bound a value is a broken file, not a lens.</summary>
    public const double MaxRadialCoefficient = 10;
    /// <summary>FULL_OPENCV's radial term is a ratio of polynomials whose coefficients grow together
    /// in real calibrations (OpenCV's rational model), so its bound is looser.</summary>
    public const double MaxRationalCoefficient = 1000;
    /// <summary>Tangential (decentering) coefficients of real lenses are ~1e-3.</summary>
    public const double MaxTangentialCoefficient = 1;

    /// <summary>Throws <see cref="ArgumentException"/> with <see cref="FindProblem"/>'s message.</summary>
    public void Validate()
    {
        if (FindProblem() is { } problem) throw new ArgumentException(problem);
    }

    /// <summary>
    /// Null when the camera can be right, else what is wrong: a parameter count that does not fit
    /// the model, a size that is not positive, a parameter that is not finite, a focal length that is
    /// not positive, a principal point outside [−W, 2W]×[−H, 2H] (an optical axis off the image by
    /// more than its size), or a distortion coefficient beyond <see cref="MaxRadialCoefficient"/>
    /// (<see cref="MaxRationalCoefficient"/> for FULL_OPENCV) or <see cref="MaxTangentialCoefficient"/>.
    /// </summary>
    /// <param name="subject">what the message names (default "camera ID"; a query list's cameras
    /// are their queries').</param>
    public string? FindProblem(string? subject = null)
    {
        subject ??= $"camera {Id}";
        if (Params.Length != Model.ParamCount)
            return $"{subject}: {Model.Name} needs {Model.ParamCount} parameters ({string.Join(", ", Model.ParamNames)}), got {Params.Length}";
        if (Width <= 0 || Height <= 0)
            return $"{subject}: size must be positive (got {Width}x{Height})";
        double maxRadial = Model == CameraModel.FullOpenCV ? MaxRationalCoefficient : MaxRadialCoefficient;
        for (int i = 0; i < Params.Length; i++)
        {
            string name = Model.ParamNames[i];
            double v = Params[i];
            string? bad = name switch
            {
                _ when !double.IsFinite(v) => "is not a finite number",
                "f" or "fx" or "fy" or "width" or "height" when !(v > 0) => "must be positive",
                "cx" when v < -Width || v > 2.0 * Width => $"lies outside [-{Width}, {2 * Width}] (the image width is {Width})",
                "cy" when v < -Height || v > 2.0 * Height => $"lies outside [-{Height}, {2 * Height}] (the image height is {Height})",
                "k" or "k0" or "k1" or "k2" or "k3" or "k4" or "k5" or "k6" when Math.Abs(v) > maxRadial => $"is beyond ±{maxRadial}",
                "p0" or "p1" or "p2" when Math.Abs(v) > MaxTangentialCoefficient => $"is beyond ±{MaxTangentialCoefficient}",
                _ => null,
            };
            if (bad != null) return $"{subject}: {Model.Name} parameter {name} = {v} {bad}";
        }
        return null;
    }

    /// <summary>The same camera with its principal point moved by (d, d): the change of pixel
    /// convention (d = +0.5 from the project's to COLMAP's, −0.5 back).</summary>
    public Camera WithPrincipalPointShift(double d)
    {
        if (Model.PrincipalPoint is not { } pp) return this;
        var p = (double[])Params.Clone();
        p[pp.Cx] += d;
        p[pp.Cy] += d;
        return this with { Params = p };
    }

    public bool SameIntrinsics(Camera other) =>
        Model == other.Model && Width == other.Width && Height == other.Height && Params.AsSpan().SequenceEqual(other.Params);
}
