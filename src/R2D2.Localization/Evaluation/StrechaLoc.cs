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

    public static Scene Load(string folder)
    {
        var cams = StrechaCameras.ReadFolder(Path.Combine(folder, "cameras"));
        if (cams.Count < 4) throw new FileFormatException(folder, 0, $"a Strecha scene needs 4 or more .camera files in cameras/, found {cams.Count}");
        var map = cams.Where((_, i) => i % 2 == 0).ToList();
        var queries = cams.Where((_, i) => i % 2 == 1).ToList();
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
        return errs.Count == 0 ? double.NaN : PoseEvaluation.Median(errs);
    }
}
