using R2D2.Localization.Features;
using R2D2.Localization.Training;
using Xunit;

namespace R2D2.Localization.Tests.Training;

public class TrainCliTests
{
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
}
