using R2D2.Localization.Formats;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

public sealed record AsmkOptions
{
    /// <summary>Visual words (0: auto, 8 × the mean descriptors per image, at most a tenth of all
    /// descriptors, within 64..65,536); rounded to coarse × fine with coarse = fine = √words.</summary>
    public int Words { get; init; }
    /// <summary>Training descriptors per word (at most <see cref="MaxSamples"/> in all).</summary>
    public int SamplesPerWord { get; init; } = 20;
    public int MaxSamples { get; init; } = 1_500_000;
    /// <summary>Lloyd iterations of each k-means.</summary>
    public int Iterations { get; init; } = 10;
    public int Seed { get; init; }

    /// <summary>The vocabulary's side (coarse cells = fine cells per coarse cell; side² words) for a
    /// database of <paramref name="descriptors"/> in <paramref name="images"/> images.</summary>
    public int Side(long descriptors, int images)
    {
        long words = Words > 0 ? Words : Math.Clamp(Math.Min(8 * descriptors / Math.Max(1, images), descriptors / 10), 64, 65536);
        return (int)Math.Max(2, Math.Round(Math.Sqrt(words)));
    }

    /// <summary>Training descriptors for a vocabulary of side² words out of <paramref name="descriptors"/>.</summary>
    public int Samples(long descriptors, int side) => (int)Math.Min(descriptors, Math.Min(MaxSamples, (long)SamplesPerWord * side * side));
}

/// <summary>
/// The ASMK index stage (Mapping.Asmk): samples descriptors of the database, trains the two-level
/// vocabulary (coarse k-means, then a k-means per coarse cell) storing each part as it is done,
/// so a killed training resumes with the parts it has (the same settings and database give the
/// same samples), then encodes every image. Returns the images' representations; the caller
/// stores them (with the map, or on their own for an existing map).
/// </summary>
public static class AsmkIndexRunner
{
    public static Dictionary<int, AsmkImage>? Run(FeatureDatabase db, AsmkOptions o, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        var codebook = Train(db, o, progress);
        if (codebook == null) return null;
        var ids = db.ImagesWithFeatures().Order().ToList();
        var index = new Dictionary<int, AsmkImage>();
        progress.Stage("ASMK index", ids.Count, advance =>
        {
            foreach (var id in ids)
            {
                if (db.ReadFeatures(id) is { Count: > 0 } f) index[id] = Asmk.Encode(f.Descriptors, f.Count, codebook);
                advance($"image {id}");
            }
        });
        return index;
    }

    /// <summary>Adds (or rebuilds) the ASMK index of an existing map, stored in one transaction;
    /// the vocabulary's training resumes from the parts a killed run stored. Returns the number of
    /// indexed images and of visual words (--words rounded to a square).</summary>
    public static (int Images, int Words) AddToMap(string mapPath, AsmkOptions o, IProgressSink? progress = null)
    {
        FeatureDatabaseException.RequireFile(mapPath, "map not found");
        using var db = FeatureDatabase.OpenExisting(mapPath);
        if (!db.HasMap) throw new FeatureDatabaseException(mapPath, "holds no map (run build-map first)");
        if (TooFew(db, o) is { } why) throw new FeatureDatabaseException(mapPath, why);
        var index = Run(db, o, progress) ?? throw new FeatureDatabaseException(mapPath, "has too few descriptors for an ASMK vocabulary");
        db.WriteAsmkIndex(index);
        int side = Plan(db, o).Side;
        return (index.Count, side * side);
    }

    /// <summary>Why the database cannot train a vocabulary with these options (null: it can),
    /// checked before anything is written: a rebuild's training starts by replacing the index.</summary>
    public static string? TooFew(FeatureDatabase db, AsmkOptions o)
    {
        var (ids, _, total, side, samples) = Plan(db, o);
        if (ids.Count == 0 || total < MinDescriptors) return $"has {total:N0} descriptors: too few for an ASMK vocabulary (at least {MinDescriptors})";
        // A word per training sample at least: more words than samples trained for hours (10⁸ words of 35,944 descriptors).
        if ((long)side * side > samples)
            return $"has {total:N0} descriptors ({samples:N0} sampled for training): too few for {side}×{side} visual words (--words {o.Words}); fewer words, or the default (0)";
        return null;
    }

    private const int MinDescriptors = 256;

    private static (List<int> Ids, Dictionary<int, int> Counts, long Total, int Side, int Samples) Plan(FeatureDatabase db, AsmkOptions o)
    {
        var ids = db.ImagesWithFeatures().Order().ToList();
        var counts = ids.ToDictionary(id => id, id => db.FeatureCount(id) ?? 0);
        long total = counts.Values.Sum(c => (long)c);
        if (ids.Count == 0) return (ids, counts, 0, 0, 0);
        int side = o.Side(total, ids.Count);
        int samples = o.Samples(total, side);
        return (ids, counts, total, side, samples);
    }

    /// <summary>The vocabulary: the stored one when complete for these settings, else trained (resuming from the stored parts); null when the database has too few descriptors.</summary>
    public static AsmkCodebook? Train(FeatureDatabase db, AsmkOptions o, IProgressSink progress)
    {
        if (TooFew(db, o) != null) return null;
        var (ids, counts, total, side, samples) = Plan(db, o);
        var settings = $"{{\"coarse\":{side},\"fine\":{side},\"samples\":{samples},\"iterations\":{o.Iterations},\"seed\":{o.Seed}}}";
        db.BeginAsmkTraining(settings);
        var parts = db.ReadAsmkParts();
        var (x, dim) = Sample(db, ids, counts, total, samples, o.Seed);
        if (x.Length / dim < side) return null;
        AsmkCodebook? codebook = null;
        progress.Stage("ASMK vocabulary", side + 1, advance =>
            codebook = AsmkVocabulary.Train(x, dim, side, o.Iterations, o.Seed, parts, db.WriteAsmkPart, advance));
        return codebook;
    }

    // The same settings and database give the same samples, so a resumed training continues the same vocabulary.
    private static (float[] X, int Dim) Sample(FeatureDatabase db, List<int> ids, Dictionary<int, int> counts, long total, int samples, int seed)
    {
        var rng = new Rng(Rng.Hash(unchecked((ulong)seed)));
        int Take(int id) => (int)Math.Min(counts[id], Math.Ceiling((double)samples * counts[id] / total));
        // One array of the samples' exact size: a growing list of 1.3 M × 128 floats peaked at 3 × its size.
        float[]? x = null;
        long n = 0;
        int dim = 0;
        foreach (var id in ids)
        {
            int take = Take(id);
            if (take == 0) continue;
            // Only the picked rows are decoded: a whole image in float32 was 10 MB of garbage at 20,000 keypoints.
            var pick = Enumerable.Range(0, counts[id]).OrderBy(_ => rng.NextUInt64()).Take(take).ToArray();
            if (db.ReadDescriptorRows(id, pick, out int d) is not { } rows) continue;
            dim = d;
            x ??= new float[ids.Sum(i => (long)Take(i)) * dim];
            rows.CopyTo(x.AsSpan((int)(n * dim)));
            n += take;
        }
        if (x == null) return (Array.Empty<float>(), 1);
        return (n * dim == x.Length ? x : x.AsSpan(0, (int)(n * dim)).ToArray(), dim);
    }

}
