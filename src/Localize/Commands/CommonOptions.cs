using System.CommandLine;
using R2D2.Localization.Features;

namespace R2D2.Localization.Cli.Commands;

/// <summary>Where the tensors run (--device) and on how many CPU threads (--threads): every command that runs torch.</summary>
internal sealed class DeviceOptionSet
{
    public readonly Option<string> Device;
    // At most 1,024 (libtorch's pools): 100,000 threads hung the process before its first line.
    public readonly Option<int> Threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores)", DefaultValueFactory = _ => 0 }.Between(0, 1024);

    public DeviceOptionSet(string defaultDevice = "auto")
    {
        Device = new("--device") { Description = "auto | cpu | cuda (cuda:N for the N-th GPU)", DefaultValueFactory = _ => defaultDevice };
        // The value is checked as it is parsed: a run that needs no device (a render) does not resolve it,
        // and a value that names none was then accepted without a word.
        Device.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } v && TorchRuntime.DeviceNameProblem(v) is { } problem)
                result.AddError(problem);
        });
    }

    public void AddTo(Command c)
    {
        c.Options.Add(Device);
        c.Options.Add(Threads);
    }

    /// <summary>Sets the CPU threads and returns the device the options name.</summary>
    public TorchSharp.torch.Device Resolve(ParseResult r)
    {
        TorchRuntime.SetThreads(r.GetValue(Threads));
        return TorchRuntime.ResolveDevice(r.GetValue(Device));
    }
}

/// <summary>Options shared by the commands that run the network.</summary>
internal sealed class NetworkOptionSet
{
    public readonly Option<string> Model = new("--model")
    {
        Description = "checkpoint: 'default' (the project's own model, embedded), an official R2D2 .pt (as NAVER publishes it), a zip-format torch file,"
            + " or a .safetensors of this project (where a command allows it: 'rootsift' for the RootSIFT baseline, 'hloc:FILE' for the features in hloc's features.h5 FILE)",
        DefaultValueFactory = _ => DefaultModel.Name,
    };
    public readonly DeviceOptionSet Hardware = new();
    public Option<string> Device => Hardware.Device;
    public readonly Option<bool> Exact = new("--exact")
    {
        Description = "evaluate batch norms separately, as the official code does, instead of folding them into the convolutions (then every convolution is direct)",
    };
    public readonly Option<string> Convolutions = new("--convolutions")
    {
        Description = "auto (Winograd's where the CPU has AVX-512 or AVX2 with FMA, about twice as fast), winograd, or direct (oneDNN's kernels only); float32 on the CPU",
        DefaultValueFactory = _ => "auto",
    };
    public readonly Option<bool> ChannelsLast = new("--channels-last") { Description = "run convolutions in NHWC memory layout" };
    public readonly Option<string> Precision = new("--precision")
    {
        Description = "fp32 (equal to the official outputs) or bf16 (convolutions in bfloat16, ~98% of the keypoints: on CPUs with AVX512-BF16 as fast as fp32's Winograd convolutions, slower without; faster on GPUs; refused on CPUs without AVX-512 BW/VL/DQ or AVX-NE-CONVERT)",
        DefaultValueFactory = _ => "fp32",
    };

    public NetworkOptionSet()
    {
        Precision.AcceptOnlyFromAmong("fp32", "bf16");
        Convolutions.AcceptOnlyFromAmong("auto", "winograd", "direct");
    }

    public void AddTo(Command c)
    {
        c.Options.Add(Model);
        Hardware.AddTo(c);
        foreach (var o in new Option[] { Exact, ChannelsLast, Precision, Convolutions }) c.Options.Add(o);
    }

    /// <summary>The features these options name (<see cref="FeatureSourceSpec"/>), with the command's extraction settings.</summary>
    /// <param name="given">the command's extraction options: those given to RootSIFT or hloc, which do not use them, are refused
    /// (--top-k and --max-size were ignored without a word)</param>
    public FeatureSourceSpec Spec(ParseResult r, ExtractionSettings settings, ExtractionOptionSet? given = null) =>
        new(r.GetValue(Model)!, () => Hardware.Resolve(r), Get(r), settings)
        {
            R2D2OnlyOption = given?.R2D2OnlyGiven(r), PrecisionGiven = r.GetResult(Precision) is { Implicit: false },
        };

    public bool IsHloc(ParseResult r) => Spec(r, new ExtractionSettings()).IsHloc;

    public NetworkOptions Get(ParseResult r) => new()
    {
        FoldBatchNorm = !r.GetValue(Exact),
        ChannelsLast = r.GetValue(ChannelsLast),
        BFloat16 = r.GetValue(Precision) == "bf16",
        Winograd = r.GetValue(Convolutions) switch { "winograd" => true, "direct" => false, _ => null },
    };
}

/// <summary>The multi-scale extraction settings, each an option; defaults are the official ones.
/// Values out of range are usage errors naming the option (<see cref="ExtractionSettings.Validate"/>
/// then checks how they combine).</summary>
internal sealed class ExtractionOptionSet
{
    public readonly Option<double> ScaleF;
    public readonly Option<int> MinSize;
    public readonly Option<int> MaxSize;
    public readonly Option<double> MinScale;
    public readonly Option<double> MaxScale;
    public readonly Option<float> RelThr;
    public readonly Option<float> RepThr;
    public readonly Option<int> TopK;
    public readonly Option<long> MaxPixels;
    public readonly Option<bool> SubPixel = new("--subpixel") { Description = "refine keypoints by a quadratic fit of the repeatability peak" };

    /// <summary>The options with the official defaults, or with <paramref name="defaults"/> (a command's own, e.g. the demo's).</summary>
    public ExtractionOptionSet(ExtractionSettings? defaults = null)
    {
        var d = defaults ?? new ExtractionSettings();
        ScaleF = new Option<double>("--scale-f") { Description = "ratio between pyramid levels (> 1)", DefaultValueFactory = _ => d.ScaleFactor }.Above(1);
        MinSize = new Option<int>("--min-size") { Description = "smallest level's longer side (px)", DefaultValueFactory = _ => d.MinSize }.AtLeast(1);
        MaxSize = new Option<int>("--max-size") { Description = "largest level's longer side (px); 0: no cap", DefaultValueFactory = _ => d.MaxSize }.AtLeast(0);
        MinScale = new Option<double>("--min-scale") { Description = "smallest level scale", DefaultValueFactory = _ => d.MinScale }.Between(0, 1);
        MaxScale = new Option<double>("--max-scale") { Description = "largest level scale (≤ 1)", DefaultValueFactory = _ => d.MaxScale }.Check(v => v > 0 && v <= 1, "in (0, 1]");
        RelThr = new Option<float>("--reliability-thr") { Description = "reliability threshold", DefaultValueFactory = _ => d.ReliabilityThreshold }.Between(0, 1);
        RepThr = new Option<float>("--repeatability-thr") { Description = "repeatability threshold", DefaultValueFactory = _ => d.RepeatabilityThreshold }.Between(0, 1);
        TopK = new Option<int>("--top-k") { Description = "keypoints kept per image (0: all)", DefaultValueFactory = _ => d.TopK }.AtLeast(0);
        MaxPixels = new Option<long>("--max-pixels")
        {
            Description = "images with more pixels are refused, except sequential JPEGs that --max-size lets decode at 1/2, 1/4 or 1/8 size "
                + "(features then differ slightly from a whole decode)",
            DefaultValueFactory = _ => d.MaxPixels,
        }.Between(1, ImageLimits.MaxPixelsLimit);
    }

    public void AddTo(Command c)
    {
        foreach (var o in new Option[] { ScaleF, MinSize, MaxSize, MinScale, MaxScale, RelThr, RepThr, TopK, MaxPixels, SubPixel }) c.Options.Add(o);
    }

    /// <summary>The first option only R2D2's extraction uses that the command line gives, or null.</summary>
    public string? R2D2OnlyGiven(ParseResult r) =>
        new Option[] { ScaleF, MinSize, MaxSize, MinScale, MaxScale, RelThr, RepThr, TopK, SubPixel }
            .FirstOrDefault(o => r.GetResult(o) is { Implicit: false })?.Name;

    public ExtractionSettings Get(ParseResult r)
    {
        var s = new ExtractionSettings
        {
            ScaleFactor = r.GetValue(ScaleF), MinSize = r.GetValue(MinSize), MaxSize = r.GetValue(MaxSize),
            MinScale = r.GetValue(MinScale), MaxScale = r.GetValue(MaxScale),
            ReliabilityThreshold = r.GetValue(RelThr), RepeatabilityThreshold = r.GetValue(RepThr),
            TopK = r.GetValue(TopK), SubPixel = r.GetValue(SubPixel), MaxPixels = r.GetValue(MaxPixels),
        };
        // Each value is in range (the options' own checks); what remains is how two combine, a usage error too.
        if (s.MaxSize > 0 && s.MaxSize < s.MinSize) throw new UsageException($"--max-size {s.MaxSize} is below --min-size {s.MinSize}");
        if (s.MinScale > s.MaxScale) throw new UsageException($"--min-scale {s.MinScale} is above --max-scale {s.MaxScale}");
        s.Validate();
        return s;
    }
}

/// <summary>The options of the commands that compare feature methods on image pairs (eval-homography,
/// eval-wxbs): checkpoints and/or RootSIFT, the network's precision, RootSIFT's own settings, the
/// device and the extraction settings.</summary>
internal sealed class MethodComparisonOptionSet
{
    public readonly Option<string[]> Models = new("--model")
    {
        Description = $"one or more checkpoints ('default': the embedded model), and/or '{R2D2.Localization.Evaluation.HomographyEvalOptions.RootSiftName}' for the RootSIFT baseline (OpenCV SIFT)",
        Required = true, AllowMultipleArgumentsPerToken = true,
    };
    public readonly DeviceOptionSet Hardware = new();
    public readonly Option<string> Precision = new("--precision")
    {
        Description = "R2D2 network precision: fp32 (equal to the official outputs) or bf16 (convolutions in bfloat16)",
        DefaultValueFactory = _ => "fp32",
    };
    public readonly Option<int> SiftFeatures;
    public readonly Option<int> SiftMaxSize;
    public readonly ExtractionOptionSet Extraction = new();

    public MethodComparisonOptionSet()
    {
        Precision.AcceptOnlyFromAmong("fp32", "bf16");
        var d = new RootSiftSettings();
        SiftFeatures = new Option<int>("--sift-features") { Description = "RootSIFT: OpenCV SIFT's nfeatures", DefaultValueFactory = _ => d.MaxFeatures }.Between(1, 1_000_000);
        SiftMaxSize = new Option<int>("--sift-max-size")
        {
            Description = "RootSIFT: downscale images so the longer side is at most this (px); 0: full size", DefaultValueFactory = _ => d.MaxSize,
        }.Between(0, 16384);
    }

    /// <summary>--model, then the command's own options, then the shared rest.</summary>
    public void AddTo(Command c, params Option[] own)
    {
        c.Options.Add(Models);
        foreach (var o in own) c.Options.Add(o);
        Hardware.AddTo(c);
        foreach (var o in new Option[] { Precision, SiftFeatures, SiftMaxSize }) c.Options.Add(o);
        Extraction.AddTo(c);
    }

    public bool BFloat16(ParseResult r) => r.GetValue(Precision) == "bf16";

    public RootSiftSettings RootSift(ParseResult r)
    {
        var s = new RootSiftSettings { MaxFeatures = r.GetValue(SiftFeatures), MaxSize = r.GetValue(SiftMaxSize) };
        s.Validate();
        return s;
    }
}

/// <summary>--shard: the part of a stage's work one task of a cluster's array job runs.</summary>
internal sealed class ShardOption
{
    public readonly Option<string?> Shard = new("--shard")
    {
        Description = "run shard I of N of the work (I from 0), into its own output, for `localize merge`: I/N, auto (Slurm's "
            + "SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN of SLURM_ARRAY_TASK_COUNT) or auto/N (index SLURM_ARRAY_TASK_ID, for a task resubmitted alone)",
    };

    public void AddTo(Command c) => c.Options.Add(Shard);

    public R2D2.Localization.Shard Get(ParseResult r) =>
        r.GetValue(Shard) is { } text ? R2D2.Localization.Shard.Parse(text, Environment.GetEnvironmentVariable) : R2D2.Localization.Shard.All;
}

/// <summary>Range checks for numeric options: a value outside is a usage error (exit code 2) that
/// names the option and the range. NaN is outside every range: CompareTo orders it below all numbers.</summary>
internal static class OptionRange
{
    public static Option<T> AtLeast<T>(this Option<T> o, T min) where T : IComparable<T> =>
        o.Check(v => v.CompareTo(min) >= 0, $"≥ {min}");

    public static Option<T> Above<T>(this Option<T> o, T min) where T : IComparable<T> =>
        o.Check(v => v.CompareTo(min) > 0, $"> {min}");

    public static Option<T> Between<T>(this Option<T> o, T min, T max) where T : IComparable<T> =>
        o.Check(v => v.CompareTo(min) >= 0 && v.CompareTo(max) <= 0, $"in [{min}, {max}]");

    public static Option<T> Check<T>(this Option<T> o, Func<T, bool> ok, string range)
    {
        o.Validators.Add(result =>
        {
            T v;
            // A value that is not a number is the parser's own error (exit code 2): nothing to range-check.
            try { v = result.GetValueOrDefault<T>(); }
            catch (InvalidOperationException) { return; }
            if (!ok(v)) result.AddError($"{o.Name} must be {range}, not {v}");
        });
        return o;
    }
}

internal static class CommandErrors
{
    /// <summary>Runs a command body; known failures become one-line errors, exit code 1 (2 for a <see cref="UsageException"/>).</summary>
    /// <param name="onInterrupt">for a resumable command, what a user who stops it should do to go on</param>
    public static int Guard(Func<int> body, string? onInterrupt = null)
    {
        if (onInterrupt != null) Interruption.Hint(onInterrupt);
        try
        {
            return body();
        }
        // Parallel work wraps what one of its tasks threw: the first such error is the one to say.
        catch (AggregateException a) when (a.Flatten().InnerExceptions.FirstOrDefault(IsUserError) is { } e)
        {
            return Report(e);
        }
        catch (Exception e) when (IsUserError(e))
        {
            return Report(e);
        }
    }

    /// <summary>One line; exit code 2 for a usage error (as the parser's), 1 for a failed input or run.</summary>
    private static int Report(Exception e)
    {
        Reporter.Error(e.Message);
        if (e is not UsageException) return 1;
        Console.Error.WriteLine("(run with --help for usage)");
        return 2;
    }

    // The library's own errors share one base; the system ones are bad paths and files; an unknown
    // network or format is NotSupported. A database error the library did not name (its statements
    // name the file) is still one line, not a stack trace. An ArgumentException is not here: what
    // user input can cause is an R2D2Exception, so one is a bug in this program and keeps its trace.
    private static bool IsUserError(Exception e) => e is R2D2Exception or IOException or InvalidDataException
        or UnauthorizedAccessException or NotSupportedException or System.Data.Common.DbException;
}
