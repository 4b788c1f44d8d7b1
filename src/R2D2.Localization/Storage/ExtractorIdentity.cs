using R2D2.Localization.Features;

namespace R2D2.Localization.Storage;

/// <summary>
/// Which extractor produced a database's features. Features are only comparable when the feature
/// type, network, weights, settings and descriptor size agree, so a database holds features of one
/// extractor and refuses others. <see cref="Model"/> (the checkpoint's name) is informational: a
/// checkpoint converted to another file or format keeps its weights hash and stays compatible.
/// </summary>
public sealed record ExtractorIdentity(string FeatureType, string Model, string Net, string WeightsHash, string Settings, int DescriptorDim)
{
    /// <summary>R2D2 descriptors: stored as float16 in the project's table.</summary>
    public const string R2D2Type = "r2d2";
    /// <summary>RootSIFT descriptors: stored as uint8 in COLMAP's table, as COLMAP stores SIFT.</summary>
    public const string RootSiftType = "rootsift";

    public static ExtractorIdentity ForR2D2(string model, string net, string weightsHash, ExtractionSettings settings, int descriptorDim = 128) =>
        new(R2D2Type, model, net, weightsHash, settings.ToJson(), descriptorDim);

    public static ExtractorIdentity ForR2D2(MultiScaleExtractor extractor, string model) =>
        ForR2D2(model, extractor.Network.Architecture.Net, extractor.Network.WeightsHash, extractor.Settings,
            extractor.Network.Architecture.DescriptorDim);

    /// <summary>RootSIFT has no network; <paramref name="settings"/> is its settings' JSON.</summary>
    public static ExtractorIdentity ForRootSift(string settings, int descriptorDim = 128) =>
        new(RootSiftType, RootSiftType, "", "", settings, descriptorDim);

    /// <summary>True when the descriptors go to COLMAP's uint8 <c>descriptors</c> table.</summary>
    public bool UsesColmapDescriptors => FeatureType == RootSiftType;

    public void Validate()
    {
        if (FeatureType != R2D2Type && FeatureType != RootSiftType)
            throw new ArgumentException($"unknown feature type '{FeatureType}' (known: {R2D2Type}, {RootSiftType})");
        if (DescriptorDim <= 0) throw new ArgumentException($"descriptor dimension must be positive (got {DescriptorDim})");
    }

    /// <summary>The fields that make features of the two extractors incomparable.</summary>
    public IReadOnlyList<string> Differences(ExtractorIdentity other)
    {
        var d = new List<string>();
        if (FeatureType != other.FeatureType) d.Add($"feature type ({FeatureType} vs {other.FeatureType})");
        if (Net != other.Net) d.Add($"network ({Net} vs {other.Net})");
        if (WeightsHash != other.WeightsHash) d.Add($"weights ({WeightsHash} vs {other.WeightsHash})");
        if (Settings != other.Settings) d.Add($"settings ({Settings} vs {other.Settings})");
        if (DescriptorDim != other.DescriptorDim) d.Add($"descriptor dimension ({DescriptorDim} vs {other.DescriptorDim})");
        return d;
    }

    public string Describe() => FeatureType == R2D2Type
        ? $"{FeatureType} {Model} ({Net}, weights {WeightsHash}, dim {DescriptorDim}, settings {Settings})"
        : $"{FeatureType} (dim {DescriptorDim}, settings {Settings})";
}
