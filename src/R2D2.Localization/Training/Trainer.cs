using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using TorchSharp;
using static TorchSharp.torch;

namespace R2D2.Localization.Training;

/// <summary>What a training run does; stored with its output, and a resumed run must match it.</summary>
public sealed record TrainingSettings
{
    public string Net { get; init; } = "Quad_L2Net_ConfCFS()";
    public int Steps { get; init; } = 10_000;
    /// <summary>Image pairs per step.</summary>
    public int BatchSize { get; init; } = 8;
    public double LearningRate { get; init; } = 1e-4;
    public double WeightDecay { get; init; } = 5e-4;
    public long Seed { get; init; }
    /// <summary>κ of the reliability-weighted AP loss.</summary>
    public double Kappa { get; init; } = 0.5;
    /// <summary>κ grows linearly from 0 over this many steps. From scratch every pixel's AP starts far
    /// below κ, so the full κ at once drives the reliability to 0 everywhere within a few hundred steps,
    /// and with it the descriptors' gradient (AP·R): measured, the mean AP then falls instead of rising.
    /// With κ small at first, the reliability stays up while the descriptors learn.</summary>
    public int KappaWarmupSteps { get; init; }
    public int ApBins { get; init; } = 20;
    /// <summary>N of the repeatability losses (window side).</summary>
    public int Window { get; init; } = 16;
    public double CosimWeight { get; init; } = 1;
    public double PeakyWeight { get; init; } = 1;
    public SamplerSettings Sampler { get; init; } = new();
    /// <summary>How the pairs were asked for (e.g. the command line's pair options), recorded in
    /// settings.json so that a rerun with other data is refused even where the source's description
    /// is the same.</summary>
    public string? PairOptions { get; init; }
    /// <summary>Weights to start from (fine-tuning); null: PyTorch's default initialization from Seed.</summary>
    public string? InitialWeights { get; init; }
}

/// <summary>A validation of the weights during training: <see cref="Evaluate"/> gets the current
/// checkpoint and returns one number per column; run at step 0 of a new run, every
/// <see cref="Every"/> steps and at the end, each a row of validation.tsv. The weights of every
/// validated step are kept (validated/), and with a <see cref="ScoreColumn"/> (higher is better)
/// those of the best row so far are best.safetensors: a run that learns one thing while it
/// forgets another may peak before its end, and the last weights are not the ones to keep.</summary>
/// <param name="Set">what the rows are measured on (e.g. the number of validation pairs): a resumed
/// run measured on another set is refused, as its rows and best could not be compared</param>
public sealed record TrainingValidation(int Every, IReadOnlyList<string> Columns, Func<Checkpoint, double[]> Evaluate, string? ScoreColumn = null, string? Set = null);

/// <summary>One optimization step's numbers (the loss log's row).</summary>
public sealed record TrainingStep(long Step, double Loss, double ApLoss, double MeanAp, double Cosim, double Peaky, int Queries, double Seconds);

/// <summary>
/// The training loop: pairs from an <see cref="ITrainingPairSource"/> (pair i of step s is the
/// source's pair s·B + i, so a run is repeatable and a resumed one continues with the same data),
/// losses of <see cref="Losses"/>, <see cref="AdamOptimizer"/>. Output folder:
/// settings.json, state.safetensors (weights + optimizer, for resuming), model.safetensors
/// (the checkpoint to use), train-log.tsv (one row per step), validation.tsv (with a validation).
/// </summary>
public static class Trainer
{
    public const string SettingsFile = "settings.json", StateFile = "state.safetensors", ModelFile = "model.safetensors", LogFile = "train-log.tsv", ValidationFile = "validation.tsv",
        ValidatedFolder = "validated", BestFile = "best.safetensors", ValidationSetFile = "validation-set.txt";

    /// <summary>The kept weights of a validated step (validated/step-00001000.safetensors).</summary>
    public static string ValidatedModel(string outDir, long step) =>
        Path.Combine(outDir, ValidatedFolder, string.Create(CultureInfo.InvariantCulture, $"step-{step:D8}.safetensors"));
    private const string StateTag = "r2d2.localization/training-state-1";

    /// <summary>The step a run in <paramref name="outDir"/> would resume at: its state's, 0 without one
    /// (or one that cannot be read: <see cref="Run"/> says why).</summary>
    public static long ResumeStep(string outDir)
    {
        var statePath = Path.Combine(outDir, StateFile);
        if (!File.Exists(statePath)) return 0;
        try
        {
            return SafeTensors.ReadMetadata(statePath).TryGetValue("step", out var v) && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var step) ? step : 0;
        }
        catch (Exception e) when (e is DataFormatException or EndOfStreamException or IOException or System.Text.Json.JsonException or InvalidOperationException) { return 0; }
    }

    /// <summary>Trains (or resumes) into <paramref name="outDir"/> until settings.Steps; checkpoints
    /// every <paramref name="checkpointEvery"/> steps, at the end and on cancellation.</summary>
    public static void Run(ITrainingPairSource source, string outDir, TrainingSettings settings, Device device,
        int checkpointEvery = 500, Action<TrainingStep>? onStep = null, Action<string>? log = null, CancellationToken cancel = default,
        TrainingValidation? validation = null)
    {
        var settingsJson = JsonSerializer.Serialize(new { settings = settings with { Steps = 0 }, source = source.Describe() }, JsonOptions);
        var settingsPath = Path.Combine(outDir, SettingsFile);
        var statePath = Path.Combine(outDir, StateFile);
        long start = 0;
        Checkpoint? resumeFrom = null;
        SafeTensors? state = null;
        if (File.Exists(statePath))
        {
            if (!File.Exists(settingsPath))
                throw new R2D2Exception($"{outDir}: holds a training state without its settings.json, so what it was trained with is unknown; use another --out");
            if (File.ReadAllText(settingsPath) != settingsJson)
                throw new R2D2Exception($"{outDir}: holds a training run with other settings or pairs ({SettingsDifferences(File.ReadAllText(settingsPath), settingsJson)}; see {settingsPath}); use another --out or the same options");
            try { state = SafeTensors.Read(statePath); }
            catch (Exception e) when (e is DataFormatException or EndOfStreamException or System.Text.Json.JsonException or InvalidOperationException)
            {
                throw new DataFormatException($"{statePath}: a damaged training state ({e.Message}); remove it and its run's outputs to start again, or use another --out", e);
            }
            if (!state.Metadata.TryGetValue("format", out var tag) || tag != StateTag)
                throw new DataFormatException($"{statePath}: not a training state of this project");
            if (!state.Metadata.TryGetValue("step", out var stepText) || !long.TryParse(stepText, NumberStyles.Integer, CultureInfo.InvariantCulture, out start) || start < 0)
                throw new DataFormatException($"{statePath}: a training state without its step (a damaged or edited file); remove it and its run's outputs to start again, or use another --out");
            resumeFrom = new Checkpoint(settings.Net, state.Tensors.Where(kv => !kv.Key.StartsWith("adam.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value));
            log?.Invoke($"resuming at step {start} from {statePath}");
            // Float sums split over threads differ in their last bits: bit-exact resumption needs the same count.
            if (device.type == DeviceType.CPU && state.Metadata.TryGetValue("threads", out var threads) && int.TryParse(threads, CultureInfo.InvariantCulture, out var stateThreads)
                && stateThreads != get_num_threads())
                log?.Invoke($"warning: the state was trained on {Counted.Of(stateThreads, "thread")} and this run has {Counted.Of(get_num_threads(), "thread")}: the weights will differ from an uninterrupted run's "
                    + $"in their last digits (--threads {threads} resumes bit-exactly)");
        }

        Checkpoint? initial = resumeFrom;
        if (initial is null && settings.InitialWeights != null)
        {
            initial = DefaultModel.IsDefault(settings.InitialWeights) ? DefaultModel.LoadCheckpoint() : Checkpoint.Load(settings.InitialWeights);
            if (R2D2Architecture.Parse(initial.Net).Net != R2D2Architecture.Parse(settings.Net).Net)
                throw new R2D2Exception($"{settings.InitialWeights}: its network {initial.Net} is not {settings.Net}");
        }
        using var net = initial != null ? new TrainableR2D2(new Checkpoint(settings.Net, initial.StateDict), device) : new TrainableR2D2(settings.Net, settings.Seed, device);
        // After the network is made of the initial weights: weights that fail (unreadable, of another
        // shape) leave the folder as it was (a settings.json of a run that never started made the
        // next run with other options a "rerun").
        OutputFile.CreateFolder(outDir);
        // Two runs into one folder interleaved their states, logs and settings: the second is refused.
        // Taken here, as all before only reads (a run that fails before leaves the folder as it was).
        using var folderLock = OutputFile.LockFolder(outDir, "`localize train`");
        if ((state == null) == File.Exists(statePath) || (state != null && ResumeStep(outDir) != start))
            throw new R2D2Exception(statePath, 0, "changed while this run started (another run into this folder wrote it): run the command again");
        if (state == null) OutputFile.WriteAllText(settingsPath, settingsJson);
        using var adam = new AdamOptimizer(net.Parameters, settings.LearningRate, settings.WeightDecay);
        if (state != null)
            adam.Restore(start, k => state.Tensors.TryGetValue(k, out var t) ? t.ToFloat32() : null);
        // Checked before the folder's rows and weights change: a resumed run's validation must be the rows'.
        var validationPath = Path.Combine(outDir, ValidationFile);
        var header = validation == null ? null : string.Join('\t', validation.Columns.Prepend("step"));
        if (validation != null && state != null)
        {
            if (File.Exists(validationPath) && new FileInfo(validationPath).Length > 0 && File.ReadLines(validationPath).First() != header)
                throw new R2D2Exception($"{validationPath}: has other columns than this build's validation ({header!.Replace('\t', ' ')}); use another --out");
            var setPath = Path.Combine(outDir, ValidationSetFile);
            if (validation.Set != null && File.Exists(setPath) && File.ReadAllText(setPath).Trim() is var measuredOn && measuredOn != validation.Set)
                throw new R2D2Exception($"{validationPath}: its rows were measured with {measuredOn}, and this run's would be with {validation.Set}: "
                    + "their scores and best could not be compared; use the same validation options, or another --out");
        }
        // A fresh start (no state: a first run, or one killed before its first checkpoint, whose
        // settings may have been other) keeps no row, no kept weights and no best of the folder,
        // with a validation or without.
        long keepUpTo = state == null ? -1 : start;
        if (state == null)
        {
            foreach (var f in new[] { ValidationFile, ValidationSetFile, BestFile }) File.Delete(Path.Combine(outDir, f));
            if (Directory.Exists(Path.Combine(outDir, ValidatedFolder)))
                foreach (var f in Directory.GetFiles(Path.Combine(outDir, ValidatedFolder), "step-*.safetensors")) File.Delete(f);
        }
        var logPath = Path.Combine(outDir, LogFile);
        TruncateLog(logPath, keepUpTo);
        // A row per line end, at once: `tail -f` follows the run, and a kill cuts at most the row being written.
        using var logWriter = new StreamWriter(logPath, append: true) { AutoFlush = true };
        if (new FileInfo(logPath).Length == 0) logWriter.WriteLine("step\tloss\tap_loss\tmean_ap\tcosim\tpeaky\tqueries\tseconds");

        var sampler = new CorrespondenceSampler(settings.Sampler);
        var metadata = new Dictionary<string, string>
        {
            ["trained_by"] = "localize train",
            ["training_pairs"] = source.Describe(),
            ["training_seed"] = settings.Seed.ToString(CultureInfo.InvariantCulture),
        };
        Checkpoint Weights(long step) => net.ToCheckpoint(new Dictionary<string, string>(metadata) { ["training_steps"] = step.ToString(CultureInfo.InvariantCulture) });
        void Save(long step)
        {
            using var scope = NewDisposeScope();
            var ckpt = Weights(step);
            var all = new Dictionary<string, CheckpointTensor>(ckpt.StateDict);
            foreach (var (k, t) in adam.StateTensors())
            {
                using var c = t.detach().cpu().contiguous();
                all[k] = CheckpointTensor.FromFloat32(c.data<float>().ToArray(), c.shape);
            }
            logWriter.Flush();
            ckpt.SaveSafeTensors(Path.Combine(outDir, ModelFile));
            SafeTensors.Write(statePath, all, new Dictionary<string, string>
            {
                ["format"] = StateTag, ["net"] = settings.Net, ["step"] = step.ToString(CultureInfo.InvariantCulture),
                ["threads"] = get_num_threads().ToString(CultureInfo.InvariantCulture),
            });
        }

        long validated = -1;
        void Validate(long step)
        {
            if (validation == null || step == validated) return;
            var sw = Stopwatch.StartNew();
            var weights = Weights(step);
            var values = validation.Evaluate(weights);
            // The weights first, then the row: a row always has its weights.
            OutputFile.CreateFolder(Path.Combine(outDir, ValidatedFolder));
            weights.SaveSafeTensors(ValidatedModel(outDir, step));
            var line = string.Join('\t', values.Select(F).Prepend(step.ToString(CultureInfo.InvariantCulture)));
            File.AppendAllText(validationPath, line + "\n");
            validated = step;
            log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"validation at step {step}: ")
                + string.Join(", ", validation.Columns.Zip(values, (c, v) => $"{c} {F(v)}")) + string.Create(CultureInfo.InvariantCulture, $" ({sw.Elapsed.TotalSeconds:F1} s)"));
            if (KeepBest(outDir, validation) is { } best)
                log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"best so far: step {best.Step} ({validation.ScoreColumn} {F(best.Score)}) → {BestFile}"));
        }
        if (validation != null)
        {
            if (validation.Set != null) OutputFile.WriteAllText(Path.Combine(outDir, ValidationSetFile), validation.Set + "\n");
            TruncateLog(validationPath, keepUpTo);
            if (!File.Exists(validationPath) || new FileInfo(validationPath).Length == 0)
                OutputFile.WriteAllText(validationPath, header + "\n");
            // Steps past the state are trained again: their kept weights go with their rows.
            if (Directory.Exists(Path.Combine(outDir, ValidatedFolder)))
                foreach (var f in Directory.GetFiles(Path.Combine(outDir, ValidatedFolder), "step-*.safetensors"))
                    if (long.TryParse(Path.GetFileNameWithoutExtension(f)["step-".Length..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var k) && k > keepUpTo)
                        File.Delete(f);
            KeepBest(outDir, validation);
            // A resumed run does not repeat the row of the step it resumes at.
            var lastRow = File.ReadLines(validationPath).Skip(1).LastOrDefault();
            if (lastRow != null && long.TryParse(lastRow.Split('\t')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var lastStep)) validated = lastStep;
            // The step the state is at is validated when its run would have (step 0, every
            // validation step, the last one) and has no row: a kill during validation lost it.
            if (validated < start && (start == 0 || start % validation.Every == 0 || start >= settings.Steps)) Validate(start);
        }

        // Batches are generated ahead on the CPU cores while the device trains (enough of them in
        // flight to keep all cores busy: a GPU step is faster than one batch on one core).
        int ahead = Math.Max(1, Environment.ProcessorCount / settings.BatchSize) + 1;
        var pending = new Dictionary<long, Task<IReadOnlyList<TrainingPair>>>();
        void Prefetch(long from)
        {
            for (long k = from; k < Math.Min(settings.Steps, from + ahead); k++)
                if (!pending.ContainsKey(k))
                {
                    long step = k;
                    pending[k] = Task.Run(() => Batch(source, step, settings.BatchSize));
                }
        }
        long s = start;
        for (; s < settings.Steps && !cancel.IsCancellationRequested; s++)
        {
            Prefetch(s);
            var pairs = pending[s].GetAwaiter().GetResult();
            pending.Remove(s);
            Prefetch(s + 1);
            var sw = Stopwatch.StartNew();
            var row = Step(net, adam, sampler, pairs, settings, device, s);
            row = row with { Seconds = sw.Elapsed.TotalSeconds };
            if (!double.IsFinite(row.Loss))
                throw new DataFormatException($"the loss is not finite at step {row.Step}; the state saved last in {outDir} is kept (lower --lr?)");
            logWriter.WriteLine(string.Join('\t', row.Step.ToString(CultureInfo.InvariantCulture), F(row.Loss), F(row.ApLoss), F(row.MeanAp), F(row.Cosim), F(row.Peaky),
                row.Queries.ToString(CultureInfo.InvariantCulture), row.Seconds.ToString("F3", CultureInfo.InvariantCulture)));
            onStep?.Invoke(row);
            if (s == 0 && row.Queries == 0)
                log?.Invoke("warning: the first step sampled no correspondence (queries 0), so the AP loss cannot teach the descriptors: a larger --crop?");
            if ((s + 1) % checkpointEvery == 0) Save(s + 1);
            if (validation != null && (s + 1) % validation.Every == 0) Validate(s + 1);
        }
        Task.WaitAll(pending.Values.ToArray());
        if (s > start || !File.Exists(Path.Combine(outDir, ModelFile))) Save(s);
        if (s > start) Validate(s);
        static string F(double v) => v.ToString("G6", CultureInfo.InvariantCulture);
    }

    /// <summary>The settings that differ, as `key: stored → now` (nested keys joined by dots).</summary>
    internal static string SettingsDifferences(string stored, string now)
    {
        var a = JsonFlat.Object(stored)?.ToDictionary(x => x.Key, x => x.Value);
        if (a == null) return "its settings.json is not a settings file of this project";
        var b = JsonFlat.Object(now)!.ToDictionary(x => x.Key, x => x.Value);
        var keys = a.Keys.Concat(b.Keys).Distinct().Where(k => a.GetValueOrDefault(k, "–") != b.GetValueOrDefault(k, "–")).ToList();
        return keys.Count == 0 ? "the same values written differently"
            : string.Join("; ", keys.Select(k => $"{k}: {a.GetValueOrDefault(k, "–")} → {b.GetValueOrDefault(k, "–")}"));
    }

    /// <summary>Makes best.safetensors the kept weights of <see cref="BestValidated"/>; null without
    /// a score or a row with kept weights.</summary>
    public static (long Step, double Score)? KeepBest(string outDir, TrainingValidation validation)
    {
        var best = BestValidated(outDir, validation);
        if (best == null) return null;
        OutputFile.Write(Path.Combine(outDir, BestFile), s =>
        {
            using var kept = File.OpenRead(ValidatedModel(outDir, best.Value.Step));
            kept.CopyTo(s);
        });
        return best;
    }

    /// <summary>validation.tsv's best row with kept weights by the score column (the earliest on ties).</summary>
    public static (long Step, double Score)? BestValidated(string outDir, TrainingValidation validation)
    {
        if (validation.ScoreColumn == null || !File.Exists(Path.Combine(outDir, ValidationFile))) return null;
        int column = validation.Columns.ToList().IndexOf(validation.ScoreColumn) + 1;
        if (column == 0) throw new ArgumentException($"score column {validation.ScoreColumn} is not a validation column");
        (long Step, double Score)? best = null;
        foreach (var row in File.ReadLines(Path.Combine(outDir, ValidationFile)).Skip(1))
        {
            var f = row.Split('\t');
            if (f.Length <= column || !long.TryParse(f[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var step)
                || !double.TryParse(f[column], NumberStyles.Float, CultureInfo.InvariantCulture, out var score) || !double.IsFinite(score)) continue;
            if ((best == null || score > best.Value.Score) && File.Exists(ValidatedModel(outDir, step))) best = (step, score);
        }
        return best;
    }

    /// <summary>One forward/backward/update on a batch; returns the losses (before the update).</summary>
    public static TrainingStep Step(TrainableR2D2 net, AdamOptimizer adam, CorrespondenceSampler sampler, IReadOnlyList<TrainingPair> pairs,
        TrainingSettings settings, Device device, long step)
    {
        using var scope = NewDisposeScope();
        int b = pairs.Count, h = pairs[0].Height, w = pairs[0].Width;
        var img1 = ToBatch(pairs.Select(p => p.Image1), b, h, w, device);
        var img2 = ToBatch(pairs.Select(p => p.Image2), b, h, w, device);
        var flowCpu = new float[b * 2 * h * w];
        for (int i = 0; i < b; i++) Array.Copy(pairs[i].Flow, 0, flowCpu, i * 2 * h * w, 2 * h * w);
        var flow = tensor(flowCpu, new long[] { b, 2, h, w }).to(device);

        adam.ZeroGrad();
        var o = net.Forward(cat(new[] { img1, img2 }, 0));
        var (d1, d2) = (o.Descriptors.narrow(0, 0, b), o.Descriptors.narrow(0, b, b));
        var (r1, r2) = (o.Reliability.narrow(0, 0, b), o.Reliability.narrow(0, b, b));
        var (p1, p2) = (o.Repeatability.narrow(0, 0, b), o.Repeatability.narrow(0, b, b));

        var rng = new Rng(StepSeed(settings.Seed, step)); // not HashCode: it is salted per process
        var sampled = sampler.Sample(d1, d2, r1, r2, pairs, rng);
        Tensor apLoss, meanAp;
        if (sampled.Queries > 0)
        {
            var ap = Losses.AveragePrecision(sampled.Scores, sampled.Labels, sampled.Weights, settings.ApBins);
            double kappa = settings.KappaWarmupSteps > 0 ? settings.Kappa * Math.Min(1.0, step / (double)settings.KappaWarmupSteps) : settings.Kappa;
            apLoss = Losses.ReliabilityWeightedAp(ap, sampled.Reliability, kappa).mean();
            meanAp = ap.mean();
        }
        else
        {
            apLoss = zeros(1, device: device).squeeze();
            meanAp = zeros(1, device: device).squeeze();
        }
        var (warped, valid) = Losses.WarpByFlow(p2, flow);
        var cosim = Losses.CosineSimilarity(p1, warped, valid, settings.Window);
        var peaky = Losses.Peakiness(p1, settings.Window).Add(Losses.Peakiness(p2, settings.Window)).Mul(0.5);
        var loss = apLoss.Add(cosim.Mul(settings.CosimWeight)).Add(peaky.Mul(settings.PeakyWeight));
        loss.backward();
        adam.Step();
        return new TrainingStep(step + 1, loss.item<float>(), apLoss.item<float>(), meanAp.item<float>(), cosim.item<float>(), peaky.item<float>(), sampled.Queries, 0);
    }

    /// <summary>A seed for step <paramref name="step"/>'s random choices (a pure function of both).</summary>
    public static ulong StepSeed(long seed, long step) => Rng.Hash(unchecked((ulong)seed), unchecked((ulong)step), 0x57E9);

    /// <summary>The pairs of step <paramref name="step"/>, generated in parallel (each is a pure
    /// function of its index).</summary>
    public static IReadOnlyList<TrainingPair> Batch(ITrainingPairSource source, long step, int batchSize)
    {
        var pairs = new TrainingPair[batchSize];
        Parallel.For(0, batchSize, i => pairs[i] = source.Get(step * batchSize + i));
        for (int i = 1; i < batchSize; i++)
            if (pairs[i].Width != pairs[0].Width || pairs[i].Height != pairs[0].Height)
                throw new DataFormatException($"training pairs of one batch differ in size ({source.Describe()})");
        return pairs;
    }

    /// <summary>Planar RGB in [0,1] → B×3×H×W normalized as the network expects (ImageNet mean/std).</summary>
    private static Tensor ToBatch(IEnumerable<float[]> images, int b, int h, int w, Device device)
    {
        var data = new float[b * 3 * h * w];
        int i = 0;
        foreach (var img in images)
        {
            for (int c = 0; c < 3; c++)
            {
                int off = (i * 3 + c) * h * w;
                for (int k = 0; k < h * w; k++) data[off + k] = (img[c * h * w + k] - MultiScaleExtractor.InputMean[c]) / MultiScaleExtractor.InputStd[c];
            }
            i++;
        }
        using var batch = tensor(data, new long[] { b, 3, h, w }); // held through the copy
        return batch.to(device);
    }

    private static void TruncateLog(string path, long lastStep)
    {
        if (!File.Exists(path)) return;
        // A row cut by a kill (no line end) is dropped whatever its first field reads.
        var text = File.ReadAllText(path);
        var lines = text.Split('\n');
        var keep = lines.Take(lines.Length - 1).Where((l, i) => i == 0 || (long.TryParse(l.Split('\t')[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) && s <= lastStep)).ToList();
        OutputFile.WriteAllText(path, string.Concat(keep.Select(l => l + "\n")));
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };
}
