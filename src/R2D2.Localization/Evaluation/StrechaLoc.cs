using R2D2.Localization.Formats;
using R2D2.Localization.Localization;

namespace R2D2.Localization.Evaluation;

/// <summary>
/// The strecha-loc protocol on a Strecha scene folder (images/, night/, cameras/): the map is
/// built from the even-numbered images with their true poses and intrinsics; the queries are the
/// odd-numbered images, in daylight (images/) and simulated night (night/), with their true
/// poses as ground truth.
/// </summary>
public static class StrechaLoc
{
    public sealed record Scene(string Name, string Folder, List<PosedImage> Map, List<PosedImage> Queries)
    {
        public string DayImages => Path.Combine(Folder, "images");
        public string NightImages => Path.Combine(Folder, "night");
    }

    /// <summary>The scene in <paramref name="folder"/>, split by position in the sorted images/
    /// listing (every image needs its cameras/NAME.camera: a missing one would shift the split
    /// and turn map images into queries).</summary>
    public static Scene Load(string folder)
    {
        string images = Path.Combine(folder, "images"), cameras = Path.Combine(folder, "cameras");
        if (!Directory.Exists(images)) throw new FileFormatException(images, 0, "a Strecha scene folder holds images/, cameras/ and night/: images/ is missing");
        // The night queries are looked for now, not after the day's map and queries (whose results were then lost).
        var night = Path.Combine(folder, "night");
        if (!Directory.Exists(night)) throw new FileFormatException(night, 0, "a Strecha scene folder holds images/, cameras/ and night/: night/ is missing");
        var names = Directory.GetFiles(images).Where(ImageFile.IsImagePath).Select(Path.GetFileName).OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (names.Count < 4) throw new FileFormatException(images, 0, $"a Strecha scene needs 4 or more images, found {names.Count}");
        var posed = names.Select((name, i) =>
        {
            var camera = Path.Combine(cameras, name + ".camera");
            if (!File.Exists(camera)) throw new FileFormatException(camera, 0, $"is missing: every image of {images} needs its camera (the map/query split goes by position)");
            var p = StrechaCameras.Read(camera, i + 1);
            // A .camera file sizes its image exactly: another size is another image's camera (a map
            // stored a 1000×2048 camera for a 3072×2048 photo; a query's was taken for a rescaled copy).
            // The night versions may be rescaled copies: queries scale their camera. An unreadable
            // photo is left to fail alone, as its query.
            var photo = Path.Combine(images, name!);
            (int W, int H)? size = null;
            try { size = ImageFile.ReadSize(photo); }
            catch (ImageFileException) { }
            if (size is { } s && s != (p.Camera.Width, p.Camera.Height))
                throw new FileFormatException(camera, 0, $"gives a {p.Camera.Width}×{p.Camera.Height} camera, and {photo} is {s.W}×{s.H}: the camera does not apply to it");
            return p;
        }).ToList();
        var map = posed.Where((_, i) => i % 2 == 0).ToList();
        var queries = posed.Where((_, i) => i % 2 == 1).ToList();
        if (queries.FirstOrDefault(q => !File.Exists(Path.Combine(night, q.Name))) is { } dark)
            throw new FileFormatException(Path.Combine(night, dark.Name), 0, $"is missing: every query of {images} needs its simulated night version in night/");
        return new Scene(Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')), folder, map, queries);
    }

    /// <summary>The extra threshold the protocol reports: (0.05 m, 0.5°).</summary>
    public static readonly PoseThreshold Fine = PoseThreshold.FromDegrees(0.05, 0.5);

    /// <summary>Median reprojection error (px) of the query's PnP-inlier 3D points under the query's TRUE pose:
    /// a check of the map's points against a camera the map never saw (NaN without inliers in front of it).</summary>
    public static double TrueReprojection(QueryResult res, PosedImage truth, MapIndex map)
    {
        if (res.InlierXY == null || res.InlierPoints == null) return double.NaN;
        var errs = new List<double>();
        for (int k = 0; k < res.InlierPoints.Length; k++)
        {
            var p = map.Points[res.InlierPoints[k]];
            var xc = truth.Pose.ToCamera(p.X, p.Y, p.Z);
            if (xc[2] <= 0) continue;
            var (u, v) = truth.Camera.Project(xc[0], xc[1], xc[2]);
            errs.Add(Math.Sqrt((u - res.InlierXY[2 * k]) * (u - res.InlierXY[2 * k]) + (v - res.InlierXY[2 * k + 1]) * (v - res.InlierXY[2 * k + 1])));
        }
        return Statistics.Median(errs); // NaN without inliers
    }
}
