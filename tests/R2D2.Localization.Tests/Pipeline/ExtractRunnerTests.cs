using System.Text.Json;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Storage;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>The extraction runner in process: into files and into a database, resumed, with a bad
/// image among good ones, and what it tells its progress sink.</summary>
public class ExtractRunnerTests
{
    /// <summary>Records what a runner reports.</summary>
    private sealed class Recorder : IProgressSink
    {
        public readonly List<string> Lines = new(), Infos = new(), Errors = new();

        public void Stage(string name, int items, Action<Action<string>> work) => work(Lines.Add);
        public void Info(string message) => Infos.Add(message);
        public void Error(string message) => Errors.Add(message);
    }

    private static ImageInput Shared(string name) => new(SharedData.Path_("reference", "r2d2", "images", name), name);

    private static ImageInput Bad(string dir)
    {
        var path = Path.Combine(dir, "bad.png");
        File.WriteAllText(path, "not an image");
        return new ImageInput(path, "bad.png");
    }

    [Fact]
    public void IntoADatabaseABadImageFailsAloneAndARunAgainSkipsTheStoredOnes()
    {
        var dir = TempDir.Create();
        var db = Path.Combine(dir, "features.db");
        var images = new[] { Shared("boat.png"), Bad(dir), Shared("peppers.png") };
        using var source = FeatureSource.ForRootSift(new RootSiftSettings { MaxSize = 256, MaxFeatures = 300 });

        var first = new Recorder();
        var summary = ExtractRunner.ToDatabase(images, source, db, first);
        Assert.Equal(3, summary.Outcomes.Count);
        Assert.Equal(new[] { "boat.png", "peppers.png" }, summary.Extracted.Select(o => o.Image.Name));
        Assert.True(summary.HasErrors);
        Assert.Equal("bad.png", Assert.Single(summary.Failed).Image.Name);
        Assert.Equal(3, first.Lines.Count);
        Assert.Equal("bad.png: failed", first.Lines[1]);
        Assert.Matches(@"^boat\.png: \d+ keypoints in \d+\.\d\d s$", first.Lines[0]);
        Assert.Equal(2, first.Errors.Count);
        Assert.Contains("bad.png", first.Errors[0]);
        Assert.Equal($"1 of 3 images failed: {images[1].Path}", first.Errors[1]);
        Assert.StartsWith($"3 images into {db}, ", first.Infos[0]);
        Assert.StartsWith("2 extracted, 0 skipped (stored), 1 failed, ", first.Infos[1]);
        using (var store = FeatureDatabase.Open(db)) Assert.Equal(2, store.ImagesWithFeatures().Count);

        var again = new Recorder();
        var resumed = ExtractRunner.ToDatabase(new[] { images[0], images[2] }, source, db, again);
        Assert.Equal(2, resumed.SkippedCount);
        Assert.Empty(resumed.Extracted);
        Assert.False(resumed.HasErrors);
        Assert.Empty(again.Errors);
        Assert.Equal(new[] { "boat.png: stored already, skipped", "peppers.png: stored already, skipped" }, again.Lines);

        // A photo replaced since its features were stored is refused (its stale features were kept as "stored already").
        var copy = new ImageInput(Path.Combine(dir, "photo.png"), "photo.png");
        File.Copy(images[0].Path, copy.Path);
        ExtractRunner.ToDatabase(new[] { copy }, source, db, ProgressSink.None);
        File.Copy(images[2].Path, copy.Path, overwrite: true);
        var e = Assert.Throws<R2D2Exception>(() => ExtractRunner.ToDatabase(new[] { copy }, source, db, ProgressSink.None));
        Assert.Contains($"{copy.Path}: is not the image whose features {db} stores", e.Message);
    }

    [Fact]
    public void IntoFilesWritesOneFilePerImageSkipsUpToDateOnesAndWritesStatistics()
    {
        var dir = TempDir.Create();
        var outDir = Path.Combine(dir, "features");
        var stats = Path.Combine(dir, "stats.json");
        var images = new[] { Shared("boat.png"), Bad(dir) };
        using var net = ModelLoader.Load("default");
        var extractor = new MultiScaleExtractor(net, new ExtractionSettings { MaxSize = 256, MinSize = 128, TopK = 200 });
        var options = new ExtractOptions { OutputDir = outDir, StatsPath = stats };

        var first = new Recorder();
        var summary = ExtractRunner.ToFiles(images, extractor, "r2d2_default", options, first);
        var done = Assert.Single(summary.Extracted);
        Assert.Equal(FeatureExtraction.OutputPath(outDir, images[0], FeatureFileFormat.Safetensors), done.OutputPath);
        Assert.True(File.Exists(done.OutputPath));
        Assert.InRange(done.Keypoints, 1, 200);
        Assert.Equal("bad.png", first.Lines[1]);
        Assert.Equal($"1 of 2 images failed: {images[1].Path}", first.Errors[^1]);
        Assert.StartsWith("2 images, model r2d2_default (", first.Infos[0]);
        Assert.EndsWith("format safetensors", first.Infos[0]);
        Assert.StartsWith("1 extracted, 0 skipped (up to date), 1 failed, ", first.Infos[1]);
        Assert.EndsWith($"output in {outDir}", first.Infos[1]);
        using (var json = JsonDocument.Parse(File.ReadAllText(stats)))
        {
            var image = Assert.Single(json.RootElement.GetProperty("images").EnumerateArray());
            Assert.Equal("boat.png", image.GetProperty("name").GetString());
            Assert.Equal(done.Keypoints, image.GetProperty("keypoints").GetInt32());
            Assert.Equal(JsonValueKind.Number, json.RootElement.GetProperty("median_seconds_per_image").ValueKind);
        }

        var again = new Recorder();
        var resumed = ExtractRunner.ToFiles(new[] { images[0] }, extractor, "r2d2_default", options with { StatsPath = null }, again);
        Assert.Equal(1, resumed.SkippedCount);
        Assert.Equal(new[] { "boat.png: up to date, skipped" }, again.Lines);
        Assert.Empty(again.Errors);

        // Other settings make the file out of date: extracted again.
        var other = new MultiScaleExtractor(net, new ExtractionSettings { MaxSize = 256, MinSize = 128, TopK = 100 });
        var redone = ExtractRunner.ToFiles(new[] { images[0] }, other, "r2d2_default", options with { StatsPath = null }, ProgressSink.None);
        Assert.Equal(0, redone.SkippedCount);
        Assert.InRange(Assert.Single(redone.Extracted).Keypoints, 1, 100);

        // A file cut short (its header whole) is not up to date: extracted again.
        var path = redone.Extracted[0].OutputPath!;
        var whole = File.ReadAllBytes(path);
        File.WriteAllBytes(path, whole[..(whole.Length - 100)]);
        var cut = ExtractRunner.ToFiles(new[] { images[0] }, other, "r2d2_default", options with { StatsPath = null }, ProgressSink.None);
        Assert.Equal(0, cut.SkippedCount);
        Assert.Equal(whole.Length, new FileInfo(path).Length);

        // An image replaced under its name is not up to date (only the model and settings were
        // compared: the old image's features were kept); another --max-pixels neither.
        var copy = new ImageInput(Path.Combine(dir, "photo.png"), "photo.png");
        File.Copy(images[0].Path, copy.Path);
        Assert.Single(ExtractRunner.ToFiles(new[] { copy }, other, "r2d2_default", options with { StatsPath = null }, ProgressSink.None).Extracted);
        Assert.Equal(1, ExtractRunner.ToFiles(new[] { copy }, other, "r2d2_default", options with { StatsPath = null }, ProgressSink.None).SkippedCount);
        File.Copy(Shared("peppers.png").Path, copy.Path, overwrite: true);
        Assert.Single(ExtractRunner.ToFiles(new[] { copy }, other, "r2d2_default", options with { StatsPath = null }, ProgressSink.None).Extracted);
        var fewerPixels = new MultiScaleExtractor(net, new ExtractionSettings { MaxSize = 256, MinSize = 128, TopK = 100, MaxPixels = 50_000_000 });
        Assert.Single(ExtractRunner.ToFiles(new[] { copy }, fewerPixels, "r2d2_default", options with { StatsPath = null }, ProgressSink.None).Extracted);
    }
}
