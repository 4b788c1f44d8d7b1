using R2D2.Localization.Features;
using static TorchSharp.torch;

namespace R2D2.Localization.Mapping;

/// <summary>
/// The global image descriptor used for retrieval, built from the local R2D2 (or RootSIFT)
/// descriptors: VLAD (Jégou et al., 2010) over a small k-means codebook learned from the map's
/// own descriptors — for each cluster the sum of residuals of the descriptors assigned to it,
/// each block L2-normalized (intra-normalization), signed square root, then L2-normalized.
/// Similar images have a large dot product.
/// </summary>
public static class Vlad
{
    // Rows per block of the k-means' distance computations.
    private const int Block = 65536;

    /// <summary>k-means (k-means++ seeding, Lloyd iterations) on sample descriptors (row-major n × dim).</summary>
    public static float[] TrainCodebook(float[] samples, int dim, int clusters, int iterations = 15, int seed = 0)
    {
        int n = samples.Length / dim;
        if (n < clusters) throw new ArgumentException($"{n} descriptors cannot train {clusters} clusters");
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = tensor(samples, new long[] { n, dim });
        var rng = new Rng(Rng.Hash(unchecked((ulong)seed)));
        var centres = new List<int> { rng.Next(n) };
        var d2 = TorchScalars.Full(n, float.PositiveInfinity);
        // Rows are taken a block at a time, so temporaries are a block × dim (or × clusters), never
        // n × clusters: that was 4 GB per Lloyd step for ASMK's 1.3 M samples × 256 words.
        for (int c = 1; c < clusters; c++)
        {
            var last = x[centres[^1]].unsqueeze(0);
            for (long s = 0; s < n; s += Block)
            {
                using var step = NewDisposeScope();
                long len = Math.Min(Block, n - s);
                var part = d2.narrow(0, s, len);
                part.copy_(minimum(part, x.narrow(0, s, len).sub(last).Square().sum(1)));
            }
            last.Dispose();
            var w = d2.data<float>().ToArray();
            double total = w.Sum(v => (double)v), pick = rng.NextDouble() * total, acc = 0;
            int chosen = n - 1;
            for (int i = 0; i < n; i++) { acc += w[i]; if (acc >= pick) { chosen = i; break; } }
            centres.Add(chosen);
        }
        var cb = x.index_select(0, tensor(centres.Select(i => (long)i).ToArray())).clone();
        for (int it = 0; it < iterations; it++)
        {
            using var step = NewDisposeScope();
            var sums = zeros(clusters, dim);
            var counts = zeros(clusters);
            var cbT = cb.t();
            var cbSq = cb.Square().sum(1).unsqueeze(0);
            for (long s = 0; s < n; s += Block)
            {
                using var block = NewDisposeScope();
                var xs = x.narrow(0, s, Math.Min(Block, n - s));
                var assign = xs.mm(cbT).MulInPlace(2).sub_(cbSq).argmax(1); // argmin ‖x − c‖²
                sums.IndexAddInPlace(0, assign, xs);
                counts.IndexAddInPlace(0, assign, ones(xs.shape[0]));
            }
            var empty = counts.Eq(0);
            cb = where(empty.unsqueeze(1), cb, sums.div(counts.ClampMin(1).unsqueeze(1))).MoveToOuterDisposeScope();
        }
        return cb.contiguous().data<float>().ToArray();
    }

    public static float[] Encode(FeatureSet f, float[] codebook, int clusters)
    {
        int dim = f.Dim;
        var v = new double[clusters * dim];
        for (int i = 0; i < f.Count; i++)
        {
            var d = f.Descriptor(i);
            int best = 0; double bestDist = double.PositiveInfinity;
            for (int c = 0; c < clusters; c++)
            {
                double s = 0;
                for (int k = 0; k < dim; k++) { double t = d[k] - codebook[c * dim + k]; s += t * t; }
                if (s < bestDist) { bestDist = s; best = c; }
            }
            for (int k = 0; k < dim; k++) v[best * dim + k] += d[k] - codebook[best * dim + k];
        }
        for (int c = 0; c < clusters; c++)
        {
            double n = 0;
            for (int k = 0; k < dim; k++) n += v[c * dim + k] * v[c * dim + k];
            n = Math.Sqrt(n);
            if (n > 0) for (int k = 0; k < dim; k++) v[c * dim + k] /= n;
        }
        double total = 0;
        for (int i = 0; i < v.Length; i++) { v[i] = Math.Sign(v[i]) * Math.Sqrt(Math.Abs(v[i])); total += v[i] * v[i]; }
        total = Math.Sqrt(total);
        return v.Select(x => (float)(total > 0 ? x / total : 0)).ToArray();
    }
}
