using R2D2.Localization.Features;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Pipeline;

/// <summary>
/// Query features kept between runs (`evaluate-retrieval --features-cache DIR`): a sweep over
/// retrieval and matching settings then extracts each query once instead of once per run. A file
/// is `DIR/&lt;query name&gt;.features.safetensors` (the query's folders mirrored) and is used only when
/// its metadata names the same extractor (<see cref="ExtractorIdentity.Describe"/>), image size and
/// pixels (a hash: two sets may hold other photos under the same names, day and night copies of a
/// scene); otherwise, or when the file cannot be read (cut short by a kill of an older version, or
/// damaged: counted in <see cref="Damaged"/>), the query is extracted again and the file replaced
/// (atomically).
/// </summary>
public sealed class QueryFeatureCache
{
    private const string IdentityKey = "extractor";
    private const string PixelsKey = "pixels_sha256";
    private readonly string _folder;
    private readonly string _identity;

    public QueryFeatureCache(string folder, ExtractorIdentity identity)
    {
        OutputFile.RefuseFileAsFolder(folder, "--features-cache");
        _folder = folder;
        _identity = identity.Describe();
    }

    public int Hits { get; private set; }
    public int Misses { get; private set; }
    /// <summary>The cache files that could not be read, extracted again and replaced.</summary>
    public List<string> Damaged { get; } = new();

    public string PathOf(string queryName)
    {
        var rel = queryName.Replace('\\', '/').TrimStart('/');
        if (rel.Split('/').Any(p => p == ".."))
            throw new R2D2Exception($"query name '{queryName}' leaves the features cache folder");
        return Path.Combine(_folder, rel + ".features.safetensors");
    }

    /// <summary>The cached features of the query, or <paramref name="extract"/>'s (then cached).
    /// Seconds: the extraction's, or the original extraction's when cached (stored with it).</summary>
    public (FeatureSet Features, double Seconds) GetOrExtract(string queryName, RgbImage image, Func<RgbImage, FeatureSet> extract)
    {
        var path = PathOf(queryName);
        var pixels = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(image.Pixels));
        if (File.Exists(path) && ReadOrNull(path) is var (f, meta))
        {
            if (meta.GetValueOrDefault(IdentityKey) == _identity && f.ImageWidth == image.Width && f.ImageHeight == image.Height
                && meta.GetValueOrDefault(PixelsKey) == pixels
                && double.TryParse(meta.GetValueOrDefault("extract_seconds"), System.Globalization.CultureInfo.InvariantCulture, out var s))
            {
                Hits++;
                return (f, s);
            }
        }
        Misses++;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var features = extract(image);
        double seconds = sw.Elapsed.TotalSeconds;
        OutputFile.CreateFolder(Path.GetDirectoryName(path)!);
        FeatureFiles.WriteSafetensors(path, features, new Dictionary<string, string>
        {
            [IdentityKey] = _identity,
            ["image"] = queryName,
            [PixelsKey] = pixels,
            ["extract_seconds"] = seconds.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        });
        return (features, seconds);
    }

    /// <summary>A cache file's features, or null when it cannot be read (a cache miss, not the query's failure).</summary>
    private (FeatureSet, IReadOnlyDictionary<string, string>)? ReadOrNull(string path)
    {
        try { return FeatureFiles.ReadSafetensors(path); }
        catch (Exception e) when (e is R2D2Exception or IOException or InvalidDataException or ArgumentException or FormatException)
        {
            Damaged.Add(path);
            return null;
        }
    }
}
