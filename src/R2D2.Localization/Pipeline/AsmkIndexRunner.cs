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
    /// <summary>Threads of the encoding (0: all cores).</summary>
    public int Threads { get; init; }
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
        int threads = o.Threads > 0 ? o.Threads : Environment.ProcessorCount;
        var ids = db.ImagesWithFeatures().Order().ToList();
        var index = new Dictionary<int, AsmkImage>();
        progress.Stage("ASMK index", ids.Count, advance =>
        {
            foreach (var id in ids)
            {
                if (db.ReadFeatures(id) is { Count: > 0 } f) index[id] = Asmk.Encode(f.Descriptors, f.Count, codebook, threads);
                advance($"image {id}");
            }
        });
        return index;
    }

    /// <summary>Adds (or rebuilds) the ASMK index of an existing map, stored in one transaction;
    /// the vocabulary's training resumes from the parts a killed run stored. Returns the number of indexed images.</summary>
    public static int AddToMap(string mapPath, AsmkOptions o, IProgressSink? progress = null)
    {
        if (!File.Exists(mapPath)) throw new FileFormatException(mapPath, 0, "map not found");
        using var db = FeatureDatabase.Open(mapPath);
        if (!db.HasMap) throw new FeatureDatabaseException(mapPath, "holds no map (run build-map first)");
        var index = Run(db, o, progress) ?? throw new FeatureDatabaseException(mapPath, "has too few descriptors for an ASMK vocabulary");
        db.WriteAsmkIndex(index);
        return index.Count;
    }

    /// <summary>The vocabulary: the stored one when complete for these settings, else trained (resuming from the stored parts); null when the database has too few descriptors.</summary>
    public static AsmkCodebook? Train(FeatureDatabase db, AsmkOptions o, IProgressSink progress)
    {
        var ids = db.ImagesWithFeatures().Order().ToList();
        var counts = ids.ToDictionary(id => id, id => db.ReadFeatures(id)?.Count ?? 0);
        long total = counts.Values.Sum(c => (long)c);
        if (ids.Count == 0 || total < 256) return null;
        int words = o.Words > 0 ? o.Words : (int)Math.Clamp(Math.Min(8 * total / ids.Count, total / 10), 64, 65536);
        int side = Math.Max(2, (int)Math.Round(Math.Sqrt(words)));
        int samples = (int)Math.Min(total, Math.Min(o.MaxSamples, (long)o.SamplesPerWord * side * side));
        var settings = $"{{\"coarse\":{side},\"fine\":{side},\"samples\":{samples},\"iterations\":{o.Iterations},\"seed\":{o.Seed}}}";
        db.BeginAsmkTraining(settings);
        var parts = db.ReadAsmkParts();
        var (x, dim) = Sample(db, ids, counts, total, samples, o.Seed);
        if (x.Length / dim < side) return null;
        if (!parts.TryGetValue(-1, out var coarse))
        {
            coarse = Vlad.TrainCodebook(x, dim, side, o.Iterations, o.Seed);
            db.WriteAsmkPart(-1, coarse);
        }
        var cells = CoarseCells(x, dim, coarse, side);
        var fine = new float[side][];
        progress.Stage("ASMK vocabulary", side, advance =>
        {
            for (int c = 0; c < side; c++)
            {
                if (!parts.TryGetValue(c, out fine[c]!))
                {
                    var members = cells[c];
                    int k = Math.Clamp(members.Count / 4, 1, side);
                    var sub = new float[members.Count * dim];
                    for (int i = 0; i < members.Count; i++) Array.Copy(x, members[i] * dim, sub, i * dim, dim);
                    fine[c] = members.Count == 0 ? coarse.AsSpan(c * dim, dim).ToArray()
                        : members.Count <= k ? sub : Vlad.TrainCodebook(sub, dim, k, o.Iterations, o.Seed + c + 1);
                    db.WriteAsmkPart(c, fine[c]);
                }
                advance($"cell {c}");
            }
        });
        return new AsmkCodebook(dim, coarse, fine);
    }

    // The same settings and database give the same samples, so a resumed training continues the same vocabulary.
    private static (float[] X, int Dim) Sample(FeatureDatabase db, List<int> ids, Dictionary<int, int> counts, long total, int samples, int seed)
    {
        var rng = new Random(seed);
        var x = new List<float>();
        int dim = 0;
        foreach (var id in ids)
        {
            int take = (int)Math.Min(counts[id], Math.Ceiling((double)samples * counts[id] / total));
            if (take == 0 || db.ReadFeatures(id) is not { } f) continue;
            dim = f.Dim;
            var pick = Enumerable.Range(0, f.Count).OrderBy(_ => rng.Next()).Take(take);
            foreach (var i in pick) x.AddRange(f.Descriptor(i).ToArray());
        }
        return (x.ToArray(), Math.Max(dim, 1));
    }

    /// <summary>The samples of each coarse cell (a codebook whose cells hold one word each: the word is the cell).</summary>
    private static List<int>[] CoarseCells(float[] x, int dim, float[] coarse, int side)
    {
        var cb = new AsmkCodebook(dim, coarse, Enumerable.Range(0, side).Select(c => coarse.AsSpan(c * dim, dim).ToArray()).ToArray());
        var cells = Enumerable.Range(0, side).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < x.Length / dim; i++) cells[cb.Assign(x.AsSpan(i * dim, dim), out _)].Add(i);
        return cells;
    }
}
