using System.Globalization;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Formats;

/// <summary>An image with known intrinsics and pose: the mapping stage's input, whatever file it came from.</summary>
public sealed record PosedImage(string Name, Camera Camera, Pose Pose);

/// <summary>A file problem, reported with the file and line.</summary>
public sealed class FileFormatException : R2D2Exception
{
    public FileFormatException(string file, int line, string message) : base(file, line, message) { }
}

/// <summary>Reads posed cameras from COLMAP text models, NVM files (+ an intrinsics list) and Strecha .camera folders.</summary>
public static class PosedImages
{
    /// <summary>A COLMAP model folder (binary or text), a kapture folder, an .nvm file, or a folder of Strecha .camera files.</summary>
    public static List<PosedImage> Read(string path, IReadOnlyDictionary<string, Camera>? intrinsics = null, string? intrinsicsFile = null, string? imageRoot = null)
    {
        if (File.Exists(path) && path.EndsWith(".nvm", StringComparison.OrdinalIgnoreCase))
            return Nvm.Read(path, intrinsics, intrinsicsFile, imageRoot);
        if (Directory.Exists(path))
        {
            if (ColmapModels.IsModel(path))
                return ColmapModels.Read(path, supportedModelsOnly: true).Images.Select(i => i.Posed).ToList();
            if (Kapture.IsKapture(path))
                return Kapture.ReadPosed(path, supportedModelsOnly: true);
            if (Directory.EnumerateFiles(path, "*.camera").Any())
                return StrechaCameras.ReadFolder(path);
        }
        if (!File.Exists(path) && !Directory.Exists(path)) throw new FileFormatException(path, 0, "not found (poses: a COLMAP model folder, a kapture folder, an .nvm file or a folder of .camera files)");
        throw new FileFormatException(path, 0, "not a COLMAP model folder (cameras.bin + images.bin or cameras.txt + images.txt), a kapture folder (sensors/sensors.txt), an .nvm file, or a folder of .camera files");
    }

    /// <summary>The non-blank, non-comment (#) lines of a text file, split into fields, with their line numbers.</summary>
    internal static IEnumerable<(int Line, string[] Fields)> DataLines(string file)
    {
        TextInput.RefuseBinary(file, "a text file");
        int n = 0;
        foreach (var raw in TextInput.ReadLines(file))
        {
            n++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            yield return (n, Fields(line));
        }
    }

    internal static string[] Fields(string line) =>
        line.Split(new[] { ' ', '\t', ',' }, StringSplitOptions.RemoveEmptyEntries);

    internal static double Number(string s, string file, int line, string what)
    {
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || !double.IsFinite(v))
            throw new FileFormatException(file, line, $"{what} '{s}' is not a number");
        return v;
    }

    internal static int Integer(string s, string file, int line, string what) => Integer<int>(s, file, line, what);

    /// <summary>A whole number of type <typeparamref name="T"/>; one out of the type's range is refused too.</summary>
    internal static T Integer<T>(string s, string file, int line, string what) where T : System.Numerics.IBinaryInteger<T>
    {
        if (!T.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v))
            throw new FileFormatException(file, line, $"{what} '{s}' is not an integer (of type {typeof(T).Name})");
        return v;
    }

    /// <summary>Refuses a camera that cannot be right (<see cref="Camera.FindProblem"/>) and, for the
    /// map and query pipeline, a model it cannot project, naming the file and line.</summary>
    internal static Camera Checked(Camera camera, string file, int line, bool supportedModelsOnly = true, string? subject = null)
    {
        if (camera.FindProblem(subject) is { } problem) throw new FileFormatException(file, line, problem);
        if (supportedModelsOnly && camera.UnsupportedModelProblem is { } unsupported) throw new FileFormatException(file, line, unsupported);
        return camera;
    }

    /// <summary>The rotation of a quaternion (w, x, y, z) read from a file, refused when it is none.</summary>
    internal static double[] Rotation(double[] quaternion, string file, int line) =>
        Rotations.FindQuaternionProblem(quaternion) is { } problem
            ? throw new FileFormatException(file, line, problem)
            : Rotations.FromQuaternion(quaternion);
}
