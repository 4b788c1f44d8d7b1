using System.Diagnostics;
using System.Text.Json;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

/// <summary>How an extraction into feature files runs (see <see cref="ExtractRunner.ToFiles"/>).</summary>
public sealed record ExtractOptions
{
    /// <summary>The folder for one feature file per image (created if missing).</summary>
    public required string OutputDir { get; init; }
    public FeatureFileFormat Format { get; init; } = FeatureFileFormat.Safetensors;
    /// <summary>Extract again even when an up-to-date output exists.</summary>
    public bool Overwrite { get; init; }
    /// <summary>Timing and memory statistics (JSON) of the extracted images; null: none written.</summary>
    public string? StatsPath { get; init; }
    /// <summary>Untimed extra runs on the first image before timing (benchmarks).</summary>
    public int Warmup { get; init; }
}

/// <summary>What `localize extract` is asked: images and folders of images, into a feature database
/// (<see cref="Database"/>) or one feature file per image (<see cref="Files"/>), all of them or a shard.</summary>
public sealed record ExtractJob
{
    /// <summary>Images and folders of images (<see cref="ImageList.Resolve"/>).</summary>
    public required IReadOnlyList<string> Images { get; init; }
    /// <summary>The feature database (a shard's own with <see cref="Shard"/>); null: feature files.</summary>
    public string? Database { get; init; }
    /// <summary>Feature files' options; null: a database.</summary>
    public ExtractOptions? Files { get; init; }
    public Shard Shard { get; init; } = Shard.All;
}

/// <summary>The images of an extraction run, in the input order, and its time in all.</summary>
public sealed record ExtractSummary(IReadOnlyList<ImageOutcome> Outcomes, double Seconds)
{
    public IReadOnlyList<ImageOutcome> Extracted => Outcomes.Where(o => o.Error == null && !o.Skipped).ToList();
    public int SkippedCount => Outcomes.Count(o => o.Skipped);
    public IReadOnlyList<ImageOutcome> Failed => Outcomes.Where(o => o.Error != null).ToList();
    public bool HasErrors => Outcomes.Any(o => o.Error != null);

    /// <summary>"N of M image(s) failed: paths".</summary>
    public string FailureLine => $"{Failed.Count} of {Counted.Of(Outcomes.Count, "image")} failed: {string.Join(", ", Failed.Select(f => f.Image.Path))}";
}

/// <summary>
/// The extraction stage of many images: into one feature file per image (<see cref="FeatureExtraction"/>)
/// or into a feature database (<see cref="DatabaseExtraction"/>). Resumable (up-to-date outputs are
/// skipped), each image isolated (a bad image is reported as an error and the others go on). The
/// progress sink gets a line about the run, one status line per image, the summary and, when
/// images failed, an error naming them.
/// </summary>
public static class ExtractRunner
{
    /// <summary>The job's images, checked against its outputs, extracted into its database (whole, or
    /// a shard's own) or files (a shard's images' files: they need no merge) with the features
    /// <paramref name="features"/> names, opened after every check (feature files are R2D2's only).</summary>
    public static ExtractSummary Run(ExtractJob j, FeatureSourceSpec features, IProgressSink progress)
    {
        var inputs = ImageList.Resolve(j.Images);
        if (inputs.Count == 0) throw new UsageException("no images found in --images");
        // The lists and folders named by --images and the checkpoint are inputs too (--stats over
        // the image list or the model wrote its JSON there).
        var modelFile = features.IsHloc ? features.Model[FeatureSource.HlocPrefix.Length..] : features.Model;
        var given = j.Images.Select(p => ("--images input", (string?)p)).Append((features.IsHloc ? "hloc features file" : "checkpoint", File.Exists(modelFile) ? modelFile : null));
        OutputFile.RefuseInputs(new[] { ("feature database", j.Database), ("statistics file", j.Files?.StatsPath) },
            inputs.Select(i => ("image", (string?)i.Path)).Concat(given));
        // A statistics file that cannot be written (a folder, a device), or that would replace a
        // database, is said now, not after the extraction.
        OutputFile.RefuseAsOutputFiles(new[] { ("statistics file", j.Files?.StatsPath) });
        OutputFile.RefuseBinaryOutputs(new[] { ("statistics file", j.Files?.StatsPath) });
        if ((j.Database != null) == (j.Files != null))
            throw new UsageException(j.Database != null ? "give --out or --database, not both" : "give --out DIR (feature files) or --database DB (feature database)");
        if (j.Database is { } db)
        {
            using var source = features.Open();
            return j.Shard.IsAll ? ToDatabase(inputs, source, db, progress) : ShardRunner.ExtractDatabase(inputs, source, db, j.Shard, progress);
        }
        if (features.IsRootSift) throw new UsageException("RootSIFT features go into a database (--database); feature files are for R2D2");
        if (features.IsHloc) throw new UsageException("hloc's features go into a database (--database); feature files are for R2D2");
        using var network = features.OpenNetwork();
        return ToFiles(j.Shard.Take(inputs), new MultiScaleExtractor(network, features.Settings), ModelLoader.ModelName(features.Model), j.Files!, progress);
    }

    public static ExtractSummary ToFiles(IReadOnlyList<ImageInput> images, MultiScaleExtractor extractor, string modelName,
        ExtractOptions options, IProgressSink progress)
    {
        var job = new FeatureExtraction(extractor, modelName);
        OutputFile.CreateFolder(options.OutputDir);
        for (int i = 0; i < options.Warmup && images.Count > 0; i++)
        {
            try { extractor.ExtractFile(images[0].Path); } catch (Exception e) when (e is ImageFileException or ImageTooSmallException) { }
        }
        var network = extractor.Network;
        progress.Info($"{Counted.Of(images.Count, "image")}, model {modelName} ({network.Architecture.Net}) on {network.Device}, "
            + $"{Counted.Of(TorchSharp.torch.get_num_threads(), "thread")}, format {options.Format.ToString().ToLowerInvariant()}");
        var outcomes = new List<ImageOutcome>();
        var total = Stopwatch.StartNew();
        progress.Stage("extract", images.Count, advance =>
        {
            foreach (var image in images)
            {
                var o = job.Run(image, options.OutputDir, options.Format, options.Overwrite);
                outcomes.Add(o);
                if (o.Error != null) progress.Error(o.Error);
                advance(o.Error != null ? image.Name : o.Skipped ? $"{image.Name}: up to date, skipped" : Extracted(o));
            }
        });
        var summary = new ExtractSummary(outcomes, total.Elapsed.TotalSeconds);
        progress.Info($"{summary.Extracted.Count} extracted, {summary.SkippedCount} skipped (up to date), {summary.Failed.Count} failed, "
            + $"{summary.Seconds:F1} s in all; output in {options.OutputDir}");
        if (options.StatsPath is { } statsPath) WriteStats(statsPath, summary.Extracted);
        if (summary.HasErrors) progress.Error(summary.FailureLine);
        return summary;
    }

    /// <summary>Extracts into the feature database at <paramref name="databasePath"/> (created if missing).</summary>
    public static ExtractSummary ToDatabase(IReadOnlyList<ImageInput> images, FeatureSource source, string databasePath, IProgressSink progress)
    {
        using var db = FeatureDatabase.Open(databasePath);
        progress.Info($"{Counted.Of(images.Count, "image")} into {databasePath}, {source.Description}");
        var total = Stopwatch.StartNew();
        var outcomes = new List<ImageOutcome>();
        progress.Stage("extract", images.Count, advance =>
            outcomes = DatabaseExtraction.Run(db, images, source, onImage: o =>
            {
                if (o.Error != null) progress.Error(o.Error);
                advance(o.Error != null ? $"{o.Image.Name}: failed" : o.Skipped ? $"{o.Image.Name}: stored already, skipped" : Extracted(o));
            }));
        var summary = new ExtractSummary(outcomes, total.Elapsed.TotalSeconds);
        progress.Info($"{summary.Extracted.Count} extracted, {summary.SkippedCount} skipped (stored), "
            + $"{summary.Failed.Count} failed, {summary.Seconds:F1} s; {db.Summary()}");
        if (summary.HasErrors) progress.Error(summary.FailureLine);
        return summary;
    }

    private static string Extracted(ImageOutcome o) =>
        $"{o.Image.Name}: {o.Keypoints} keypoints in {o.Seconds:F2} s" + (o.ReductionNote is { } n ? $" ({n})" : "");

    /// <summary>Timing and memory statistics of the extracted images (JSON).</summary>
    public static void WriteStats(string path, IReadOnlyList<ImageOutcome> done)
    {
        // No image extracted: no median (NaN is not JSON).
        double? median = done.Count > 0 ? Statistics.Median(done.Select(o => o.Seconds)) : null;
        var json = new Dictionary<string, object?>
        {
            ["tool"] = "r2d2.localization",
            ["torch"] = "libtorch " + TorchSharp.torch.__version__,
            ["threads"] = TorchSharp.torch.get_num_threads(),
            ["images"] = done.Select(o => new Dictionary<string, object> { ["name"] = o.Image.Name, ["seconds"] = o.Seconds, ["keypoints"] = o.Keypoints }).ToList(),
            ["median_seconds_per_image"] = median,
            ["peak_rss_mb"] = PeakRssMb(),
        };
        OutputFile.WriteAllText(path, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>VmHWM from /proc/self/status (Linux), in MB; null where it cannot be read.</summary>
    public static double? PeakRssMb()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:"));
            if (line == null) return null;
            // "VmHWM:\t 123456 kB": a tab, then the figure padded to 8 places (none left from 10 GB on).
            return double.Parse(line.Split(new[] { ' ', '\t' }, StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException) { return null; }
    }
}
