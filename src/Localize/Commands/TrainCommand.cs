using System.Runtime.InteropServices;
using System.CommandLine;
using System.Globalization;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Training;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize train`: trains an R2D2 network from scratch (or fine-tunes one) on image pairs
/// with known correspondences; resumable, seeded, logs every step.</summary>
internal static class TrainCommand
{
    private sealed class Options
    {
        private static readonly TrainingSettings D = new();
        public readonly Option<string> OutDir = new("--out") { Description = "output folder: model.safetensors, state.safetensors (for resuming), train-log.tsv, settings.json", Required = true };
        public readonly Option<string[]> Pairs = new("--pairs")
        {
            Description = "where pairs come from (several: taken in turn): 'generated' (homographies of images the project generates), "
                + "'images:DIR' (homographies of the images in DIR), 'map:DB:IMAGES' (two images of a built map and their shared 3D points), "
                + "'rendered[:day-day|day-night|night-night][:SCENE_FILE]' (two cameras of rendered scenes, by day and by night, flow from depth; generated scenes unless a scene file is named)",
            AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => new[] { "generated" },
        };
        public readonly Option<int> Steps = new("--steps") { Description = "optimization steps in all (a resumed run goes on to this many)", DefaultValueFactory = _ => D.Steps };
        public readonly Option<int> Batch = new Option<int>("--batch") { Description = "image pairs per step", DefaultValueFactory = _ => D.BatchSize }.Between(1, 1024);
        // Below 16 px the network's 3×3 convolutions at dilation 16 have no room (a libtorch abort).
        public readonly Option<int> Crop = new Option<int>("--crop") { Description = "crop side in pixels", DefaultValueFactory = _ => 192 }.Between(16, 2048);
        public readonly Option<double> Lr = new Option<double>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => D.LearningRate }.Check(v => v > 0 && v <= 1, "in (0, 1]");
        public readonly Option<double> Wd = new Option<double>("--weight-decay") { Description = "Adam weight decay (L2)", DefaultValueFactory = _ => D.WeightDecay }.Between(0.0, 1.0);
        public readonly Option<int> Warmup = new Option<int>("--kappa-warmup") { Description = "steps over which κ of the reliability loss grows from 0 to 0.5 (training from scratch needs it; see README)", DefaultValueFactory = _ => 0 }.AtLeast(0);
        // Not long.MinValue: the validation's viewpoint pairs are drawn with it, and no training run may draw them.
        public readonly Option<long> Seed = new Option<long>("--seed") { Description = "seed of the initialization, the pairs and the sampling", DefaultValueFactory = _ => 0 }
            .Check(v => v != Training.HomographyPairSource.ValidationSeed, $"another number than {long.MinValue} (the validation's seed)");
        public readonly Option<string> Net = new("--net") { Description = "network, as the official checkpoints name it", DefaultValueFactory = _ => D.Net };
        public readonly Option<string?> Init = new("--init") { Description = "start from these weights (fine-tuning) instead of a random initialization" };
        public readonly Option<int> Every = new("--checkpoint-every") { Description = "save the state every this many steps", DefaultValueFactory = _ => 500 };
        public readonly Option<double> Minutes = new Option<double>("--time-limit") { Description = "stop (saving the state) after this many minutes; 0: no limit", DefaultValueFactory = _ => 0 }.Check(v => v >= 0 && double.IsFinite(v), "≥ 0");
        public readonly Option<string?> Export = new("--export-torch") { Description = "also write the final weights as a zip-format PyTorch file (.pt) that torch.load reads" };
        public readonly Option<double> Jpeg = new Option<double>("--jpeg-probability")
        {
            Description = "share of images that get a JPEG round trip (the rest are quantized to 8 bits); JPEG needs OpenCV's native library",
            DefaultValueFactory = _ => new PhotometricSettings().JpegProbability,
        }.Between(0.0, 1.0);
        public readonly Option<int> ValidateEvery = new Option<int>("--validate-every") { Description = "MMA on held-apart rendered day/night pairs and viewpoint pairs every this many steps (validation.tsv), keeping each validated step's weights (validated/) and the best by their score (best.safetensors); 0: none", DefaultValueFactory = _ => 0 }.AtLeast(0);
        public readonly Option<int> ValidationPairs = new("--validation-pairs") { Description = "pairs of each validation set", DefaultValueFactory = _ => 24 };
        public readonly DeviceOptionSet Hardware = new();

        public void AddTo(Command cmd)
        {
            foreach (var o in new Option[] { OutDir, Pairs, Steps, Batch, Crop, Lr, Wd, Warmup, Seed, Net, Init, Every, Minutes, Export, Jpeg, ValidateEvery, ValidationPairs }) cmd.Options.Add(o);
            Hardware.AddTo(cmd);
        }
    }

    /// <summary>Trainer log lines on stderr, a step line per 50 steps (or the bar).</summary>
    private sealed class TrainProgress() : ConsoleProgress(logEvery: 50, stageTimes: false)
    {
        public override void Info(string message) => Console.Error.WriteLine(message);
    }

    public static Command Create()
    {
        var o = new Options();
        var cmd = new Command("train", "Train R2D2 (the paper's AP, reliability, repeatability and peakiness losses) on pairs with known correspondences; resumable.");
        o.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() => Run(r, o)));
        return cmd;
    }

    private static int Run(ParseResult r, Options o)
    {
        var dev = o.Hardware.Resolve(r);
        var settings = new TrainingSettings
        {
            Net = r.GetValue(o.Net)!, Steps = Positive(r.GetValue(o.Steps), "--steps"), BatchSize = Positive(r.GetValue(o.Batch), "--batch"),
            LearningRate = r.GetValue(o.Lr), WeightDecay = r.GetValue(o.Wd), KappaWarmupSteps = r.GetValue(o.Warmup),
            PairOptions = string.Create(CultureInfo.InvariantCulture, $"--pairs {string.Join(' ', r.GetValue(o.Pairs)!)} --crop {r.GetValue(o.Crop)} --jpeg-probability {r.GetValue(o.Jpeg)}"),
            Seed = r.GetValue(o.Seed), InitialWeights = r.GetValue(o.Init),
        };
        try { R2D2Architecture.Parse(settings.Net); }
        catch (NotSupportedException e) { throw new UsageException($"--net: {e.Message}"); }
        var outDir = r.GetValue(o.OutDir)!;
        var photometric = new PhotometricSettings { JpegProbability = r.GetValue(o.Jpeg) };
        var source = TrainingPairSources.Parse(r.GetValue(o.Pairs)!, Positive(r.GetValue(o.Crop), "--crop"), settings.Seed, photometric);
        var options = new TrainOptions
        {
            OutputDir = outDir, Settings = settings, Pairs = source, PairInputs = TrainingPairSources.InputsOf(r.GetValue(o.Pairs)!).ToList(), Device = dev,
            CheckpointEvery = Positive(r.GetValue(o.Every), "--checkpoint-every"), TimeLimitMinutes = r.GetValue(o.Minutes),
            ValidateEvery = r.GetValue(o.ValidateEvery), ValidationPairs = Positive(r.GetValue(o.ValidationPairs), "--validation-pairs"),
            ExportTorchPath = r.GetValue(o.Export),
        };
        using var cancel = new CancellationTokenSource();
        // Ctrl-C, or a scheduler's SIGTERM before its kill: the step ends and the state is saved.
        void Stop(PosixSignalContext c)
        {
            c.Cancel = true;
            if (!cancel.IsCancellationRequested) Console.Error.WriteLine("stopping after this step (state is saved)");
            cancel.Cancel();
        }
        using var onInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        var summary = TrainRunner.Run(options, new TrainProgress(), cancel.Token);
        Console.WriteLine(summary.Line);
        if (cancel.IsCancellationRequested && summary.LastStep < summary.Steps)
        {
            // Not 0: a script must tell a stopped run from a finished one.
            Console.Error.WriteLine($"interrupted at step {summary.LastStep} of {summary.Steps}: run the same command again to continue");
            return 130;
        }
        if (summary.Exported is { } pt) Console.WriteLine($"exported {pt}");
        return 0;
    }

    private static int Positive(int v, string name) => v > 0 ? v : throw new UsageException($"{name} must be positive");
}
