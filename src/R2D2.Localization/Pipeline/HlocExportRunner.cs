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
        foreach (var f in new[] { FeaturesFile, MatchesFile, PairsFile }.Select(f => Path.Combine(folder, f)).Where(File.Exists))
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
        if (pairShapes.Count(p => p.Name0.Contains(' ') || p.Name1.Contains(' ')) is var spaced and > 0)
            progress.Warning($"{Counted.Of(spaced, "pair")} with an image name holding a space, which hloc's pairs reader (split at whitespace) takes apart: rename those images for hloc");
        var files = new List<(string Path, Action<Stream> Write)>
        {
            (Path.Combine(folder, FeaturesFile), s => progress.Stage(FeaturesFile, images.Count, step => Hloc.WriteFeatures(s, imageShapes, k =>
            {
                var f = db.ReadFeatures(images[k].Id) ?? throw new FeatureDatabaseException(databasePath, $"image '{images[k].Name}': its features went away while exporting");
                var kp = new float[2 * f.X.Length];
                for (int i = 0; i < f.X.Length; i++) { kp[2 * i] = f.X[i]; kp[2 * i + 1] = f.Y[i]; }
                return new HlocFeatures(kp, f.Descriptors, f.Dim, f.Score, f.ImageWidth, f.ImageHeight);
            }, k => step(images[k].Name)))),
        };
        if (pairs.Count > 0)
        {
            files.Add((Path.Combine(folder, MatchesFile), s => progress.Stage(MatchesFile, pairs.Count, step => Hloc.WriteMatches(s, pairShapes, k =>
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
            }, k => step($"{pairShapes[k].Name0} {pairShapes[k].Name1}")))));
            files.Add((Path.Combine(folder, PairsFile), s =>
            {
                using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), 1 << 16, leaveOpen: true);
                foreach (var p in pairShapes) w.Write($"{p.Name0} {p.Name1}\n");
            }));
        }
        // Two pairs under one hloc key ('/' → '-') are refused before features.h5 is written, not after.
        if (pairShapes.GroupBy(p => Hloc.PairKey(p.Name0, p.Name1)).FirstOrDefault(g => g.Count() > 1) is { } clash)
            throw new FeatureDatabaseException(databasePath, $"pairs {string.Join(" and ", clash.Select(p => $"'{p.Name0}' '{p.Name1}'"))} have one key in hloc's "
                + $"matches.h5 ('{clash.Key}': hloc turns '/' into '-'): rename an image (nothing was written)");
        OutputFile.WriteTogether(files);
        // Without matches, an earlier export's matches.h5 and pairs.txt would index other keypoints: removed
        // (InputsOf made sure they are this command's).
        if (pairs.Count == 0)
            foreach (var stale in new[] { MatchesFile, PairsFile }.Select(f => Path.Combine(folder, f)).Where(File.Exists))
            {
                File.Delete(stale);
                progress.Warning($"{stale}: an earlier export's, removed: this database holds no matches");
            }
        return new HlocExport(images.Count, pairs.Count, all.Count - images.Count, files.Select(f => f.Path).ToList());
    }
}
