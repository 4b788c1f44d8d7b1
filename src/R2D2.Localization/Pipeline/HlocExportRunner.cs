using R2D2.Localization.Formats;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

/// <summary>What an hloc export wrote.</summary>
public sealed record HlocExport(int Images, int Pairs, int WithoutFeatures, List<string> Written);

/// <summary>
/// A feature database (a map from build-map, or `extract --database` + `match`) as hloc's files, so
/// hloc's own stages (triangulation, localize_sfm, its visualizations) run on the project's
/// features: <c>features.h5</c> (every image with features: keypoints, descriptors, scores, size),
/// and when the database holds matches, <c>matches.h5</c> (the matcher's matches of each pair, as
/// hloc's match_features stores them, before verification) and <c>pairs.txt</c> (those pairs, hloc's
/// `name0 name1`). A map's COLMAP model (build-map's <c>&lt;map&gt;_model</c>) lists every keypoint
/// in the order written here, so it serves as hloc's reference model with these features. The files
/// are streamed one image or pair at a time (memory holds one; an Aachen-sized export is tens of GB)
/// into temporary files, renamed into place at the end: a kill leaves the earlier set or the new
/// one, short of the instant of the renames.
/// </summary>
public static class HlocExportRunner
{
    public const string FeaturesFile = "features.h5", MatchesFile = "matches.h5", PairsFile = "pairs.txt";
    /// <summary>The three files an export writes.</summary>
    public static readonly string[] Files = { FeaturesFile, MatchesFile, PairsFile };

    /// <summary>The inputs an export into <paramref name="folder"/> must not replace: the hloc file a
    /// map was built from (`--model hloc:FILE`: its query features would be lost). Files of hloc's own
    /// in the folder (its features.h5, matches.h5 or pairs.txt, which took hours to make) are refused
    /// here at once; an earlier export's, whose .h5 files carry <see cref="Hloc.ExportMark"/>, are replaced.</summary>
    public static List<(string Role, string? Path)> InputsOf(string databasePath, string folder)
    {
        var inputs = new List<(string, string?)>();
        if (File.Exists(databasePath) && databasePath.EndsWith(".db", StringComparison.OrdinalIgnoreCase))
        {
            using var db = FeatureDatabase.OpenReadOnly(databasePath);
            if (db.ReadNote("model_path") is { } model && Features.FeatureSource.IsHloc(model))
                inputs.Add(("hloc features the map was built from", model[Features.FeatureSource.HlocPrefix.Length..]));
        }
        var features = Path.Combine(folder, FeaturesFile);
        bool earlierExport = File.Exists(features) && Hloc.IsOurs(features);
        foreach (var f in Files.Select(f => Path.Combine(folder, f)).Where(File.Exists))
            // pairs.txt carries no mark: it goes with the features.h5 beside it.
            if (f.EndsWith(".h5") ? !Hloc.IsOurs(f) : !earlierExport)
                throw new R2D2Exception(f, 0, "is not from an earlier export of this command (hloc's own, or another tool's): it is not replaced; "
                    + "give another --to folder (nothing was written)");
        return inputs;
    }

    public static HlocExport Run(string databasePath, string folder, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        if (!File.Exists(databasePath)) throw new FileFormatException(databasePath, 0, "database not found");
        using var db = FeatureDatabase.OpenReadOnly(databasePath);
        var shapes = db.FeatureShapes();
        var all = db.ReadImages();
        var images = all.Where(i => shapes.ContainsKey(i.Id)).ToList();
        if (images.Count == 0)
            throw new FileFormatException(databasePath, 0, db.KeypointCounts().Count > 0
                ? "holds COLMAP keypoints but none of this project's features (descriptors and scores): extract into it with `localize extract --database`"
                : "no image has features: nothing to export (build a map or run `localize extract --database` first)");
        var names = all.ToDictionary(i => i.Id, i => i.Name);
        var index = images.Select((im, k) => (im.Id, k)).ToDictionary(x => x.Id, x => x.k);
        var pairs = db.ListMatchedPairs().Where(p => index.ContainsKey(p.ImageId1) && index.ContainsKey(p.ImageId2)).ToList();

        var imageShapes = images.Select(im => new HlocImageShape(im.Name, shapes[im.Id].Count, shapes[im.Id].Dim)).ToList();
        var pairShapes = pairs.Select(p => new HlocPairShape(names[p.ImageId1], names[p.ImageId2], shapes[p.ImageId1].Count)).ToList();
        var written = Write(folder, databasePath, imageShapes, k =>
        {
            var f = db.ReadFeatures(images[k].Id) ?? throw new FeatureDatabaseException(databasePath, $"image '{images[k].Name}': its features went away while exporting");
            var kp = new float[2 * f.X.Length];
            for (int i = 0; i < f.X.Length; i++) { kp[2 * i] = f.X[i]; kp[2 * i + 1] = f.Y[i]; }
            return new HlocFeatures(kp, f.Descriptors, f.Dim, f.Score, f.ImageWidth, f.ImageHeight);
        }, pairShapes, k =>
        {
            var m0 = Enumerable.Repeat(-1, pairShapes[k].Count0).ToArray();
            var s0 = new float[m0.Length];
            foreach (var m in db.ReadMatches(pairs[k].ImageId1, pairs[k].ImageId2) ?? new())
            {
                if ((uint)m.I >= (uint)m0.Length || (uint)m.J >= (uint)shapes[pairs[k].ImageId2].Count)
                    throw new FeatureDatabaseException(databasePath, $"pair '{pairShapes[k].Name0}' '{pairShapes[k].Name1}': a match ({m.I}, {m.J}) beyond the images' keypoints");
                m0[m.I] = m.J; s0[m.I] = m.Similarity;
            }
            return (m0, s0);
        }, progress);
        return new HlocExport(images.Count, pairs.Count, all.Count - images.Count, written);
    }

    /// <summary>
    /// A kapture folder's features as hloc's files: the keypoints of <paramref name="keypointsType"/>
    /// (the folder's only type when null) with the descriptors of those keypoints (of
    /// <paramref name="descriptorsType"/> when given), and their matches
    /// when it holds some, so `build-map --model hloc:FILE --matches FILE` maps from what
    /// kapture-localization extracted and matched. Image sizes come from the cameras of
    /// sensors.txt; kapture keeps no scores (written as 1); keypoints take hloc's convention (kapture's
    /// are COLMAP's, half a pixel off); a pair's matches keep, for a keypoint matched twice, the
    /// better-scored one (hloc's matches0 holds one match per keypoint). Images without keypoints are
    /// left out and counted.
    /// </summary>
    public static HlocExport FromKapture(string kapturePath, string? keypointsType, string folder, IProgressSink? progress = null, string? descriptorsType = null)
    {
        progress ??= ProgressSink.None;
        var root = Kapture.Root(kapturePath);
        var types = KaptureFeatures.KeypointsTypes(root);
        var keypointsFolder = Path.Combine(root, "reconstruction", "keypoints");
        if (types.Count == 0) throw new FileFormatException(kapturePath, 0, "holds no keypoints (reconstruction/keypoints/TYPE/keypoints.txt): nothing to export");
        // A folder's name as tab completion gives it ("r2d2/") names the type too.
        var type = keypointsType?.TrimEnd('/') ?? (types.Count == 1 ? types[0]
            : throw new UsageException($"{keypointsFolder} holds the keypoints types {string.Join(", ", types)}: give one with --keypoints-type"));
        if (!types.Contains(type)) throw new UsageException($"--keypoints-type '{type}': {keypointsFolder} holds no such type (it holds {string.Join(", ", types)})");
        var descriptors = KaptureFeatures.DescriptorsTypeOf(root, type, descriptorsType)
            ?? throw new FileFormatException(Path.Combine(root, "reconstruction", "descriptors"), 0, $"holds no descriptors of the keypoints '{type}' (a descriptors.txt naming it): hloc's features need both");
        var records = Kapture.Read(kapturePath, poses: false, sizesOnly: true); // hloc's files hold the images' sizes only
        var images = records.Where(r => File.Exists(Path.Combine(KaptureFeatures.KeypointsFolder(root, type), r.Name + ".kpt"))).ToList();
        if (images.Count == 0) throw new FileFormatException(KaptureFeatures.KeypointsFolder(root, type), 0, "holds keypoints of none of the images of records_camera.txt: nothing to export");
        var counts = images.ToDictionary(i => i.Name, i => KaptureFeatures.CountKeypoints(root, type, i.Name), StringComparer.Ordinal);
        int dim = KaptureFeatures.DescriptorSize(root, descriptors);
        var imageShapes = images.Select(i => new HlocImageShape(i.Name, counts[i.Name], dim)).ToList();
        var matched = KaptureFeatures.ListMatches(root, type);
        var pairs = matched.Where(p => counts.ContainsKey(p.Image1) && counts.ContainsKey(p.Image2)).ToList();
        if (matched.Count > pairs.Count)
            progress.Warning($"{Counted.Of(matched.Count - pairs.Count, "pair")} of {KaptureFeatures.MatchesFolder(root, type)} with an image that has no keypoints or no record: left out");
        // A pair stored both ways, or an image with itself: one pair of hloc's each, or none (build-map kept one copy without a word).
        var stored = pairs.ToHashSet();
        var twice = pairs.Where(p => string.CompareOrdinal(p.Image1, p.Image2) > 0 && stored.Contains((p.Image2, p.Image1))).ToList();
        var selves = pairs.Where(p => p.Image1 == p.Image2).ToList();
        if (twice.Count > 0)
            progress.Warning($"{Counted.Of(twice.Count, "pair")} stored both ways in {KaptureFeatures.MatchesFolder(root, type)} (first: '{twice[0].Image2}' and '{twice[0].Image1}'): the lexically first image's file taken");
        if (selves.Count > 0)
            progress.Warning($"{Counted.Of(selves.Count, "image")} matched with itself in {KaptureFeatures.MatchesFolder(root, type)} (first: '{selves[0].Image1}'): left out");
        pairs = pairs.Except(twice).Except(selves).ToList();
        var pairShapes = pairs.Select(p => new HlocPairShape(p.Image1, p.Image2, counts[p.Image1])).ToList();
        var huddled = new List<string>();
        var written = Write(folder, kapturePath, imageShapes, k =>
        {
            var (name, n, _) = imageShapes[k];
            var kp = KaptureFeatures.ReadKeypoints(root, type, name);
            var desc = KaptureFeatures.ReadDescriptors(root, descriptors, name);
            string kptFile = Path.Combine(KaptureFeatures.KeypointsFolder(root, type), name + ".kpt"), descFile = Path.Combine(KaptureFeatures.DescriptorsFolder(root, descriptors), name + ".desc");
            if (desc.Rows != n || kp.Rows != n)
                throw new FileFormatException(descFile, 0, $"holds {desc.Rows} descriptors, and {kptFile} {kp.Rows} keypoints: one descriptor per keypoint");
            // hloc keeps descriptors as float16 (its as_half): a value beyond its range would be ∞ there.
            if (Array.FindIndex(kp.Values, v => !float.IsFinite(v)) is var bad and >= 0)
                throw new FileFormatException(kptFile, 0, $"keypoint {bad / kp.Columns} holds a value that is not finite");
            if (Array.FindIndex(desc.Values, v => !float.IsFinite(v) || Math.Abs(v) > (float)Half.MaxValue) is var wide and >= 0)
                throw new FileFormatException(descFile, 0, $"descriptor {wide / dim} holds {desc.Values[wide]}, beyond the float16 range (±{(float)Half.MaxValue}) in which hloc's features.h5 keeps descriptors");
            var xy = new float[2 * n];
            for (int i = 0; i < n; i++) { xy[2 * i] = kp.Values[i * kp.Columns]; xy[2 * i + 1] = kp.Values[i * kp.Columns + 1]; }
            if (n > 1 && Spread(xy, 0) < 2 && Spread(xy, 1) < 2) huddled.Add(name);
            return new HlocFeatures(xy, desc.Values, dim, Enumerable.Repeat(1f, n).ToArray(), images[k].Camera.Width, images[k].Camera.Height);
        }, pairShapes, k =>
        {
            var (a, b) = pairs[k];
            var m0 = Enumerable.Repeat(-1, counts[a]).ToArray();
            var s0 = new float[m0.Length];
            int number = 0;
            foreach (var (i1, i2, score) in KaptureFeatures.ReadMatches(root, type, a, b))
            {
                number++;
                if (i1 >= m0.Length || i2 >= counts[b])
                    throw new FileFormatException(KaptureFeatures.MatchesPath(root, type, a, b), 0, $"match {number}: keypoint {i1} of '{a}' ({counts[a]} keypoints) with {i2} of '{b}' ({counts[b]})");
                // A NaN score would win against every other (no comparison with it is true).
                if (!double.IsFinite(score))
                    throw new FileFormatException(KaptureFeatures.MatchesPath(root, type, a, b), 0, $"match {number}: its score {score} is not a finite number");
                if (m0[i1] < 0 || score > s0[i1]) { m0[i1] = i2; s0[i1] = (float)score; }
            }
            return (m0, s0);
        }, progress);
        // Some tools write keypoints normalized to the image (berlin's sample: within ±0.5): hloc's are pixels.
        if (huddled.Count > 0)
            progress.Warning($"the keypoints of {Counted.Of(huddled.Count, "image")} lie within 2 px of each other (first: '{huddled[0]}'): normalized coordinates, not pixels? "
                + "hloc and build-map take them as pixels (written shifted by half a pixel, as any kapture keypoints)");
        return new HlocExport(images.Count, pairs.Count, records.Count - images.Count, written);
    }

    /// <summary>The range of the x (<paramref name="axis"/> 0) or y (1) values of interleaved points.</summary>
    private static float Spread(float[] xy, int axis)
    {
        float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
        for (int i = axis; i < xy.Length; i += 2) { lo = Math.Min(lo, xy[i]); hi = Math.Max(hi, xy[i]); }
        return hi - lo;
    }

    /// <summary>Writes features.h5, and matches.h5 with pairs.txt when there are pairs, one image or
    /// pair in memory at a time, together (temporary files renamed at the end).</summary>
    private static List<string> Write(string folder, string source, IReadOnlyList<HlocImageShape> imageShapes, Func<int, HlocFeatures> readImage,
        IReadOnlyList<HlocPairShape> pairShapes, Func<int, (int[] Matches0, float[] Scores0)> readPair, IProgressSink progress)
    {
        if (pairShapes.Count(p => p.Name0.Contains(' ') || p.Name1.Contains(' ')) is var spaced and > 0)
            progress.Warning($"{Counted.Of(spaced, "pair")} with an image name holding a space, which hloc's pairs reader (split at whitespace) takes apart: rename those images for hloc");
        var files = new List<(string Path, Action<Stream> Write)>
        {
            (Path.Combine(folder, FeaturesFile), s => progress.Stage(FeaturesFile, imageShapes.Count, step =>
                Hloc.WriteFeatures(s, imageShapes, readImage, k => step(imageShapes[k].Name)))),
        };
        if (pairShapes.Count > 0)
        {
            files.Add((Path.Combine(folder, MatchesFile), s => progress.Stage(MatchesFile, pairShapes.Count, step =>
                Hloc.WriteMatches(s, pairShapes, readPair, k => step($"{pairShapes[k].Name0} {pairShapes[k].Name1}")))));
            files.Add((Path.Combine(folder, PairsFile), s =>
            {
                using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
                foreach (var p in pairShapes) w.Write($"{p.Name0} {p.Name1}\n");
            }));
        }
        // Two pairs under one hloc key ('/' → '-') are refused before features.h5 is written, not after.
        if (pairShapes.GroupBy(p => Hloc.PairKey(p.Name0, p.Name1)).FirstOrDefault(g => g.Count() > 1) is { } clash)
            throw new R2D2Exception(source, 0, $"pairs {string.Join(" and ", clash.Select(p => $"'{p.Name0}' '{p.Name1}'"))} have one key in hloc's "
                + $"matches.h5 ('{clash.Key}': hloc turns '/' into '-'): rename an image (nothing was written)");
        OutputFile.WriteTogether(files);
        // Without matches, an earlier export's matches.h5 and pairs.txt would index other keypoints: removed
        // (InputsOf made sure they are this command's).
        if (pairShapes.Count == 0)
            foreach (var stale in new[] { MatchesFile, PairsFile }.Select(f => Path.Combine(folder, f)).Where(File.Exists))
            {
                File.Delete(stale);
                progress.Warning($"{stale}: an earlier export's, removed: this source holds no matches");
            }
        return files.Select(f => f.Path).ToList();
    }
}
