using R2D2.Localization.Formats;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Features;

/// <summary>Something that turns an image into features (R2D2 or RootSIFT), with the identity that
/// databases and feature files record so features of different extractors never mix.</summary>
public sealed class FeatureSource : IDisposable
{
    private readonly Func<RgbImage, FeatureSet> _extract;
    private readonly Func<string, (FeatureSet, int)> _extractFile;
    private readonly IDisposable? _owned;
    private readonly Func<int, int, string?> _sizeProblem;

    private FeatureSource(Func<RgbImage, FeatureSet> extract, Func<string, (FeatureSet, int)> extractFile,
        ExtractorIdentity identity, string description, IDisposable? owned, Func<int, int, string?>? sizeProblem = null)
    {
        _extract = extract;
        _extractFile = extractFile;
        _sizeProblem = sizeProblem ?? ((_, _) => null);
        Identity = identity;
        Description = description;
        _owned = owned;
    }

    public ExtractorIdentity Identity { get; }
    public string Description { get; }

    public FeatureSet Extract(RgbImage image) => _extract(image);

    /// <summary>Reads and extracts an image file within the pixel limit (R2D2: see
    /// <see cref="MultiScaleExtractor.ExtractFile"/>); also returns the reduction it was decoded at.</summary>
    public (FeatureSet Features, int Reduction) ExtractFile(string path) => _extractFile(path);

    /// <summary>Why a width×height image would give no features (R2D2: no pyramid level within the
    /// size range), or null: a run of generated photos says so before it renders them.</summary>
    public string? SizeProblem(int width, int height) => _sizeProblem(width, height);

    /// <summary>R2D2 with a loaded network (the source owns and disposes it).</summary>
    public static FeatureSource ForR2D2(R2D2Network network, ExtractionSettings settings, string modelName)
    {
        var extractor = new MultiScaleExtractor(network, settings);
        return new FeatureSource(img => extractor.Extract(img), path => extractor.ExtractFile(path), ExtractorIdentity.ForR2D2(modelName, extractor.Network.Architecture.Net, extractor.Network.WeightsHash, extractor.Settings, extractor.Network.Architecture.DescriptorDim),
            $"R2D2 {modelName} ({network.Architecture.Net}) on {network.Device}", network, extractor.SizeProblem);
    }

    /// <param name="maxPixels">Larger images are refused (SIFT has no reduced decoding here).</param>
    public static FeatureSource ForRootSift(RootSiftSettings? settings = null, long maxPixels = ImageLimits.DefaultMaxPixels)
    {
        var extractor = new RootSiftExtractor(settings);
        return new FeatureSource(img => extractor.Extract(img), path => (extractor.Extract(ImageFile.ReadRgb(path, maxPixels)), 1),
            ExtractorIdentity.ForRootSift(extractor.Settings.ToJson()),
            $"RootSIFT (OpenCV SIFT, {extractor.Settings.MaxFeatures} features, ≤ {extractor.Settings.MaxSize} px)", null);
    }

    /// <summary>
    /// The extractor a map's queries need: the map's own (the same network, weights and settings;
    /// RootSIFT with the map's settings). <paramref name="model"/> is the checkpoint the user gave
    /// (--model; null when none), <paramref name="recordedModel"/> the one the map records
    /// (build-map's note 'model_path'), used when no model is given. The errors say what to give instead.
    /// </summary>
    public static FeatureSource ForMap(ExtractorIdentity mapExtractor, string mapPath, string? model, string? recordedModel,
        TorchSharp.torch.Device device, bool bf16)
    {
        if (mapExtractor.FeatureType == ExtractorIdentity.RootSiftType)
            return ForRootSift(RootSiftSettings.FromJson(mapExtractor.Settings));
        string leaveOut = recordedModel != null ? $" (or leave --model out to use {recordedModel})" : "";
        if (string.Equals(model, ExtractorIdentity.RootSiftType, StringComparison.OrdinalIgnoreCase))
            throw new R2D2Exception(mapPath, 0, $"was built with R2D2 features ({mapExtractor.Name}) and its queries need the same extractor, "
                + $"so --model rootsift cannot query it: give the map's checkpoint with --model{leaveOut}, or build a RootSIFT map with `build-map --model rootsift`");
        var path = model ?? recordedModel
            ?? throw new R2D2Exception(mapPath, 0, $"does not record the checkpoint it was built with: give the checkpoint of {mapExtractor.Model} with --model");
        if (!DefaultModel.IsDefault(path) && !File.Exists(path))
            throw model != null
                ? new R2D2Exception(path, 0, $"checkpoint not found; {mapPath} was built with {mapExtractor.Model}: give its checkpoint with --model{leaveOut}")
                : new R2D2Exception(mapPath, 0, $"was built with the checkpoint {path}, which is gone (moved or deleted): give it with --model");
        var net = ModelLoader.Load(path, device, new NetworkOptions { BFloat16 = bf16 });
        var source = ForR2D2(net, ExtractionSettings.FromJson(mapExtractor.Settings), ModelLoader.ModelName(path));
        var diff = mapExtractor.Differences(source.Identity, "in the map", "in this checkpoint");
        if (diff.Count == 0) return source;
        source.Dispose();
        throw new R2D2Exception(path, 0, $"is not the model {mapPath} was built with ({string.Join("; ", diff)}): give the checkpoint of {mapExtractor.Model} with --model{leaveOut}");
    }

    public void Dispose() => _owned?.Dispose();
}
