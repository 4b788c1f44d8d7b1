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
                    throw new FileFormatException(path, 0, $"gives '{name}' another camera than {from[name]} does");
                all[name] = camera;
                from.TryAdd(name, path);
            }
        return all;
    }
}
