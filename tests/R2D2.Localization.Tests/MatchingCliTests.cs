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

    /// <summary>A broken checkpoint among the compared models is said before any of them runs (the
    /// others ran first and their results were lost); a checkpoint missing a tensor is named.</summary>
    [Fact]
    public void EvalCommandsCheckEveryModelFirst()
    {
        var dir = TempDir.Create();
        var junk = Path.Combine(dir, "junk.pt");
        File.WriteAllText(junk, "junk");
        var graf = SharedData.Path_("datasets", "oxford-graf");
        var (code, stdout, stderr) = CliTests.Localize("eval-homography", "--model", "rootsift", junk, "--pairs", graf);
        Assert.Equal(1, code);
        Assert.Contains($"{junk}: not a PyTorch checkpoint", stderr);
        Assert.DoesNotContain("rootsift", stdout);
        var partial = Path.Combine(dir, "partial.safetensors");
        var whole = R2D2.Localization.Features.DefaultModel.LoadCheckpoint();
        new R2D2.Localization.Features.Checkpoint(whole.Net, whole.StateDict.Where(kv => kv.Key != "sal.weight").ToDictionary(kv => kv.Key, kv => kv.Value)).SaveSafeTensors(partial);
        (code, _, stderr) = CliTests.Localize("model", "info", partial);
        Assert.Equal(1, code);
        Assert.Contains($"{partial}: ", stderr);
        Assert.Contains("sal.weight", stderr);
    }

    /// <summary>Inputs an evaluation cannot use are said before any work: a folder without pairs among
    /// others (it was left out of the average), a file given as a folder, a size no pyramid level fits.</summary>
    [Fact]
    public void EvalCommandsRefuseInputsTheyCannotUse()
    {
        var dir = TempDir.Create();
        var graf = SharedData.Path_("datasets", "oxford-graf");
        var (code, _, err) = CliTests.Localize("eval-homography", "--model", "rootsift", "--pairs", graf, dir);
        Assert.Equal(1, code);
        Assert.Contains($"{dir}: no homography pairs", err);
        var file = Path.Combine(dir, "a.txt");
        File.WriteAllText(file, "x");
        (code, _, err) = CliTests.Localize("eval-homography", "--model", "rootsift", "--pairs", file);
        Assert.Equal(1, code);
        Assert.Contains($"{file}: is a file", err);
        (code, _, err) = CliTests.Localize("eval-rendered", "--model", "default", "--pairs", "1", "--size", "200x150");
        Assert.Equal(2, code);
        Assert.Contains("--size 200x150: the rendered images would be 200×150 px: no pyramid level fits", err);
        (code, _, err) = CliTests.Localize("eval-rendered", "--model", "rootsift", "--pairs", "1");
        Assert.Equal(2, code);
        Assert.Contains("--model rootsift: eval-rendered compares R2D2 networks", err);
    }

    [Fact]
    public void EvalHomographyRejectsAnUnknownPrecision()
    {
        var (code, _, stderr) = CliTests.Localize("eval-homography", "--model", "rootsift", "--pairs", "x", "--precision", "fp16");
        Assert.Equal(2, code);
        Assert.Contains("fp16", stderr);
    }

    [Fact]
    public void BenchMatchFindsTheMatchesPyTorchFinds()
    {
        var (code, stdout, stderr) = CliTests.Localize("bench-match", "--keypoints", "400", "--pairs", "3", "--dim", "32", "--seed", "5", "--threads", "1");
        Assert.True(code == 0, stderr);
        var ours = System.Text.Json.JsonDocument.Parse(stdout).RootElement;
        Assert.True(ours.GetProperty("pairs_per_second").GetDouble() > 0);
        Assert.True(ours.GetProperty("mean_matches").GetDouble() > 10);
        if (!PythonTools.HasModule("torch"))
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "CI must have python3-torch (see .ci/run)");
            return;
        }
        // Same seed, same torch.randn numbers: the plain PyTorch matcher must find exactly our matches.
        var script = Path.Combine(SharedData.RepoRoot, "tools", "bench", "match", "reference_match.py");
        var psi = new System.Diagnostics.ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { script, "--keypoints", "400", "--pairs", "3", "--dim", "32", "--seed", "5", "--threads", "1" }) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var pyOut = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, p.StandardError.ReadToEnd());
        var py = System.Text.Json.JsonDocument.Parse(pyOut).RootElement;
        Assert.Equal(py.GetProperty("mean_matches").GetDouble(), ours.GetProperty("mean_matches").GetDouble());
        Assert.Equal(py.GetProperty("match_checksum").GetInt64(), ours.GetProperty("match_checksum").GetInt64());
    }
}
