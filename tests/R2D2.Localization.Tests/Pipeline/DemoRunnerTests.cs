using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Synthesis;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>The demos' runners without the network: the square's inputs (the repository's files,
/// the reductions for quick checks), the town's scene and folder, a query's status line.
/// The whole run is DemoCliTests' and TownTests'.</summary>
public class DemoRunnerTests
{
    [Fact]
    public void TheSquaresInputsAreTheRepositorysFilesReducedAsAsked()
    {
        var dir = TempDir.Create();
        var full = DemoRunner.Read(new DemoOptions { OutDir = dir });
        Assert.Equal(Path.GetFullPath(Path.Combine(SharedData.RepoRoot, "maps", DemoFiles.Scene)), Path.GetFullPath(full.ScenePath));
        Assert.Equal(Path.GetFullPath(Path.Combine(SharedData.RepoRoot, "queries", DemoFiles.Queries)), Path.GetFullPath(full.QueryPath));
        Assert.Equal(Path.GetFullPath(Path.Combine(SharedData.RepoRoot, "queries", DemoFiles.GroundTruth)), Path.GetFullPath(full.TruthPath));
        Assert.Equal(DemoRunner.DefaultSettings, full.Settings);
        Assert.Equal(full.Scene.DayCameras.Count + full.Queries.Count, full.ImageCount);
        Assert.True(full.Queries.Count > 2 && full.Scene.DayCameras.Count > 5);
        Assert.Empty(Directory.GetFileSystemEntries(dir)); // found in the clone: nothing extracted

        var small = DemoRunner.Read(new DemoOptions { OutDir = dir, MaxDay = 5, MaxQueries = 2, Scale = 0.5 });
        Assert.Equal(full.Scene.DayCameras.Take(5), small.Scene.DayCameras);
        Assert.Equal(full.Queries.Take(2).Select(q => q.Name), small.Queries.Select(q => q.Name));
        Assert.Equal((int)Math.Round(full.Scene.Width * 0.5), small.Scene.Width);
        Assert.Equal(small.Scene.Focal, full.Scene.Focal * small.Scene.Width / full.Scene.Width, 12);
        Assert.All(small.Queries, q => Assert.Equal((small.Scene.Width, small.Scene.Height), (q.Camera!.Width, q.Camera.Height)));
        // A map needs two photos.
        Assert.Equal(2, DemoRunner.Read(new DemoOptions { OutDir = dir, MaxDay = 1 }).Scene.DayCameras.Count);

        var e = Assert.Throws<UsageException>(() => DemoRunner.Read(new DemoOptions { OutDir = dir, Scale = 5 }));
        Assert.Contains("--scale 5", e.Message);
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }

    [Fact]
    public void AMissingQueryListStopsTheReadNamingIt()
    {
        var dir = TempDir.Create();
        var missing = Path.Combine(dir, "none.txt");
        var e = Assert.ThrowsAny<Exception>(() => DemoRunner.Read(new DemoOptions { OutDir = dir, QueryPath = missing }));
        Assert.Contains(missing, e.Message);
        // A missing scene or a folder as the truth stops it before the embedded files of the inputs
        // not given are written (OUT/scene/ was left behind where the repository's are not found).
        var scene = Assert.Throws<R2D2Exception>(() => DemoRunner.Read(new DemoOptions { OutDir = Path.Combine(dir, "out"), ScenePath = missing }));
        Assert.Equal($"{missing}: not found (--scene)", scene.Message);
        var truth = Assert.Throws<R2D2Exception>(() => DemoRunner.Read(new DemoOptions { OutDir = Path.Combine(dir, "out"), TruthPath = dir }));
        Assert.Contains("is a folder: --ground-truth takes a file", truth.Message);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
    }

    /// <summary>An input at one of the demo's output names (a ground truth at OUT/poses.txt became
    /// the estimates), and negative reductions, are refused before anything is written.</summary>
    [Fact]
    public void InputsAmongTheOutputsAndNegativeReductionsAreRefused()
    {
        var dir = TempDir.Create();
        var truth = Path.Combine(dir, "poses.txt");
        File.Copy(Path.Combine(SharedData.RepoRoot, "queries", "demo-square-night.poses.txt"), truth);
        var before = File.ReadAllBytes(truth);
        // A folder of the user's: not the demo's to write into.
        var e = Assert.Throws<R2D2Exception>(() => DemoRunner.Read(new DemoOptions { OutDir = dir, TruthPath = truth }));
        Assert.Contains("--out holds files that no square demo run wrote (poses.txt, and no square.txt)", e.Message);
        // A run of a version that wrote no stamp is known by its day photos' model (images/day-model).
        var old = Path.Combine(dir, "old");
        Directory.CreateDirectory(Path.Combine(old, "images", "day-model"));
        foreach (var f in new[] { "cameras.txt", "images.txt" }) File.WriteAllText(Path.Combine(old, "images", "day-model", f), "");
        File.WriteAllText(Path.Combine(old, "map.db"), "");
        DemoRunner.Read(new DemoOptions { OutDir = old });
        Directory.Delete(old, recursive: true);
        // An earlier run's folder: its outputs are the demo's, but not the input given.
        var stamp = Path.Combine(dir, DemoRunner.SquareStamp);
        File.WriteAllText(stamp, "");
        e = Assert.Throws<R2D2Exception>(() => DemoRunner.Read(new DemoOptions { OutDir = dir, TruthPath = truth }));
        Assert.Contains("would overwrite the ground truth", e.Message);
        Assert.Equal(before, File.ReadAllBytes(truth));
        Assert.Equal(new[] { truth, stamp }.Order(), Directory.GetFileSystemEntries(dir).Order());
        Assert.Contains("--max-day -1", Assert.Throws<UsageException>(() => DemoRunner.Read(new DemoOptions { OutDir = dir, MaxDay = -1 })).Message);
        Assert.Contains("--max-queries -2", Assert.Throws<UsageException>(() => DemoRunner.Read(new DemoOptions { OutDir = dir, MaxQueries = -2 })).Message);
        // A town with 100,000,000 queries ran out of memory (exit 134) with a half-written folder.
        var town = Path.Combine(dir, "town");
        Assert.Contains("--queries 100000000: from 0 to 100000", Assert.Throws<UsageException>(
            () => TownRunner.Open(Path.Combine(SharedData.RepoRoot, "maps", "town.scene"), town, 0.25, 10, 100_000_000)).Message);
        Assert.False(Directory.Exists(town));
    }

    /// <summary>--images on the square was ignored (all 18 photos rendered): refused like --queries N.</summary>
    [Fact]
    public void TheSquareRefusesATownsImageCount()
    {
        var outDir = Path.Combine(TempDir.Create(), "demo");
        var (code, _, err) = CliTests.Localize("demo", "--images", "3", "--out", outDir);
        Assert.Equal(2, code);
        Assert.Contains("--images N is for a town scene", err);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void TheTownIsNamedByWordOrByItsFileAndItsFolderIsCheckedBeforeAnyWork()
    {
        var dir = TempDir.Create();
        var repoTown = TownRunner.ScenePath("town", dir)!;
        Assert.Equal(Path.GetFullPath(Path.Combine(SharedData.RepoRoot, "maps", DemoFiles.Town)), Path.GetFullPath(repoTown));
        Assert.Equal(repoTown, TownRunner.ScenePath(repoTown, dir));
        Assert.Null(TownRunner.ScenePath(Path.Combine(SharedData.RepoRoot, "maps", DemoFiles.Scene), dir));
        Assert.Null(TownRunner.ScenePath(null, dir));

        var data = TownRunner.Open(repoTown, dir, 0.25, 8, 1);
        Assert.Equal((8, 1), (data.Day.Count, data.Night.Count));
        Assert.Equal(data.Scene.Width, (int)Math.Round(TownScene.Load(repoTown).Width * 0.25));
        data.WriteFiles();
        // The same folder with another town (more photos) is refused; so is a count beyond the streets.
        var e = Assert.Throws<R2D2Exception>(() => TownRunner.Open(repoTown, dir, 0.25, 9, 1));
        Assert.Contains("another town", e.Message);
        Assert.Throws<UsageException>(() => TownRunner.Open(repoTown, TempDir.Create(), 0.25, data.Scene.MaxImages + 1, 1));
    }

    [Fact]
    public void AQuerysLineGivesItsErrorAgainstTheTruePose()
    {
        var truth = DemoScene.LookAlong(0, 1.6, 0, 0, 0);
        var off = DemoScene.LookAlong(0.1, 1.6, 0, 0, 0);
        var query = new QueryImage("night/q.jpg", null);
        var result = new QueryResult("night/q.jpg", off, true, 100, 50, 40, 1, 2, 0.5, null, null);
        Assert.Equal("night/q.jpg: localized, 40 inliers, error 10.0 cm / 0.00°, 3.5 s",
            DemoRunner.Describe(new QueryOutcome(query, result, QueryStatus.Localized, false), truth));
        Assert.StartsWith("night/q.jpg: NOT localized, ",
            DemoRunner.Describe(new QueryOutcome(query, result with { Localized = false }, QueryStatus.Fallback, false), truth));
        Assert.StartsWith("night/q.jpg: unreadable, ",
            DemoRunner.Describe(new QueryOutcome(query, result with { Localized = false }, QueryStatus.Unreadable, false), truth));
    }
}
