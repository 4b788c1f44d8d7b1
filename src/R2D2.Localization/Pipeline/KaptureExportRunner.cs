using R2D2.Localization.Formats;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

/// <summary>
/// A feature database (a map from build-map, or `extract --database`) as a kapture folder: the
/// images with their cameras and stored poses (sensors/), and with <c>features</c> their keypoints
/// (x, y, scale), descriptors (float32) and matches (with their similarity) in kapture's binary
/// layout under reconstruction/, typed by the database's features (r2d2, rootsift, hloc). The export is written into
/// a staging folder inside the output (<see cref="StagingName"/>) and its sensors/ and
/// reconstruction/ then renamed into place (replacing an earlier export's, not merged with them), so
/// a kill leaves the earlier export or the new one, short of the instant of the renames, and never
/// half a set of features beside a full set of images; the next run removes what a kill left staged.
/// </summary>
public static class KaptureExportRunner
{
    public const string StagingName = ".kapture-export.partial";

    /// <param name="type">kapture's keypoints type (default: the database's feature type, r2d2, rootsift or hloc)</param>
    public static (int Images, int Pairs) Run(string databasePath, string root, bool features, string? type = null)
    {
        if (!File.Exists(databasePath)) throw new FileFormatException(databasePath, 0, "database not found");
        Kapture.RefuseForeignOutput(root, "--to");
        using var db = FeatureDatabase.OpenReadOnly(databasePath);
        type ??= db.Extractor?.FeatureType ?? ExtractorIdentity.R2D2Type;
        var staging = Path.Combine(root, StagingName);
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        var result = Write(db, staging, features, type);
        foreach (var entry in new[] { "sensors", "reconstruction" })
        {
            var fresh = Path.Combine(staging, entry);
            if (!Directory.Exists(fresh)) continue;
            var target = Path.Combine(root, entry);
            var old = Path.Combine(staging, entry + ".old");
            if (Directory.Exists(target)) Directory.Move(target, old);
            Directory.Move(fresh, target);
        }
        Directory.Delete(staging, recursive: true);
        return result;
    }

    private static (int Images, int Pairs) Write(FeatureDatabase db, string root, bool features, string type)
    {
        var databasePath = db.Path;
        var images = db.ReadImages();
        var cameras = db.ReadCameras().ToDictionary(c => c.Id);
        Kapture.Write(root, images.Select((im, i) => new KaptureImage(i, $"cam{im.CameraId}", im.Name,
            cameras.TryGetValue(im.CameraId, out var c) ? c : throw new FileFormatException(databasePath, 0, $"image '{im.Name}' has no camera"), im.PriorPose)).ToList());
        if (!features) return (images.Count, 0);
        int dim = 0;
        foreach (var im in images)
        {
            var f = db.ReadFeatures(im.Id);
            if (f == null) continue;
            var kp = new float[3 * f.X.Length];
            for (int k = 0; k < f.X.Length; k++) { kp[3 * k] = f.X[k]; kp[3 * k + 1] = f.Y[k]; kp[3 * k + 2] = f.Scale[k]; }
            KaptureFeatures.WriteKeypoints(root, type, im.Name, new FeatureArray(kp, 3));
            KaptureFeatures.WriteDescriptors(root, type, im.Name, new FeatureArray(f.Descriptors, f.Dim));
            dim = f.Dim;
        }
        KaptureFeatures.WriteKeypointsHeader(root, type, 3);
        if (dim > 0) KaptureFeatures.WriteDescriptorsHeader(root, type, dim, type);
        var names = images.ToDictionary(i => i.Id, i => i.Name);
        var pairs = db.ListMatchedPairs();
        foreach (var p in pairs)
        {
            var m = db.ReadMatches(p.ImageId1, p.ImageId2) ?? new();
            KaptureFeatures.WriteMatches(root, type, names[p.ImageId1], names[p.ImageId2], m.Select(x => (x.I, x.J, (double)x.Similarity)).ToList());
        }
        return (images.Count, pairs.Count);
    }
}
