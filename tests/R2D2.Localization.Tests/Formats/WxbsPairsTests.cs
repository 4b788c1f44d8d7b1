using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

/// <summary>Reading WxBS pairs: corrs.txt as the dataset writes it, and bad input named by file and line.</summary>
public class WxbsPairsTests
{
    private static string PairFolder(string corrs, string? errors = null, params string[] images)
    {
        var dir = TempDir.Create();
        File.WriteAllText(Path.Combine(dir, "corrs.txt"), corrs);
        if (errors != null) File.WriteAllText(Path.Combine(dir, "crossval_errors.txt"), errors);
        foreach (var i in images) File.WriteAllBytes(Path.Combine(dir, i), new byte[] { 1 });
        return dir;
    }

    [Fact]
    public void ReadsCorrespondencesInScientificNotation()
    {
        var dir = PairFolder(
            "2.538888800000000003e+02 4.090991300000000024e+02 9.853851099999999974e+01 5.648856100000000424e+02\n"
            + "\n# a comment\n"
            + "1.0\t2.5  3 4e0\n",
            "3.031160677158884820e+00\n7.311932777312657450e-01\n", "01.png", "02.jpg");
        var pair = WxbsPairs.Read(dir);
        Assert.Equal(2, pair.Correspondences.Count);
        Assert.Equal(new Correspondence(253.88888, 409.09913, 98.538511, 564.88561), pair.Correspondences[0]);
        Assert.Equal(new Correspondence(1, 2.5, 3, 4), pair.Correspondences[1]);
        Assert.Equal(new[] { 3.031160677158884820, 0.7311932777312657450 }, pair.LabellingErrors!);
        Assert.Equal(Path.Combine(dir, "01.png"), pair.Image1);
        Assert.Equal(Path.Combine(dir, "02.jpg"), pair.Image2);
        // Without crossval_errors.txt the pair has no labelling errors.
        File.Delete(Path.Combine(dir, "crossval_errors.txt"));
        Assert.Null(WxbsPairs.Read(dir).LabellingErrors);
    }

    [Theory]
    [InlineData("1 2 3 4\n1 2 3\n", 2, "expected 4 numbers")]
    [InlineData("1 2 3 4\n5 6 7 8\n1 2 x 4\n", 3, "x2 'x' is not a number")]
    [InlineData("1 2 3 4 5\n", 1, "expected 4 numbers")]
    [InlineData("1 2 nan 4\n", 1, "is not a number")]
    public void AMalformedLineIsNamedByFileAndLine(string corrs, int line, string message)
    {
        var dir = PairFolder(corrs, null, "01.png", "02.png");
        var e = Assert.Throws<FileFormatException>(() => WxbsPairs.Read(dir));
        Assert.Equal(Path.Combine(dir, "corrs.txt"), e.File);
        Assert.Equal(line, e.Line);
        Assert.Contains($"corrs.txt:{line}: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void MissingImagesEmptyFilesAndMiscountedErrorsAreRefused()
    {
        var noImage = PairFolder("1 2 3 4\n", null, "01.png");
        var e = Assert.Throws<ImageFileException>(() => WxbsPairs.Read(noImage));
        Assert.Equal(Path.Combine(noImage, "02.png"), e.Path);
        Assert.Contains("not found", e.Message);

        var empty = PairFolder("\n# nothing\n", null, "01.png", "02.png");
        Assert.Contains("no correspondences", Assert.Throws<FileFormatException>(() => WxbsPairs.Read(empty)).Message);

        var miscounted = PairFolder("1 2 3 4\n5 6 7 8\n", "0.5\n", "01.png", "02.png");
        var m = Assert.Throws<FileFormatException>(() => WxbsPairs.Read(miscounted));
        Assert.Contains("crossval_errors.txt", m.Message);
        Assert.Contains("1 errors for 2 correspondences", m.Message);
    }

    [Fact]
    public void FindsEveryPairBelowAFolderSortedAndNamedByPath()
    {
        var root = TempDir.Create();
        foreach (var name in new[] { "WGALBS/zanky", "WGALBS/bridge", "WGBS/church" })
        {
            var d = Path.Combine(root, name);
            Directory.CreateDirectory(d);
            File.WriteAllText(Path.Combine(d, "corrs.txt"), "1 2 3 4\n");
            File.WriteAllBytes(Path.Combine(d, "01.png"), new byte[] { 1 });
            File.WriteAllBytes(Path.Combine(d, "02.png"), new byte[] { 1 });
        }
        Assert.Equal(new[] { "WGALBS/bridge", "WGALBS/zanky", "WGBS/church" }, WxbsPairs.Find(root).Select(p => p.Name));
        Assert.Equal(new[] { "bridge", "zanky" }, WxbsPairs.Find(Path.Combine(root, "WGALBS")).Select(p => p.Name));
        Assert.Equal(new[] { "zanky" }, WxbsPairs.Find(Path.Combine(root, "WGALBS", "zanky")).Select(p => p.Name));
        Assert.Throws<InputListException>(() => WxbsPairs.Find(Path.Combine(root, "none")));
    }

    [Fact]
    public void TheCommandNamesTheBadLine()
    {
        var dir = PairFolder("1 2 3 4\n1 2 3 four\n", null, "01.png", "02.png");
        var (code, _, stderr) = CliTests.Localize("eval-wxbs", "--model", "rootsift", "--pairs", dir);
        Assert.Equal(1, code);
        Assert.Contains($"{Path.Combine(dir, "corrs.txt")}:2: y2 'four' is not a number", stderr);
    }

    /// <summary>Several folders of pairs (eval-wxbs and eval-homography --pairs A B): every folder's
    /// pairs in order, and a folder without any named (it was left out of the average without a word).</summary>
    [Fact]
    public void PairsOfSeveralFoldersAreFoundAndAnEmptyOneIsNamed()
    {
        var wxbs = SharedData.Path_("datasets", "wxbs", "WGALBS");
        var empty = TempDir.Create();
        Assert.Equal(WxbsPairs.Find(wxbs).Count, WxbsPairs.FindAll(new[] { wxbs }).Count);
        Assert.StartsWith($"{empty}: no WxBS pair", Assert.Throws<R2D2Exception>(() => WxbsPairs.FindAll(new[] { wxbs, empty })).Message);
        var graf = SharedData.Path_("datasets", "oxford-graf");
        Assert.Equal(2 * HomographyPairs.Find(graf).Count, HomographyPairs.FindAll(new[] { graf, graf }).Count);
        Assert.StartsWith($"{empty}: no homography pairs", Assert.Throws<InputListException>(() => HomographyPairs.FindAll(new[] { graf, empty })).Message);
        // A homography's name on a folder is said (the pair was skipped, the MMA over fewer pairs).
        var odd = Path.Combine(empty, "H_1_2");
        Directory.CreateDirectory(odd);
        Assert.StartsWith($"{odd}: is a folder, not a homography file", Assert.Throws<InputListException>(() => HomographyPairs.Find(empty)).Message);
    }
}
