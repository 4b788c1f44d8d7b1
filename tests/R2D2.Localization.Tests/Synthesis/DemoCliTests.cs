using System.Text.RegularExpressions;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using Xunit;

namespace R2D2.Localization.Tests.Synthesis;

/// <summary>`localize demo` end to end on a reduced configuration (half-size images, 5 day photos,
/// 2 queries, a small pyramid: ~10 s) with the embedded default model, then `localize report` on its outputs, and bad input.</summary>
public class DemoCliTests
{
    [Fact]
    public void TheDemoRunsEndToEndAndItsOutputsMakeTheReport()
    {
        var dir = TempDir.Create();
        var (code, stdout, err) = CliTests.Localize("demo", "--scale", "0.5", "--max-day", "5",
            "--max-queries", "2", "--min-size", "128", "--max-size", "256", "--out", dir);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("0.25 m, 2°", stdout);
        Assert.Contains("time per stage:", stdout);
        Assert.Matches(new Regex(@"map: extract\s+\d+\.\d s"), stdout);
        Assert.Equal(5, Directory.GetFiles(Path.Combine(dir, "images", "day"), "*.jpg").Length);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir, "images", "night"), "*.jpg").Length);

        var poses = Path.Combine(dir, "poses.txt");
        var results = QueryOutputs.Read(poses, Path.ChangeExtension(poses, ".csv"));
        Assert.Equal(2, results.Count);
        Assert.Contains(results.Values, r => r.Localized);
        var inliers = QueryInliers.Read(QueryInliers.PathFor(poses));
        Assert.All(results.Values.Where(r => r.Localized), r => Assert.Equal(r.Inliers, inliers[r.Name].Count));

        var html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.Contains("id=\"map\"", html);
        Assert.Contains("night_01.jpg", html);
        Assert.DoesNotContain("http://", html);

        // The same report from the outputs, as a user makes it for a run of `localize query`.
        var report = Path.Combine(dir, "again.html");
        (code, stdout, err) = CliTests.Localize("report", "--map", Path.Combine(dir, "map.db"), "--poses", poses,
            "--ground-truth", Path.Combine(dir, "ground-truth.txt"), "--query-images", Path.Combine(dir, "images", "night"), "--output", report);
        Assert.True(code == 0, err + stdout);
        var again = File.ReadAllText(report);
        Assert.Contains("id=\"q-night_00.jpg\"", again);
        Assert.Contains("database image day_", again); // the map's image folder comes from the database
        Assert.DoesNotContain("warning", err);
        // Poses alone, photos looked for in the wrong folder: each lack is said (it was a report of
        // queries with 0 inliers of 0 matches and no photos, without a word).
        var alone = Path.Combine(TempDir.Create(), "poses.txt");
        File.Copy(poses, alone);
        (code, stdout, err) = CliTests.Localize("report", "--map", Path.Combine(dir, "map.db"), "--poses", alone,
            "--query-images", dir, "--output", Path.ChangeExtension(alone, ".html"));
        Assert.True(code == 0, err + stdout);
        Assert.Contains($"report: warning: {Path.ChangeExtension(alone, ".csv")}: not found", err);
        // The photos are found below the folder by base name (images/night/), as a submission names them.
        Assert.DoesNotContain("query photos not found", err);
        var dayImages = Path.Combine(dir, "images", "day");
        (code, stdout, err) = CliTests.Localize("report", "--map", Path.Combine(dir, "map.db"), "--poses", alone,
            "--query-images", dayImages, "--output", Path.ChangeExtension(alone, ".html"));
        Assert.True(code == 0, err + stdout);
        Assert.Contains($"report: warning: 2 of 2 query photos not found under {dayImages}", err);
    }

    /// <summary>A --scale too small for the extraction's sizes is a usage error before anything is
    /// rendered (it rendered, then failed at the first extraction).</summary>
    [Fact]
    public void TooSmallAScaleIsRefusedBeforeRendering()
    {
        var dir = Path.Combine(TempDir.Create(), "demo");
        var (code, _, err) = CliTests.Localize("demo", "--scale", "0.25", "--max-day", "2", "--max-queries", "1", "--out", dir);
        Assert.True(code == 2, err);
        Assert.Contains("the demo's photos would be 128×96 px: no pyramid level fits", err);
        Assert.False(Directory.Exists(dir));
    }

    /// <summary>Any --scale in (0, 4] renders (0.3 failed: the query cameras' fy was rescaled by the
    /// rounded height, the scene's by the width); a scene file at OUT/square.txt, the demo's stamp,
    /// is refused (the stamp replaced it).</summary>
    [Fact]
    public void AnyScaleRendersAndTheStampIsNoInput()
    {
        var dir = Path.Combine(TempDir.Create(), "demo");
        var (code, _, err) = CliTests.Localize("demo", "--model", "rootsift", "--render-only", "--scale", "0.3", "--max-day", "2", "--max-queries", "1", "--out", dir);
        Assert.True(code == 0, err);
        var scene = Path.Combine(dir, "square.txt");
        File.Copy(Path.Combine(SharedData.RepoRoot, "maps", "demo-square.scene"), scene, overwrite: true);
        var before = File.ReadAllBytes(scene);
        (code, _, err) = CliTests.Localize("demo", "--model", "rootsift", "--render-only", "--scene", scene, "--max-day", "2", "--max-queries", "1", "--out", dir);
        Assert.Equal(1, code);
        Assert.Contains("the demo output would overwrite the scene", err);
        Assert.Equal(before, File.ReadAllBytes(scene));
    }

    /// <summary>A device that is not there stops the square demo before its banner and before any
    /// photo (the banner came first); a render-only run needs no device.</summary>
    [Fact]
    public void AMissingDeviceIsSaidFirstAndARenderNeedsNone()
    {
        if (TorchSharp.torch.cuda.is_available()) return; // the CUDA build on a GPU machine has the device
        var dir = Path.Combine(TempDir.Create(), "demo");
        var (code, stdout, err) = CliTests.Localize("demo", "--max-day", "2", "--max-queries", "1", "--device", "cuda", "--out", dir);
        Assert.True(code == 1, err);
        Assert.Contains("--device cuda: no CUDA device is available", err);
        Assert.DoesNotContain("demo: scene", stdout);
        Assert.False(Directory.Exists(dir));
        (code, stdout, err) = CliTests.Localize("demo", "--max-day", "2", "--max-queries", "1", "--device", "cuda", "--render-only", "--out", dir);
        Assert.True(code == 0, err);
        Assert.Contains("render: 2 day photos", stdout);
        // A value that names no device is refused by the parser, render or not (a render took it without a word).
        (code, _, err) = CliTests.Localize("demo", "--max-day", "2", "--max-queries", "1", "--device", "bogus", "--render-only", "--out", dir + "2");
        Assert.True(code == 2, err);
        Assert.Contains("--device must be auto, cpu or cuda, not 'bogus'", err);
        Assert.False(Directory.Exists(dir + "2"));
        // A damaged checkpoint too (the embedded scene files were written into OUT/scene/ first).
        var junk = Path.Combine(TempDir.Create(), "junk.pt");
        File.WriteAllText(junk, "junk");
        (code, _, err) = CliTests.Localize("demo", "--max-day", "2", "--max-queries", "1", "--model", junk, "--out", dir + "3");
        Assert.True(code == 1, err);
        Assert.Contains($"{junk}: not a PyTorch checkpoint", err);
        Assert.False(Directory.Exists(dir + "3"));
    }

    /// <summary>The town end to end on a small reduction (30 photos at a quarter size, RootSIFT: no
    /// network): its tables, and every query diagnosed, in the printed table, in KIND.diagnosis.csv
    /// and in summary.json's verdict counts.</summary>
    [Fact]
    public void TheTownRunsEndToEndAndDiagnosesEveryQuery()
    {
        var dir = TempDir.Create();
        var (code, stdout, err) = CliTests.Localize("demo", "--scene", "town", "--images", "30", "--queries", "4", "--scale", "0.25",
            "--model", "rootsift", "--out", dir);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("0.25 m, 2°", stdout);
        Assert.Contains("why queries missed", stdout);
        var labels = Enum.GetValues<R2D2.Localization.Evaluation.QueryVerdict>().Select(R2D2.Localization.Evaluation.QueryDiagnoses.Label).ToHashSet();
        foreach (var (kind, count) in new[] { ("night", 4), ("day", 10) })
        {
            var rows = File.ReadAllLines(Path.Combine(dir, $"{kind}.diagnosis.csv")).Skip(1).ToList();
            Assert.Equal(count, rows.Count);
            Assert.All(rows, r => Assert.StartsWith(kind + ",", r));
            Assert.All(rows, r => Assert.Contains(r.Split(',')[^1], labels));
        }
        using var summary = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")));
        var night = summary.RootElement.GetProperty("verdicts").GetProperty("night");
        Assert.Equal(4, night.EnumerateObject().Sum(v => v.Value.GetInt32()));
    }

    [Fact]
    public void AMalformedSceneFileStopsTheDemoNamingFileAndLine()
    {
        var dir = TempDir.Create();
        var scene = Path.Combine(dir, "bad.scene");
        File.WriteAllText(scene, "image 64 48 50\nfacade 1 0 0 1 0 x\n");
        var (code, _, err) = CliTests.Localize("demo", "--scene", scene, "--out", dir, "--render-only");
        Assert.Equal(1, code);
        Assert.Contains($"{scene}:2: height 'x' is not a number", err);
    }
}
