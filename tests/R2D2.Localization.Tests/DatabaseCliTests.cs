using System.Security.Cryptography;
using OpenCvSharp;
using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests;

/// <summary>Bad input to the database commands: clear errors naming the file (and line), nothing written.</summary>
public class DatabaseCliTests
{
    private static (string Dir, string Images, string Db) Setup()
    {
        var dir = TempDir.Create();
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        var boat = ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png"));
        for (int i = 0; i < 3; i++)
        {
            using var m = ImageFile.ToBgrMat(boat.Crop(30 * i, 20 * i, 200, 150));
            Cv2.ImWrite(Path.Combine(images, $"i{i}.png"), m);
        }
        var db = Path.Combine(dir, "f.db");
        var (code, _, err) = CliTests.Localize("extract", "--model", "rootsift", "--images", images, "--database", db);
        Assert.True(code == 0, err);
        return (dir, images, db);
    }

    private static string Sha(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void PairsFileNamingAnUnknownImageGivesTheLine()
    {
        var (dir, _, db) = Setup();
        var pairs = Path.Combine(dir, "pairs.txt");
        File.WriteAllLines(pairs, new[] { "i0.png i1.png", "# comment", "i1.png nope.png" });
        var before = Sha(db);
        var (code, _, err) = CliTests.Localize("match", "--database", db, "--pairs", pairs);
        Assert.Equal(1, code);
        Assert.Contains($"{pairs}:3: unknown image 'nope.png'", err);
        Assert.Equal(before, Sha(db));
    }

    /// <summary>--verify poses on images extracted without poses: said before the matching (it
    /// was said after all the pairs had been matched and stored), the database left as it was.</summary>
    [Fact]
    public void VerifyingWithPosesThatAreNotThereIsRefusedBeforeMatching()
    {
        var (_, _, db) = Setup();
        var before = Sha(db);
        var (code, stdout, err) = CliTests.Localize("match", "--database", db, "--pairs", "exhaustive", "--verify", "poses");
        Assert.Equal(1, code);
        Assert.Contains("has no pose prior: verify with 'fundamental' instead", err);
        Assert.DoesNotContain("matched", stdout);
        Assert.Equal(before, Sha(db));
    }

    /// <summary>A rerun with another --min-similarity over stored matches (a killed run's) is refused:
    /// the stored pairs were skipped and kept the first threshold beside the new one's.</summary>
    [Fact]
    public void MatchingAgainWithAnotherThresholdIsRefused()
    {
        var (_, _, db) = Setup();
        var (code, _, err) = CliTests.Localize("match", "--database", db, "--pairs", "exhaustive");
        Assert.True(code == 0, err);
        var before = Sha(db);
        (code, _, err) = CliTests.Localize("match", "--database", db, "--pairs", "exhaustive", "--min-similarity", "0.95");
        Assert.Equal(1, code);
        Assert.Contains($"{db}: holds matches made with min_similarity -1, not min_similarity 0.95", err);
        Assert.Equal(before, Sha(db));
        (code, _, err) = CliTests.Localize("match", "--database", db, "--pairs", "exhaustive");
        Assert.True(code == 0, err); // the same settings resume
    }

    /// <summary>A COLMAP database (another tool's file) that a command refuses after reading it is
    /// left byte for byte as it was: our tables come with the first write (they were added when it
    /// was opened, and the message said nothing was written).</summary>
    [Fact]
    public void AColmapDatabaseACommandRefusesIsLeftAsItWas()
    {
        var db = Path.Combine(TempDir.Create(), "colmap.db");
        File.Copy(SharedData.Path_("datasets", "formats", "maupertuis", "colmap", "colmap.db"), db);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(db, UnixFileMode.UserRead | UnixFileMode.UserWrite); // the shared copy is write-protected
        var before = Sha(db);
        foreach (var (args, message) in new[] { (new[] { "build-retrieval", "--map", db }, "holds no map"),
                     (new[] { "match", "--database", db, "--pairs", "exhaustive" }, "has no features yet") })
        {
            var (code, _, err) = CliTests.Localize(args);
            Assert.True(code == 1, err);
            Assert.Contains(message, err);
            Assert.Equal(before, Sha(db));
            Assert.False(File.Exists(db + "-wal"));
        }
    }

    /// <summary>R2D2's extraction options given with RootSIFT are refused (they were ignored: the
    /// database said 5000 features at 1024 px whatever --top-k and --max-size said).</summary>
    [Fact]
    public void R2D2OptionsWithRootSiftAreRefused()
    {
        var (dir, images, _) = Setup();
        var db = Path.Combine(dir, "other.db");
        foreach (var option in new[] { "--top-k", "--max-size" })
        {
            var (code, _, err) = CliTests.Localize("extract", "--model", "rootsift", "--images", images, "--database", db, option, "512");
            Assert.Equal(2, code); // a usage error, as the parser's
            Assert.Contains($"{option} applies to R2D2 models", err);
            Assert.False(File.Exists(db));
        }
    }

    [Fact]
    public void FeaturesOfAnotherModelAreRefusedAndNothingIsWritten()
    {
        var (_, images, db) = Setup();
        var before = Sha(db);
        var (code, _, err) = CliTests.Localize("extract", "--model", SharedData.Model("r2d2_WASF_N16"), "--images", images, "--database", db,
            "--min-size", "100", "--max-size", "200");
        Assert.Equal(1, code);
        Assert.Contains(db, err);
        Assert.Contains("refusing features", err);
        Assert.Equal(before, Sha(db));
    }

    [Fact]
    public void ACorruptedDatabaseGivesAClearErrorAndStaysAsItWas()
    {
        var (dir, _, db) = Setup();
        var corrupt = Path.Combine(dir, "corrupt.db");
        var bytes = File.ReadAllBytes(db);
        File.WriteAllBytes(corrupt, bytes[..(bytes.Length / 2)]);
        var before = Sha(corrupt);
        foreach (var args in new[] { new[] { "match", "--database", corrupt, "--pairs", "exhaustive" },
                                     new[] { "extract", "--model", "rootsift", "--images", dir, "--database", corrupt } })
        {
            var (code, _, err) = CliTests.Localize(args);
            Assert.Equal(1, code);
            Assert.Contains(corrupt, err);
            Assert.DoesNotContain("   at ", err);
            Assert.Equal(before, Sha(corrupt));
        }
    }
}
