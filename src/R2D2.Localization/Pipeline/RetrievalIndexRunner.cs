using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

public sealed record RetrievalIndexOptions
{
    /// <summary>Visual words of the VLAD codebook.</summary>
    public int Clusters { get; init; } = 64;
    /// <summary>Descriptors sampled per image for the codebook.</summary>
    public int SamplesPerImage { get; init; } = 200;
    /// <summary>Images the codebook samples (a random subset of this many).</summary>
    public int SampleImages { get; init; } = 500;
    public int Seed { get; init; }
}

/// <summary>
/// The retrieval index stage: a VLAD codebook (k-means of descriptors sampled from a random subset
/// of the images) and the VLAD descriptor of every image with features; null when the images have
/// too few descriptors for the codebook. Reads the database; the index is stored with the map
/// (<see cref="FeatureDatabase.WriteMap"/>).
/// </summary>
public static class RetrievalIndexRunner
{
    public static RetrievalIndex? Run(FeatureDatabase db, RetrievalIndexOptions o, IProgressSink? progress = null)
    {
        var ids = db.ImagesWithFeatures().OrderBy(i => i).ToList();
        var rng = new Rng(Rng.Hash(unchecked((ulong)o.Seed)));
        var sampleImages = ids.OrderBy(_ => rng.NextUInt64()).Take(o.SampleImages).ToList();
        var samples = new List<float>();
        int dim = 0;
        foreach (var id in sampleImages)
        {
            // The sampled rows only, not the image's every descriptor in float32.
            int count = db.FeatureCount(id) ?? 0;
            if (count == 0) continue;
            var rows = new int[Math.Min(o.SamplesPerImage, count)];
            for (int k = 0; k < rows.Length; k++) rows[k] = rng.Next(count);
            if (db.ReadDescriptorRows(id, rows, out int d) is not { } sampled) continue;
            dim = d;
            samples.AddRange(sampled);
        }
        if (dim == 0 || samples.Count / dim < o.Clusters) return null;
        // Its own stage: the k-means takes most of the time, which the encoding stage's time left out.
        float[] codebook = null!;
        (progress ?? ProgressSink.None).Stage("retrieval codebook", 1, advance =>
        {
            codebook = Vlad.TrainCodebook(samples.ToArray(), dim, o.Clusters, seed: o.Seed);
            advance($"{o.Clusters} words from {samples.Count / dim} descriptors");
        });
        var vlads = new Dictionary<int, float[]>();
        (progress ?? ProgressSink.None).Stage("retrieval index", ids.Count, advance =>
        {
            // Read in order, encoded in parallel a batch at a time: memory stays one batch of images.
            int batch = 4 * Environment.ProcessorCount;
            for (int start = 0; start < ids.Count; start += batch)
            {
                var chunk = ids.Skip(start).Take(batch).Select(id => (Id: id, F: db.ReadFeatures(id))).ToList();
                var encoded = new float[]?[chunk.Count];
                Parallel.For(0, chunk.Count, i => encoded[i] = chunk[i].F is { } f ? Vlad.Encode(f, codebook, o.Clusters) : null);
                for (int i = 0; i < chunk.Count; i++)
                {
                    if (encoded[i] is { } v) vlads[chunk[i].Id] = v;
                    advance($"image {chunk[i].Id}");
                }
            }
        });
        return new RetrievalIndex(vlads, codebook, o.Clusters);
    }
}
