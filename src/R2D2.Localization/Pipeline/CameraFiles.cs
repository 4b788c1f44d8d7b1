using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

/// <summary>Cameras by image name from what users pass as intrinsics: a `name MODEL w h params...`
/// list, or a COLMAP database (the visuallocalization.net local-feature evaluation databases).</summary>
public static class CameraFiles
{
    public static Dictionary<string, Camera> Read(string path) =>
        path.EndsWith(".db", StringComparison.OrdinalIgnoreCase) ? FeatureDatabase.ReadCamerasByImage(path) : Intrinsics.Read(path);

    /// <summary>The cameras of several files as one (Aachen's day and night query lists); an image
    /// two files give different cameras is an error naming both.</summary>
    public static Dictionary<string, Camera> Read(IReadOnlyList<string> paths)
    {
        var all = new Dictionary<string, Camera>(StringComparer.Ordinal);
        var from = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var path in paths)
            foreach (var (name, camera) in Read(path))
            {
                if (all.TryGetValue(name, out var earlier) && !earlier.SameIntrinsics(camera))
                    throw new FileFormatException(path, LineOf(path, name), $"gives '{name}' another camera than {from[name]}{(LineOf(from[name], name) is > 0 and var l ? $":{l}" : "")} does");
                all[name] = camera;
                from.TryAdd(name, path);
            }
        return all;
    }

    // The line of a list that names the image first (0 for a database, or a name not found so).
    private static int LineOf(string path, string name)
    {
        if (path.EndsWith(".db", StringComparison.OrdinalIgnoreCase)) return 0;
        int n = 0;
        foreach (var line in TextInput.ReadLines(path))
        {
            n++;
            if (line.Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries) is [var first, ..] && first == name) return n;
        }
        return 0;
    }
}
