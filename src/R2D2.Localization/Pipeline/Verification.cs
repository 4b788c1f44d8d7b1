using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

public enum VerifyMethod
{
    /// <summary>Matches within the threshold of their epipolar lines given by the known poses and cameras (as hloc).</summary>
    Poses,
    /// <summary>OpenCV's USAC F-matrix RANSAC on undistorted keypoints: no poses needed.</summary>
    Fundamental,
}

public sealed record VerifyOptions
{
    public VerifyMethod Method { get; init; } = VerifyMethod.Poses;
    public double ThresholdPx { get; init; } = 4;
    /// <summary>With <see cref="VerifyMethod.Poses"/>: the images' cameras and poses (a map build's
    /// inputs); null: the database's pose priors and cameras.</summary>
    public IReadOnlyDictionary<string, PosedImage>? Poses { get; init; }
}

/// <summary>
/// The verify stage: geometric verification of matched pairs into two_view_geometries
/// (resumable: verified pairs are skipped); returns the number of pairs verified now.
/// </summary>
public static class Verification
{
    public static int Run(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, VerifyOptions o, IProgressSink? progress = null)
    {
        int verified = 0;
        (progress ?? ProgressSink.None).Stage("verify", pairs.Count, advance =>
        {
            void OnPair(ImagePair p, int inliers) => advance($"{p.Name1} {p.Name2}: {inliers} inliers");
            verified = o.Method == VerifyMethod.Poses
                ? WithPoses(db, pairs, o.Poses ?? PosePriors(db, pairs), o.ThresholdPx, OnPair)
                : Fundamental(db, pairs, o.ThresholdPx, OnPair);
        });
        return verified;
    }

    /// <summary>Throws what <see cref="Run"/> would throw before verifying anything (an image of a
    /// pair without a pose prior), so that a caller can check before the matching it follows.</summary>
    public static void Check(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, VerifyOptions o)
    {
        if (o.Method == VerifyMethod.Poses && o.Poses == null) PosePriors(db, pairs);
    }

    /// <summary>The cameras and pose priors of the database's images; every image of a pair must have a prior.</summary>
    private static Dictionary<string, PosedImage> PosePriors(FeatureDatabase db, IReadOnlyList<ImagePair> pairs)
    {
        var posed = new Dictionary<string, PosedImage>();
        foreach (var im in db.ReadImages())
        {
            if (im.PriorRotation == null || im.PriorTranslation == null) continue;
            posed[im.Name] = new PosedImage(im.Name, (db.ReadCamera(im.CameraId) ?? throw new FeatureDatabaseException(db.Path, $"image '{im.Name}' names camera {im.CameraId}, which is not in the cameras table")), im.PriorPose!);
        }
        var missing = pairs.SelectMany(p => new[] { p.Name1, p.Name2 }).FirstOrDefault(n => !posed.ContainsKey(n));
        if (missing != null) throw new FeatureDatabaseException(db.Path, $"image '{missing}' has no pose prior: verify with 'fundamental' instead");
        return posed;
    }

    /// <summary>Keeps, for each matched pair without a verified geometry, the matches within
    /// <paramref name="thresholdPx"/> of the epipolar lines given by the known poses (undistorted
    /// keypoints), and stores them as the pair's two-view geometry (with F and the relative pose).</summary>
    private static int WithPoses(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, IReadOnlyDictionary<string, PosedImage> posed,
        double thresholdPx, Action<ImagePair, int> onPair)
    {
        var ids = db.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        var undistorted = new Dictionary<int, (float[] X, float[] Y)>();
        (float[] X, float[] Y) Keypoints(string name)
        {
            int id = ids[name];
            if (undistorted.TryGetValue(id, out var k)) return k;
            if (undistorted.Count > 256) undistorted.Clear(); // bounded memory on large maps
            var kp = db.ReadKeypoints(id) ?? throw new FeatureDatabaseException(db.Path, $"image '{name}' has no keypoints");
            return undistorted[id] = posed[name].Camera.UndistortPixels(kp.X, kp.Y);
        }
        int verified = 0;
        foreach (var p in pairs.OrderBy(p => ids[p.Name1]))
        {
            int a = ids[p.Name1], b = ids[p.Name2];
            if (db.HasTwoViewGeometry(a, b)) continue;
            var matches = db.ReadMatches(a, b);
            if (matches == null) continue;
            var (x1, y1) = Keypoints(p.Name1);
            var (x2, y2) = Keypoints(p.Name2);
            var c1 = posed[p.Name1]; var c2 = posed[p.Name2];
            var f = EpipolarVerification.FundamentalFromPoses(c1.Pose, c1.Camera.Pinhole, c2.Pose, c2.Camera.Pinhole);
            var kept = EpipolarVerification.KeepConsistent(x1, y1, x2, y2, matches, f, thresholdPx);
            var rel = Pose.Relative(c1.Pose, c2.Pose);
            db.WriteTwoViewGeometry(a, b, new TwoViewGeometry(kept.Count > 0 ? TwoViewConfiguration.Calibrated : TwoViewConfiguration.Degenerate,
                kept, F: f, Rotation: rel.Quaternion, Translation: rel.Translation));
            verified++;
            onPair(p, kept.Count);
        }
        return verified;
    }

    private static int Fundamental(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, double thresholdPx, Action<ImagePair, int> onPair)
    {
        var images = db.ReadImages().ToDictionary(i => i.Name);
        int n = 0;
        foreach (var p in pairs)
        {
            var a = images[p.Name1]; var b = images[p.Name2];
            if (db.HasTwoViewGeometry(a.Id, b.Id)) continue;
            var matches = db.ReadMatches(a.Id, b.Id);
            if (matches == null) continue;
            var k1 = db.ReadKeypoints(a.Id)!; var k2 = db.ReadKeypoints(b.Id)!;
            var (x1, y1) = CameraOf(db, a).UndistortPixels(k1.X, k1.Y);
            var (x2, y2) = CameraOf(db, b).UndistortPixels(k2.X, k2.Y);
            var fit = EpipolarVerification.EstimateFundamental(x1, y1, x2, y2, matches, FundamentalMethod.Usac, thresholdPx);
            db.WriteTwoViewGeometry(a.Id, b.Id, new TwoViewGeometry(fit.F == null ? TwoViewConfiguration.Degenerate : TwoViewConfiguration.Uncalibrated,
                fit.Inliers, F: fit.F));
            n++;
            onPair(p, fit.Inliers.Count);
        }
        return n;
    }

    private static Geometry.Camera CameraOf(FeatureDatabase db, DatabaseImage image) =>
        db.ReadCamera(image.CameraId) ?? throw new FeatureDatabaseException(db.Path, $"image '{image.Name}' names camera {image.CameraId}, which is not in the cameras table");
}
