using TorchSharp;

namespace R2D2.Localization.Features;

/// <summary>
/// The features a command's options name, opened when a stage needs them: an R2D2 checkpoint
/// ('default', a .pt or .safetensors) run with <see cref="Network"/> and <see cref="Settings"/>,
/// 'rootsift', or 'hloc:FILE' (the features of hloc's features.h5). Options that apply to R2D2
/// only are refused for the other two (they were ignored without a word).
/// </summary>
/// <param name="Model">--model as given</param>
/// <param name="Device">the network's device, resolved when the network is loaded (RootSIFT and hloc need none)</param>
public sealed record FeatureSourceSpec(string Model, Func<torch.Device> Device, NetworkOptions Network, ExtractionSettings Settings)
{
    /// <summary>An R2D2-only extraction option that was given (its name, e.g. --top-k); null: none.</summary>
    public string? R2D2OnlyOption { get; init; }
    /// <summary>--precision was given (it applies to a network).</summary>
    public bool PrecisionGiven { get; init; }

    public bool IsRootSift => string.Equals(Model, "rootsift", StringComparison.OrdinalIgnoreCase);
    public bool IsHloc => FeatureSource.IsHloc(Model);
    /// <summary>The checkpoint a map built from these features records as its model; null for RootSIFT.</summary>
    public string? MapModel => IsRootSift ? null : Model;

    /// <summary>Refuses options that do not apply to these features; reads nothing, so a job calls it
    /// with its other option checks, before its inputs (<see cref="Open"/> calls it again).</summary>
    public void CheckOptions()
    {
        if (IsRootSift && R2D2OnlyOption is { } option)
            throw new UsageException($"{option} applies to R2D2 models; RootSIFT extracts its own 5000 features at ≤ 1024 px (--max-pixels applies to both)");
        if (IsHloc && R2D2OnlyOption is { } hlocOption)
            throw new UsageException($"{hlocOption} applies to R2D2 models; with --model hloc:FILE the features are the file's, as hloc extracted them");
        if ((IsRootSift || IsHloc) && PrecisionGiven)
            throw new UsageException($"--precision applies to R2D2 models, not to --model {Model} (no network computes its features)");
    }

    /// <summary>The source: RootSIFT, hloc's file, or the network loaded on the device.</summary>
    public FeatureSource Open()
    {
        CheckOptions();
        return IsRootSift ? FeatureSource.ForRootSift(maxPixels: Settings.MaxPixels)
            : IsHloc ? FeatureSource.ForHloc(Model)
            : FeatureSource.ForR2D2(OpenNetwork(), Settings, ModelLoader.ModelName(Model));
    }

    /// <summary>The R2D2 network itself (what a command that draws its outputs needs); RootSIFT and hloc have none.</summary>
    public R2D2Network OpenNetwork() => IsRootSift
        ? throw new UsageException("--model rootsift: this command needs an R2D2 checkpoint (RootSIFT has no network; 'default' is the embedded model)")
        : IsHloc ? throw new UsageException($"--model {Model}: this command needs an R2D2 checkpoint (hloc's features are read from the file; 'default' is the embedded model)")
        : ModelLoader.Load(Model, Device(), Network);
}
