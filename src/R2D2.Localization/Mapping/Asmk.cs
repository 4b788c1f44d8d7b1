using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using R2D2.Localization.Matching;

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

    /// <summary>The number of coarse centres (cells of the first level).</summary>
    public int CoarseCells => Fine.Count;

    /// <summary>The coarse cells of many descriptors (row-major count × dim): per descriptor its
    /// <paramref name="k"/> nearest coarse centres, nearest first (count × k, row-major; −1 where
    /// there are fewer than k centres), on up to <paramref name="threads"/> threads (0: all cores).</summary>
    public int[] CoarseCellsOf(float[] descriptors, int count, int k, int threads = 0)
    {
        var cells = new int[count * k];
        int t = Math.Max(1, Math.Min(threads > 0 ? threads : Environment.ProcessorCount, count / 256));
        Parallel.For(0, t, new ParallelOptions { MaxDegreeOfParallelism = t }, part =>
        {
            for (int i = (int)((long)count * part / t), end = (int)((long)count * (part + 1) / t); i < end; i++)
                _coarse.Nearest(descriptors.AsSpan(i * Dim, Dim), cells.AsSpan(i * k, k));
        });
        return cells;
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
    /// them, on up to <paramref name="threads"/> threads (0: all cores); <paramref name="coarse"/>:
    /// their nearest coarse centres when the caller has them already (<see cref="CoarseCellsOf"/> with k = 1).</summary>
    public int[] AssignAll(float[] descriptors, int count, int threads = 0, int[]? coarse = null)
    {
        if (coarse != null && coarse.Length != count) throw new ArgumentException($"{coarse.Length} coarse cells for {count} descriptors");
        coarse ??= CoarseCellsOf(descriptors, count, 1, threads);
        // The fine search cell by cell, so that a cell's fine centres (up to 128 kB) stay in cache
        // for all of its descriptors instead of being fetched again for each one.
        var start = new int[CoarseCells + 1];
        foreach (var c in coarse) start[c + 1]++;
        for (int c = 0; c < CoarseCells; c++) start[c + 1] += start[c];
        var fill = (int[])start.Clone();
        var byCell = new int[count];
        for (int i = 0; i < count; i++) byCell[fill[coarse[i]]++] = i;
        var words = new int[count];
        int t = Math.Max(1, Math.Min(threads > 0 ? threads : Environment.ProcessorCount, count / 256));
        Parallel.For(0, CoarseCells, new ParallelOptions { MaxDegreeOfParallelism = t }, c =>
        {
            for (int a = start[c]; a < start[c + 1]; a++)
            {
                int i = byCell[a];
                words[i] = FineStart[c] + _fine[c].Nearest(descriptors.AsSpan(i * Dim, Dim));
            }
        });
        return words;
    }

    /// <summary>
    /// Centres stored for the nearest-centre search, transposed (<see cref="TransposedDots"/>).
    /// Padding centres have norm +∞, so they never win.
    /// </summary>
    private sealed class Centres
    {
        private readonly int _padded;
        private readonly float[] _t, _norm;

        public Centres(float[] rowMajor, int dim)
        {
            int count = rowMajor.Length / dim;
            _padded = TransposedDots.Padded(count);
            _t = new float[dim * _padded];
            TransposedDots.Transpose(rowMajor, Enumerable.Range(0, count).ToArray(), dim, _padded, _t);
            _norm = new float[_padded];
            Array.Fill(_norm, float.PositiveInfinity);
            for (int j = 0; j < count; j++)
            {
                float n = 0;
                for (int k = 0; k < dim; k++) { float v = rowMajor[j * dim + k]; n = MathF.FusedMultiplyAdd(v, v, n); }
                _norm[j] = n;
            }
        }

        /// <summary>argmin ‖x − c‖² = argmin ‖c‖² − 2 x·c (ties: the first centre).</summary>
        public int Nearest(ReadOnlySpan<float> x)
        {
            Span<int> best = stackalloc int[1];
            Nearest(x, best);
            return best[0];
        }

        /// <summary>The best.Length nearest centres, nearest first (ties: the first centre; −1 past the count).</summary>
        public void Nearest(ReadOnlySpan<float> x, Span<int> best)
        {
            int k = best.Length;
            best.Fill(-1);
            Span<float> bestD = stackalloc float[k];
            bestD.Fill(float.PositiveInfinity);
            Span<float> dots = stackalloc float[64];
            for (int j0 = 0; j0 < _padded; j0 += 64)
            {
                int width = Math.Min(64, _padded - j0);
                TransposedDots.Dots(x, _t, _padded, j0, width, dots);
                // 8 centres at a time: a group none of whose distances beats the k-th best is skipped
                // whole (most are); the others are inserted one by one, in order, as before.
                for (int g = 0; g < width; g += 8)
                {
                    var d8 = Vector256.Create(_norm.AsSpan(j0 + g, 8)) - Vector256.Create(dots.Slice(g, 8)) * 2f;
                    if (Vector256.LessThan(d8, Vector256.Create(bestD[k - 1])) == Vector256<float>.Zero) continue;
                    for (int i = g; i < g + 8; i++)
                    {
                        float d = d8[i - g];
                        if (!(d < bestD[k - 1])) continue;
                        int at = k - 1;
                        for (; at > 0 && d < bestD[at - 1]; at--) { bestD[at] = bestD[at - 1]; best[at] = best[at - 1]; }
                        bestD[at] = d; best[at] = j0 + i;
                    }
                }
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

    /// <summary>The ASMK representation of an image's descriptors (row-major count × dim); the
    /// assignment, which dominates, runs on all cores. <paramref name="coarse"/>: the descriptors'
    /// nearest coarse centres when the caller has them (<see cref="AsmkCodebook.AssignAll"/>).</summary>
    public static AsmkImage Encode(float[] descriptors, int count, AsmkCodebook codebook, int[]? coarse = null)
    {
        int dim = codebook.Dim, cw = CodeWords(dim);
        var word = codebook.AssignAll(descriptors, count, coarse: coarse);
        // The descriptors by word, in input order within a word: one sort of (word, index) keys.
        var order = new long[count];
        for (int i = 0; i < count; i++) order[i] = (long)word[i] << 32 | (uint)i;
        Array.Sort(order);
        var runs = new List<int>();
        for (int s = 0; s < count; s++) if (s == 0 || order[s] >> 32 != order[s - 1] >> 32) runs.Add(s);
        runs.Add(count);
        var words = new int[runs.Count - 1];
        var codes = new ulong[words.Length * cw];
        // Each word's code on its own: parts of the words on threads give the same bytes.
        int parts = Math.Max(1, Math.Min(Environment.ProcessorCount, words.Length / 1024));
        Parallel.For(0, parts, new ParallelOptions { MaxDegreeOfParallelism = parts }, part =>
        {
            var sum = new double[dim];
            for (int r = (int)((long)words.Length * part / parts), end = (int)((long)words.Length * (part + 1) / parts); r < end; r++)
            {
                int w = words[r] = (int)(order[runs[r]] >> 32);
                var c = codebook.Centre(w);
                Array.Clear(sum);
                for (int e = runs[r]; e < runs[r + 1]; e++) AddResidual(descriptors.AsSpan((int)(uint)order[e] * dim, dim), c, sum);
                var code = codes.AsSpan(r * cw, cw);
                for (int k = 0; k < dim; k++) if (sum[k] > 0) code[k >> 6] |= 1UL << (k & 63);
            }
        });
        return new AsmkImage(words, codes);
    }

    /// <summary>sum += x − c, the difference in float32 and the sum in float64 (8 components at a time).</summary>
    private static void AddResidual(ReadOnlySpan<float> x, ReadOnlySpan<float> c, Span<double> sum)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; k + 8 <= x.Length; k += 8)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Create(x.Slice(k, 8)) - Vector256.Create(c.Slice(k, 8)));
                (Vector256.Create(sum.Slice(k, 4)) + lo).CopyTo(sum.Slice(k, 4));
                (Vector256.Create(sum.Slice(k + 4, 4)) + hi).CopyTo(sum.Slice(k + 4, 4));
            }
        for (; k < x.Length; k++) sum[k] += x[k] - c[k];
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
