using R2D2.Localization.Formats;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>The strecha-loc runner in-process with RootSIFT on fountain-P11 (about 8 s a run).</summary>
public class StrechaLocRunnerTests
{
    [Fact]
    public void LocalizesTheOddImagesByDayAndNightKeepsItsMapAndGoesOnPastABadPhoto()
    {
        var dir = TempDir.Create();
        var scene = Path.Combine(dir, "fountain-P11");
        TempDir.CopyTree(SharedData.Path_("datasets", "strecha", "fountain-P11"), scene);
        var options = new StrechaLocOptions { WorkFolder = Path.Combine(dir, "work") };
        var built = new List<string>();
        var lines = new List<string>();
        var errors = new List<string>();
        var report = new StrechaLocReport { MapBuilt = (path, _) => built.Add(path), QueryLine = lines.Add, Error = errors.Add };

        var result = StrechaLocRunner.Run(new[] { scene }, new[] { "rootsift" }, options, report);
        Assert.False(result.HasErrors);
        Assert.Equal(new[] { "fountain-P11" }, result.Scenes);
        Assert.Equal(new[] { Path.Combine(dir, "work", "fountain-P11", "RootSIFT.db") }, built);
        Assert.Equal(10, lines.Count); // 5 odd images, by day and by night
        Assert.Equal(new[] { StrechaLocRunner.Day, StrechaLocRunner.Night }, result.Rows.Select(r => r.Condition));
        Assert.All(result.Rows, r => Assert.Equal(1.0, r.Result.ShareWithin(StrechaLoc.Fine)));

        // A rerun keeps the map; a night photo that cannot be read fails alone, and the run says so.
        File.WriteAllBytes(Path.Combine(scene, "night", "0005.jpg"), new byte[] { 0xFF, 0xD8, 0xFF });
        built.Clear();
        var again = StrechaLocRunner.Run(new[] { scene }, new[] { "rootsift" }, options, report);
        Assert.Empty(built);
        Assert.True(again.HasErrors);
        Assert.Contains(errors, e => e.Contains("0005.jpg"));
        Assert.Equal(1.0, again.Rows[0].Result.ShareWithin(StrechaLoc.Fine));
        Assert.Equal(0.8, again.Rows[1].Result.ShareWithin(ThresholdSet.Aachen.Thresholds[2]));

        // A camera of another size than its photo is another photo's: refused naming the file (the
        // map stored it; a query's was taken for a rescaled copy, and posed 27 m off).
        var cameraFile = Path.Combine(scene, "cameras", "0002.jpg.camera");
        var text = File.ReadAllLines(cameraFile);
        File.WriteAllLines(cameraFile, text.Take(text.Length - 1).Append("1000 2048"));
        Assert.Contains($"{cameraFile}: gives a 1000×2048 camera, and {Path.Combine(scene, "images", "0002.jpg")} is 3072×2048",
            Assert.Throws<FileFormatException>(() => StrechaLoc.Load(scene)).Message);
        File.WriteAllLines(cameraFile, text);
        // A query's night version missing, or night/ itself: said before any map is built (it was
        // found after the day's map and queries, whose results were then lost).
        File.Delete(Path.Combine(scene, "night", "0005.jpg"));
        Assert.Contains("0005.jpg: is missing: every query", Assert.Throws<FileFormatException>(() => StrechaLoc.Load(scene)).Message);
        Directory.Delete(Path.Combine(scene, "night"), recursive: true);
        Assert.Contains("night/ is missing", Assert.Throws<FileFormatException>(() => StrechaLoc.Load(scene)).Message);
    }

    /// <summary>The maps are not written into a scene's own folders: a --work inside its images/, or
    /// one that puts WORK/SCENE on the scene folder itself, is refused before any work.</summary>
    [Fact]
    public void AWorkFolderInsideTheSceneIsRefused()
    {
        var dir = TempDir.Create();
        var scene = Path.Combine(dir, "fountain-P11");
        TempDir.CopyTree(SharedData.Path_("datasets", "strecha", "fountain-P11"), scene);
        var before = Directory.GetFiles(scene, "*", SearchOption.AllDirectories).Length;
        foreach (var (work, why) in new[] { (Path.Combine(scene, "images", "w"), "lies inside the scene's images/"), (dir, "holds the scene's images/") })
        {
            var e = Assert.Throws<R2D2Exception>(() => StrechaLocRunner.Run(new[] { scene }, new[] { "rootsift" }, new StrechaLocOptions { WorkFolder = work }));
            Assert.Contains(why, e.Message);
        }
        Assert.Equal(before, Directory.GetFiles(scene, "*", SearchOption.AllDirectories).Length);
    }

    /// <summary>Other extraction settings get a map of their own beside the defaults' (a rerun with
    /// another --max-size stopped on the earlier map's features).</summary>
    [Fact]
    public void OtherExtractionSettingsNameAMapOfTheirOwn()
    {
        Assert.Equal("r2d2_default", StrechaLocRunner.MapName("r2d2_default", new ExtractionSettings()));
        Assert.Equal("RootSIFT", StrechaLocRunner.MapName("RootSIFT", null));
        var small = StrechaLocRunner.MapName("r2d2_default", new ExtractionSettings { MaxSize = 384 });
        Assert.Matches("^r2d2_default-[0-9a-f]{8}$", small);
        Assert.NotEqual(small, StrechaLocRunner.MapName("r2d2_default", new ExtractionSettings { MaxSize = 512 }));
        Assert.Equal(small, StrechaLocRunner.MapName("r2d2_default", new ExtractionSettings { MaxSize = 384 }));

        // Two models of one file name (two runs' best weights): a row and a map each.
        var models = new[] { "/x/run-a/best.safetensors", "/x/run-b/best.safetensors", "rootsift" };
        Assert.Equal(new[] { "run-a/best", "run-b/best", "RootSIFT" }, models.Select(m => StrechaLocRunner.RowName(m, models)));
        Assert.Equal("run-a_best", StrechaLocRunner.MapName(StrechaLocRunner.RowName(models[0], models), null));
        Assert.Equal("best", StrechaLocRunner.RowName(models[0], models.Take(1).ToList()));
    }
}
