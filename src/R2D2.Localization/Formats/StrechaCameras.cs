using R2D2.Localization.Geometry;

namespace R2D2.Localization.Formats;

/// <summary>
/// Strecha et al.'s `.camera` files (EPFL multi-view benchmark): K (3 rows), a row of distortion
/// (zeros), R (3 rows, camera→world), the camera centre C, then width height. The projection is
/// x ~ K·Rᵀ·(X − C), so the world→camera rotation is Rᵀ. K's principal point is taken in the
/// project's convention (sub-pixel reprojection of triangulated matches confirms it).
/// </summary>
public static class StrechaCameras
{
    public static PosedImage Read(string file, int cameraId = 1)
    {
        // Every number with its line, so that errors can point at the row.
        var values = new List<(double Value, int Line)>();
        int n = 0;
        foreach (var raw in TextInput.ReadLines(file))
        {
            n++;
            foreach (var s in PosedImages.Fields(raw)) values.Add((PosedImages.Number(s, file, n, "value"), n));
        }
        if (values.Count != 9 + 3 + 9 + 3 + 2) throw new FileFormatException(file, 0, $"expected 26 numbers (K, distortion, R, C, width height), found {values.Count}");
        double[] Take(int from, int count) => values.Skip(from).Take(count).Select(v => v.Value).ToArray();
        int LineOf(int index) => values[index].Line;
        var k = Take(0, 9);
        // The camera is PINHOLE: a skew or a K whose last row is not (0 0 1) would be dropped silently.
        if (k[1] != 0 || k[3] != 0 || k[6] != 0 || k[7] != 0 || k[8] != 1)
            throw new FileFormatException(file, LineOf(0), "K must be [fx 0 cx; 0 fy cy; 0 0 1] (no skew)");
        if (Take(9, 3).Any(d => d != 0))
            throw new FileFormatException(file, LineOf(9), "non-zero distortion is not supported (the benchmark's cameras have none)");
        var camToWorld = Take(12, 9);
        if (Rotations.FindProblem(camToWorld) is { } problem) throw new FileFormatException(file, LineOf(12), problem);
        var centre = Take(21, 3);
        double w = values[24].Value, h = values[25].Value;
        if (w != Math.Floor(w) || h != Math.Floor(h) || w < 1 || h < 1 || w > int.MaxValue || h > int.MaxValue)
            throw new FileFormatException(file, LineOf(24), $"width and height must be positive whole numbers (got {w} {h})");
        var camera = PosedImages.Checked(new Camera(cameraId, CameraModel.Pinhole, (int)w, (int)h, new[] { k[0], k[4], k[2], k[5] }), file, LineOf(0));
        // Name: the image file the .camera file describes ("0000.jpg.camera" → "0000.jpg").
        var name = Path.GetFileName(file);
        if (name.EndsWith(".camera", StringComparison.OrdinalIgnoreCase)) name = name[..^".camera".Length];
        return new PosedImage(name, camera, Pose.FromCameraCenter(Rotations.Transpose(camToWorld), centre));
    }

    /// <summary>The .camera file of a PINHOLE or SIMPLE_PINHOLE camera (the format has no distortion;
    /// other models are refused): its name (the image's base name + .camera) and text.</summary>
    public static (string FileName, string Text) Format(PosedImage image)
    {
        var c = image.Camera;
        double fx, fy, cx, cy;
        if (c.Model == CameraModel.Pinhole) (fx, fy, cx, cy) = (c.Params[0], c.Params[1], c.Params[2], c.Params[3]);
        else if (c.Model == CameraModel.SimplePinhole) (fx, fy, cx, cy) = (c.Params[0], c.Params[0], c.Params[1], c.Params[2]);
        else throw new R2D2Exception($"{image.Name}: a .camera file holds a pinhole camera without distortion, not {c.Model.Name}");
        var name = Submission.BaseName(image.Name);
        string N(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var r = Rotations.Transpose(image.Pose.Rotation); // camera→world
        var cc = image.Pose.CameraCenter;
        var text = $"{N(fx)} 0 {N(cx)}\n0 {N(fy)} {N(cy)}\n0 0 1\n0 0 0\n"
            + $"{N(r[0])} {N(r[1])} {N(r[2])}\n{N(r[3])} {N(r[4])} {N(r[5])}\n{N(r[6])} {N(r[7])} {N(r[8])}\n"
            + $"{N(cc[0])} {N(cc[1])} {N(cc[2])}\n{c.Width} {c.Height}\n";
        return (name + ".camera", text);
    }

    public static List<PosedImage> ReadFolder(string folder) =>
        Directory.GetFiles(folder, "*.camera").OrderBy(f => f, StringComparer.Ordinal).Select((f, i) => Read(f, i + 1)).ToList();
}
