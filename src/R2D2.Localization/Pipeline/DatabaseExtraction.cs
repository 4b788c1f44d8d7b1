using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

/// <summary>
/// Extracts features of images into a feature database (hloc-style stage). Resumable: images
/// whose features are stored are skipped; each image's features (with its file's hash) are written in one transaction,
/// so a run killed at any moment loses at most the image in progress. A bad image is reported and
/// the others go on.
/// </summary>
public static class DatabaseExtraction
{
    /// <summary>The prefix of the notes that record, per image name, the SHA-256 of the file its
    /// features were extracted from (merged shards carry theirs).</summary>
    public const string ImageHashNote = "image_sha256/";

    /// <param name="cameraFor">The camera of an image (null: guessed from its size).</param>
    /// <param name="verified">images whose stored features' file the caller has compared with its
    /// recorded hash already (build-map, before it wrote anything): not read again.</param>
    public static List<ImageOutcome> Run(FeatureDatabase db, IReadOnlyList<ImageInput> images, FeatureSource source,
        Func<ImageInput, Camera?>? cameraFor = null, Action<ImageOutcome>? onImage = null, IReadOnlySet<string>? verified = null)
    {
        db.UseExtractor(source.Identity); // refuses another model or settings before any work
        // An hloc file extracted again under its name would mix two runs' keypoints.
        if (source.Disagreement(db) is { } changed)
            throw new FeatureDatabaseException(db.Path, $"stores other keypoints for '{changed}' than {source.Description} holds now: the file was extracted again since "
                + "(hloc rewrites a file of the same name): build into a new database (nothing was written)");
        var done = db.ImagesWithFeatures();
        var recorded = db.ReadNotes(ImageHashNote);
        var outcomes = new List<ImageOutcome>();
        foreach (var image in images)
        {
            var existing = db.FindImage(image.Name);
            bool stored = existing != null && done.Contains(existing.Id);
            ImageOutcome outcome;
            if (stored)
            {
                // Stored ones that recorded their file's hash are compared with it (a missing image keeps them).
                var hash = recorded.ContainsKey(image.Name) && verified?.Contains(image.Name) != true ? ImageFile.ContentHashOrNull(image.Path) : null;
                // Stored features of an image replaced since are the earlier image's: refused (they were
                // kept as "stored already"), not extracted again under the matches made on them.
                if (hash != null && recorded.TryGetValue(image.Name, out var before) && before != hash)
                    throw new R2D2Exception(image.Path, 0, $"is not the image whose features {db.Path} stores (its bytes changed since they were extracted): "
                        + "extract into a new database, or delete this one");
                outcome = new ImageOutcome(image, db.Path, -1, 0, Skipped: true, null);
            }
            else
            {
                try
                {
                    var sw = Stopwatch.StartNew();
                    var (features, reduction, decodedHash) = source.ExtractFile(image.Path);
                    double seconds = sw.Elapsed.TotalSeconds;
                    // The hash of the bytes decoded (a second read would be another file's if it was replaced
                    // in between); features read from an hloc file decoded none: the file's, read now.
                    var hash = decodedHash ?? ImageFile.ContentHashOrNull(image.Path);
                    // The file's size, also for an image decoded reduced: its keypoints are in the file's pixels.
                    var camera = cameraFor?.Invoke(image) ?? ColmapGuess.For(features.ImageWidth, features.ImageHeight);
                    int imageId = existing?.Id ?? db.FindOrAddImage(image.Name, camera);
                    db.WriteFeatures(imageId, features, source.Identity,
                        hash == null ? null : new Dictionary<string, string> { [ImageHashNote + image.Name] = hash });
                    outcome = new ImageOutcome(image, db.Path, features.Count, seconds, false, null, reduction);
                }
                catch (ImageFileException e) { outcome = new ImageOutcome(image, null, 0, 0, false, e.Message); }
                catch (ImageTooSmallException e) { outcome = new ImageOutcome(image, null, 0, 0, false, $"{image.Path}: {e.Message}"); }
            }
            outcomes.Add(outcome);
            onImage?.Invoke(outcome);
        }
        return outcomes;
    }

    /// <summary>Registers the images not in the database yet, in their order, each with the camera
    /// guessed from the size its header gives (what <see cref="Run"/> registers when it extracts
    /// them): shards of one list then give every image the same id. An image whose header cannot
    /// be read is left to <see cref="Run"/>, which reports it.</summary>
    public static void RegisterAll(FeatureDatabase db, IReadOnlyList<ImageInput> images)
    {
        foreach (var image in images)
        {
            if (db.FindImage(image.Name) != null) continue;
            (int W, int H) size;
            try { size = ImageFile.ReadSize(image.Path); }
            catch (Exception e) when (e is ImageFileException or IOException or UnauthorizedAccessException) { continue; }
            db.FindOrAddImage(image.Name, ColmapGuess.For(size.W, size.H));
        }
    }
}
