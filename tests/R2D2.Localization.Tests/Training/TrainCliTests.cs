using R2D2.Localization.Features;
using R2D2.Localization.Training;
using R2D2.Localization.Tests.FaultInjection;
using Xunit;

namespace R2D2.Localization.Tests.Training;

public class TrainCliTests
{
    private static (int Code, string Out, string Err) Tool(string name, params string[] args)
    {
        var psi = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(SharedData.RepoRoot, "tools", "train", name));
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        var stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout, stderr.Result);
    }

    /// <summary>The GPU tools check their arguments before any work: --help prints the usage, a time
    /// limit of 0 (no limit to `train`, on a lent machine's budget) or a word is refused, and two
    /// models that the tables could not tell apart are refused (they were one column).</summary>
    [Fact]
    public void TheGpuToolsCheckTheirArguments()
    {
        foreach (var tool in new[] { "device-run", "pack-gpu", "compare" })
        {
            var (code, stdout, err) = Tool(tool, "--help");
            Assert.True(code == 0, err);
            Assert.Contains("Usage", stdout);
        }
        foreach (var minutes in new[] { "0", "-1", "ten", "" })
        {
            var (code, _, err) = Tool("device-run", minutes);
            Assert.True(code == 2, err);
            Assert.Contains("MINUTES must be a number of minutes above 0", err);
        }
        Assert.Equal(2, Tool("pack-gpu", "a", "b").Code);
        // Called by a relative path (it changes folder before its work; --help read "$0" after it).
        var relative = new System.Diagnostics.ProcessStartInfo("bash", new[] { "./device-run", "--help" })
            { WorkingDirectory = Path.Combine(SharedData.RepoRoot, "tools", "train"), RedirectStandardOutput = true, RedirectStandardError = true };
        using (var p = System.Diagnostics.Process.Start(relative)!)
        {
            var usage = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            Assert.True(p.ExitCode == 0 && usage.Contains("Usage"), usage + p.StandardError.ReadToEnd());
        }
        var dir = TempDir.Create();
        Assert.Contains("MODEL and REFERENCE are the same (default)", Tool("compare", "default", "default").Err);
        Assert.Contains($"{Path.Combine(dir, "none.pt")}: not found", Tool("compare", Path.Combine(dir, "none.pt")).Err);
        // Two runs' best.safetensors in folders of one name: nothing tells their rows apart.
        foreach (var run in new[] { "a/run", "b/run" })
        {
            Directory.CreateDirectory(Path.Combine(dir, run));
            File.WriteAllText(Path.Combine(dir, run, "best.safetensors"), "");
        }
        var same = Tool("compare", Path.Combine(dir, "a/run/best.safetensors"), Path.Combine(dir, "b/run/best.safetensors"));
        Assert.True(same.Code == 2, same.Err);
        Assert.Contains("have the same name and folder name (run/best)", same.Err);
    }

    /// <summary>A photo folder with an empty or tiny image is refused before training, naming the file
    /// (the run stopped at the step that drew it, leaving settings.json and train-log.tsv).</summary>
    [Fact]
    public void ABrokenTrainingPhotoIsNamedBeforeTheFirstStep()
    {
        var dir = TempDir.Create();
        var photos = Path.Combine(dir, "photos");
        Directory.CreateDirectory(photos);
        TestImages.WriteBoat(photos, "good.png");
        foreach (var (file, message) in new[] { ("empty.png", "file is empty"), ("tiny.png", "is 1×1 px: a training photo needs at least 32 px a side") })
        {
            var path = Path.Combine(photos, file);
            if (file == "empty.png") File.WriteAllBytes(path, Array.Empty<byte>());
            else TestImages.WriteConstantPng(path, 1, 1);
            var run = Path.Combine(dir, "run-" + file);
            var (code, _, err) = CliTests.Localize("train", "--out", run, "--steps", "1", "--batch", "1", "--crop", "32", "--pairs", "images:" + photos);
            Assert.True(code == 1, err);
            Assert.Contains($"{path}: {message}", err);
            Assert.False(Directory.Exists(run) && Directory.EnumerateFileSystemEntries(run).Any());
            File.Delete(path);
        }
    }

    [Fact]
    public void TrainWritesAModelThatPyTorchLoadsAndResumesWhereItStopped()
    {
        var dir = TempDir.Create();
        var run = Path.Combine(dir, "run");
        var pt = Path.Combine(dir, "trained.pt");
        string[] Args(int steps) => new[] { "train", "--out", run, "--steps", steps.ToString(), "--batch", "1", "--crop", "32", "--threads", "1", "--export-torch", pt };
        var (code, stdout, err) = CliTests.Localize(Args(1));
        Assert.True(code == 0, err + stdout);
        (code, stdout, err) = CliTests.Localize(Args(2));
        Assert.True(code == 0, err + stdout);
        Assert.Contains("resuming at step 1", err);
        Assert.Contains("trained to step 2", stdout);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, Trainer.LogFile)).Length); // header + 2 steps
        // Fewer steps than done: nothing to train, said so (it said "trained to step 0").
        (code, stdout, err) = CliTests.Localize(Args(1));
        Assert.True(code == 0, err + stdout);
        Assert.Contains("nothing to train: the run is at --steps 1 or past it", stdout);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, Trainer.LogFile)).Length);
        // Other data (a different JPEG share) in the same folder is refused, the state kept.
        (code, _, err) = CliTests.Localize(Args(3).Append("--jpeg-probability").Append("0.5").ToArray());
        Assert.Equal(1, code);
        Assert.Contains("other settings", err);
        var model = Checkpoint.Load(Path.Combine(run, Trainer.ModelFile));
        Assert.Equal("2", model.Metadata["training_steps"]);
        if (!PythonTools.HasModule("torch"))
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "CI must have python3-torch (see .ci/run)");
            return;
        }
        var output = PythonTools.Run($@"
import torch
c = torch.load('{pt}', map_location='cpu')
print(c['net'], sum(v.numel() for v in c['state_dict'].values()))
");
        Assert.Equal("Quad_L2Net_ConfCFS() 485803", output.Trim());
    }

    [Fact]
    public void AMissingImageFolderIsNamed()
    {
        var dir = TempDir.Create();
        var (code, _, err) = CliTests.Localize("train", "--out", dir, "--pairs", "images:/nonexistent/photos", "--steps", "1");
        Assert.Equal(1, code);
        Assert.Contains("/nonexistent/photos", err);
        Assert.Empty(Directory.GetFiles(dir));
    }

    /// <summary>Initial weights that cannot be loaded leave no folder and no settings.json (whose
    /// settings then refused the next run, with other options, as a rerun of another training).</summary>
    [Fact]
    public void UnloadableInitialWeightsLeaveNoRunBehind()
    {
        var dir = TempDir.Create();
        var broken = Path.Combine(dir, "broken.safetensors");
        File.WriteAllText(broken, "not weights");
        var run = Path.Combine(dir, "run");
        var (code, _, err) = CliTests.Localize("train", "--out", run, "--pairs", "generated", "--steps", "1", "--batch", "1", "--crop", "64", "--jpeg-probability", "0", "--init", broken);
        Assert.Equal(1, code);
        Assert.Contains("broken.safetensors", err);
        Assert.False(Directory.Exists(run), string.Join(", ", Directory.Exists(run) ? Directory.GetFileSystemEntries(run) : Array.Empty<string>()));
    }

    /// <summary>Values out of range are usage errors naming the option (they trained: a negative
    /// learning rate, a JPEG probability of 2); an unknown --net is one line (it was a stack trace);
    /// an export onto the starting weights or the run's own model is refused before training.</summary>
    [Fact]
    public void BadSettingsAndAnExportOverAnInputAreRefusedBeforeTraining()
    {
        var dir = TempDir.Create();
        var run = Path.Combine(dir, "run");
        string[] Args(params string[] extra) => new[] { "train", "--out", run, "--steps", "1", "--batch", "1", "--crop", "64", "--jpeg-probability", "0" }.Concat(extra).ToArray();
        foreach (var (option, value) in new[] { ("--lr", "-1"), ("--lr", "NaN"), ("--weight-decay", "-1"), ("--kappa-warmup", "-1"), ("--time-limit", "-1"),
                     ("--validate-every", "-1"), ("--jpeg-probability", "2"), ("--crop", "100000"), ("--seed", "-9223372036854775808"), ("--pairs", "rendered:daynight") })
        {
            var (code, _, err) = CliTests.Localize(Args(option, value));
            Assert.True(code == 2, $"{option} {value}: {err}");
            Assert.Contains(option, err);
        }
        var (c, _, e) = CliTests.Localize(Args("--net", "Foo()"));
        Assert.Equal(2, c);
        Assert.Contains("--net: unknown network 'Foo()'", e);
        Assert.DoesNotContain("   at ", e);
        var init = Path.Combine(dir, "init.safetensors");
        File.Copy(SharedData.Model("r2d2_WASF_N16"), Path.Combine(dir, "official.pt"));
        R2D2.Localization.Features.Checkpoint.Load(Path.Combine(dir, "official.pt")).SaveSafeTensors(init);
        var before = File.ReadAllBytes(init);
        foreach (var export in new[] { init, Path.Combine(run, "model.safetensors") })
        {
            (c, _, e) = CliTests.Localize(Args("--init", init, "--export-torch", export));
            Assert.Equal(1, c);
            Assert.Contains("the PyTorch export would overwrite", e);
        }
        Assert.Equal(before, File.ReadAllBytes(init));
        Assert.False(Directory.Exists(run));
        // Nor may the run itself replace its starting weights (a model.safetensors in --out was), and
        // an export at a folder fails now, not after the training; a network too small to be one is a usage error.
        Directory.CreateDirectory(run);
        var inRun = Path.Combine(run, "model.safetensors");
        File.Copy(init, inRun);
        (c, _, e) = CliTests.Localize(Args("--init", inRun));
        Assert.Equal(1, c);
        Assert.Contains("would overwrite the initial weights (--init)", e);
        Assert.Equal(before, File.ReadAllBytes(inRun));
        Assert.Equal(new[] { inRun }, Directory.GetFileSystemEntries(run));
        (c, _, e) = CliTests.Localize(Args("--export-torch", dir));
        Assert.Equal(1, c);
        Assert.Contains("is a folder: the PyTorch export is a file", e);
        // A zip-format .pt under a safetensors name, and a scene file among the run's files (its
        // settings.json replaced the scene): refused before the training.
        (c, _, e) = CliTests.Localize(Args("--export-torch", Path.Combine(dir, "x.safetensors")));
        Assert.Equal(2, c);
        Assert.Contains("its name must end in .pt or .pth", e);
        var scene = Path.Combine(run, "settings.json");
        File.Copy(Path.Combine(SharedData.RepoRoot, "maps", "demo-square.scene"), scene);
        (c, _, e) = CliTests.Localize(Args("--pairs", $"rendered:day-night:{scene}"));
        Assert.Equal(1, c);
        Assert.Contains("the run's settings.json would overwrite the scene file", e);
        File.Delete(scene);
        (c, _, e) = CliTests.Localize(Args("--net", "Quad_L2Net_ConfCFS(mchan=0)"));
        Assert.Equal(2, c);
        Assert.Contains("mchan=0 is not a whole number in [1, 64]", e);
        (c, _, e) = CliTests.Localize(Args().Select(a => a == "64" ? "8" : a).ToArray());
        Assert.Equal(2, c);
        Assert.Contains("--crop must be in [16, 2048]", e);
        Assert.Equal(new[] { inRun }, Directory.GetFileSystemEntries(run));
    }
}
