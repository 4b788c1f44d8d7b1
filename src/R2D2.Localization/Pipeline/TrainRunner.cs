using System.Diagnostics;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Training;
using TorchSharp;

namespace R2D2.Localization.Pipeline;

/// <summary>A training run (see <see cref="TrainRunner"/>).</summary>
public sealed record TrainOptions
{
    /// <summary>Output folder: model, state (for resuming), log, settings.</summary>
    public required string OutputDir { get; init; }
    public required TrainingSettings Settings { get; init; }
    public required ITrainingPairSource Pairs { get; init; }
    /// <summary>The files and folders the pairs are read from (<see cref="TrainingPairSources.InputsOf"/>): the run's files may not replace them.</summary>
    public IReadOnlyList<(string Role, string? Path)> PairInputs { get; init; } = Array.Empty<(string, string?)>();
    public required torch.Device Device { get; init; }
    /// <summary>Save the state every this many steps.</summary>
    public int CheckpointEvery { get; init; } = 500;
    /// <summary>Stop (saving the state) after this many minutes; 0: no limit.</summary>
    public double TimeLimitMinutes { get; init; }
    /// <summary>MMA on the validation sets every this many steps (validation.tsv, validated/, best.safetensors); 0: none.</summary>
    public int ValidateEvery { get; init; }
    public int ValidationPairs { get; init; } = 24;
    /// <summary>Also write the final weights as a zip-format PyTorch file (.pt) at the end (its steps or
    /// its time limit; not when interrupted short of its steps); null: none.</summary>
    public string? ExportTorchPath { get; init; }
}

/// <summary>How far a run got: its last step, the steps per second of this run, the model it wrote.</summary>
public sealed record TrainSummary(long LastStep, double StepsPerSecond, string ModelPath)
{
    /// <summary>Steps this run trained (0: the state was at --steps already).</summary>
    public long StepsThisRun { get; init; }
    /// <summary>The run's --steps.</summary>
    public long Steps { get; init; }

    /// <summary>The PyTorch file written (<see cref="TrainOptions.ExportTorchPath"/>); null: none (or the run was interrupted).</summary>
    public string? Exported { get; init; }

    /// <summary>The best validated step so far and its weights (with a validation).</summary>
    public (long Step, double Score, string Path)? Best { get; init; }

    public string Line => (StepsThisRun == 0 && LastStep >= Steps
        ? string.Create(CultureInfo.InvariantCulture, $"nothing to train: the run is at --steps {Steps} or past it (a larger --steps goes on); model: {ModelPath}")
        : StepsThisRun == 0
        ? string.Create(CultureInfo.InvariantCulture, $"stopped before a step: the run is at step {LastStep} of {Steps}; model: {ModelPath}")
        : string.Create(CultureInfo.InvariantCulture, $"trained to step {LastStep} ({StepsPerSecond:F2} steps/s this run); model: {ModelPath}"))
        + (Best is { } b ? string.Create(CultureInfo.InvariantCulture, $"; best validated: step {b.Step} (score {b.Score:F4}): {b.Path}") : "");
}

/// <summary>
/// The training stage: <see cref="Trainer.Run"/> under a time limit and a cancellation (both stop
/// after the step in progress, saving the state), each step a status line of the sink's "training"
/// stage and the trainer's log lines its <see cref="IProgressSink.Info"/>.
/// </summary>
public static class TrainRunner
{
    public static TrainSummary Run(TrainOptions options, IProgressSink progress, CancellationToken cancel = default)
    {
        RefuseOutputs(options);
        var st = options.Settings;
        // Initial weights that are not there are said before the banner (a resumed run does not read them).
        if (st.InitialWeights is { } init && !DefaultModel.IsDefault(init) && !File.Exists(Path.Combine(options.OutputDir, Trainer.StateFile)))
            Checkpoint.RefuseMissing(init);
        progress.Info($"train: {st.Net} on {options.Device.type}, {options.Pairs.Describe()}, {Counted.Of(st.BatchSize, "pair")} a step, {Counted.Of(st.Steps, "step")} → {options.OutputDir}");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (options.TimeLimitMinutes > 0) stop.CancelAfter(TimeSpan.FromMinutes(options.TimeLimitMinutes));
        var sw = Stopwatch.StartNew();
        // The state's step until a step is trained: a run stopped before its first step is there still.
        long first = -1, last = Trainer.ResumeStep(options.OutputDir);
        var validation = Validation(options, progress);
        // The steps this run trains: a resumed run's progress counts from its state, not from 0 of --steps.
        var toTrain = (int)Math.Clamp(options.Settings.Steps - last, 0, int.MaxValue);
        progress.Stage("training", toTrain, tick =>
            Trainer.Run(options.Pairs, options.OutputDir, options.Settings, options.Device, options.CheckpointEvery,
                s =>
                {
                    if (first < 0) first = s.Step;
                    last = s.Step;
                    tick(string.Create(CultureInfo.InvariantCulture, $"step {s.Step} loss {s.Loss:F4} (AP {s.MeanAp:F3}, cosim {s.Cosim:F3}, peaky {s.Peaky:F3}) {s.Seconds:F2} s"));
                },
                progress.Info, stop.Token, validation));
        double rate = first < 0 ? 0 : (last - first + 1) / sw.Elapsed.TotalSeconds;
        var modelPath = Path.Combine(options.OutputDir, Trainer.ModelFile);
        // Not after an interruption (the caller's cancellation) short of the steps: the run goes on when
        // run again. A run at its time limit is done for now (tools/train/device-run exports it).
        bool export = options.ExportTorchPath != null && !(cancel.IsCancellationRequested && last < options.Settings.Steps);
        if (export) ExportTorch(modelPath, options.ExportTorchPath!);
        return new TrainSummary(last, rate, modelPath)
        {
            Exported = export ? options.ExportTorchPath : null,
            StepsThisRun = first < 0 ? 0 : last - first + 1, Steps = options.Settings.Steps,
            Best = validation != null && Trainer.BestValidated(options.OutputDir, validation) is { } b ? (b.Step, b.Score, Path.Combine(options.OutputDir, Trainer.BestFile)) : null,
        };
    }

    /// <summary>The validation of <see cref="TrainOptions.ValidateEvery"/>: MMA at 1/3/5 px of the
    /// current weights (the default extraction) on <see cref="ValidationSets"/>, whose score picks
    /// best.safetensors.</summary>
    private static TrainingValidation? Validation(TrainOptions options, IProgressSink progress)
    {
        if (options.ValidateEvery <= 0) return null;
        var sw = Stopwatch.StartNew();
        var sets = ValidationSets.Make(options.ValidationPairs);
        progress.Info(string.Create(CultureInfo.InvariantCulture, $"validation: {sets.DayNight.Count} rendered day/night pairs of held-apart scenes and {sets.Viewpoint.Count} viewpoint pairs of held-apart procedural images ({sw.Elapsed.TotalSeconds:F1} s to make), every {options.ValidateEvery} steps → {Trainer.ValidationFile}, {Trainer.ValidatedFolder}/, {Trainer.BestFile}"));
        return new TrainingValidation(options.ValidateEvery, ValidationSets.Columns, checkpoint =>
        {
            using var net = new R2D2Network(checkpoint, options.Device);
            var extractor = new MultiScaleExtractor(net, new ExtractionSettings());
            var (dayNight, viewpoint) = sets.Evaluate(img => extractor.Extract(img), "validation", options.Device);
            return ValidationSets.Row(dayNight, viewpoint);
        }, ValidationSets.ScoreColumn, string.Create(CultureInfo.InvariantCulture, $"--validation-pairs {options.ValidationPairs}"));
    }

    /// <summary>The run's files are outputs: the export may not replace the starting weights or one of
    /// them, nor the run its starting weights (a model.safetensors in the folder was replaced, a kept
    /// validated/ step deleted); an export at a folder or under a file is said now, not after the training.</summary>
    private static void RefuseOutputs(TrainOptions o)
    {
        var outDir = o.OutputDir;
        OutputFile.RefuseFileAsFolder(outDir, "--out");
        var runFiles = new[] { Trainer.ModelFile, Trainer.StateFile, Trainer.SettingsFile, Trainer.LogFile, Trainer.ValidationFile, Trainer.BestFile }
            .Select(f => ($"run's {f}", (string?)Path.Combine(outDir, f))).ToList();
        var init = DefaultModel.IsDefault(o.Settings.InitialWeights) ? null : o.Settings.InitialWeights;
        OutputFile.RefuseInputs(new[] { ("PyTorch export", o.ExportTorchPath) }, runFiles.Prepend(("initial weights", init)).Concat(o.PairInputs));
        OutputFile.RefuseInputs(runFiles, o.PairInputs.Prepend(("initial weights (--init)", init)),
            new[] { ("run's validated/ folder", (string?)Path.Combine(outDir, Trainer.ValidatedFolder)) });
        if (o.ExportTorchPath is { } export && Path.GetFullPath(export).TrimEnd('/') == Path.GetFullPath(outDir).TrimEnd('/'))
            throw new UsageException($"--export-torch {export} is the --out folder: give a file (.pt)");
        OutputFile.RefuseAsOutputFiles(new[] { ("PyTorch export", o.ExportTorchPath) });
        // A zip-format PyTorch file under another name (x.safetensors) is read by nothing as what it says.
        if (o.ExportTorchPath is { } named && !ModelRunner.IsTorch(named))
            throw new UsageException($"--export-torch {named}: the export is a PyTorch file: its name must end in .pt or .pth");
    }

    /// <summary>Writes a trained model as a zip-format PyTorch file (.pt) that torch.load reads.</summary>
    public static void ExportTorch(string modelPath, string torchPath) => Checkpoint.Load(modelPath).SaveTorchZip(torchPath);
}
