using System.Diagnostics;
using R2D2.Localization.Formats;
using R2D2.Localization.Training;

namespace R2D2.Localization.Pipeline;

/// <summary>A procedural image written, and the milliseconds its generation took.</summary>
public sealed record ProceduralImageWritten(string Png, int Width, int Height, double Milliseconds);

/// <summary>Where `make-pairs preview` takes its pairs: a `train --pairs` source, a map's image
/// pairs, homographies of a folder's photos, or (none given) of procedural images.</summary>
public sealed record PairPreviewOptions
{
    public required string OutDir { get; init; }
    /// <summary>A `localize train --pairs` source (e.g. rendered:day-night).</summary>
    public string? PairsSpec { get; init; }
    /// <summary>A map database whose image pairs and shared points make the pairs (with <see cref="MapImages"/>).</summary>
    public string? MapPath { get; init; }
    public string? MapImages { get; init; }
    /// <summary>A folder of photos for homography pairs.</summary>
    public string? ImagesFolder { get; init; }
    public long First { get; init; }
    public int Count { get; init; } = 8;
    public long Seed { get; init; }
    public int Crop { get; init; } = 192;
    public bool Photometric { get; init; } = true;
    /// <summary>Correspondences drawn per pair.</summary>
    public int Lines { get; init; } = 40;
    /// <summary>Pairs timed on all cores after the pictures (0: none).</summary>
    public int Throughput { get; init; }
}

/// <summary>The pictures written (a line each through the caller's callback), their times, the folder's
/// pictures of an earlier run, and the throughput when asked.</summary>
public sealed record PairPreviewResult(string Description, IReadOnlyList<PairPreview> Previews, IReadOnlyList<string> Others, double? PairsPerSecond)
{
    /// <summary>The median time of one pair on one thread (null for one pair).</summary>
    public double? MedianMs => Previews.Count > 1 ? Statistics.Median(Previews.Select(p => p.Milliseconds)) : null;
}

/// <summary>
/// `localize make-pairs`: training and evaluation pairs written for people to look at — procedural
/// images, HPatches-style sequences from photos, and pictures of a training source's pairs.
/// </summary>
public static class TrainingPairsRunner
{
    /// <summary>Writes procedural images seed … seed + count − 1 as procedural_SSSSS.png.</summary>
    public static List<ProceduralImageWritten> Procedural(string outDir, long seed, int count, int width, int height, Action<ProceduralImageWritten>? onImage = null)
    {
        OutputFile.RefuseFileAsFolder(outDir, "--out");
        OutputFile.CreateFolder(outDir);
        var written = new List<ProceduralImageWritten>();
        for (long s = seed, end = seed + count; s < end; s++)
        {
            var sw = Stopwatch.StartNew();
            var img = ProceduralImages.Generate(s, width, height);
            double ms = sw.Elapsed.TotalMilliseconds;
            var png = Path.Combine(outDir, $"procedural_{s:D5}.png");
            PairViz.WriteImage(img, width, height, png);
            var one = new ProceduralImageWritten(png, width, height, ms);
            written.Add(one);
            onImage?.Invoke(one);
        }
        return written;
    }

    /// <summary>A sequence per photo of <paramref name="inputs"/> (photos and folders of photos, a
    /// folder's in name order); a photo that cannot be read is reported through
    /// <paramref name="onFailed"/> (path, why) and the others go on.</summary>
    public static List<HPatchesSequence> HPatches(IReadOnlyList<string> inputs, string outDir, HPatchesOptions o,
        Action<HPatchesSequence>? onSequence, Action<string, string> onFailed)
    {
        var files = new List<string>();
        foreach (var p in inputs)
        {
            if (Directory.Exists(p)) files.AddRange(Directory.GetFiles(p).Where(ImageFile.IsImagePath).OrderBy(f => f, StringComparer.Ordinal));
            else if (File.Exists(p)) files.Add(p);
            else throw new R2D2Exception(p, 0, "no such image or folder");
        }
        if (files.Count == 0) throw new UsageException("no images found in --images");
        if (o.Warps < 1) throw new UsageException("--warps must be at least 1");
        OutputFile.RefuseFileAsFolder(outDir, "--out");
        // A sequence's folder is OUT/<photo's name>: a photo there was replaced by its downscaled copy.
        OutputFile.RefuseInputs(Array.Empty<(string, string?)>(), files.Select(f => ("photo", (string?)f)), new[] { ("--out folder", (string?)outDir) });
        return HPatchesSequences.Write(files, outDir, o, onSequence, onFailed);
    }

    /// <summary>Pictures of pairs <see cref="PairPreviewOptions.First"/> … of the source, each said
    /// through <paramref name="onPair"/> as it is written.</summary>
    /// <param name="onWarning">said before the throughput is timed: the folder's pictures of an earlier run</param>
    public static PairPreviewResult Preview(PairPreviewOptions o, Action<string>? onSource = null, Action<PairPreview>? onPair = null, Action<string>? onWarning = null)
    {
        var photometric = o.Photometric ? new PhotometricSettings() : PhotometricSettings.Off;
        // One source: the others' options were ignored without a word (--images beside --pairs).
        var given = new[] { ("--pairs", o.PairsSpec), ("--map", o.MapPath), ("--images", o.ImagesFolder) }.Where(g => g.Item2 != null).Select(g => g.Item1).ToList();
        if (given.Count > 1) throw new UsageException($"{string.Join(" and ", given)} are two sources of pairs: give one");
        ITrainingPairSource source;
        if (o.PairsSpec is { } spec)
            source = TrainingPairSources.Parse(new[] { spec }, o.Crop, o.Seed, photometric);
        else if (o.MapPath is { } db)
            source = new MapPairSource(db, o.MapImages ?? throw new UsageException("--map needs --map-images"), o.Seed, new MapPairSettings { CropSize = o.Crop, Photometric = photometric });
        else
        {
            IImageSource images = o.ImagesFolder is { } folder ? new FolderImageSource(folder) : new ProceduralImageSource();
            source = new HomographyPairSource(images, o.Seed, o.Crop, photometric: photometric);
        }
        var description = source.Describe();
        onSource?.Invoke(description);
        OutputFile.RefuseFileAsFolder(o.OutDir, "--out");
        // The pictures go into --out: not into (or over) what the pairs are read from (a photo named
        // pair_00000.png was replaced, and the pictures became photos of the next run).
        var inputs = TrainingPairSources.InputsOf(o.PairsSpec is { } s ? new[] { s } : Array.Empty<string>())
            .Append(("photos folder", o.ImagesFolder)).Append(("map", o.MapPath)).Append(("map's image folder", o.MapImages));
        OutputFile.RefuseInputs(Array.Empty<(string, string?)>(), inputs, new[] { ("--out folder", (string?)o.OutDir) });
        var previews = PairPreviews.Write(source, o.OutDir, o.First, o.Count, o.Lines, onPair);
        var others = PairPreviews.Others(o.OutDir, previews);
        if (others.Count > 0)
            onWarning?.Invoke($"{o.OutDir} also holds {Counted.Of(others.Count, "other pair picture")} (first: {others[0]}) of an earlier run, not of this one");
        double? rate = o.Throughput > 0 ? PairPreviews.Throughput(source, o.First + o.Count, o.Throughput) : null;
        return new PairPreviewResult(description, previews, others, rate);
    }
}
