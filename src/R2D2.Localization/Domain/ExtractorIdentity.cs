using System.Text.Json;

namespace R2D2.Localization;

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
    /// <summary>Features read from an hloc features.h5 (another extractor's: SuperPoint, DISK, R2D2
    /// through hloc...): stored as float16 in the project's table, as R2D2's are.</summary>
    public const string HlocType = "hloc";

    public static ExtractorIdentity ForR2D2(string model, string net, string weightsHash, ExtractionSettings settings, int descriptorDim = 128) =>
        new(R2D2Type, model, net, weightsHash, settings.ToJson(), descriptorDim);

    /// <summary>RootSIFT has no network; <paramref name="settings"/> is its settings' JSON.</summary>
    public static ExtractorIdentity ForRootSift(string settings, int descriptorDim = 128) =>
        new(RootSiftType, RootSiftType, "", "", settings, descriptorDim);

    /// <summary>Features of an hloc file (<paramref name="path"/>, full): the file names no
    /// extractor, so a database takes one file's features (its settings are the file's path: another
    /// file is refused as another checkpoint is), while a map's queries may read another file whose
    /// descriptors have the map's size (<c>FeatureSource.ForMap</c>). <see cref="Model"/> is the
    /// file's name.</summary>
    public static ExtractorIdentity ForHloc(string path, int descriptorDim) =>
        new(HlocType, System.IO.Path.GetFileName(path), "", "", JsonSerializer.Serialize(new Dictionary<string, string> { ["file"] = path }), descriptorDim);

    /// <summary>True when the descriptors go to COLMAP's uint8 <c>descriptors</c> table.</summary>
    public bool UsesColmapDescriptors => FeatureType == RootSiftType;

    public void Validate()
    {
        if (FeatureType != R2D2Type && FeatureType != RootSiftType && FeatureType != HlocType)
            throw new ArgumentException($"unknown feature type '{FeatureType}' (known: {R2D2Type}, {RootSiftType}, {HlocType})");
        if (DescriptorDim <= 0) throw new ArgumentException($"descriptor dimension must be positive (got {DescriptorDim})");
    }

    /// <summary>
    /// What makes features of <paramref name="other"/> incomparable with these: one entry per
    /// field that differs, and per settings key, e.g. "max_size: 512 in the database, 1024 now"
    /// (<paramref name="mine"/> and <paramref name="theirs"/> name the two sides).
    /// </summary>
    public IReadOnlyList<string> Differences(ExtractorIdentity other, string mine = "in the database", string theirs = "now")
    {
        var d = new List<string>();
        void Add(string what, string a, string b)
        {
            if (a != b) d.Add($"{what}: {(a.Length > 0 ? a : "(none)")} {mine}, {(b.Length > 0 ? b : "(none)")} {theirs}");
        }
        Add("feature type", FeatureType, other.FeatureType);
        Add("network", Net, other.Net);
        Add("weights", WeightsHash, other.WeightsHash);
        Add("descriptor dimension", DescriptorDim.ToString(), other.DescriptorDim.ToString());
        // Settings of another feature type are another vocabulary: the type says it all.
        if (FeatureType == other.FeatureType && Settings != other.Settings)
        {
            var (a, b) = (SettingsValues(Settings), SettingsValues(other.Settings));
            if (a == null || b == null) Add("settings", Settings, other.Settings);
            else
                foreach (var key in a.Keys.Concat(b.Keys).Distinct())
                    Add(key, a.GetValueOrDefault(key, ""), b.GetValueOrDefault(key, ""));
        }
        return d;
    }

    /// <summary>The settings JSON's keys and values as text; null when it is not a JSON object.</summary>
    private static Dictionary<string, string>? SettingsValues(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)?
                .ToDictionary(kv => kv.Key, kv => kv.Value.ValueKind == JsonValueKind.String ? kv.Value.GetString()! : kv.Value.GetRawText());
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The extractor in a few words (no settings), for messages.</summary>
    public string Name => FeatureType switch
    {
        R2D2Type => $"{FeatureType} {Model} ({Net}, weights {WeightsHash})",
        HlocType => $"hloc file {Model} ({DescriptorDim}-d)",
        _ => FeatureType,
    };

    public string Describe() => FeatureType switch
    {
        R2D2Type => $"{FeatureType} {Model} ({Net}, weights {WeightsHash}, dim {DescriptorDim}, settings {Settings})",
        HlocType => $"hloc file {Model} (dim {DescriptorDim})",
        _ => $"{FeatureType} (dim {DescriptorDim}, settings {Settings})",
    };
}
