using System.CommandLine;
using R2D2.Localization.Features;

namespace R2D2.Localization.Cli.Commands;

/// <summary>Where the tensors run (--device) and on how many CPU threads (--threads): every command that runs torch.</summary>
internal sealed class DeviceOptionSet
{
    public readonly Option<string> Device;
    public readonly Option<int> Threads = new("--threads") { Description = "CPU threads (0: all cores)", DefaultValueFactory = _ => 0 };

    public DeviceOptionSet(string defaultDevice = "auto") =>
        Device = new("--device") { Description = "auto | cpu | cuda", DefaultValueFactory = _ => defaultDevice };

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
            + " or a .safetensors of this project (where a command allows it: 'rootsift' for the RootSIFT baseline)",
        DefaultValueFactory = _ => DefaultModel.Name,
    };
    public readonly DeviceOptionSet Hardware = new();
    public Option<string> Device => Hardware.Device;
    public readonly Option<bool> Exact = new("--exact")
    {
        Description = "evaluate batch norms separately, as the official code does, instead of folding them into the convolutions",
    };
    public readonly Option<bool> ChannelsLast = new("--channels-last") { Description = "run convolutions in NHWC memory layout" };
    public readonly Option<string> Precision = new("--precision")
    {
        Description = "fp32 (equal to the official outputs) or bf16 (convolutions in bfloat16: ~1.7x faster on CPUs with AVX512-BF16, ~98% of the keypoints)",
        DefaultValueFactory = _ => "fp32",
    };

    public NetworkOptionSet() => Precision.AcceptOnlyFromAmong("fp32", "bf16");

    public void AddTo(Command c)
    {
        c.Options.Add(Model);
        Hardware.AddTo(c);
        foreach (var o in new Option[] { Exact, ChannelsLast, Precision }) c.Options.Add(o);
    }

    public R2D2Network Load(ParseResult r) => ModelLoader.Load(r.GetValue(Model)!, Hardware.Resolve(r), Get(r));

    public bool IsRootSift(ParseResult r) => string.Equals(r.GetValue(Model), "rootsift", StringComparison.OrdinalIgnoreCase);

    /// <summary>The checkpoint a map built with these options records as its model; null for RootSIFT.</summary>
    public string? MapModel(ParseResult r) => IsRootSift(r) ? null : r.GetValue(Model);

    /// <summary>The feature source the options name: R2D2 with the given settings, or RootSIFT.</summary>
    public FeatureSource LoadSource(ParseResult r, ExtractionSettings settings) =>
        IsRootSift(r) ? FeatureSource.ForRootSift()
                      : FeatureSource.ForR2D2(Load(r), settings, ModelLoader.ModelName(r.GetValue(Model)!));

    public NetworkOptions Get(ParseResult r) => new()
    {
        FoldBatchNorm = !r.GetValue(Exact),
        ChannelsLast = r.GetValue(ChannelsLast),
        BFloat16 = r.GetValue(Precision) == "bf16",
    };
}

/// <summary>The multi-scale extraction settings, each an option; defaults are the official ones.</summary>
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
    public readonly Option<bool> SubPixel = new("--subpixel") { Description = "refine keypoints by a quadratic fit of the repeatability peak" };

    /// <summary>The options with the official defaults, or with <paramref name="defaults"/> (a command's own, e.g. the demo's).</summary>
    public ExtractionOptionSet(ExtractionSettings? defaults = null)
    {
        var d = defaults ?? new ExtractionSettings();
        ScaleF = new("--scale-f") { Description = "ratio between pyramid levels", DefaultValueFactory = _ => d.ScaleFactor };
        MinSize = new("--min-size") { Description = "smallest level's longer side (px)", DefaultValueFactory = _ => d.MinSize };
        MaxSize = new("--max-size") { Description = "largest level's longer side (px); 0: no cap", DefaultValueFactory = _ => d.MaxSize };
        MinScale = new("--min-scale") { Description = "smallest level scale", DefaultValueFactory = _ => d.MinScale };
        MaxScale = new("--max-scale") { Description = "largest level scale (≤ 1)", DefaultValueFactory = _ => d.MaxScale };
        RelThr = new("--reliability-thr") { Description = "reliability threshold", DefaultValueFactory = _ => d.ReliabilityThreshold };
        RepThr = new("--repeatability-thr") { Description = "repeatability threshold", DefaultValueFactory = _ => d.RepeatabilityThreshold };
        TopK = new("--top-k") { Description = "keypoints kept per image (0: all)", DefaultValueFactory = _ => d.TopK };
    }

    public void AddTo(Command c)
    {
        foreach (var o in new Option[] { ScaleF, MinSize, MaxSize, MinScale, MaxScale, RelThr, RepThr, TopK, SubPixel }) c.Options.Add(o);
    }

    public ExtractionSettings Get(ParseResult r)
    {
        var s = new ExtractionSettings
        {
            ScaleFactor = r.GetValue(ScaleF), MinSize = r.GetValue(MinSize), MaxSize = r.GetValue(MaxSize),
            MinScale = r.GetValue(MinScale), MaxScale = r.GetValue(MaxScale),
            ReliabilityThreshold = r.GetValue(RelThr), RepeatabilityThreshold = r.GetValue(RepThr),
            TopK = r.GetValue(TopK), SubPixel = r.GetValue(SubPixel),
        };
        s.Validate();
        return s;
    }
}

internal static class CommandErrors
{
    /// <summary>Runs a command body; known failures become one-line errors and exit code 1.</summary>
    public static int Guard(Func<int> body)
    {
        try
        {
            return body();
        }
        // The library's own errors share one base; the system ones are bad paths and files.
        catch (Exception e) when (e is R2D2Exception or ArgumentException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Reporter.Error(e.Message);
            return 1;
        }
    }
}
