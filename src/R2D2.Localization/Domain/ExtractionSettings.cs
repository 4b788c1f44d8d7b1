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
    /// <summary>Levels whose longer side is above this are not processed (px); 0 or less: no cap.</summary>
    public int MaxSize { get; init; } = 1024;
    public double MinScale { get; init; } = 0.0;
    public double MaxScale { get; init; } = 1.0;
    public float ReliabilityThreshold { get; init; } = 0.7f;
    public float RepeatabilityThreshold { get; init; } = 0.7f;
    /// <summary>Keypoints kept per image, best scores first; 0 or less keeps all.</summary>
    public int TopK { get; init; } = 5000;
    /// <summary>Refine each keypoint to sub-pixel precision by a quadratic fit of the repeatability
    /// peak in x and in y (off by default: the official extractor does not).</summary>
    public bool SubPixel { get; init; }

    public void Validate()
    {
        if (!(ScaleFactor > 1)) throw new ArgumentException($"scale factor must be > 1 (got {ScaleFactor})");
        if (MinSize < 1) throw new ArgumentException($"min size must be ≥ 1 (got {MinSize})");
        if (MaxSize > 0 && MaxSize < MinSize) throw new ArgumentException($"max size {MaxSize} is below min size {MinSize}");
        if (MaxScale > 1) throw new ArgumentException($"max scale must be ≤ 1 (got {MaxScale})");
        if (MinScale < 0 || MinScale > MaxScale) throw new ArgumentException($"min scale must be in [0, max scale] (got {MinScale})");
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
