using R2D2.Localization.Geometry;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Synthesis;

/// <summary>The demo's images on disk: the daytime mapping photos with their poses, and the night
/// queries rendered from their true poses.</summary>
public sealed record DemoDataset(string DayFolder, string NightFolder, List<PosedImage> Day, List<PosedImage> Night)
{
    /// <summary>Whether <paramref name="c"/> is the scene's camera <paramref name="scene"/> (a query
    /// list's, read from text, to within 1e-6 of each parameter).</summary>
    public static bool IsSceneCamera(Camera c, Camera scene) =>
        c.Model.Equals(scene.Model) && c.Width == scene.Width && c.Height == scene.Height
        && c.Params.Length == scene.Params.Length && c.Params.Zip(scene.Params, (a, b) => Math.Abs(a - b)).Max() <= 1e-6;

    /// <summary>Renders the scene's day cameras into <c>OUT/day/</c> and the night queries (the query
    /// list's names and cameras, the ground truth's poses) into <c>OUT/night/</c>, as JPEG.
    /// The queries' cameras must be the scene's (the renderer has one camera).
    /// <paramref name="onImage"/> gets each written image's name. The day photos' poses go to
    /// <c>OUT/day-model/</c> as a COLMAP text model, for `localize build-map --poses` (the demo's
    /// stages run by hand, or as the shards of a cluster's jobs).</summary>
    public static DemoDataset Render(SceneRenderer renderer, IReadOnlyList<QueryImage> queries, string queryListPath,
        IReadOnlyList<ImagePose> truth, string truthPath, string outFolder, Action<string>? onImage = null)
    {
        var scene = renderer.Scene;
        var camera = scene.Camera();
        var truthByName = new Dictionary<string, ImagePose>(StringComparer.Ordinal);
        foreach (var t in truth) truthByName[t.Name] = t;
        var night = new List<PosedImage>();
        foreach (var q in queries)
        {
            if (q.Camera is not { } c || !IsSceneCamera(c, camera))
                throw new FileFormatException(queryListPath, 0, $"query '{q.Name}': its camera must be the scene's ({camera.Model.Name} {camera.Width} {camera.Height} "
                    + $"{string.Join(' ', ColmapConvention.CameraToColmap(camera).Params)} in the list's convention)");
            if (!truthByName.TryGetValue(q.SubmissionName, out var gt))
                throw new FileFormatException(truthPath, 0, $"no true pose for query '{q.Name}' (named in {queryListPath})");
            night.Add(new PosedImage(q.Name, c, gt.Pose));
        }
        var dayFolder = Path.Combine(outFolder, "day");
        var nightFolder = Path.Combine(outFolder, "night");
        OutputFile.CreateFolder(dayFolder);
        OutputFile.CreateFolder(nightFolder);
        var day = scene.DayImages();
        // Names come from the scene file and the query list: they must stay inside the output folder.
        foreach (var name in day.Select(d => d.Name).Concat(night.Select(n => n.Name)))
            if (Path.IsPathRooted(name) || name.Split('/', '\\').Contains(".."))
                throw new R2D2Exception($"image name '{name}' leaves the output folder (an absolute path or '..'); name images relative to it");
        foreach (var d in day)
        {
            OutputFile.WriteAllBytes(Path.Combine(dayFolder, d.Name), JpegCodec.Encode(renderer.RenderDay(d.Pose), scene.DayJpegQuality));
            onImage?.Invoke(d.Name);
        }
        var cam = new Geometry.Camera(1, camera.Model, camera.Width, camera.Height, camera.Params);
        ColmapText.WriteModel(Path.Combine(outFolder, "day-model"), new ColmapModel(new List<Geometry.Camera> { cam },
            day.Select((d, i) => new ColmapImage(i + 1, d with { Camera = cam }, Array.Empty<double>(), Array.Empty<long>())).ToList(), new List<ColmapPoint>()));
        foreach (var n in night)
        {
            var path = Path.Combine(nightFolder, n.Name);
            OutputFile.WriteAllBytes(path, JpegCodec.Encode(renderer.RenderNight(n.Pose, SceneRenderer.SeedOf(n.Name)), scene.Night.JpegQuality));
            onImage?.Invoke(n.Name);
        }
        return new DemoDataset(dayFolder, nightFolder, day, night);
    }
}

/// <summary>The repository's demo files (maps/demo-square.scene, queries/demo-square-night.txt and
/// .poses.txt), embedded in the library so the demo runs where the repository is not.</summary>
public static class DemoFiles
{
    public const string Scene = "demo-square.scene", Town = "town.scene", Queries = "demo-square-night.txt", GroundTruth = "demo-square-night.poses.txt";

    /// <summary>A demo file of the repository (<paramref name="folder"/>/<paramref name="name"/>):
    /// relative to the working directory when there, else found above the program's folder (so the
    /// demo runs from anywhere in a clone), else the copy embedded in the library, written to
    /// <paramref name="outDir"/>/scene/ (so it runs outside a clone too).</summary>
    public static string Locate(string outDir, string folder, string name)
    {
        var rel = Path.Combine(folder, name);
        if (File.Exists(rel)) return rel;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            var p = Path.Combine(dir.FullName, rel);
            if (File.Exists(p) && File.Exists(Path.Combine(dir.FullName, "R2D2.Localization.sln"))) return p;
        }
        return Extract(name, Path.Combine(outDir, "scene"));
    }

    /// <summary>
    /// Refuses an --out holding, where the demo writes (<paramref name="writes"/>: the top-level
    /// names of its outputs), files that no run of this demo wrote (a dataset, photos, another tool's
    /// map): it replaced them without a word. Taken: a folder without such files (other files are
    /// left alone), one holding <paramref name="stamp"/> (an earlier run's), or one
    /// <paramref name="earlierRun"/> recognises (a run of a version that wrote no stamp). A scene/
    /// holding only this demo's <paramref name="embedded"/> files (an earlier attempt's, see <see cref="Locate"/>) is the demo's.
    /// </summary>
    public static void RefuseForeignFolder(string outDir, string stamp, string what, Func<string, bool> writes, IReadOnlyCollection<string> embedded, Func<bool>? earlierRun = null)
    {
        if (!Directory.Exists(outDir) || File.Exists(Path.Combine(outDir, stamp))) return;
        bool Ours(string e) => Path.GetFileName(e) == "scene" && Directory.Exists(e) && Directory.EnumerateFileSystemEntries(e).All(f => embedded.Contains(Path.GetFileName(f)));
        var foreign = Directory.EnumerateFileSystemEntries(outDir).Order(StringComparer.Ordinal).FirstOrDefault(e => writes(Path.GetFileName(e)) && !Ours(e));
        if (foreign == null || earlierRun?.Invoke() == true) return;
        throw new R2D2Exception(outDir, 0, $"--out holds files that no {what} run wrote ({Path.GetFileName(foreign)}, and no {stamp}) where the demo "
            + "writes its photos, map and results, and would replace them: give a new or empty folder"
            + (earlierRun != null ? $" (a {what} run of a version that wrote no {stamp}? add an empty {stamp} to it)" : ""));
    }

    /// <summary>Writes the embedded copy of one of them into <paramref name="folder"/> and returns its path.</summary>
    public static string Extract(string name, string folder)
    {
        using var s = typeof(DemoFiles).Assembly.GetManifestResourceStream("R2D2.Localization.Demo." + name)
            ?? throw new FileNotFoundException($"{name}: not embedded in this build");
        var embedded = new MemoryStream();
        s.CopyTo(embedded);
        var path = Path.Combine(folder, name);
        // An earlier run's copy is kept; one edited since is the user's, not replaced (it was, on every run).
        if (File.Exists(path))
            return File.ReadAllBytes(path).AsSpan().SequenceEqual(embedded.ToArray()) ? path
                : throw new R2D2Exception(path, 0, $"differs from the embedded {name} (edited, or written by another version): it is not replaced; "
                    + (name == Town ? $"give it with --scene {path} and a new --out (this folder's town.txt is the embedded town's)"
                        : $"give it with {(name == Scene ? "--scene" : name == Queries ? "--queries" : "--ground-truth")} {path}") + ", or remove it");
        OutputFile.WriteAllBytes(path, embedded.ToArray());
        return path;
    }
}
