using R2D2.Localization.Geometry;

namespace R2D2.Localization.Formats;

/// <summary>
/// VisualSFM's NVM_V3 (the Aachen day-night model): after the header and the camera count, one
/// line per camera `name f qw qx qy qz cx cy cz k 0`: the quaternion is world→camera and (cx, cy,
/// cz) the camera centre. The NVM focal and distortion are VisualSFM's (see below); with an intrinsics list
/// (`name MODEL w h params...`, COLMAP's conventions, Aachen's database_intrinsics.txt, or a COLMAP database) those are
/// used instead, as the Aachen benchmark prescribes. Without one, a RADIAL camera with the NVM
/// focal, the principal point at the image centre and VisualSFM's measurement distortion inverted
/// to third order is made (the image must exist under <paramref name="imageRoot"/> for its size).
/// NVM_V3_R9T files hold the rotation matrix (9 values, row-major) instead of the quaternion. The
/// line after the cameras must be the number of points (or the end): a camera line beyond the
/// count is an error, not ignored. Every model of a file is read, in one frame (as kapture's
/// import does; Aachen's parts share theirs); an image in two models is an error.
/// </summary>
public static class Nvm
{
    /// <param name="intrinsics">cameras by image name (from <paramref name="intrinsicsFile"/>, named in messages), or null</param>
    public static List<PosedImage> Read(string file, IReadOnlyDictionary<string, Camera>? intrinsics, string? intrinsicsFile, string? imageRoot) =>
        Parse(file, (line, c, n) =>
        {
            var (name, focal, k, rotation, centre) = line;
            if (imageRoot != null && !File.Exists(Path.Combine(imageRoot, name)))
                throw new FileFormatException(file, n, $"image '{name}' not found under {imageRoot}");
            Camera camera;
            if (intrinsics != null)
            {
                if (!intrinsics.TryGetValue(name, out var cam)) throw new FileFormatException(file, n, $"'{name}' is not in the intrinsics file {intrinsicsFile}");
                camera = cam with { Id = c + 1 };
            }
            else
            {
                if (focal <= 0) throw new FileFormatException(file, n, $"focal length {focal} is not positive");
                if (imageRoot == null) throw new FileFormatException(file, n, "without an intrinsics file the images are needed (their size gives the principal point)");
                var (w, h) = ImageFile.ReadSize(Path.Combine(imageRoot, name));
                // VisualSFM distorts the measurement: x_u = x_d·(1 + r·|x_d|²) (focal-normalized).
                // Its inverse to third order is a RADIAL projection with k1 = −r, k2 = 3r².
                camera = PosedImages.Checked(new Camera(c + 1, CameraModel.Radial, w, h, new[] { focal, (w - 1) / 2.0, (h - 1) / 2.0, -k, 3 * k * k }), file, n);
            }
            return new PosedImage(name, camera, Pose.FromCameraCenter(rotation, centre));
        });

    /// <summary>The poses alone (world→camera), without cameras: what a submission needs, so neither
    /// an intrinsics list nor the images are.</summary>
    public static List<(string Name, Pose Pose)> ReadPoses(string file) =>
        Parse(file, (line, _, _) => (line.Name, Pose.FromCameraCenter(line.Rotation, line.Centre)));

    private readonly record struct CameraLine(string Name, double Focal, double K, double[] Rotation, double[] Centre);

    /// <summary>The camera lines, checked, each made into a <typeparamref name="T"/> (with its index and line number).</summary>
    private static List<T> Parse<T>(string file, Func<CameraLine, int, int, T> make)
    {
        var result = new List<T>();
        using var reader = TextInput.OpenText(file);
        int n = 0;
        string? Next()
        {
            while (true)
            {
                var l = reader.ReadLine();
                n++;
                if (l == null) return null;
                if (l.Trim().Length > 0) return l.Trim();
            }
        }
        var header = Next();
        var version = header == null ? "" : PosedImages.Fields(header)[0];
        if (version is not ("NVM_V3" or "NVM_V3_R9T"))
            throw new FileFormatException(file, n, version.StartsWith("NVM_V3") ? $"{version} is not read (NVM_V3 and NVM_V3_R9T are)" : "not an NVM_V3 file");
        bool matrix = version == "NVM_V3_R9T";
        int rotationValues = matrix ? 9 : 4, fields = 7 + rotationValues;
        string layout = matrix ? "`name f r11 r12 r13 r21 r22 r23 r31 r32 r33 cx cy cz k 0`" : "`name f qw qx qy qz cx cy cz k 0`";
        var countLine = Next();
        if (countLine == null || !int.TryParse(countLine, out int count) || count < 0) throw new FileFormatException(file, n, "expected the number of cameras");
        var lineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        // Every model of the file, as kapture's import reads them (VisualSFM ends the list with an
        // empty model, "0", and may add comments after it).
        for (int model = 0; ; model++)
        {
            ReadCameras(count);
            // The points' count follows (or nothing): another camera line means the count was wrong.
            var points = Next();
            if (points == null) break;
            if (!(PosedImages.Fields(points) is [var p] && int.TryParse(p, out int np) && np >= 0))
                throw new FileFormatException(file, n, $"expected the number of points after the {count} cameras {(model == 0 ? "the file declares" : $"model {model + 1} declares")} (a camera line beyond that count?)");
            // The points are not used: a file cut short among them still gives its cameras.
            for (int i = 0; i < np; i++)
                if (reader.ReadLine() == null) return result;
            n += np;
            var next = Next();
            if (next == null || !int.TryParse(next, out count) || count <= 0) break;
        }
        return result;

        void ReadCameras(int cameras)
        {
            for (int c = 0; c < cameras; c++)
            {
                var line = Next() ?? throw new FileFormatException(file, n, $"file ends after {c} of {cameras} cameras");
                var f = PosedImages.Fields(line);
                if (f is [var single] && int.TryParse(single, out _))
                    throw new FileFormatException(file, n, $"the file declares {cameras} cameras but lists {c}: this line, one number, reads as the number of points");
                if (f.Length != fields) throw new FileFormatException(file, n, $"{f.Length} fields where {version} has {fields}: {layout}");
                string name = f[0];
                if (!lineOf.TryAdd(name, n)) throw new FileFormatException(file, n, $"image '{name}' is also on line {lineOf[name]}: one pose per image");
                double focal = PosedImages.Number(f[1], file, n, "focal length");
                var r = f.Skip(2).Take(rotationValues).Select(s => PosedImages.Number(s, file, n, matrix ? "rotation" : "quaternion")).ToArray();
                var centre = f.Skip(2 + rotationValues).Take(3).Select(s => PosedImages.Number(s, file, n, "camera centre")).ToArray();
                var rotation = !matrix ? PosedImages.Rotation(r, file, n)
                    : Rotations.FindProblem(r) is { } problem ? throw new FileFormatException(file, n, problem) : r;
                double k = PosedImages.Number(f[5 + rotationValues], file, n, "radial distortion");
                result.Add(make(new CameraLine(name, focal, k, rotation, centre), result.Count, n));
            }
        }
    }

    /// <summary>Writes the cameras of an NVM_V3 file (no points): the focal length is the camera's
    /// (f, or the mean of fx and fy) and the distortion 0; the exact cameras go to an intrinsics list
    /// (<see cref="QueryList.WriteWithIntrinsics"/>), which <see cref="Read"/> takes.</summary>
    public static void Write(string file, IReadOnlyList<PosedImage> images, string intrinsicsFile)
    {
        string N(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        var sb = new System.Text.StringBuilder($"NVM_V3\n\n{images.Count}\n");
        foreach (var im in images)
        {
            if (im.Name.Length == 0 || im.Name.Any(char.IsWhiteSpace)) throw new R2D2Exception($"{file}: image name '{im.Name}' cannot be written (empty or white space)");
            var names = im.Camera.Model.ParamNames;
            double f = names[0] == "f" ? im.Camera.Params[0] : names[0] == "fx" ? (im.Camera.Params[0] + im.Camera.Params[1]) / 2
                : throw new R2D2Exception($"{im.Name}: {im.Camera.Model.Name} has no focal length for NVM");
            var q = im.Pose.Quaternion; var c = im.Pose.CameraCenter;
            sb.Append($"{im.Name} {N(f)} {string.Join(' ', q.Concat(c).Select(N))} 0 0\n");
        }
        sb.Append("\n0\n\n0\n");
        QueryList.WriteWithIntrinsics(intrinsicsFile, images.Select(i => (i.Name, i.Camera)));
        OutputFile.WriteAllText(file, sb.ToString());
    }
}
