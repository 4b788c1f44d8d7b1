using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Mapping;

/// <summary>Where a map build reports its progress (the command line shows bars or log lines).</summary>
public interface IMapBuildProgress
{
    /// <summary>Runs a stage of <paramref name="items"/> steps; the stage calls the callback per step with a status line.</summary>
    void Stage(string name, int items, Action<Action<string>> work);
    void Error(string message);
}

public sealed record MapBuildResult(TriangulationStats Stats, IReadOnlyDictionary<string, double> Seconds, int Images, int Pairs);

/// <summary>The whole mapping pipeline over a database: register → extract → match → verify →
/// triangulate → colour → store → export. Every stage skips what the database already holds,
/// so a killed build resumes where it stopped.</summary>
public static class MapBuild
{
    public static MapBuildResult Run(FeatureDatabase db, IReadOnlyList<PosedImage> posed, string imageRoot, FeatureSource source,
        IReadOnlyList<ImagePair> pairs, MapBuildOptions o, TorchSharp.torch.Device device, IMapBuildProgress progress, string? exportFolder)
    {
        var byName = posed.ToDictionary(p => p.Name);
        var seconds = new Dictionary<string, double>();
        var sw = Stopwatch.StartNew();
        void Done(string name) { seconds[name] = Math.Round(sw.Elapsed.TotalSeconds, 2); sw.Restart(); }

        MapBuilder.RegisterImages(db, posed);
        Done("register");

        var inputs = posed.Select(p => new ImageInput(Path.Combine(imageRoot, p.Name), p.Name)).ToList();
        var failed = new List<string>();
        progress.Stage("extract", inputs.Count, advance =>
            DatabaseExtraction.Run(db, inputs, source, i => byName[i.Name].Camera, res =>
            {
                if (res.Error != null) { progress.Error(res.Error); failed.Add(res.Error); }
                advance(res.Error != null ? $"{res.Image.Name}: failed" : res.Skipped ? $"{res.Image.Name}: stored" : $"{res.Image.Name}: {res.Keypoints} keypoints, {res.Seconds:F1} s");
            }));
        if (failed.Count > 0) throw new InvalidDataException($"{failed.Count} image(s) could not be read; the map needs them all (fix them or drop them from the poses)");
        Done("extract");

        progress.Stage("match", pairs.Count, advance =>
            DatabaseMatching.Run(db, pairs, device, o.MinSimilarity, onPair: p => advance($"{p.Pair.Name1} {p.Pair.Name2}: {(p.Skipped ? "stored" : p.Matches + " matches")}")));
        Done("match");

        progress.Stage("verify", pairs.Count, advance =>
            MapBuilder.VerifyWithPoses(db, pairs, byName, o, (p, n) => advance($"{p.Name1} {p.Name2}: {n} inliers")));
        Done("verify");

        var (points, stats) = MapBuilder.Triangulate(db, byName, o);
        Done("triangulate");
        if (points.Count == 0 && !o.AllowEmpty) throw new EmptyMapException(db.Path, MapBuilder.WhyEmpty(db, pairs, stats, o));
        points = MapBuilder.Colorize(db, points, n => Path.Combine(imageRoot, n));
        Done("colour");
        var retrieval = MapBuilder.BuildRetrieval(db);
        Done("retrieval index");
        // The map and its retrieval index in one transaction: a build killed here leaves the
        // previous map (or none), never a map whose index is missing.
        db.WriteMap(points, MapBuilder.SummaryJson(stats, posed.Count, seconds), retrieval);
        Done("store");
        if (exportFolder != null)
        {
            MapBuilder.Export(db, points, byName, exportFolder, Path.Combine(exportFolder, "points3D.ply"));
            Done("export");
        }
        return new MapBuildResult(stats, seconds, posed.Count, pairs.Count);
    }
}
