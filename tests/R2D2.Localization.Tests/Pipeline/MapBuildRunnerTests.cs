using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Storage;
using R2D2.Localization.Tests.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>What a runner reported, in order.</summary>
internal sealed class RecordingProgress : IProgressSink
{
    public List<string> Stages { get; } = new();
    public List<string> Lines { get; } = new();
    public List<string> Infos { get; } = new();
    public List<string> Warnings { get; } = new();

    public void Stage(string name, int items, Action<Action<string>> work)
    {
        Stages.Add(name);
        work(line => Lines.Add($"{name}: {line}"));
    }

    public void Info(string message) => Infos.Add(message);
    public void Warning(string message) => Warnings.Add(message);
}

/// <summary>The build-map runner in-process: on a database of known synthetic features (every stage
/// but extraction, checked against the truth) and on three Fountain images with RootSIFT.</summary>
public class MapBuildRunnerTests
{
    [Fact]
    public void BuildsAMapWhosePointsLieOnTheTruthAndStoresAndExportsIt()
    {
        var s = new SyntheticMap(seed: 5, cameras: 6, points: 300);
        using var source = SyntheticMap.Source();
        var progress = new RecordingProgress();
        var export = Path.Combine(s.Folder, "model");
        var result = MapBuildRunner.Run(s.DbPath, new MapBuildInputs(s.Images, s.Folder, source),
            new MapBuildOptions { Pairs = PairSpec.Exhaustive, ExportFolder = export }, progress)!;

        Assert.Equal(new[] { "extract", "match", "verify", "triangulate", "retrieval codebook", "retrieval index", "ASMK vocabulary", "ASMK index" }, progress.Stages);
        Assert.All(progress.Lines.Where(l => l.StartsWith("extract:")), l => Assert.EndsWith(": stored", l));
        Assert.Contains("6 posed images, 15 pairs (exhaustive)", Assert.Single(progress.Infos));
        Assert.Equal(new[] { "register", "extract", "match", "verify", "triangulate", "colour", "retrieval index", "ASMK index", "store", "export" }, result.Seconds.Keys);
        Assert.Equal((6, 15), (result.Images, result.Pairs));

        using var db = FeatureDatabase.OpenReadOnly(s.DbPath);
        var map = db.ReadMap();
        Assert.Equal(result.Stats.Points, map.Count);
        Assert.InRange(map.Count, 280, 320);
        // Each point's observations are projections of one true point, and the point lies within 2 cm of it.
        var imageIndex = db.ReadImages().ToDictionary(i => i.Id, i => s.Images.FindIndex(p => p.Name == i.Name));
        int right = map.Count(p => p.Track.Select(e => s.PointOf[imageIndex[e.ImageId]][e.KeypointIndex]).Distinct().ToList() is [var t]
            && t >= 0 && SyntheticScene.Distance(new[] { p.X, p.Y, p.Z }, s.Scene.Points[t]) < 0.02);
        Assert.True(right >= 0.97 * map.Count, $"{right} of {map.Count} points right");
        Assert.All(map, p => Assert.Equal(128, p.Descriptor!.Length));
        Assert.Equal(6, db.ReadRetrieval()!.Descriptors.Count);
        Assert.Equal(6, db.ReadAsmkIndex()!.Count);
        Assert.Equal(Path.GetFullPath(s.Folder), db.ReadNote("image_root"));
        Assert.Null(db.ReadNote("model_path")); // RootSIFT: no checkpoint
        Assert.Equal(map.Count, ColmapText.ReadModel(export).Points.Count);
        Assert.True(File.Exists(Path.Combine(export, "points3D.ply")));
    }

    [Fact]
    public void ARebuildGivesTheSameMapAndAKeptMapRunsNothing()
    {
        var s = new SyntheticMap(seed: 6, cameras: 5, points: 150);
        using var source = SyntheticMap.Source();
        var inputs = new MapBuildInputs(s.Images, s.Folder, source);
        var first = MapBuildRunner.Run(s.DbPath, inputs, new MapBuildOptions())!;
        List<MapPoint> Map() { using var db = FeatureDatabase.OpenReadOnly(s.DbPath); return db.ReadMap(); }
        var map = Map();

        // Resumed: every stage finds its work stored; triangulation (parallel) gives the same points.
        var progress = new RecordingProgress();
        var second = MapBuildRunner.Run(s.DbPath, inputs, new MapBuildOptions(), progress)!;
        Assert.Equal(first.Stats, second.Stats);
        Assert.All(progress.Lines.Where(l => l.StartsWith("match:")), l => Assert.EndsWith(": stored", l));
        Assert.DoesNotContain(progress.Lines, l => l.StartsWith("verify:")); // verified pairs are skipped
        var again = Map();
        Assert.Equal(map.Select(p => (p.X, p.Y, p.Z, p.R, p.G, p.B, p.Error)), again.Select(p => (p.X, p.Y, p.Z, p.R, p.G, p.B, p.Error)));
        Assert.Equal(map.SelectMany(p => p.Track), again.SelectMany(p => p.Track));

        var kept = new RecordingProgress();
        Assert.Null(MapBuildRunner.Run(s.DbPath, inputs, new MapBuildOptions { KeepExistingMap = true }, kept));
        Assert.Empty(kept.Stages);

        // A kept map of other images or poses (strecha-loc's work folder reused for another scene
        // with the same image names) is refused, not used silently.
        var bytes = File.ReadAllBytes(s.DbPath);
        var fewer = inputs with { Images = s.Images.Take(4).ToList() };
        Assert.Contains("holds a map of other images (0 of the 4 given are not in it; it holds 1 not given, e.g. 'cam04.jpg')",
            Assert.Throws<FeatureDatabaseException>(() => MapBuildRunner.Run(s.DbPath, fewer, new MapBuildOptions { KeepExistingMap = true })).Message);
        var moved = inputs with { Images = s.Images.Select((p, i) => i == 2 ? p with { Pose = new Pose(p.Pose.Rotation, p.Pose.Translation.Select(t => t + 1).ToArray()) } : p).ToList() };
        Assert.Contains("'cam02.jpg': pose differs", Assert.Throws<FeatureDatabaseException>(() => MapBuildRunner.Run(s.DbPath, moved, new MapBuildOptions { KeepExistingMap = true })).Message);
        Assert.Equal(bytes, File.ReadAllBytes(s.DbPath));

        // A build resumed with fewer images (--only after a kill) is refused: the images left out
        // went into its retrieval indexes, which then retrieved images without map points.
        Assert.Contains("holds 1 image not among the 4 given (e.g. 'cam04.jpg')",
            Assert.Throws<FeatureDatabaseException>(() => MapBuildRunner.Run(s.DbPath, fewer, new MapBuildOptions())).Message);
        Assert.Equal(bytes, File.ReadAllBytes(s.DbPath));
    }

    [Fact]
    public void BadInputsAndEmptyMapsAreRefusedBeforeTheMapIsWritten()
    {
        var s = new SyntheticMap(seed: 7, cameras: 4, points: 60);
        using var source = SyntheticMap.Source();
        var inputs = new MapBuildInputs(s.Images, s.Folder, source);

        // A missing pairs file: refused before the database is created.
        var fresh = Path.Combine(TempDir.Create(), "new.db");
        Assert.Throws<FileNotFoundException>(() => MapBuildRunner.Run(fresh, inputs, new MapBuildOptions { Pairs = PairSpec.Parse(Path.Combine(s.Folder, "missing.txt")) }));
        Assert.False(File.Exists(fresh));

        // Another pose for a stored image: refused, naming it.
        var moved = s.Images.Select((p, i) => i == 1 ? p with { Pose = new Pose(p.Pose.Rotation, p.Pose.Translation.Select(t => t + 0.5).ToArray()) } : p).ToList();
        var e = Assert.Throws<FeatureDatabaseException>(() => MapBuildRunner.Run(s.DbPath, inputs with { Images = moved }, new MapBuildOptions()));
        Assert.Contains("'cam01.jpg': pose differs", e.Message);

        // A pairs file without pairs: refused as such, before the database is touched.
        var none = Path.Combine(s.Folder, "none.txt");
        File.WriteAllText(none, "# no pairs\n");
        string before;
        using (var db = FeatureDatabase.OpenReadOnly(s.DbPath)) before = string.Join(",", db.ReadImages().Select(i => i.Name));
        Assert.Contains("lists no pairs", Assert.Throws<FileFormatException>(() => MapBuildRunner.Run(s.DbPath, inputs, new MapBuildOptions { Pairs = PairSpec.Parse(none) })).Message);
        using (var db = FeatureDatabase.OpenReadOnly(s.DbPath)) Assert.Equal(before, string.Join(",", db.ReadImages().Select(i => i.Name)));

        // No overlapping pairs (no two cameras look within 0° of one direction): no point, and the
        // reason; stored anyway when allowed.
        none = "poses:1:0";
        var empty = Assert.Throws<EmptyMapException>(() => MapBuildRunner.Run(s.DbPath, inputs, new MapBuildOptions { Pairs = PairSpec.Parse(none) }));
        Assert.Contains("no overlapping pairs", empty.Message);
        using (var db = FeatureDatabase.OpenReadOnly(s.DbPath)) Assert.False(db.HasMap);
        var allowed = MapBuildRunner.Run(s.DbPath, inputs, new MapBuildOptions { Pairs = PairSpec.Parse(none), AllowEmpty = true })!;
        Assert.Equal(0, allowed.Stats.Points);
        using (var db = FeatureDatabase.OpenReadOnly(s.DbPath)) Assert.True(db.HasMap);
    }

    [Fact]
    public void BuildsAFountainMapFromThreeImagesAndLocalizesTheOneBetweenThem()
    {
        var scene = SharedData.Path_("datasets", "strecha", "fountain-P11");
        var images = Path.Combine(scene, "images");
        var progress = new RecordingProgress();
        var posed = MapInputs.ReadPosed(Path.Combine(scene, "cameras"), null, images, new[] { "0002.jpg", "0004.jpg", "0006.jpg" }, progress);
        Assert.Equal(new[] { "0002.jpg", "0004.jpg", "0006.jpg" }, posed.Select(p => p.Name));
        Assert.Empty(progress.Warnings); // the images have their cameras' size
        using var source = FeatureSource.ForRootSift(new RootSiftSettings { MaxSize = 768, MaxFeatures = 2000 });
        var mapPath = Path.Combine(TempDir.Create(), "fountain.db");
        var result = MapBuildRunner.Run(mapPath, new MapBuildInputs(posed, images, source), new MapBuildOptions(), progress)!;
        Assert.True(result.Stats.Points > 300, $"{result.Stats.Points} points");
        Assert.True(result.Stats.MeanReprojectionErrorPx < 1.5, $"{result.Stats.MeanReprojectionErrorPx} px");

        var truth = StrechaCameras.Read(Path.Combine(scene, "cameras", "0003.jpg.camera"));
        var (map, _) = QueryInputs.LoadMap(mapPath);
        var summary = new QuerySetRunner(map, source, null, new QuerySetOptions { ImageRoot = images }).Run(new[] { new QueryImage("0003.jpg", truth.Camera) });
        var res = Assert.Single(summary.Outcomes).Result;
        Assert.True(res.Localized, res.Warning);
        double dist = SyntheticScene.Distance(res.Pose.CameraCenter, truth.Pose.CameraCenter);
        Assert.True(dist < 0.1, $"position error {dist:F3} m");
    }
}
