namespace R2D2.Localization.Geometry;

/// <summary>
/// Projection, unprojection and undistortion of the camera models the pipeline uses, with
/// COLMAP's formulas: SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV, FULL_OPENCV.
/// Distortion acts on normalized coordinates (u, v) = (x/z, y/z); pixels = f·(u, v)_distorted + c.
/// The other models (fisheye, division, FOV, EUCM…) are not projective even with zero
/// coefficients, so they are refused (<see cref="UnsupportedModelProblem"/>), never approximated.
/// </summary>
public sealed partial record Camera
{
    /// <summary>The models this type projects and undistorts: the only ones the map and query pipeline takes.</summary>
    public static IReadOnlyList<CameraModel> SupportedModels { get; } = new[]
    {
        CameraModel.SimplePinhole, CameraModel.Pinhole, CameraModel.SimpleRadial, CameraModel.Radial, CameraModel.OpenCV, CameraModel.FullOpenCV,
    };

    public bool IsSupported => SupportedModels.Contains(Model);

    /// <summary>Null for a supported model, else the message that refuses it (naming the supported ones).</summary>
    public string? UnsupportedModelProblem => IsSupported ? null
        : $"camera model {Model.Name} is not supported by the map and query pipeline (supported: {string.Join(", ", SupportedModels.Select(m => m.Name))});"
          + " undistort the images to one of these first";

    /// <summary>The pinhole part: focal lengths and principal point (project pixel convention).</summary>
    public PinholeIntrinsics Pinhole => Model.Name switch
    {
        "SIMPLE_PINHOLE" or "SIMPLE_RADIAL" or "RADIAL" => new PinholeIntrinsics(Params[0], Params[0], Params[1], Params[2]),
        "PINHOLE" or "OPENCV" or "FULL_OPENCV" => new PinholeIntrinsics(Params[0], Params[1], Params[2], Params[3]),
        _ => throw Unsupported(),
    };

    public bool HasDistortion => Model.Name switch
    {
        "SIMPLE_PINHOLE" or "PINHOLE" => false,
        "SIMPLE_RADIAL" or "RADIAL" => Params.Skip(3).Any(p => p != 0),
        "OPENCV" or "FULL_OPENCV" => Params.Skip(4).Any(p => p != 0),
        _ => throw Unsupported(),
    };

    private R2D2Exception Unsupported() => new($"camera {Id}: {UnsupportedModelProblem}");

    /// <summary>Pixel of a camera-frame point (z &gt; 0 expected).</summary>
    public (double X, double Y) Project(double x, double y, double z)
    {
        var (du, dv) = Distort(x / z, y / z);
        var k = Pinhole;
        return (k.Fx * du + k.Cx, k.Fy * dv + k.Cy);
    }

    /// <summary>Undistorted normalized coordinates (x/z, y/z) of a pixel.</summary>
    public (double U, double V) ImageToNormalized(double px, double py)
    {
        var k = Pinhole;
        double ud = (px - k.Cx) / k.Fx, vd = (py - k.Cy) / k.Fy;
        return HasDistortion ? Undistort(ud, vd) : (ud, vd);
    }

    /// <summary>Where a pixel would be in the same camera without distortion.</summary>
    public (double X, double Y) UndistortPixel(double px, double py)
    {
        var (u, v) = ImageToNormalized(px, py);
        var k = Pinhole;
        return (k.Fx * u + k.Cx, k.Fy * v + k.Cy);
    }

    /// <summary>Undistorted keypoints (pixels of the pinhole part); the input arrays themselves when the camera has no distortion.</summary>
    public (float[] X, float[] Y) UndistortPixels(float[] x, float[] y)
    {
        if (!HasDistortion) return (x, y);
        var ux = new float[x.Length]; var uy = new float[y.Length];
        for (int i = 0; i < x.Length; i++)
        {
            var (a, b) = UndistortPixel(x[i], y[i]);
            ux[i] = (float)a; uy[i] = (float)b;
        }
        return (ux, uy);
    }

    /// <summary>Distorted normalized coordinates of undistorted ones.</summary>
    public (double U, double V) Distort(double u, double v)
    {
        var p = Params;
        double r2 = u * u + v * v;
        switch (Model.Name)
        {
            case "SIMPLE_PINHOLE":
            case "PINHOLE":
                return (u, v);
            case "SIMPLE_RADIAL":
            {
                double radial = p[3] * r2;
                return (u + u * radial, v + v * radial);
            }
            case "RADIAL":
            {
                double radial = p[3] * r2 + p[4] * r2 * r2;
                return (u + u * radial, v + v * radial);
            }
            case "OPENCV":
            {
                double k1 = p[4], k2 = p[5], p1 = p[6], p2 = p[7];
                double radial = k1 * r2 + k2 * r2 * r2, uv = u * v;
                return (u + u * radial + 2 * p1 * uv + p2 * (r2 + 2 * u * u), v + v * radial + 2 * p2 * uv + p1 * (r2 + 2 * v * v));
            }
            case "FULL_OPENCV":
            {
                double k1 = p[4], k2 = p[5], p1 = p[6], p2 = p[7], k3 = p[8], k4 = p[9], k5 = p[10], k6 = p[11];
                double r4 = r2 * r2, r6 = r4 * r2, uv = u * v;
                double radial = (1 + k1 * r2 + k2 * r4 + k3 * r6) / (1 + k4 * r2 + k5 * r4 + k6 * r6);
                return (u * radial + 2 * p1 * uv + p2 * (r2 + 2 * u * u), v * radial + 2 * p2 * uv + p1 * (r2 + 2 * v * v));
            }
            default:
                throw Unsupported();
        }
    }

    /// <summary>Inverts <see cref="Distort"/> by Newton's method with a numerical Jacobian (as COLMAP does).</summary>
    public (double U, double V) Undistort(double ud, double vd)
    {
        double u = ud, v = vd;
        const double h = 1e-7;
        for (int it = 0; it < 50; it++)
        {
            var (fu, fv) = Distort(u, v);
            double eu = fu - ud, ev = fv - vd;
            if (eu * eu + ev * ev < 1e-24) break;
            var (au, av) = Distort(u + h, v);
            var (bu, bv) = Distort(u, v + h);
            double j00 = (au - fu) / h, j10 = (av - fv) / h, j01 = (bu - fu) / h, j11 = (bv - fv) / h;
            double det = j00 * j11 - j01 * j10;
            if (Math.Abs(det) < 1e-15) break;
            u -= (j11 * eu - j01 * ev) / det;
            v -= (-j10 * eu + j00 * ev) / det;
        }
        return (u, v);
    }

    /// <summary>The 3×4 projection matrix K·[R | t] of the pinhole part (for undistorted pixels).</summary>
    public double[] ProjectionMatrix(Pose pose)
    {
        var k = Pinhole;
        var r = pose.Rotation; var t = pose.Translation;
        var p = new double[12];
        for (int j = 0; j < 4; j++)
        {
            double r0 = j < 3 ? r[j] : t[0], r1 = j < 3 ? r[3 + j] : t[1], r2 = j < 3 ? r[6 + j] : t[2];
            p[j] = k.Fx * r0 + k.Cx * r2;
            p[4 + j] = k.Fy * r1 + k.Cy * r2;
            p[8 + j] = r2;
        }
        return p;
    }
}
