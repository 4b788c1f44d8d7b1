using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

/// <summary>What a map build reads before its first stage: the posed images, checked.</summary>
public static class MapInputs
{
    /// <summary>
    /// The posed images of a poses file (see <see cref="PosedImages.Read"/>), or the subset
    /// <paramref name="only"/> names, each checked: 2 or more, names a database can hold, files
    /// under <paramref name="imageRoot"/>. An image whose size differs from its camera's
    /// (thumbnails, resized copies) gets the camera rescaled, with a warning.
    /// </summary>
    public static List<PosedImage> ReadPosed(string posesPath, string? intrinsicsPath, string imageRoot, IReadOnlyCollection<string>? only,
        IProgressSink? progress = null)
    {
        if (!Directory.Exists(imageRoot))
            throw new R2D2Exception(imageRoot, 0, "image folder not found" + (Path.GetFileName(Path.TrimEndingDirectorySeparator(imageRoot)) == "records_data"
                ? " (a kapture folder's images are in its sensors/records_data: give --images for images elsewhere)" : ""));
        var all = PosedImages.Read(posesPath, intrinsicsPath != null ? CameraFiles.Read(intrinsicsPath) : null, intrinsicsPath, imageRoot);
        if (only?.GroupBy(n => n).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new UsageException($"--only names {twice.Key} {twice.Count()} times");
        var posed = only is { Count: > 0 } ? all.Where(p => only.Contains(p.Name)).ToList() : all;
        if (only is { Count: > 0 } && posed.Count != only.Count)
            throw new UsageException($"--only names images not in {posesPath}: {string.Join(", ", only.Except(posed.Select(p => p.Name)))}");
        if (posed.Count < 2) throw new R2D2Exception(posesPath, 0, $"{Counted.Of(posed.Count, "posed image")}; a map needs 2 or more");
        if (posed.Select(p => FeatureDatabase.ImageNameProblem(p.Name)).FirstOrDefault(x => x != null) is { } badName)
            throw new R2D2Exception(posesPath, 0, badName);
        var missing = posed.Where(p => !File.Exists(Path.Combine(imageRoot, p.Name))).Select(p => p.Name).ToList();
        if (missing.Count > 0)
        {
            var what = $"names {Counted.Of(missing.Count, "image")} not found under {imageRoot}, e.g. {missing[0]}";
            // A kapture folder's images are its records: the first missing one is named at its line.
            if (Kapture.RecordLine(posesPath, missing[0]) is { } at) throw new FileFormatException(at.File, at.Line, what);
            throw new R2D2Exception($"{posesPath} {what}");
        }
        return posed.Select(p => WithImageSize(p, imageRoot, progress ?? ProgressSink.None)).ToList();
    }

    /// <summary>The folder the poses' image names are relative to: the one given, else a kapture
    /// folder's sensors/records_data; other poses files need one.</summary>
    public static string ImageRoot(string posesPath, string? images) =>
        images ?? (Kapture.IsKapture(posesPath) ? Kapture.ImageRoot(posesPath)
            : !File.Exists(posesPath) && !Directory.Exists(posesPath) ? throw new FileFormatException(posesPath, 0, "poses not found")
            : throw new UsageException($"--images is needed: {posesPath} is not a kapture folder (whose images are in sensors/records_data)"));

    private static PosedImage WithImageSize(PosedImage p, string root, IProgressSink progress)
    {
        var path = Path.Combine(root, p.Name);
        var (w, h) = ImageFile.ReadSize(path);
        Camera? scaled;
        try { scaled = Intrinsics.RescaledTo(p.Camera, w, h); }
        catch (R2D2Exception e) { throw new R2D2Exception(path, 0, e.Message); }
        if (scaled == null) return p;
        progress.Warning($"{p.Name}: image is {w}×{h}, its camera {p.Camera.Width}×{p.Camera.Height}: intrinsics rescaled");
        return p with { Camera = scaled };
    }

    /// <summary>The queries a map is built for, checked before it is: every image of the list
    /// under <paramref name="imageRoot"/>, and its features in <paramref name="source"/> when they
    /// are read from a file (hloc's features.h5 lacking queries was found only after the map).
    /// Returns the number of queries.</summary>
    public static int CheckQueries(string list, string imageRoot, Features.FeatureSource source)
    {
        var queries = QueryInputs.ReadQueryNames(list);
        var paths = queries.Select(q => Path.Combine(imageRoot, q.Name)).ToList();
        if (paths.Where(p => !File.Exists(p)).ToList() is { Count: > 0 } absent)
            throw new R2D2Exception(list, 0, $"{Counted.Of(absent.Count, "query image")} of {queries.Count} not found under {imageRoot} (first: {absent[0]})");
        QueryInputs.RefuseLackingFeatures(source, paths, list);
        return queries.Count;
    }
}
