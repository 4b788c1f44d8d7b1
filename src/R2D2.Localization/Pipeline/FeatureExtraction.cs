using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Pipeline;

/// <summary>The outcome of one image of an extraction run. <paramref name="Reduction"/>: the image was
/// over the pixel limit and decoded at 1/Reduction of its size (1: decoded whole).</summary>
public sealed record ImageOutcome(ImageInput Image, string? OutputPath, int Keypoints, double Seconds, bool Skipped, string? Error, int Reduction = 1)
{
    /// <summary>What the log says of an image decoded reduced, else null.</summary>
    public string? ReductionNote => Reduction > 1 ? $"over --max-pixels, decoded at 1/{Reduction} size" : null;
}

/// <summary>
/// Extracts features of many images into one file per image (hloc-style stage: inputs on disk to
/// outputs on disk). Resumable: an image whose output file exists with the same model, settings
/// and image bytes (their SHA-256) is skipped. A bad image is reported and the others go on.
/// </summary>
public sealed class FeatureExtraction
{
    private readonly MultiScaleExtractor _extractor;
    private readonly string _modelName;

    public FeatureExtraction(MultiScaleExtractor extractor, string modelName)
    {
        _extractor = extractor;
        _modelName = modelName;
    }

    public IReadOnlyDictionary<string, string> Metadata => new Dictionary<string, string>
    {
        ["model"] = _modelName,
        ["net"] = _extractor.Network.Architecture.Net,
        ["weights"] = _extractor.Network.WeightsHash,
        ["settings"] = _extractor.Settings.ToJson(),
        // It decides whether a large image is decoded reduced, whose features differ.
        ["max_pixels"] = _extractor.Settings.MaxPixels.ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>The image's feature file: its name's folders mirrored below <paramref name="outDir"/>
    /// (see <see cref="ImageInput.OutputName"/>: never outside it).</summary>
    public static string OutputPath(string outDir, ImageInput image, FeatureFileFormat format)
    {
        var rel = Path.GetDirectoryName(image.OutputName) ?? "";
        return Path.Combine(outDir, rel, FeatureFiles.FileName(image.Path, format));
    }

    public ImageOutcome Run(ImageInput image, string outDir, FeatureFileFormat format, bool overwrite)
    {
        var output = OutputPath(outDir, image, format);
        // The image's bytes too: one replaced under its name was "up to date" by the model and settings alone.
        if (!overwrite && File.Exists(output))
        {
            if (ImageFile.ContentHashOrNull(image.Path) is { } hash && IsUpToDate(output, format, hash))
                return new ImageOutcome(image, output, -1, 0, Skipped: true, null);
        }
        try
        {
            var sw = Stopwatch.StartNew();
            var (features, reduction, decodedHash) = _extractor.ExtractFile(image.Path);
            double seconds = sw.Elapsed.TotalSeconds;
            OutputFile.CreateFolder(Path.GetDirectoryName(output)!);
            // The hash of the bytes decoded, not of a read before: a file replaced in between is recorded as what was extracted.
            var meta = new Dictionary<string, string>(Metadata) { ["image"] = image.Name, ["image_sha256"] = decodedHash! };
            FeatureFiles.Write(output, features, format, meta);
            return new ImageOutcome(image, output, features.Count, seconds, false, null, reduction);
        }
        catch (ImageFileException e)
        {
            return new ImageOutcome(image, null, 0, 0, false, e.Message);
        }
        catch (ImageTooSmallException e)
        {
            return new ImageOutcome(image, null, 0, 0, false, $"{image.Path}: {e.Message}");
        }
    }

    private bool IsUpToDate(string output, FeatureFileFormat format, string imageHash)
    {
        if (!File.Exists(output)) return false;
        if (format == FeatureFileFormat.R2d2) return false; // the official file records no settings: redo it
        try
        {
            var meta = SafeTensors.ReadMetadata(output); // the header only: the descriptors are not needed
            // Files of earlier versions record neither the image's hash nor --max-pixels: taken as they
            // are (an extraction resumed across an upgrade is not done again from the start).
            static bool Recorded(string key) => key is "image_sha256" or "max_pixels";
            return Metadata.Append(new("image_sha256", imageHash))
                .All(kv => meta.TryGetValue(kv.Key, out var v) ? v == kv.Value : Recorded(kv.Key) && !meta.ContainsKey("image_sha256"));
        }
        catch (Exception e) when (e is IOException or DataFormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return false; // a half-written or foreign file: extract again
        }
    }
}
