using System.Diagnostics;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
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
    public required torch.Device Device { get; init; }
    /// <summary>Save the state every this many steps.</summary>
    public int CheckpointEvery { get; init; } = 500;
    /// <summary>Stop (saving the state) after this many minutes; 0: no limit.</summary>
    public double TimeLimitMinutes { get; init; }
    /// <summary>MMA on rendered day/night validation pairs every this many steps (validation.tsv); 0: none.</summary>
    public int ValidateEvery { get; init; }
    public int ValidationPairs { get; init; } = 24;
}

/// <summary>How far a run got: its last step, the steps per second of this run, the model it wrote.</summary>
public sealed record TrainSummary(long LastStep, double StepsPerSecond, string ModelPath)
{
    /// <summary>Steps this run trained (0: the state was at --steps already).</summary>
    public long StepsThisRun { get; init; }
    /// <summary>The run's --steps.</summary>
    public long Steps { get; init; }

    public string Line => StepsThisRun == 0
        ? string.Create(CultureInfo.InvariantCulture, $"nothing to train: the run is at --steps {Steps} or past it (a larger --steps goes on); model: {ModelPath}")
        : string.Create(CultureInfo.InvariantCulture, $"trained to step {LastStep} ({StepsPerSecond:F2} steps/s this run); model: {ModelPath}");
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
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        if (options.TimeLimitMinutes > 0) stop.CancelAfter(TimeSpan.FromMinutes(options.TimeLimitMinutes));
        var sw = Stopwatch.StartNew();
        long first = -1, last = 0;
        progress.Stage("training", options.Settings.Steps, tick =>
            Trainer.Run(options.Pairs, options.OutputDir, options.Settings, options.Device, options.CheckpointEvery,
                s =>
                {
                    if (first < 0) first = s.Step;
                    last = s.Step;
                    tick(string.Create(CultureInfo.InvariantCulture, $"step {s.Step} loss {s.Loss:F4} (AP {s.MeanAp:F3}, cosim {s.Cosim:F3}, peaky {s.Peaky:F3}) {s.Seconds:F2} s"));
                },
                progress.Info, stop.Token, Validation(options, progress)));
        double rate = first < 0 ? 0 : (last - first + 1) / sw.Elapsed.TotalSeconds;
        return new TrainSummary(last, rate, Path.Combine(options.OutputDir, Trainer.ModelFile))
        {
            StepsThisRun = first < 0 ? 0 : last - first + 1, Steps = options.Settings.Steps,
        };
    }

    /// <summary>The validation of <see cref="TrainOptions.ValidateEvery"/>: MMA at 1/3/5 px of the
    /// current weights (the default extraction) on day/night pairs of held-apart rendered scenes.</summary>
    private static TrainingValidation? Validation(TrainOptions options, IProgressSink progress)
    {
        if (options.ValidateEvery <= 0) return null;
        var sw = Stopwatch.StartNew();
        var pairs = RenderedPairSource.Validation(options.ValidationPairs);
        progress.Info(string.Create(CultureInfo.InvariantCulture, $"validation: {pairs.Count} rendered day/night pairs of held-apart scenes ({sw.Elapsed.TotalSeconds:F1} s to render), every {options.ValidateEvery} steps → {Trainer.ValidationFile}"));
        var columns = RenderedPairsEvaluation.Thresholds.Select(t => $"mma{t}").Concat(new[] { "matches", "keypoints" }).ToList();
        return new TrainingValidation(options.ValidateEvery, columns, checkpoint =>
        {
            using var net = new R2D2Network(checkpoint, options.Device);
            var extractor = new MultiScaleExtractor(net, new ExtractionSettings());
            var row = RenderedPairsEvaluation.Run(pairs, img => extractor.Extract(img), "validation", device: options.Device);
            return row.Mma.Concat(new[] { row.MeanMatches, row.MeanKeypoints }).ToArray();
        });
    }

    /// <summary>Writes a trained model as a zip-format PyTorch file (.pt) that torch.load reads.</summary>
    public static void ExportTorch(string modelPath, string torchPath) => Checkpoint.Load(modelPath).SaveTorchZip(torchPath);
}
