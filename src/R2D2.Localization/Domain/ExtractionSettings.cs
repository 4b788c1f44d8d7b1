using System.Globalization;
using System.Text.Json;

namespace R2D2.Localization;

/// <summary>
/// Multi-scale extraction settings; the defaults are the official extract.py's. Two feature sets
/// can only be matched when these (and the model) agree, so they are stored with every output.
/// </summary>
public sealed record ExtractionSettings
{
    /// <summary>Ratio between consecutive pyramid levels (official: 2^0.25).</summary>
    public double ScaleFactor { get; init; } = Math.Pow(2, 0.25);
    /// <summary>Levels whose longer side is below this are not processed (px).</summary>
    public int MinSize { get; init; } = 256;
    /// <summary>Levels whose longer side is above this are not processed (px); 0: no cap.</summary>
    public int MaxSize { get; init; } = 1024;
    public double MinScale { get; init; } = 0.0;
    public double MaxScale { get; init; } = 1.0;
    public float ReliabilityThreshold { get; init; } = 0.7f;
    public float RepeatabilityThreshold { get; init; } = 0.7f;
    /// <summary>Keypoints kept per image, best scores first; 0 keeps all.</summary>
    public int TopK { get; init; } = 5000;
    /// <summary>Refine each keypoint to sub-pixel precision by a quadratic fit of the repeatability
    /// peak in x and in y (off by default: the official extractor does not).</summary>
    public bool SubPixel { get; init; }
    /// <summary>Images with more pixels are not decoded whole (see <see cref="MultiScaleExtractor.ExtractFile"/>).
    /// A limit on inputs, not part of what the features are: it is not in <see cref="ToJson"/>, so
    /// it does not change the extractor's identity.</summary>
    public long MaxPixels { get; init; } = ImageLimits.DefaultMaxPixels;

    /// <summary>Throws <see cref="UsageException"/> (an option value) naming the first setting out of its range.</summary>
    public void Validate()
    {
        if (!(ScaleFactor > 1) || !double.IsFinite(ScaleFactor)) throw new UsageException($"scale factor must be a number > 1 (got {ScaleFactor})");
        if (MinSize < 1) throw new UsageException($"min size must be ≥ 1 (got {MinSize})");
        if (MaxSize < 0) throw new UsageException($"max size must be ≥ 0, 0 for no cap (got {MaxSize})");
        if (MaxSize > 0 && MaxSize < MinSize) throw new UsageException($"max size {MaxSize} is below min size {MinSize}");
        if (!(MaxScale > 0 && MaxScale <= 1)) throw new UsageException($"max scale must be in (0, 1] (got {MaxScale})");
        if (!(MinScale >= 0 && MinScale <= MaxScale)) throw new UsageException($"min scale must be in [0, max scale] (got {MinScale})");
        if (!(ReliabilityThreshold is >= 0 and <= 1)) throw new UsageException($"reliability threshold must be in [0, 1] (got {ReliabilityThreshold})");
        if (!(RepeatabilityThreshold is >= 0 and <= 1)) throw new UsageException($"repeatability threshold must be in [0, 1] (got {RepeatabilityThreshold})");
        if (TopK < 0) throw new UsageException($"top-k must be ≥ 0, 0 for all (got {TopK})");
        if (MaxPixels < 1 || MaxPixels > ImageLimits.MaxPixelsLimit)
            throw new UsageException($"max pixels must be in [1, {ImageLimits.MaxPixelsLimit}] (got {MaxPixels})");
    }

    /// <summary>Reads back <see cref="ToJson"/> (as stored in databases and feature files).</summary>
    public static ExtractionSettings FromJson(string json)
    {
        var d = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json) ?? throw new FormatException("empty settings");
        double D(string k) => d[k].ValueKind == JsonValueKind.String ? double.Parse(d[k].GetString()!, CultureInfo.InvariantCulture) : d[k].GetDouble();
        return new ExtractionSettings
        {
            ScaleFactor = D("scale_f"), MinSize = (int)D("min_size"), MaxSize = (int)D("max_size"),
            MinScale = D("min_scale"), MaxScale = D("max_scale"),
            ReliabilityThreshold = (float)D("reliability_thr"), RepeatabilityThreshold = (float)D("repeatability_thr"),
            TopK = (int)D("top_k"), SubPixel = d.TryGetValue("subpixel", out var sp) && sp.GetBoolean(),
        };
    }

    /// <summary>A canonical one-line JSON form, stable across runs (for databases and file headers).</summary>
    public string ToJson() => JsonSerializer.Serialize(new Dictionary<string, object>
    {
        ["scale_f"] = ScaleFactor.ToString("R", CultureInfo.InvariantCulture),
        ["min_size"] = MinSize,
        ["max_size"] = MaxSize,
        ["min_scale"] = MinScale.ToString("R", CultureInfo.InvariantCulture),
        ["max_scale"] = MaxScale.ToString("R", CultureInfo.InvariantCulture),
        ["reliability_thr"] = ReliabilityThreshold.ToString("R", CultureInfo.InvariantCulture),
        ["repeatability_thr"] = RepeatabilityThreshold.ToString("R", CultureInfo.InvariantCulture),
        ["top_k"] = TopK,
        ["subpixel"] = SubPixel,
    });
}
