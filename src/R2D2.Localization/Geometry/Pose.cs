namespace R2D2.Localization.Geometry;

/// <summary>
/// A camera pose, world→camera (the project's convention): x_cam = R·X + t. The camera centre is
/// C = −Rᵀ·t and the camera looks along its +z axis, which in world coordinates is Rᵀ·(0,0,1),
/// the third row of R. Quaternions are Hamilton, stored (w, x, y, z), as COLMAP and the Aachen
/// submission format store them.
/// </summary>
public sealed class Pose
{
    /// <summary>R, 3×3 row-major.</summary>
    public double[] Rotation { get; }
    /// <summary>t (3).</summary>
    public double[] Translation { get; }

    public Pose(double[] rotation, double[] translation)
    {
        if (rotation.Length != 9) throw new ArgumentException("rotation must be 3×3 (9 values, row-major)");
        if (translation.Length != 3) throw new ArgumentException("translation must have 3 values");
        Rotation = (double[])rotation.Clone();
        Translation = (double[])translation.Clone();
    }

    public static Pose Identity => new(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new double[3]);

    /// <summary>From a Hamilton quaternion (w, x, y, z) (normalized here) and t.</summary>
    public static Pose FromQuaternion(ReadOnlySpan<double> wxyz, ReadOnlySpan<double> translation) =>
        new(Rotations.FromQuaternion(wxyz), translation.ToArray());

    /// <summary>From R and the camera centre C (NVM and Strecha store C): t = −R·C.</summary>
    public static Pose FromCameraCenter(double[] rotation, ReadOnlySpan<double> center)
    {
        var t = Rotations.Apply(rotation, center[0], center[1], center[2]);
        return new Pose(rotation, new[] { -t[0], -t[1], -t[2] });
    }

    /// <summary>C = −Rᵀ·t, in world coordinates.</summary>
    public double[] CameraCenter
    {
        get
        {
            var r = Rotation; var t = Translation;
            return new[]
            {
                -(r[0] * t[0] + r[3] * t[1] + r[6] * t[2]),
                -(r[1] * t[0] + r[4] * t[1] + r[7] * t[2]),
                -(r[2] * t[0] + r[5] * t[1] + r[8] * t[2]),
            };
        }
    }

    /// <summary>The optical axis (camera +z) in world coordinates, a unit vector: the third row of R.</summary>
    public double[] ViewingDirection => new[] { Rotation[6], Rotation[7], Rotation[8] };

    /// <summary>The Hamilton quaternion (w, x, y, z) of R, with w ≥ 0.</summary>
    public double[] Quaternion => Rotations.ToQuaternion(Rotation);

    /// <summary>x_cam = R·X + t.</summary>
    public double[] ToCamera(double x, double y, double z)
    {
        var p = Rotations.Apply(Rotation, x, y, z);
        return new[] { p[0] + Translation[0], p[1] + Translation[1], p[2] + Translation[2] };
    }

    /// <summary>This pose followed by <paramref name="next"/> (world → this frame → next's frame):
    /// R = R_next·R, t = R_next·t + t_next. A rig camera's pose is the rig's pose then the
    /// camera's pose in the rig.</summary>
    public Pose Then(Pose next)
    {
        var r = Rotations.Multiply(next.Rotation, Rotation);
        var t = Rotations.Apply(next.Rotation, Translation[0], Translation[1], Translation[2]);
        return new Pose(r, new[] { t[0] + next.Translation[0], t[1] + next.Translation[1], t[2] + next.Translation[2] });
    }

    /// <summary>The pose of camera 2 relative to camera 1 (camera-1 → camera-2 coordinates): R = R₂R₁ᵀ, t = t₂ − R·t₁.</summary>
    public static Pose Relative(Pose pose1, Pose pose2)
    {
        var r = Rotations.Multiply(pose2.Rotation, Rotations.Transpose(pose1.Rotation));
        var rt1 = Rotations.Apply(r, pose1.Translation[0], pose1.Translation[1], pose1.Translation[2]);
        return new Pose(r, new[] { pose2.Translation[0] - rt1[0], pose2.Translation[1] - rt1[1], pose2.Translation[2] - rt1[2] });
    }
}

/// <summary>3×3 rotation matrices (row-major double[9]) and Hamilton quaternions (w, x, y, z).</summary>
public static class Rotations
{
    /// <summary>How far from orthonormal a rotation read from a file may be, ‖RᵀR − I‖ (Frobenius):
    /// files print ~6 digits (Strecha's are orthonormal to ~1e-6); a wrong matrix is off by far more.</summary>
    public const double OrthonormalityTolerance = 1e-3;
    /// <summary>A quaternion shorter than this carries no direction: rounding would pick the rotation.</summary>
    public const double MinQuaternionNorm = 1e-6;

    /// <summary>Null when <paramref name="r"/> (3×3 row-major) is a rotation, else what is wrong: a
    /// value that is not finite, ‖RᵀR − I‖ ≥ <see cref="OrthonormalityTolerance"/>, or det R &lt; 0
    /// (a reflection, which no camera pose is).</summary>
    public static string? FindProblem(ReadOnlySpan<double> r)
    {
        if (r.Length != 9) return "a rotation matrix has 9 values";
        foreach (var v in r) if (!double.IsFinite(v)) return "the rotation matrix holds a value that is not a finite number";
        double err = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                double d = r[i] * r[j] + r[3 + i] * r[3 + j] + r[6 + i] * r[6 + j] - (i == j ? 1 : 0); // (RᵀR − I)ij
                err += d * d;
            }
        err = Math.Sqrt(err);
        if (!(err < OrthonormalityTolerance)) return $"the rotation matrix is not orthonormal (‖RᵀR − I‖ = {err:G3})";
        double det = r[0] * (r[4] * r[8] - r[5] * r[7]) - r[1] * (r[3] * r[8] - r[5] * r[6]) + r[2] * (r[3] * r[7] - r[4] * r[6]);
        if (det < 0) return "the rotation matrix is a reflection (determinant −1), not a rotation";
        return null;
    }

    /// <summary>Null when <paramref name="q"/> (w, x, y, z) normalizes to a rotation, else what is wrong.</summary>
    public static string? FindQuaternionProblem(ReadOnlySpan<double> q)
    {
        if (q.Length != 4) return "a quaternion has 4 values (w, x, y, z)";
        foreach (var v in q) if (!double.IsFinite(v)) return "the quaternion holds a value that is not a finite number";
        double n = QuaternionNorm(q);
        return n < MinQuaternionNorm ? $"the quaternion's norm {n:G3} is ~0: it is no rotation" : null;
    }

    /// <summary>|q|, taken of q scaled by its largest component: the plain sum of squares overflowed
    /// to ∞ for components of 1e200 (the quaternion then normalized to 0 0 0 0, read as the identity).</summary>
    public static double QuaternionNorm(ReadOnlySpan<double> q)
    {
        double largest = Largest(q);
        if (!(largest > 0) || double.IsInfinity(largest)) return largest;
        double sum = 0;
        foreach (var v in q) sum += (v / largest) * (v / largest);
        return largest * Math.Sqrt(sum);
    }

    private static double Largest(ReadOnlySpan<double> q)
    {
        double largest = 0;
        foreach (var v in q) largest = Math.Max(largest, Math.Abs(v));
        return largest;
    }

    /// <summary>R of a Hamilton quaternion (normalized first); R·v = q·v·q*.</summary>
    public static double[] FromQuaternion(ReadOnlySpan<double> q)
    {
        if (q.Length != 4) throw new ArgumentException("a quaternion has 4 values (w, x, y, z)");
        // Divided by its largest component first: |q| itself overflows for components near 1e308.
        double largest = Largest(q);
        if (!(largest > 0) || !double.IsFinite(largest)) throw new ArgumentException("a zero or non-finite quaternion is no rotation");
        double a = q[0] / largest, b = q[1] / largest, c = q[2] / largest, d = q[3] / largest;
        double n = Math.Sqrt(a * a + b * b + c * c + d * d);
        double w = a / n, x = b / n, y = c / n, z = d / n;
        return new[]
        {
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        };
    }

    /// <summary>The unit quaternion (w, x, y, z) of a rotation matrix, w ≥ 0. Shepperd's method: it
    /// takes the square root of the largest of 1+trace and the diagonal terms, so it stays accurate
    /// near 180° turns where the trace formula divides by ~0.</summary>
    public static double[] ToQuaternion(ReadOnlySpan<double> r)
    {
        double trace = r[0] + r[4] + r[8];
        double w, x, y, z;
        if (trace >= r[0] && trace >= r[4] && trace >= r[8])
        {
            double s = 2 * Math.Sqrt(1 + trace);
            w = s / 4; x = (r[7] - r[5]) / s; y = (r[2] - r[6]) / s; z = (r[3] - r[1]) / s;
        }
        else if (r[0] >= r[4] && r[0] >= r[8])
        {
            double s = 2 * Math.Sqrt(1 + r[0] - r[4] - r[8]);
            w = (r[7] - r[5]) / s; x = s / 4; y = (r[1] + r[3]) / s; z = (r[2] + r[6]) / s;
        }
        else if (r[4] >= r[8])
        {
            double s = 2 * Math.Sqrt(1 + r[4] - r[0] - r[8]);
            w = (r[2] - r[6]) / s; x = (r[1] + r[3]) / s; y = s / 4; z = (r[5] + r[7]) / s;
        }
        else
        {
            double s = 2 * Math.Sqrt(1 + r[8] - r[0] - r[4]);
            w = (r[3] - r[1]) / s; x = (r[2] + r[6]) / s; y = (r[5] + r[7]) / s; z = s / 4;
        }
        double n = Math.Sqrt(w * w + x * x + y * y + z * z);
        double sign = w < 0 ? -1 : 1; // q and −q are the same rotation: pick one
        return new[] { sign * w / n, sign * x / n, sign * y / n, sign * z / n };
    }

    public static double[] Apply(ReadOnlySpan<double> r, double x, double y, double z) => new[]
    {
        r[0] * x + r[1] * y + r[2] * z,
        r[3] * x + r[4] * y + r[5] * z,
        r[6] * x + r[7] * y + r[8] * z,
    };

    public static double[] Multiply(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var m = new double[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                m[3 * i + j] = a[3 * i] * b[j] + a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
        return m;
    }

    public static double[] Transpose(ReadOnlySpan<double> r) => new[] { r[0], r[3], r[6], r[1], r[4], r[7], r[2], r[5], r[8] };

    /// <summary>The angle (radians, in [0, π]) between two unit vectors; clamped against rounding.</summary>
    public static double AngleBetween(ReadOnlySpan<double> a, ReadOnlySpan<double> b) =>
        Math.Acos(Math.Clamp(a[0] * b[0] + a[1] * b[1] + a[2] * b[2], -1.0, 1.0));
    /// <summary>Rodrigues: the rotation by |ω| about ω/|ω| (row-major).</summary>
    public static double[] Exp(double wx, double wy, double wz)
    {
        double th = Math.Sqrt(wx * wx + wy * wy + wz * wz);
        double a, b;
        if (th < 1e-8) { a = 1 - th * th / 6; b = 0.5 - th * th / 24; }
        else { a = Math.Sin(th) / th; b = (1 - Math.Cos(th)) / (th * th); }
        return new[]
        {
            1 - b * (wy * wy + wz * wz), -a * wz + b * wx * wy, a * wy + b * wx * wz,
            a * wz + b * wx * wy, 1 - b * (wx * wx + wz * wz), -a * wx + b * wy * wz,
            -a * wy + b * wx * wz, a * wx + b * wy * wz, 1 - b * (wx * wx + wy * wy),
        };
    }

    /// <summary>The angle (radians) of the rotation between two rotations, that of M = Aᵀ·B:
    /// atan2(|axis part|, cos part), accurate near 0 where acos((tr − 1)/2) loses half the digits.</summary>
    public static double AngleBetweenRotations(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        Span<double> m = stackalloc double[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                m[3 * i + j] = a[i] * b[j] + a[3 + i] * b[3 + j] + a[6 + i] * b[6 + j];
        double x = m[7] - m[5], y = m[2] - m[6], z = m[3] - m[1];
        return Math.Atan2(0.5 * Math.Sqrt(x * x + y * y + z * z), 0.5 * (m[0] + m[4] + m[8] - 1));
    }
}
