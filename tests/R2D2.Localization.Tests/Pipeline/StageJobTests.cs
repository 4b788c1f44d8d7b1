using R2D2.Localization.Features;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Tests.FaultInjection;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>The stages run from what a command is given (extract, match, build-map): options that do
/// not go together are refused before any model is loaded or any file written.</summary>
public class StageJobTests
{
    private static T NotLoaded<T>() => throw new Xunit.Sdk.XunitException("loaded before the options were checked");

    [Fact]
    public void AnExtractionJobRefusesBeforeLoading()
    {
        var dir = TempDir.Create();
        var image = Path.Combine(dir, "boat.png");
        TestImages.WriteBoat(dir, "boat.png");
        var files = new ExtractOptions { OutputDir = Path.Combine(dir, "out") };
        // A device resolved is a network about to be loaded.
        var features = new FeatureSourceSpec("default", NotLoaded<TorchSharp.torch.Device>, new NetworkOptions(), new ExtractionSettings());
        string Refused(ExtractJob j, FeatureSourceSpec? spec = null) => Assert.Throws<UsageException>(() => ExtractRunner.Run(j, spec ?? features, ProgressSink.None)).Message;
        var empty = Path.Combine(dir, "empty");
        Directory.CreateDirectory(empty);
        Assert.Equal("no images found in --images", Refused(new ExtractJob { Images = new[] { empty }, Files = files }));
        Assert.Equal("give --out or --database, not both", Refused(new ExtractJob { Images = new[] { image }, Files = files, Database = Path.Combine(dir, "f.db") }));
        Assert.StartsWith("give --out DIR", Refused(new ExtractJob { Images = new[] { image } }));
        Assert.StartsWith("RootSIFT features go into a database", Refused(new ExtractJob { Images = new[] { image }, Files = files }, features with { Model = "rootsift" }));
        Assert.Contains("would overwrite the image", Assert.ThrowsAny<R2D2Exception>(() =>
            ExtractRunner.Run(new ExtractJob { Images = new[] { image }, Database = image }, features, ProgressSink.None)).Message);
        // --stats over an input named by --images (a list) or over the checkpoint wrote its JSON there;
        // over a database it replaced that.
        var list = Path.Combine(dir, "list.txt");
        File.WriteAllText(list, image + "\n");
        var model = Path.Combine(dir, "model.pt");
        File.WriteAllText(model, "not read");
        var db = Path.Combine(dir, "other.db");
        File.WriteAllBytes(db, "SQLite format 3\0"u8.ToArray());
        string RefusedStats(string stats, string[] images, FeatureSourceSpec spec) => Assert.ThrowsAny<R2D2Exception>(() =>
            ExtractRunner.Run(new ExtractJob { Images = images, Files = files with { StatsPath = stats } }, spec, ProgressSink.None)).Message;
        Assert.Contains("the statistics file would overwrite the --images input", RefusedStats(list, new[] { list }, features));
        Assert.Contains("the statistics file would overwrite the checkpoint", RefusedStats(model, new[] { image }, features with { Model = model }));
        Assert.Contains("is an SQLite database (a map or a feature database?), which the statistics file would replace", RefusedStats(db, new[] { image }, features));
        Assert.Equal("not read", File.ReadAllText(model));
        Assert.Equal(image + "\n", File.ReadAllText(list));
        Assert.Equal(new[] { image, list, model, db, empty }.Order(), Directory.GetFileSystemEntries(dir).Order());
    }

    [Fact]
    public void AMatchingShardNeedsItsOwnDatabaseAndNoVerification()
    {
        var dir = TempDir.Create();
        var db = Path.Combine(dir, "f.db");
        Assert.Equal("--shard and --out go together",
            Assert.Throws<UsageException>(() => MatchRunner.RunDatabase(db, PairSpec.Exhaustive, new MatchOptions(), new Shard(0, 2), null)).Message);
        Assert.StartsWith("--verify runs after the merge", Assert.Throws<UsageException>(() => MatchRunner.RunDatabase(db, PairSpec.Exhaustive,
            new MatchOptions { Verify = new VerifyOptions() }, new Shard(0, 2), Path.Combine(dir, "s.db"))).Message);
        Assert.Empty(Directory.GetFiles(dir));
    }

    [Fact]
    public void AMapBuildJobRefusesOptionsThatDoNotGoTogetherBeforeLoading()
    {
        var dir = TempDir.Create();
        var poses = SharedData.Path_("datasets", "strecha", "fountain-P11", "cameras");
        var images = SharedData.Path_("datasets", "strecha", "fountain-P11", "images");
        var features = new FeatureSourceSpec("default", NotLoaded<TorchSharp.torch.Device>, new NetworkOptions(), new ExtractionSettings());
        var request = new MapBuildRequest { PosesPath = poses, ImagesFolder = images, MapPath = Path.Combine(dir, "map.db"), Features = features };
        string Refused(MapBuildRequest q) => Assert.Throws<UsageException>(() => MapBuildJob.Run(q)).Message;
        Assert.Equal("--stage extract|match and --shard go together", Refused(request with { Stage = "extract" }));
        Assert.Equal("--stage extract|match and --shard go together", Refused(request with { Shard = new Shard(0, 2) }));
        Assert.StartsWith("--features goes with --stage match", Refused(request with { Stage = "match", Shard = new Shard(0, 2) }));
        Assert.StartsWith("--matches (hloc's matches.h5) goes with hloc's features", Refused(request with { ImportedMatches = Path.Combine(dir, "m.h5") }));
        Assert.Equal("--check-queries goes with --check", Refused(request with { CheckQueries = new[] { "q.txt" } }));
        // A usage error comes before the inputs are read: missing poses with --precision and RootSIFT
        // said the poses first (exit 1), and the usage error only once they were given.
        Assert.StartsWith("--precision applies to R2D2 models", Refused(request with
        {
            PosesPath = Path.Combine(dir, "missing"), Features = features with { Model = "rootsift", PrecisionGiven = true },
        }));
        Assert.Empty(Directory.GetFileSystemEntries(dir));
    }
}
