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
        var values = new List<double>();
        int n = 0;
        foreach (var raw in File.ReadLines(file))
        {
            n++;
            foreach (var s in PosedImages.Fields(raw)) values.Add(PosedImages.Number(s, file, n, "value"));
        }
        if (values.Count != 9 + 3 + 9 + 3 + 2) throw new FileFormatException(file, 0, $"expected 26 numbers (K, distortion, R, C, width height), found {values.Count}");
        var k = values.Take(9).ToArray();
        if (k[0] <= 0 || k[4] <= 0) throw new FileFormatException(file, 1, "focal length is not positive");
        var camToWorld = values.Skip(12).Take(9).ToArray();
        var centre = values.Skip(21).Take(3).ToArray();
        int w = (int)values[24], h = (int)values[25];
        var camera = new Camera(cameraId, CameraModel.Pinhole, w, h, new[] { k[0], k[4], k[2], k[5] });
        // Name: the image file the .camera file describes ("0000.jpg.camera" → "0000.jpg").
        var name = Path.GetFileName(file);
        if (name.EndsWith(".camera", StringComparison.OrdinalIgnoreCase)) name = name[..^".camera".Length];
        return new PosedImage(name, camera, Pose.FromCameraCenter(Rotations.Transpose(camToWorld), centre));
    }

    public static List<PosedImage> ReadFolder(string folder) =>
        Directory.GetFiles(folder, "*.camera").OrderBy(f => f, StringComparer.Ordinal).Select((f, i) => Read(f, i + 1)).ToList();
}
