using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Mapping;

/// <summary>The posed images of a map in its database: their cameras, and their poses as COLMAP pose priors.</summary>
public static class ImageRegistration
{
    /// <summary>Adds the cameras and images (with their poses as COLMAP pose priors). Images
    /// already there (a resumed build) must have the input's camera and pose: the stored features,
    /// verified matches and map were computed with those. Checks every input before writing anything.</summary>
    public static void RegisterImages(FeatureDatabase db, IReadOnlyList<PosedImage> images)
    {
        var existing = CheckRegistered(db, images);
        foreach (var im in images)
        {
            if (existing.Contains(im.Name)) continue;
            int cam = db.FindCamera(im.Camera) ?? db.AddCamera(im.Camera);
            db.AddImage(new DatabaseImage(0, im.Name, cam, im.Pose.Quaternion, im.Pose.Translation));
        }
    }

    /// <summary>Throws, writing nothing, when the database cannot go on with this build: features of
    /// another extractor, or images stored with another camera or pose (see <see cref="RegisterImages"/>).
    /// A resumed build calls it before it writes anything.</summary>
    public static void CheckResume(FeatureDatabase db, IReadOnlyList<PosedImage> images, ExtractorIdentity extractor)
    {
        db.CheckExtractor(extractor);
        var stored = CheckRegistered(db, images);
        // Images beyond the inputs (a build begun with more, resumed with --only): their features
        // would go into the retrieval indexes, which would then retrieve images without map points.
        var given = images.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var others = stored.Where(n => !given.Contains(n)).OrderBy(n => n, StringComparer.Ordinal).ToList();
        if (others.Count > 0)
            throw new FeatureDatabaseException(db.Path, $"holds {Counted.Of(others.Count, "image")} not among the {given.Count} given (e.g. '{others[0]}'): "
                + "it was begun with other inputs (another --poses or --only). Use a new database, or the inputs it was begun with (nothing was written)");
    }

    /// <summary>Throws when a finished map kept as it is (strecha-loc's reruns) is not of exactly
    /// these images with these cameras and poses: a work folder reused for another scene held its map.</summary>
    public static void CheckKept(FeatureDatabase db, IReadOnlyList<PosedImage> images)
    {
        var stored = CheckRegistered(db, images);
        var given = images.Select(i => i.Name).ToHashSet();
        var missing = given.Where(n => !stored.Contains(n)).ToList();
        var extra = stored.Where(n => !given.Contains(n)).ToList();
        if (missing.Count + extra.Count > 0)
            throw new FeatureDatabaseException(db.Path, $"holds a map of other images ({missing.Count} of the {given.Count} given are not in it"
                + (missing.Count > 0 ? $", e.g. '{missing[0]}'" : "") + $"; it holds {extra.Count} not given" + (extra.Count > 0 ? $", e.g. '{extra[0]}'" : "")
                + "): it was built from other inputs; use another folder or delete it");
    }

    /// <summary>Refuses names the database cannot hold and images stored with another camera or
    /// pose; returns the names already stored.</summary>
    private static HashSet<string> CheckRegistered(FeatureDatabase db, IReadOnlyList<PosedImage> images)
    {
        foreach (var im in images)
            if (FeatureDatabase.ImageNameProblem(im.Name) is { } problem) throw new R2D2Exception(problem);
        var existing = db.ReadImages().ToDictionary(i => i.Name);
        var changes = new List<string>();
        foreach (var im in images)
        {
            if (!existing.TryGetValue(im.Name, out var e)) continue;
            var how = new List<string>();
            if (!db.IsCamera(e.CameraId, im.Camera)) how.Add($"camera {Describe(db.ReadCamera(e.CameraId))} in the database, {Describe(im.Camera)} now");
            if (PoseChange(e, im.Pose) is { } pose) how.Add($"pose {pose}");
            if (how.Count > 0) changes.Add($"'{im.Name}': {string.Join(", ", how)}");
        }
        if (changes.Count > 0)
            throw new FeatureDatabaseException(db.Path, $"holds {Counted.Of(changes.Count, "image")} whose camera or pose differs from the poses and cameras given now: "
                + string.Join("; ", changes.Take(3)) + (changes.Count > 3 ? "; …" : "")
                + ". Its features, matches and map were computed with the stored ones: use a new database, or the inputs it was built with");
        return existing.Keys.ToHashSet();
    }

    private static string Describe(Camera? c) => c == null ? "(missing)"
        : $"{c.Model.Name} {c.Width}×{c.Height} [{string.Join(", ", c.Params.Select(v => v.ToString("G7", System.Globalization.CultureInfo.InvariantCulture)))}]";

    // Stored as COLMAP pose priors (a unit quaternion): a slightly non-orthonormal input rotation
    // (Strecha's files are orthonormal to ~1e-6) comes back orthonormalized, hence the tolerance.
    private static string? PoseChange(DatabaseImage stored, Pose now)
    {
        if (stored.PriorRotation == null || stored.PriorTranslation == null) return "missing in the database";
        var was = stored.PriorPose!;
        double angle = Rotations.AngleBetweenRotations(was.Rotation, now.Rotation);
        bool moved = was.Translation.Zip(now.Translation, (x, y) => Math.Abs(x - y) / (1 + Math.Abs(x))).Max() >= 1e-5;
        if (angle < 1e-5 && !moved) return null;
        double shift = Math.Sqrt(was.CameraCenter.Zip(now.CameraCenter, (x, y) => (x - y) * (x - y)).Sum());
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"differs: rotated by {angle * 180 / Math.PI:G3}°, camera centre moved by {shift:G3}");
    }
}
