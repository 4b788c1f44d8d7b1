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
}
