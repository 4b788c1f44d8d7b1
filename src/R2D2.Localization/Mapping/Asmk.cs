using System.Numerics;
using System.Runtime.InteropServices;

namespace R2D2.Localization.Mapping;

/// <summary>
/// A two-level visual vocabulary: <see cref="Coarse"/> centres, each with its own fine centres
/// (a word is a fine centre). A descriptor's word is the nearest fine centre of its nearest
/// coarse centre: 2·√W distances per descriptor instead of W, which keeps the query side fast at
/// tens of thousands of words (a vocabulary tree of depth 2, Nistér and Stewénius 2006).
/// </summary>
public sealed class AsmkCodebook
{
    public AsmkCodebook(int dim, float[] coarse, IReadOnlyList<float[]> fine)
    {
        if (coarse.Length % dim != 0 || coarse.Length / dim != fine.Count) throw new ArgumentException("a fine codebook per coarse centre expected");
        Dim = dim; Coarse = coarse; Fine = fine;
        FineStart = new int[fine.Count + 1];
        for (int c = 0; c < fine.Count; c++) FineStart[c + 1] = FineStart[c] + fine[c].Length / dim;
        _coarseNorm = Norms(coarse, dim);
        _fineNorm = fine.Select(f => Norms(f, dim)).ToArray();
    }

    /// <summary>The codebook from its stored parts (-1: coarse centres; c: the fine centres of
    /// coarse centre c); null when a part is missing (training not finished).</summary>
    public static AsmkCodebook? FromParts(int dim, IReadOnlyDictionary<int, float[]> parts)
    {
        if (!parts.TryGetValue(-1, out var coarse) || coarse.Length == 0 || coarse.Length % dim != 0) return null;
        var fine = new float[coarse.Length / dim][];
        for (int c = 0; c < fine.Length; c++) if (!parts.TryGetValue(c, out fine[c]!)) return null;
        return new AsmkCodebook(dim, coarse, fine);
    }

    public int Dim { get; }
    /// <summary>Row-major coarse centres.</summary>
    public float[] Coarse { get; }
    /// <summary>Row-major fine centres of each coarse centre.</summary>
    public IReadOnlyList<float[]> Fine { get; }
    /// <summary>The first word of each coarse centre; the last entry is the number of words.</summary>
    public int[] FineStart { get; }
    public int Words => FineStart[^1];
    private readonly float[] _coarseNorm;
    private readonly float[][] _fineNorm;

    private static float[] Norms(float[] c, int dim)
    {
        var n = new float[c.Length / dim];
        for (int i = 0; i < n.Length; i++) n[i] = Asmk.Dot(c.AsSpan(i * dim, dim), c.AsSpan(i * dim, dim));
        return n;
    }

    /// <summary>The word of a descriptor, and the fine centre it is the residual to.</summary>
    public int Assign(ReadOnlySpan<float> x, out ReadOnlySpan<float> centre)
    {
        int c = Nearest(Coarse, _coarseNorm, x);
        int j = Nearest(Fine[c], _fineNorm[c], x);
        centre = Fine[c].AsSpan(j * Dim, Dim);
        return FineStart[c] + j;
    }

    // argmin ‖x − c‖² = argmin ‖c‖² − 2 x·c
    private int Nearest(float[] centres, float[] norms, ReadOnlySpan<float> x)
    {
        int best = 0; float bestD = float.PositiveInfinity;
        for (int i = 0; i < norms.Length; i++)
        {
            float d = norms[i] - 2 * Asmk.Dot(centres.AsSpan(i * Dim, Dim), x);
            if (d < bestD) { bestD = d; best = i; }
        }
        return best;
    }
}

/// <summary>
/// The aggregated selective match kernel, binarized (ASMK*, Tolias, Avrithis and Jégou, ICCV 2013).
/// An image's descriptors are assigned to words; per word the residuals to the word's centre are
/// summed and binarized (the sign of each component). Two images are compared word by word on the
/// words they share: u = 1 − 2·h/d (h the Hamming distance of the codes, d the dimension), the
/// selectivity σ(u) = u^α when u &gt; τ, else 0 (α = 3, τ = 0), each word weighted by its idf
/// (ln(N / images holding it)). The score is Σ idf·σ(u) / √(Σ_query idf · Σ_db idf), so an image
/// matches itself with 1. Queries are answered from an inverted file (word → images and codes).
/// </summary>
public static class Asmk
{
    public const double Alpha = 3, Tau = 0;

    public static int CodeWords(int dim) => (dim + 63) / 64;

    internal static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, w = Vector<float>.Count, i = 0;
        var acc = Vector<float>.Zero;
        var va = MemoryMarshal.Cast<float, Vector<float>>(a);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
        for (int k = 0; k < va.Length; k++) acc += va[k] * vb[k];
        float s = Vector.Dot(acc, Vector<float>.One);
        for (i = va.Length * w; i < n; i++) s += a[i] * b[i];
        return s;
    }

    /// <summary>The ASMK representation of an image's descriptors (row-major count × dim), on up to
    /// <paramref name="threads"/> threads (the assignment dominates).</summary>
    public static AsmkImage Encode(float[] descriptors, int count, AsmkCodebook codebook, int threads = 1)
    {
        int dim = codebook.Dim;
        var word = new int[count];
        var residual = new float[count * dim];
        Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
        {
            for (int i = (int)((long)count * t / threads), end = (int)((long)count * (t + 1) / threads); i < end; i++)
            {
                var x = descriptors.AsSpan(i * dim, dim);
                word[i] = codebook.Assign(x, out var c);
                for (int k = 0; k < dim; k++) residual[i * dim + k] = x[k] - c[k];
            }
        });
        var order = Enumerable.Range(0, count).OrderBy(i => word[i]).ToArray();
        var words = new List<int>();
        var codes = new List<ulong>();
        int cw = CodeWords(dim);
        var sum = new double[dim];
        for (int s = 0; s < order.Length;)
        {
            int w = word[order[s]], e = s;
            Array.Clear(sum);
            for (; e < order.Length && word[order[e]] == w; e++)
                for (int k = 0; k < dim; k++) sum[k] += residual[order[e] * dim + k];
            words.Add(w);
            var code = new ulong[cw];
            for (int k = 0; k < dim; k++) if (sum[k] > 0) code[k >> 6] |= 1UL << (k & 63);
            codes.AddRange(code);
            s = e;
        }
        return new AsmkImage(words.ToArray(), codes.ToArray());
    }

    /// <summary>σ(u) for a Hamming distance h of d-bit codes.</summary>
    public static double Selectivity(int hamming, int dim)
    {
        double u = 1 - 2.0 * hamming / dim;
        return u > Tau ? Math.Pow(u, Alpha) : 0;
    }
}

/// <summary>The database side of ASMK: the inverted file of a map's images.</summary>
public sealed class AsmkIndex
{
    public AsmkIndex(AsmkCodebook codebook, IReadOnlyDictionary<int, AsmkImage> images)
    {
        Codebook = codebook;
        Images = images;
        _cw = Asmk.CodeWords(codebook.Dim);
        _ids = images.Keys.Order().ToArray();
        int words = codebook.Words;
        var counts = new int[words];
        foreach (var im in images.Values) foreach (var w in im.Words) counts[w]++;
        _start = new int[words + 1];
        for (int w = 0; w < words; w++) _start[w + 1] = _start[w] + counts[w];
        _postImage = new int[_start[words]];
        _postCode = new ulong[_start[words] * _cw];
        var fill = (int[])_start.Clone();
        for (int i = 0; i < _ids.Length; i++)
        {
            var im = images[_ids[i]];
            for (int k = 0; k < im.Words.Length; k++)
            {
                int at = fill[im.Words[k]]++;
                _postImage[at] = i;
                Array.Copy(im.Codes, k * _cw, _postCode, at * _cw, _cw);
            }
        }
        _idf = new double[words];
        for (int w = 0; w < words; w++) _idf[w] = counts[w] > 0 ? Math.Log((double)_ids.Length / counts[w]) : 0;
        _norm = new double[_ids.Length];
        for (int i = 0; i < _ids.Length; i++) _norm[i] = Math.Sqrt(images[_ids[i]].Words.Sum(w => _idf[w]));
        _lut = Enumerable.Range(0, codebook.Dim + 1).Select(h => Asmk.Selectivity(h, codebook.Dim)).ToArray();
    }

    public AsmkCodebook Codebook { get; }
    public IReadOnlyDictionary<int, AsmkImage> Images { get; }
    private readonly int _cw;
    private readonly int[] _ids, _start, _postImage;
    private readonly ulong[] _postCode;
    private readonly double[] _idf, _norm, _lut;

    /// <summary>Bytes the inverted file holds (postings, codes, per-image and per-word arrays).</summary>
    public long MemoryBytes => _postImage.LongLength * 4 + _postCode.LongLength * 8 + (_start.LongLength + _ids.LongLength) * 4 + (_idf.LongLength + _norm.LongLength + _lut.LongLength) * 8;

    /// <summary>The k best database images for an encoded query, best first, with their scores.</summary>
    public List<(int ImageId, double Score)> Search(AsmkImage query, int k)
    {
        var score = new double[_ids.Length];
        double qn = 0;
        for (int q = 0; q < query.Words.Length; q++)
        {
            int w = query.Words[q];
            double idf = _idf[w];
            qn += idf;
            if (idf <= 0) continue;
            for (int p = _start[w]; p < _start[w + 1]; p++)
            {
                int h = 0;
                for (int j = 0; j < _cw; j++) h += BitOperations.PopCount(_postCode[p * _cw + j] ^ query.Codes[q * _cw + j]);
                score[_postImage[p]] += idf * _lut[h];
            }
        }
        qn = Math.Sqrt(qn);
        var best = new PriorityQueue<int, double>();
        for (int i = 0; i < score.Length; i++)
        {
            if (score[i] <= 0) continue;
            double s = score[i] / (qn * _norm[i]);
            if (best.Count < k) best.Enqueue(i, s);
            else if (best.TryPeek(out _, out var worst) && s > worst) { best.Dequeue(); best.Enqueue(i, s); }
        }
        var result = new List<(int, double)>();
        while (best.TryDequeue(out var i, out var s)) result.Add((_ids[i], s));
        result.Reverse();
        return result;
    }
}
