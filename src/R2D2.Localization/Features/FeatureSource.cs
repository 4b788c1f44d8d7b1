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

    private FeatureSource(Func<RgbImage, FeatureSet> extract, Func<string, (FeatureSet, int)> extractFile,
        ExtractorIdentity identity, string description, IDisposable? owned)
    {
        _extract = extract;
        _extractFile = extractFile;
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

    /// <summary>R2D2 with a loaded network (the source owns and disposes it).</summary>
    public static FeatureSource ForR2D2(R2D2Network network, ExtractionSettings settings, string modelName)
    {
        var extractor = new MultiScaleExtractor(network, settings);
        return new FeatureSource(img => extractor.Extract(img), path => extractor.ExtractFile(path), ExtractorIdentity.ForR2D2(extractor, modelName),
            $"R2D2 {modelName} ({network.Architecture.Net}) on {network.Device}", network);
    }

    /// <param name="maxPixels">Larger images are refused (SIFT has no reduced decoding here).</param>
    public static FeatureSource ForRootSift(RootSiftSettings? settings = null, long maxPixels = ImageFile.DefaultMaxPixels)
    {
        var extractor = new RootSiftExtractor(settings);
        return new FeatureSource(img => extractor.Extract(img), path => (extractor.Extract(ImageFile.ReadRgb(path, maxPixels)), 1),
            ExtractorIdentity.ForRootSift(extractor.Settings.ToJson()),
            $"RootSIFT (OpenCV SIFT, {extractor.Settings.MaxFeatures} features, ≤ {extractor.Settings.MaxSize} px)", null);
    }

    public void Dispose() => _owned?.Dispose();
}
