using R2D2.Localization.Geometry;

namespace R2D2.Localization.Formats;

/// <summary>
/// Cameras by image name from a list (`name MODEL w h params...`, COLMAP conventions, like
/// Aachen's database_intrinsics.txt), and their rescaling to other image sizes.
/// </summary>
public static class Intrinsics
{
    /// <summary>A `name MODEL w h params...` list (a COLMAP database's cameras are read by
    /// Storage; Pipeline.CameraFiles takes either).</summary>
    public static Dictionary<string, Camera> Read(string path) =>
        // The list's cameras are checked as it is read.
        QueryList.ReadWithIntrinsics(path).ToDictionary(q => q.Name, q => q.Camera!);

    /// <summary>
    /// The camera for an image whose actual size differs from the calibrated one (thumbnails,
    /// downscaled copies): focal lengths scale with the size, and the principal point so that
    /// pixel centres map onto pixel centres, c' = (c + 0.5)·s − 0.5. Null when the sizes agree.
    /// Distortion parameters act on normalized coordinates and stay as they are. An image of
    /// another shape (beyond a pixel of rounding: a crop, or one stored rotated by 90°) is no
    /// rescaled copy and its camera does not apply: an error, not a stretched camera.
    /// </summary>
    public static Camera? RescaledTo(Camera camera, int width, int height)
    {
        if (camera.Width == width && camera.Height == height) return null;
        double sx = (double)width / camera.Width, sy = (double)height / camera.Height;
        if (Math.Abs(width - camera.Width * sy) > 1 && Math.Abs(height - camera.Height * sx) > 1)
            throw new R2D2Exception($"image is {width}×{height}, its camera {camera.Width}×{camera.Height}: another shape, not a rescaled copy "
                + "(a crop, or rotated by 90°?), so the camera's intrinsics do not apply to it");
        var p = (double[])camera.Params.Clone();
        var names = camera.Model.ParamNames;
        for (int i = 0; i < names.Count; i++)
        {
            switch (names[i])
            {
                case "f": p[i] *= Math.Sqrt(sx * sy); break;
                case "fx": p[i] *= sx; break;
                case "fy": p[i] *= sy; break;
                case "cx": p[i] = (p[i] + 0.5) * sx - 0.5; break;
                case "cy": p[i] = (p[i] + 0.5) * sy - 0.5; break;
            }
        }
        return camera with { Width = width, Height = height, Params = p };
    }
}
