using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        _coarse = new Centres(coarse, dim);
        _fine = fine.Select(f => new Centres(f, dim)).ToArray();
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
    private readonly Centres _coarse;
    private readonly Centres[] _fine;

    /// <summary>The word of a descriptor, and the fine centre it is the residual to.</summary>
    public int Assign(ReadOnlySpan<float> x, out ReadOnlySpan<float> centre)
    {
        int c = _coarse.Nearest(x);
        int j = _fine[c].Nearest(x);
        centre = Fine[c].AsSpan(j * Dim, Dim);
        return FineStart[c] + j;
    }

    /// <summary>The fine centre of a word.</summary>
    public ReadOnlySpan<float> Centre(int word)
    {
        int c = Array.BinarySearch(FineStart, word);
        if (c < 0) c = ~c - 1;
        else while (c + 1 < FineStart.Length && FineStart[c + 1] == word) c++; // cells without words share a start
        return Fine[c].AsSpan((word - FineStart[c]) * Dim, Dim);
    }

    /// <summary>The words of many descriptors (row-major count × dim), as <see cref="Assign"/> gives
    /// them, on up to <paramref name="threads"/> threads (0: all cores).</summary>
    public int[] AssignAll(float[] descriptors, int count, int threads = 0)
    {
        var words = new int[count];
        int t = Math.Max(1, Math.Min(threads > 0 ? threads : Environment.ProcessorCount, count / 256));
        Parallel.For(0, t, new ParallelOptions { MaxDegreeOfParallelism = t }, k =>
        {
            for (int i = (int)((long)count * k / t), end = (int)((long)count * (k + 1) / t); i < end; i++)
                words[i] = Assign(descriptors.AsSpan(i * Dim, Dim), out _);
        });
        return words;
    }

    /// <summary>
    /// Centres stored for the nearest-centre search: transposed (dim rows of the centres' k-th
    /// components, padded to a multiple of 8 centres) so that x·c for 64 centres at a time is a
    /// sum of broadcast x[k] times one row, without the horizontal sums a dot product per centre
    /// needs (~2× faster per thread: `localize bench-retrieval` prints the ratio). Padding centres have norm
    /// +∞, so they never win.
    /// </summary>
    private sealed class Centres
    {
        private readonly int _dim, _count, _padded;
        private readonly float[] _t, _norm;

        public Centres(float[] rowMajor, int dim)
        {
            _dim = dim; _count = rowMajor.Length / dim; _padded = (_count + 7) / 8 * 8;
            _t = new float[dim * _padded];
            _norm = new float[_padded];
            Array.Fill(_norm, float.PositiveInfinity);
            for (int j = 0; j < _count; j++)
            {
                float n = 0;
                for (int k = 0; k < dim; k++) { float v = rowMajor[j * dim + k]; _t[k * _padded + j] = v; n = MathF.FusedMultiplyAdd(v, v, n); }
                _norm[j] = n;
            }
        }

        /// <summary>argmin ‖x − c‖² = argmin ‖c‖² − 2 x·c (ties: the first centre).</summary>
        public int Nearest(ReadOnlySpan<float> x)
        {
            int best = 0;
            float bestD = float.PositiveInfinity;
            Span<float> dots = stackalloc float[64];
            ref float t = ref MemoryMarshal.GetArrayDataReference(_t);
            for (int j0 = 0; j0 < _padded; j0 += 64)
            {
                int width = Math.Min(64, _padded - j0);
                if (width == 64) Dots64(x, ref t, j0, dots);
                else DotsNarrow(x, ref t, j0, width, dots);
                for (int i = 0; i < width; i++)
                {
                    float d = _norm[j0 + i] - 2 * dots[i];
                    if (d < bestD) { bestD = d; best = j0 + i; }
                }
            }
            return best;
        }

        // Eight accumulators of 8 centres each, in registers; x[k] broadcast once per row.
        private void Dots64(ReadOnlySpan<float> x, ref float t, int j0, Span<float> dots)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (int k = 0; k < _dim; k++)
            {
                var xk = Vector256.Create(x[k]);
                ref float row = ref Unsafe.Add(ref t, k * _padded + j0);
                a0 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 0), a0);
                a1 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 8), a1);
                a2 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 16), a2);
                a3 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 24), a3);
                a4 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 32), a4);
                a5 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 40), a5);
                a6 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 48), a6);
                a7 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 56), a7);
            }
            a0.CopyTo(dots); a1.CopyTo(dots[8..]); a2.CopyTo(dots[16..]); a3.CopyTo(dots[24..]);
            a4.CopyTo(dots[32..]); a5.CopyTo(dots[40..]); a6.CopyTo(dots[48..]); a7.CopyTo(dots[56..]);
        }

        // The last, narrower block (fewer than 64 centres left): the same sums, 8 centres at a time.
        private void DotsNarrow(ReadOnlySpan<float> x, ref float t, int j0, int width, Span<float> dots)
        {
            for (int v = 0; v < width; v += 8)
            {
                Vector256<float> a = default;
                for (int k = 0; k < _dim; k++)
                    a = Vector256.FusedMultiplyAdd(Vector256.Create(x[k]), Vector256.LoadUnsafe(ref Unsafe.Add(ref t, k * _padded + j0 + v)), a);
                a.CopyTo(dots[v..]);
            }
        }
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

    /// <summary>The ASMK representation of an image's descriptors (row-major count × dim); the
    /// assignment, which dominates, runs on all cores.</summary>
    public static AsmkImage Encode(float[] descriptors, int count, AsmkCodebook codebook)
    {
        int dim = codebook.Dim;
        var word = codebook.AssignAll(descriptors, count);
        // The descriptors by word, in input order within a word: one sort of (word, index) keys.
        var order = new long[count];
        for (int i = 0; i < count; i++) order[i] = (long)word[i] << 32 | (uint)i;
        Array.Sort(order);
        var words = new List<int>();
        var codes = new List<ulong>();
        int cw = CodeWords(dim);
        var sum = new double[dim];
        var code = new ulong[cw];
        for (int s = 0; s < count;)
        {
            int w = (int)(order[s] >> 32), e = s;
            var c = codebook.Centre(w);
            Array.Clear(sum);
            for (; e < count && (int)(order[e] >> 32) == w; e++)
            {
                var x = descriptors.AsSpan((int)(uint)order[e] * dim, dim);
                for (int k = 0; k < dim; k++) sum[k] += x[k] - c[k];
            }
            words.Add(w);
            Array.Clear(code);
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

    // Query words are scored in this many parts, each into its own score array, summed in a fixed
    // order: the scores do not depend on the number of threads.
    private const int Parts = 4;

    /// <summary>The k best database images for an encoded query, best first, with their scores;
    /// the postings are scanned on up to <paramref name="threads"/> threads (0: all cores).</summary>
    public List<(int ImageId, double Score)> Search(AsmkImage query, int k, int threads = 0)
    {
        int n = query.Words.Length;
        var partial = new double[Parts][];
        // Parts of about equal postings, not of equal words: a common word costs thousands.
        long postings = 0;
        foreach (var w in query.Words) postings += _start[w + 1] - _start[w];
        var bounds = new int[Parts + 1];
        long acc = 0;
        for (int q = 0, part = 1; q < n && part < Parts; q++)
        {
            acc += _start[query.Words[q] + 1] - _start[query.Words[q]];
            if (acc * Parts >= postings * part) bounds[part++] = q + 1;
        }
        for (int part = 1; part <= Parts; part++) bounds[part] = part == Parts ? n : Math.Max(bounds[part], bounds[part - 1]);
        int t = Math.Clamp(threads > 0 ? threads : Environment.ProcessorCount, 1, Parts);
        Parallel.For(0, Parts, new ParallelOptions { MaxDegreeOfParallelism = t }, part =>
            partial[part] = ScorePart(query, bounds[part], bounds[part + 1]));
        var score = partial[0];
        for (int part = 1; part < Parts; part++)
            for (int i = 0; i < score.Length; i++) score[i] += partial[part][i];
        double qn = 0;
        foreach (var w in query.Words) qn += _idf[w];
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

    // Σ idf·σ(u) per database image over query words [from, to).
    private double[] ScorePart(AsmkImage query, int from, int to)
    {
        var score = new double[_ids.Length];
        ref ulong codes = ref MemoryMarshal.GetArrayDataReference(_postCode);
        ref int images = ref MemoryMarshal.GetArrayDataReference(_postImage);
        ref double lut = ref MemoryMarshal.GetArrayDataReference(_lut);
        ref double s = ref MemoryMarshal.GetArrayDataReference(score);
        for (int q = from; q < to; q++)
        {
            int w = query.Words[q];
            double idf = _idf[w];
            if (idf <= 0) continue;
            int end = _start[w + 1];
            if (_cw == 2)
            {
                ulong a = query.Codes[2 * q], b = query.Codes[2 * q + 1];
                for (int p = _start[w]; p < end; p++)
                {
                    int h = BitOperations.PopCount(Unsafe.Add(ref codes, 2 * p) ^ a) + BitOperations.PopCount(Unsafe.Add(ref codes, 2 * p + 1) ^ b);
                    Unsafe.Add(ref s, Unsafe.Add(ref images, p)) += idf * Unsafe.Add(ref lut, h);
                }
                continue;
            }
            for (int p = _start[w]; p < end; p++)
            {
                int h = 0;
                for (int j = 0; j < _cw; j++) h += BitOperations.PopCount(_postCode[p * _cw + j] ^ query.Codes[q * _cw + j]);
                score[_postImage[p]] += idf * _lut[h];
            }
        }
        return score;
    }
}
