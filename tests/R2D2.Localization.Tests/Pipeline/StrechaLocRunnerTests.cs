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
    }
}
