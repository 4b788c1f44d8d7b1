using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Training;
using Xunit;
using static TorchSharp.torch;

namespace R2D2.Localization.Tests.Training;

/// <summary>Not parallel: one test sets libtorch's (process-wide) thread count for bit-identical
/// sums, which must not change under another test's running kernels.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchThreadsCollection
{
    public const string Name = "torch threads (not parallel)";
}

[Collection(TorchThreadsCollection.Name)]
public class TrainerTests
{
    private static ITrainingPairSource Pairs(int crop = 48) =>
        TrainingPairSources.Parse(new[] { "generated" }, crop, 3, new PhotometricSettings { JpegProbability = 0 });

    [Fact]
    public void AFewStepsOnTinyCropsLowerTheLoss()
    {
        // The same batch again and again: the loss must go down (fresh batches are too noisy for a
        // handful of steps).
        var settings = new TrainingSettings { BatchSize = 2, LearningRate = 1e-3, Kappa = 0 };
        using var net = new TrainableR2D2(settings.Net, seed: 1);
        using var adam = new AdamOptimizer(net.Parameters, settings.LearningRate, settings.WeightDecay);
        var sampler = new CorrespondenceSampler(new SamplerSettings { Border = 8 });
        var batch = Trainer.Batch(Pairs(), 0, settings.BatchSize);
        var losses = Enumerable.Range(0, 8).Select(s => Trainer.Step(net, adam, sampler, batch, settings, CPU, 0).Loss).ToList();
        Assert.True(losses[^1] < losses[0] - 0.05, $"losses {string.Join(", ", losses.Select(l => l.ToString("F3")))}");
        Assert.All(losses, l => Assert.True(double.IsFinite(l)));
    }

    [Fact]
    public void AResumedRunEndsWithTheSameWeightsAsAnUninterruptedOne()
    {
        var dir = TempDir.Create();
        var settings = new TrainingSettings { BatchSize = 1, Steps = 4, Sampler = new SamplerSettings { Border = 8 } };
        set_num_threads(1); // bit-identical float sums
        try
        {
            Trainer.Run(Pairs(32), Path.Combine(dir, "straight"), settings, CPU);
            Trainer.Run(Pairs(32), Path.Combine(dir, "resumed"), settings with { Steps = 2 }, CPU);
            Trainer.Run(Pairs(32), Path.Combine(dir, "resumed"), settings, CPU);
        }
        finally { set_num_threads(Environment.ProcessorCount); }
        var a = Checkpoint.Load(Path.Combine(dir, "straight", Trainer.ModelFile));
        var b = Checkpoint.Load(Path.Combine(dir, "resumed", Trainer.ModelFile));
        Assert.Equal(a.StateDict.Keys, b.StateDict.Keys);
        foreach (var k in a.StateDict.Keys) Assert.True(a.StateDict[k].Data.AsSpan().SequenceEqual(b.StateDict[k].Data), k);
        Assert.Equal(File.ReadAllLines(Path.Combine(dir, "straight", Trainer.LogFile)).Length, File.ReadAllLines(Path.Combine(dir, "resumed", Trainer.LogFile)).Length);
        // The trained checkpoint is a normal model: the inference network loads it.
        using var net = new R2D2Network(a);
        Assert.Equal("4", a.Metadata["training_steps"]);
    }

    /// <summary>Resuming on another thread count is said (the weights then differ in their last
    /// digits from an uninterrupted run's, and nothing recorded the count); the same count is silent.</summary>
    [Fact]
    public void ResumingOnAnotherThreadCountIsSaid()
    {
        var dir = TempDir.Create();
        var settings = new TrainingSettings { BatchSize = 1, Steps = 1, Sampler = new SamplerSettings { Border = 8 } };
        var lines = new List<string>();
        try
        {
            set_num_threads(1);
            Trainer.Run(Pairs(32), dir, settings, CPU);
            Trainer.Run(Pairs(32), dir, settings with { Steps = 2 }, CPU, log: lines.Add);
            Assert.DoesNotContain(lines, l => l.StartsWith("warning"));
            set_num_threads(2);
            Trainer.Run(Pairs(32), dir, settings with { Steps = 3 }, CPU, log: lines.Add);
        }
        finally { set_num_threads(Environment.ProcessorCount); }
        Assert.Contains("warning: the state was trained on 1 thread and this run has 2 threads", string.Join("\n", lines));
    }

    [Fact]
    public void ResumingWithOtherSettingsIsRefused()
    {
        var dir = TempDir.Create();
        var settings = new TrainingSettings { BatchSize = 1, Steps = 1, Sampler = new SamplerSettings { Border = 8 } };
        Trainer.Run(Pairs(32), dir, settings, CPU);
        var before = File.ReadAllBytes(Path.Combine(dir, Trainer.StateFile));
        var e = Assert.Throws<R2D2Exception>(() => Trainer.Run(Pairs(32), dir, settings with { Steps = 2, LearningRate = 5e-4 }, CPU));
        Assert.Contains("other settings", e.Message);
        Assert.Contains("settings.LearningRate: 0.0001 → 0.0005", e.Message); // what differs, not the whole file
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, Trainer.StateFile)));
        // A settings file that is not one, a state without its settings, a damaged state: each said as such.
        File.WriteAllText(Path.Combine(dir, Trainer.SettingsFile), "garbage");
        Assert.Contains("not a settings file", Assert.Throws<R2D2Exception>(() => Trainer.Run(Pairs(32), dir, settings, CPU)).Message);
        File.Delete(Path.Combine(dir, Trainer.SettingsFile));
        Assert.Contains("without its settings.json", Assert.Throws<R2D2Exception>(() => Trainer.Run(Pairs(32), dir, settings, CPU)).Message);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, Trainer.StateFile)));
    }

    /// <summary>Two trainings into one folder at once interleaved their states, logs and settings:
    /// the second is refused (the folder's lock, held here as the first run would) and changes nothing.</summary>
    [Fact]
    public void ASecondRunIntoTheSameFolderIsRefused()
    {
        var dir = TempDir.Create();
        var settings = new TrainingSettings { BatchSize = 1, Steps = 1, Sampler = new SamplerSettings { Border = 8 } };
        Trainer.Run(Pairs(32), dir, settings, CPU);
        var files = Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != OutputFile.LockFile).ToDictionary(f => f, File.ReadAllBytes);
        using (OutputFile.LockFolder(dir, "`localize train`"))
        {
            var e = Assert.Throws<R2D2Exception>(() => Trainer.Run(Pairs(32), dir, settings with { Steps = 2 }, CPU));
            Assert.Contains($"{dir}: another `localize train` is writing to this folder", e.Message);
            Assert.Equal(files.Keys.Order(), Directory.GetFiles(dir).Where(f => Path.GetFileName(f) != OutputFile.LockFile).Order());
            foreach (var (f, bytes) in files) Assert.Equal(bytes, File.ReadAllBytes(f));
        }
        // Released with its holder: the run goes on.
        Trainer.Run(Pairs(32), dir, settings with { Steps = 2 }, CPU);
        Assert.Equal(2, Trainer.ResumeStep(dir));
    }

    /// <summary>A state without its step (an edited or foreign file) is named, not a KeyNotFoundException.</summary>
    [Fact]
    public void AStateWithoutItsStepIsNamed()
    {
        var dir = TempDir.Create();
        var settings = new TrainingSettings { BatchSize = 1, Steps = 1, Sampler = new SamplerSettings { Border = 8 } };
        Trainer.Run(Pairs(32), dir, settings, CPU);
        var statePath = Path.Combine(dir, Trainer.StateFile);
        var state = SafeTensors.Read(statePath);
        SafeTensors.Write(statePath, state.Tensors, state.Metadata.Where(kv => kv.Key != "step").ToDictionary(kv => kv.Key, kv => kv.Value));
        var before = File.ReadAllBytes(statePath);
        var e = Assert.Throws<DataFormatException>(() => Trainer.Run(Pairs(32), dir, settings with { Steps = 2 }, CPU));
        Assert.Contains($"{statePath}: a training state without its step", e.Message);
        Assert.Equal(before, File.ReadAllBytes(statePath));
    }

    /// <summary>A resumed run stopped before its first step says where the run is, not "nothing to
    /// train … step 0" (which read as a finished run at step 0).</summary>
    [Fact]
    public void AResumedRunStoppedBeforeAStepSaysWhereTheRunIs()
    {
        var dir = TempDir.Create();
        var settings = new TrainingSettings { BatchSize = 1, Steps = 1, Sampler = new SamplerSettings { Border = 8 } };
        Trainer.Run(Pairs(32), dir, settings, CPU);
        var pt = Path.Combine(dir, "..", Path.GetFileName(dir) + ".pt");
        var options = new TrainOptions { OutputDir = dir, Settings = settings with { Steps = 3 }, Pairs = Pairs(32), Device = CPU, ExportTorchPath = pt };
        var summary = TrainRunner.Run(options, ProgressSink.None, new CancellationToken(canceled: true));
        Assert.Equal((1L, 0L), (summary.LastStep, summary.StepsThisRun));
        Assert.StartsWith("stopped before a step: the run is at step 1 of 3", summary.Line);
        Assert.Null(summary.Exported); // interrupted short of its steps: not exported
        Assert.False(File.Exists(pt));
        // At --steps already: nothing to train, at the state's step; the weights exported.
        summary = TrainRunner.Run(options with { Settings = settings }, ProgressSink.None);
        Assert.Equal(1L, summary.LastStep);
        Assert.StartsWith("nothing to train: the run is at --steps 1", summary.Line);
        Assert.Equal(pt, summary.Exported);
        Assert.True(File.Exists(pt));
        // An export over the run's own files is refused before anything.
        Assert.Contains("would overwrite", Assert.ThrowsAny<R2D2Exception>(() => TrainRunner.Run(options with { ExportTorchPath = Path.Combine(dir, Trainer.StateFile) }, ProgressSink.None)).Message);
    }

    /// <summary>Initial weights that are not there are said before the run's banner and leave no
    /// folder (the banner was printed first); a resumed run does not read them.</summary>
    [Fact]
    public void MissingInitialWeightsAreSaidBeforeTheBanner()
    {
        var dir = Path.Combine(TempDir.Create(), "run");
        var lines = new List<string>();
        var settings = new TrainingSettings { BatchSize = 1, Steps = 1, Sampler = new SamplerSettings { Border = 8 }, InitialWeights = Path.Combine(dir, "..", "missing.pt") };
        var options = new TrainOptions { OutputDir = dir, Settings = settings, Pairs = Pairs(32), Device = CPU };
        var e = Assert.Throws<CheckpointException>(() => TrainRunner.Run(options, new Lines(lines)));
        Assert.Contains("missing.pt: file not found", e.Message);
        Assert.Empty(lines);
        Assert.False(Directory.Exists(dir));
        // The weights there for the first run, gone for its resumption: it goes on from its state.
        var first = Path.Combine(dir, "..", "first");
        Trainer.Run(Pairs(32), first, settings with { InitialWeights = null }, CPU);
        File.Copy(Path.Combine(first, Trainer.ModelFile), settings.InitialWeights);
        Trainer.Run(Pairs(32), dir, settings, CPU);
        File.Delete(settings.InitialWeights);
        Assert.StartsWith("nothing to train", TrainRunner.Run(options, new Lines(lines)).Line);
    }

    private sealed class Lines(List<string> lines) : IProgressSink
    {
        public void Info(string message) => lines.Add(message);
    }

    /// <summary>Every validated step's weights are kept and best.safetensors is the best row's (a
    /// GPU run that peaked at step 5,000 of 6,694 kept only its last weights); a resumed run drops the
    /// rows and weights past its state and picks the best again.</summary>
    [Fact]
    public void ValidationKeepsEachValidatedStepsWeightsAndTheBest()
    {
        var dir = TempDir.Create();
        var settings = new TrainingSettings { BatchSize = 1, Steps = 4, Sampler = new SamplerSettings { Border = 8 } };
        // A score that peaks at step 2 (the checkpoint's step, from its metadata).
        double[] Evaluate(Checkpoint c)
        {
            long step = long.Parse(c.Metadata["training_steps"]);
            return new[] { step, step == 2 ? 0.9 : 0.1 * step };
        }
        var validation = new TrainingValidation(1, new[] { "step_seen", "score" }, Evaluate, "score");
        Trainer.Run(Pairs(32), dir, settings with { Steps = 3 }, CPU, checkpointEvery: 1, validation: validation);
        Assert.Equal(new[] { 0L, 1, 2, 3 }, Directory.GetFiles(Path.Combine(dir, Trainer.ValidatedFolder)).Select(f => long.Parse(Path.GetFileNameWithoutExtension(f)[5..])).Order());
        Assert.Equal(File.ReadAllBytes(Trainer.ValidatedModel(dir, 2)), File.ReadAllBytes(Path.Combine(dir, Trainer.BestFile)));
        Assert.Equal("2", Checkpoint.Load(Path.Combine(dir, Trainer.BestFile)).Metadata["training_steps"]);
        Assert.Equal((2L, 0.9), Trainer.BestValidated(dir, validation));

        // Killed after step 3's validation with the state at step 1: steps 2 and 3 are trained
        // again, their rows and weights dropped first; the best is picked again from what is left.
        Trainer.Run(Pairs(32), Path.Combine(dir, "one"), settings with { Steps = 1 }, CPU, checkpointEvery: 1);
        File.Copy(Path.Combine(dir, "one", Trainer.StateFile), Path.Combine(dir, Trainer.StateFile), overwrite: true);
        var scoreAt1 = new TrainingValidation(1, new[] { "step_seen", "score" }, c => new[] { 0.0, 0.0 }, "score");
        Trainer.Run(Pairs(32), dir, settings with { Steps = 2 }, CPU, checkpointEvery: 1, validation: scoreAt1);
        Assert.Equal(new[] { "step\tstep_seen\tscore", "0\t0\t0", "1\t1\t0.1", "2\t0\t0" }, File.ReadAllLines(Path.Combine(dir, Trainer.ValidationFile)));
        Assert.False(File.Exists(Trainer.ValidatedModel(dir, 3)));
        Assert.Equal((1L, 0.1), Trainer.BestValidated(dir, scoreAt1));
        Assert.Equal(File.ReadAllBytes(Trainer.ValidatedModel(dir, 1)), File.ReadAllBytes(Path.Combine(dir, Trainer.BestFile)));

        // A validation.tsv of other columns (an older build's) is refused, nothing changed.
        var other = new TrainingValidation(1, new[] { "mma3" }, c => new[] { 0.0 }, "mma3");
        var e = Assert.Throws<R2D2Exception>(() => Trainer.Run(Pairs(32), dir, settings with { Steps = 3 }, CPU, validation: other));
        Assert.Contains("other columns", e.Message);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(dir, Trainer.ValidationFile)).Length);

        // Killed while validating the step its state is at (the row and weights of step 2 not yet
        // written): the resumed run validates it (the row was lost for good); a row of the log cut
        // by the kill is dropped (a bare "2" stayed in it).
        var rows = File.ReadAllLines(Path.Combine(dir, Trainer.ValidationFile));
        File.WriteAllLines(Path.Combine(dir, Trainer.ValidationFile), rows.Take(3));
        File.Delete(Trainer.ValidatedModel(dir, 2));
        File.AppendAllText(Path.Combine(dir, Trainer.LogFile), "2");
        Trainer.Run(Pairs(32), dir, settings with { Steps = 2 }, CPU, checkpointEvery: 1, validation: scoreAt1);
        Assert.Equal(rows, File.ReadAllLines(Path.Combine(dir, Trainer.ValidationFile)));
        Assert.True(File.Exists(Trainer.ValidatedModel(dir, 2)));
        Assert.Equal(new[] { "step", "1", "2" }, File.ReadAllLines(Path.Combine(dir, Trainer.LogFile)).Select(l => l.Split('\t')[0]));

        // A run killed before its first checkpoint starts again from nothing: the folder's rows, kept
        // weights and best are another run's (its best.safetensors was taken as this run's).
        File.Delete(Path.Combine(dir, Trainer.StateFile));
        var flat = new TrainingValidation(1, new[] { "step_seen", "score" }, c => new[] { 7.0, 0.5 }, "score");
        Trainer.Run(Pairs(32), dir, settings with { Steps = 1, Seed = 9 }, CPU, checkpointEvery: 1, validation: flat);
        Assert.Equal(new[] { "step\tstep_seen\tscore", "0\t7\t0.5", "1\t7\t0.5" }, File.ReadAllLines(Path.Combine(dir, Trainer.ValidationFile)));
        Assert.Equal(new[] { 0L, 1 }, Directory.GetFiles(Path.Combine(dir, Trainer.ValidatedFolder)).Select(f => long.Parse(Path.GetFileNameWithoutExtension(f)[5..])).Order());
        Assert.Equal(File.ReadAllBytes(Trainer.ValidatedModel(dir, 0)), File.ReadAllBytes(Path.Combine(dir, Trainer.BestFile)));

        // Rows measured on another validation set are not mixed (--validation-pairs 3 after 1 was taken).
        Trainer.Run(Pairs(32), dir, settings with { Steps = 2, Seed = 9 }, CPU, checkpointEvery: 1, validation: flat with { Set = "--validation-pairs 1" });
        var logBefore = File.ReadAllText(Path.Combine(dir, Trainer.LogFile));
        e = Assert.Throws<R2D2Exception>(() => Trainer.Run(Pairs(32), dir, settings with { Steps = 3, Seed = 9 }, CPU, checkpointEvery: 1, validation: flat with { Set = "--validation-pairs 3" }));
        Assert.Contains("its rows were measured with --validation-pairs 1, and this run's would be with --validation-pairs 3", e.Message);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(dir, Trainer.ValidationFile)).Length);
        Assert.Equal(logBefore, File.ReadAllText(Path.Combine(dir, Trainer.LogFile)));

        // A fresh start without a validation clears another run's rows, kept weights and best too
        // (a later resume with a validation kept them).
        File.Delete(Path.Combine(dir, Trainer.StateFile));
        Trainer.Run(Pairs(32), dir, settings with { Steps = 1, Seed = 9 }, CPU, checkpointEvery: 1);
        foreach (var f in new[] { Trainer.ValidationFile, Trainer.ValidationSetFile, Trainer.BestFile }) Assert.False(File.Exists(Path.Combine(dir, f)), f);
        Assert.Empty(Directory.GetFiles(Path.Combine(dir, Trainer.ValidatedFolder)));
    }

    [Fact]
    public void TrainableNetworkMatchesTheInferenceNetworkInEvaluationMode()
    {
        // Same weights, batch norms on running statistics: both forward passes agree.
        using var trainable = new TrainableR2D2("Quad_L2Net_ConfCFS()", seed: 2);
        var ckpt = trainable.ToCheckpoint();
        using var inference = new R2D2Network(ckpt, options: new NetworkOptions { FoldBatchNorm = false });
        var img = randn(new long[] { 1, 3, 24, 20 }, generator: new Generator(4));
        using var _ = no_grad();
        var t = trainable.Forward(img, training: false);
        using var o = inference.Forward(img);
        Assert.True(t.Descriptors.allclose(o.Descriptors, rtol: 1e-4, atol: 1e-5));
        Assert.True(t.Reliability.allclose(o.Reliability, rtol: 1e-4, atol: 1e-5));
        Assert.True(t.Repeatability.allclose(o.Repeatability, rtol: 1e-4, atol: 1e-5));
    }
}
