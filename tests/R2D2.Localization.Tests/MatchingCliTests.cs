using Xunit;

namespace R2D2.Localization.Tests;

/// <summary>The matching-related `localize` commands, run as a user runs them.</summary>
public class MatchingCliTests
{
    [Fact]
    public void EvalHomographyTakesRootSiftAsAModel()
    {
        var graf = SharedData.Path_("datasets", "oxford-graf");
        var (code, stdout, stderr) = CliTests.Localize("eval-homography", "--model", "rootsift", "--pairs", graf, "--sift-features", "1000");
        Assert.True(code == 0, stderr);
        var row = stdout.Split('\n').Single(l => l.StartsWith("rootsift"));
        var mma = row.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(3).Take(10).Select(v => double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(10, mma.Length);
        Assert.True(mma[9] > 0.3 && mma[0] <= mma[9], row);
        Assert.Contains("1000 features", stderr);
    }

    [Fact]
    public void EvalHomographyRejectsAnUnknownPrecision()
    {
        var (code, _, stderr) = CliTests.Localize("eval-homography", "--model", "rootsift", "--pairs", "x", "--precision", "fp16");
        Assert.Equal(2, code);
        Assert.Contains("fp16", stderr);
    }
}
