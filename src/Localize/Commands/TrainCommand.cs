using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using R2D2.Localization.Features;
using R2D2.Localization.Training;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize train`: trains an R2D2 network from scratch (or fine-tunes one) on image pairs
/// with known correspondences; resumable, seeded, logs every step.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var d = new TrainingSettings();
        var outDir = new Option<string>("--out") { Description = "output folder: model.safetensors, state.safetensors (for resuming), train-log.tsv, settings.json", Required = true };
        var pairs = new Option<string[]>("--pairs")
        {
            Description = "where pairs come from (several: taken in turn): 'generated' (homographies of images the project generates), "
                + "'images:DIR' (homographies of the images in DIR), 'map:DB:IMAGES' (two images of a built map and their shared 3D points)",
            AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => new[] { "generated" },
        };
        var steps = new Option<int>("--steps") { Description = "optimization steps in all (a resumed run goes on to this many)", DefaultValueFactory = _ => d.Steps };
        var batch = new Option<int>("--batch") { Description = "image pairs per step", DefaultValueFactory = _ => d.BatchSize };
        var crop = new Option<int>("--crop") { Description = "crop side in pixels", DefaultValueFactory = _ => 192 };
        var lr = new Option<double>("--lr") { Description = "Adam learning rate", DefaultValueFactory = _ => d.LearningRate };
        var wd = new Option<double>("--weight-decay") { Description = "Adam weight decay (L2)", DefaultValueFactory = _ => d.WeightDecay };
        var warmup = new Option<int>("--kappa-warmup") { Description = "steps over which κ of the reliability loss grows from 0 to 0.5 (training from scratch needs it; see README)", DefaultValueFactory = _ => 0 };
        var seed = new Option<long>("--seed") { Description = "seed of the initialization, the pairs and the sampling", DefaultValueFactory = _ => 0 };
        var net = new Option<string>("--net") { Description = "network, as the official checkpoints name it", DefaultValueFactory = _ => d.Net };
        var init = new Option<string?>("--init") { Description = "start from these weights (fine-tuning) instead of a random initialization" };
        var every = new Option<int>("--checkpoint-every") { Description = "save the state every this many steps", DefaultValueFactory = _ => 500 };
        var minutes = new Option<double>("--time-limit") { Description = "stop (saving the state) after this many minutes; 0: no limit", DefaultValueFactory = _ => 0 };
        var export = new Option<string?>("--export-torch") { Description = "also write the final weights as a zip-format PyTorch file (.pt) that torch.load reads" };
        var jpeg = new Option<double>("--jpeg-probability")
        {
            Description = "share of images that get a JPEG round trip (the rest are quantized to 8 bits); JPEG needs OpenCV's native library",
            DefaultValueFactory = _ => new PhotometricSettings().JpegProbability,
        };
        var hardware = new DeviceOptionSet();
        var cmd = new Command("train", "Train R2D2 (the paper's AP, reliability, repeatability and peakiness losses) on pairs with known correspondences; resumable.");
        foreach (var o in new Option[] { outDir, pairs, steps, batch, crop, lr, wd, warmup, seed, net, init, every, minutes, export, jpeg }) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var dev = hardware.Resolve(r);
            var settings = new TrainingSettings
            {
                Net = r.GetValue(net)!, Steps = Positive(r.GetValue(steps), "--steps"), BatchSize = Positive(r.GetValue(batch), "--batch"),
                LearningRate = r.GetValue(lr), WeightDecay = r.GetValue(wd), KappaWarmupSteps = r.GetValue(warmup),
                PairOptions = string.Create(CultureInfo.InvariantCulture, $"--pairs {string.Join(' ', r.GetValue(pairs)!)} --crop {r.GetValue(crop)} --jpeg-probability {r.GetValue(jpeg)}"), Seed = r.GetValue(seed), InitialWeights = r.GetValue(init),
            };
            R2D2Architecture.Parse(settings.Net);
            var photometric = new PhotometricSettings { JpegProbability = r.GetValue(jpeg) };
            var source = TrainingPairSources.Parse(r.GetValue(pairs)!, Positive(r.GetValue(crop), "--crop"), settings.Seed, photometric);
            var dir = r.GetValue(outDir)!;
            using var cancel = new CancellationTokenSource();
            double limit = r.GetValue(minutes);
            if (limit > 0) cancel.CancelAfter(TimeSpan.FromMinutes(limit));
            ConsoleCancelEventHandler onCtrlC = (_, e) => { e.Cancel = true; cancel.Cancel(); Console.Error.WriteLine("stopping after this step (state is saved)"); };
            Console.CancelKeyPress += onCtrlC;
            Console.Error.WriteLine($"train: {settings.Net} on {dev.type}, {source.Describe()}, {settings.BatchSize} pairs/step, {settings.Steps} steps → {dir}");
            var sw = Stopwatch.StartNew();
            long first = -1, last = 0;
            try
            {
                Reporter.Track("training", settings.Steps, tick =>
                    Trainer.Run(source, dir, settings, dev, Positive(r.GetValue(every), "--checkpoint-every"),
                        s =>
                        {
                            if (first < 0) first = s.Step;
                            last = s.Step;
                            tick(string.Create(CultureInfo.InvariantCulture, $"step {s.Step} loss {s.Loss:F4} (AP {s.MeanAp:F3}, cosim {s.Cosim:F3}, peaky {s.Peaky:F3}) {s.Seconds:F2} s"));
                        },
                        line => Console.Error.WriteLine(line), cancel.Token), logEvery: 50);
            }
            finally { Console.CancelKeyPress -= onCtrlC; }
            var model = Path.Combine(dir, Trainer.ModelFile);
            double rate = first < 0 ? 0 : (last - first + 1) / sw.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"trained to step {last} ({rate:F2} steps/s this run); model: {model}"));
            if (r.GetValue(export) is { } pt)
            {
                Checkpoint.Load(model).SaveTorchZip(pt);
                Console.WriteLine($"exported {pt}");
            }
            return 0;
        }));
        return cmd;
    }

    private static int Positive(int v, string name) => v > 0 ? v : throw new ArgumentException($"{name} must be positive");
}
