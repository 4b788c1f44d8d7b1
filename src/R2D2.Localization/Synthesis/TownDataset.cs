using System.Security.Cryptography;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Synthesis;

/// <summary>
/// A rendered town in Aachen Day-Night's layout, so `tools/aachen/run --dataset OUT` and
/// `localize build-map --poses` take it as they take Aachen:
/// <c>images_upright/db/NNNNN.jpg</c> and <c>images_upright/query/{night,day}/</c>;
/// <c>3D-models/aachen_cvpr2018_db.nvm</c> with <c>3D-models/database_intrinsics.txt</c> (the
/// database poses) and the same as a COLMAP text model in <c>3D-models/colmap/</c>;
/// <c>queries/{night,day}_time_queries_with_intrinsics.txt</c> and their true poses in submission
/// format, <c>queries/{night,day}_time_queries_poses.txt</c>. <c>town.txt</c> records what the
/// folder was made from: a folder holding another town (other scene, size or counts) is refused.
/// </summary>
public sealed class TownDataset
{
    public const string NvmName = "aachen_cvpr2018_db.nvm", IntrinsicsName = "database_intrinsics.txt";

    public TownDataset(TownScene scene, string root, int images, int? nightQueries = null, int? dayQueries = null)
    {
        Scene = scene; Root = root;
        Day = scene.DayShots(images);
        Night = scene.QueryShots(Day, nightQueries ?? scene.NightQueries, night: true);
        DayQueries = scene.QueryShots(Day, dayQueries ?? scene.DayQueries, night: false);
    }

    public TownScene Scene { get; }
    public string Root { get; }
    public List<TownShot> Day { get; }
    public List<TownShot> Night { get; }
    public List<TownShot> DayQueries { get; }

    public string ImageRoot => Path.Combine(Root, "images_upright");
    /// <summary>The map database the town's run builds.</summary>
    public string MapPath => Path.Combine(Root, "map.db");
    public string NvmPath => Path.Combine(Root, "3D-models", NvmName);
    public string IntrinsicsPath => Path.Combine(Root, "3D-models", IntrinsicsName);
    public string ColmapFolder => Path.Combine(Root, "3D-models", "colmap");
    public string QueryList(bool night) => Path.Combine(Root, "queries", $"{(night ? "night" : "day")}_time_queries_with_intrinsics.txt");
    public string TruthPath(bool night) => Path.Combine(Root, "queries", $"{(night ? "night" : "day")}_time_queries_poses.txt");
    private const string StampName = "town.txt";
    private string StampPath => Path.Combine(Root, StampName);

    /// <summary>What the folder is made from: the scene file's hash, the image size and the counts.</summary>
    public string Stamp => $"town {Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(Scene.Path))).ToLowerInvariant()} "
        + $"{Scene.Width}x{Scene.Height} f={Scene.Focal:R} images={Day.Count} night={Night.Count} day={DayQueries.Count}\n";

    /// <summary>Refuses a folder made from other parameters (its images would not be these), before anything is written.</summary>
    public void CheckFolder()
    {
        // A folder without the stamp is another's (the square demo's, a dataset, a build-map's).
        RefuseForeignFolder(Root);
        if (File.Exists(StampPath) && File.ReadAllText(StampPath) is var old && old != Stamp)
            throw new R2D2Exception(StampPath, 1, $"this folder holds another town ({old.Trim()}; now {Stamp.Trim()}): "
                + "use another --out, or delete the folder to start over");
    }

    /// <summary>Refuses an --out of someone else's files (see <see cref="DemoFiles.RefuseForeignFolder"/>):
    /// checked before anything is written there, the embedded scene included.</summary>
    public static void RefuseForeignFolder(string outDir) =>
        DemoFiles.RefuseForeignFolder(outDir, StampName, "town", name => name is "images_upright" or "3D-models" or "queries" or "scene"
            or "report.html" or "summary.json" || name.StartsWith("map.db", StringComparison.Ordinal) || name.StartsWith("day.", StringComparison.Ordinal)
            || name.StartsWith("night.", StringComparison.Ordinal), new[] { DemoFiles.Town });

    /// <summary>Writes the stamp, the lists, the models and the true poses (small text files, each atomic).</summary>
    public void WriteFiles()
    {
        CheckFolder();
        OutputFile.WriteAllText(StampPath, Stamp);
        var db = Day.Select(Scene.Posed).ToList();
        Nvm.Write(NvmPath, db, IntrinsicsPath);
        ColmapText.WriteModel(ColmapFolder, new ColmapModel(new List<Geometry.Camera> { Scene.Camera() },
            db.Select((p, i) => new ColmapImage(i + 1, p, Array.Empty<double>(), Array.Empty<long>())).ToList(), new List<ColmapPoint>()));
        foreach (var (night, shots) in new[] { (true, Night), (false, DayQueries) })
        {
            Formats.QueryList.WriteWithIntrinsics(QueryList(night), shots.Select(s => (s.Name, Scene.Camera())));
            Submission.Write(TruthPath(night), shots.Select(s => new ImagePose(Submission.BaseName(s.Name), s.Pose)));
        }
    }

    /// <summary>Renders every image not on disk yet (database photos by day, then the night and day
    /// queries), each written atomically: a killed run resumes where it stopped. An image already
    /// there is kept when it decodes to the scene's size. <paramref name="onImage"/> gets each name
    /// and whether it was rendered (false: kept).</summary>
    public void Render(SceneRenderer renderer, Action<string, bool>? onImage = null)
    {
        CheckFolder();
        var jobs = Day.Select(s => (s, Kind: 0)).Concat(Night.Select(s => (s, Kind: 1))).Concat(DayQueries.Select(s => (s, Kind: 2)));
        foreach (var (shot, kind) in jobs)
        {
            var path = Path.Combine(ImageRoot, shot.Name);
            if (IsRendered(path)) { onImage?.Invoke(shot.Name, false); continue; }
            var image = kind == 1 ? renderer.RenderNight(shot.Pose, SceneRenderer.SeedOf(shot.Name)) : renderer.RenderDay(shot.Pose);
            OutputFile.WriteAllBytes(path, JpegCodec.Encode(image, kind == 1 ? Scene.Night.JpegQuality : Scene.DayJpegQuality));
            onImage?.Invoke(shot.Name, true);
        }
    }

    private bool IsRendered(string path)
    {
        if (!File.Exists(path)) return false;
        // The size from the header, and for a JPEG its whole structure: a cut file kept as rendered
        // stopped every later build ("broken JPEG"), rerun or not.
        try
        {
            return ImageFile.ReadHeader(path) is var h && (h.Width, h.Height) == (Scene.Width, Scene.Height)
                && (h.Format != ImageFormat.Jpeg || JpegStructure.Check(File.ReadAllBytes(path)) == null);
        }
        catch (Exception e) when (e is R2D2Exception or IOException or InvalidDataException or OpenCvSharp.OpenCVException) { return false; }
    }

    public int ImageCount => Day.Count + Night.Count + DayQueries.Count;
}
