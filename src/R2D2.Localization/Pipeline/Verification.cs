using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

/// <summary>
/// Geometric verification of matched pairs into two_view_geometries (resumable: verified pairs
/// are skipped): with the pose priors and cameras of the images (epipolar distance, as
/// build-map does), or without poses by OpenCV's F-matrix RANSAC on undistorted keypoints.
/// </summary>
public static class Verification
{
    public static int Run(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, bool withPoses, Action<ImagePair, int>? onPair = null,
        double thresholdPx = 4)
    {
        var images = db.ReadImages().ToDictionary(i => i.Name);
        if (withPoses)
        {
            var posed = new Dictionary<string, Formats.PosedImage>();
            foreach (var im in images.Values)
            {
                if (im.PriorRotation == null || im.PriorTranslation == null) continue;
                posed[im.Name] = new Formats.PosedImage(im.Name, db.ReadCamera(im.CameraId)!, Pose.FromQuaternion(im.PriorRotation, im.PriorTranslation));
            }
            var missing = pairs.SelectMany(p => new[] { p.Name1, p.Name2 }).FirstOrDefault(n => !posed.ContainsKey(n));
            if (missing != null) throw new FeatureDatabaseException(db.Path, $"image '{missing}' has no pose prior: verify with 'fundamental' instead");
            return MapBuilder.VerifyWithPoses(db, pairs, posed, new MapBuildOptions { EpipolarPx = thresholdPx }, onPair);
        }
        int n = 0;
        foreach (var p in pairs)
        {
            var a = images[p.Name1]; var b = images[p.Name2];
            if (db.HasTwoViewGeometry(a.Id, b.Id)) continue;
            var matches = db.ReadMatches(a.Id, b.Id);
            if (matches == null) continue;
            var k1 = db.ReadKeypoints(a.Id)!; var k2 = db.ReadKeypoints(b.Id)!;
            var (x1, y1) = MapBuilder.Undistort(db.ReadCamera(a.CameraId)!, k1.X, k1.Y);
            var (x2, y2) = MapBuilder.Undistort(db.ReadCamera(b.CameraId)!, k2.X, k2.Y);
            var fit = EpipolarVerification.EstimateFundamental(x1, y1, x2, y2, matches, FundamentalMethod.Usac, thresholdPx);
            db.WriteTwoViewGeometry(a.Id, b.Id, new TwoViewGeometry(fit.F == null ? TwoViewConfiguration.Degenerate : TwoViewConfiguration.Uncalibrated,
                fit.Inliers, F: fit.F));
            n++;
            onPair?.Invoke(p, fit.Inliers.Count);
        }
        return n;
    }
}
