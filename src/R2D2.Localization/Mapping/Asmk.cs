using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
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

    /// <summary>"N words, sha256 XXXXXXXXXXXX": tells vocabularies apart (a run description records it,
    /// so a resume notices an index rebuilt meanwhile). Hashes the coarse centres and the words per
    /// centre only (128 KB, not the fine centres' 32 MB): the fine ones are learnt from them.</summary>
    public string Fingerprint => _fingerprint ??= FingerprintOf();
    private string? _fingerprint;

    private string FingerprintOf()
    {
        var bytes = new byte[Coarse.Length * sizeof(float) + FineStart.Length * sizeof(int)];
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(Coarse.AsSpan()).CopyTo(bytes);
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(FineStart.AsSpan()).CopyTo(bytes.AsSpan(Coarse.Length * sizeof(float)));
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)).ToLowerInvariant();
        return $"{Words} words, sha256 {hash[..12]}";
    }

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
            for (int i = (int)((long)count * part / t), end = (int)((long)count * (part + 1) / t); i < end; i += 4)
            {
                int rows = Math.Min(4, end - i);
                _coarse.Nearest(descriptors.AsSpan(i * Dim, rows * Dim), rows, cells.AsSpan(i * k, rows * k));
            }
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
        var words = new int[count];
        ForEachCell(descriptors, count, threads, coarse, (c, members, fine) =>
        {
            for (int a = 0; a < members.Length; a++) words[members[a]] = FineStart[c] + fine[a];
        });
        return words;
    }

    /// <summary>ASMK*'s aggregation (<see cref="Asmk.Encode"/>): the words that occur, ascending, and
    /// per word the sign of the sum of its descriptors' residuals to the word's centre (float32
    /// differences summed in float64, in input order), <see cref="Asmk.CodeWords"/> ulongs per word.
    /// A word's descriptors all lie in one coarse cell, so each cell is aggregated right after its
    /// fine search, while its descriptors and centres are in cache, on the threads of the search.</summary>
    public (int[] Words, ulong[] Codes) Aggregate(float[] descriptors, int count, int threads = 0, int[]? coarse = null)
    {
        int cw = Asmk.CodeWords(Dim);
        var cellWords = new int[CoarseCells][];
        var cellCodes = new ulong[CoarseCells][];
        ForEachCell(descriptors, count, threads, coarse, (c, members, fine) =>
        {
            // The cell's descriptors by fine centre, in input order within one (members are in input order).
            var order = new long[members.Length];
            for (int a = 0; a < members.Length; a++) order[a] = (long)fine[a] << 32 | (uint)a;
            Array.Sort(order);
            int runs = 0;
            for (int a = 0; a < order.Length; a++) if (a == 0 || order[a] >> 32 != order[a - 1] >> 32) runs++;
            var words = cellWords[c] = new int[runs];
            var codes = cellCodes[c] = new ulong[runs * cw];
            Span<double> sum = stackalloc double[Dim];
            for (int a = 0, r = 0; a < order.Length; r++)
            {
                int j = (int)(order[a] >> 32);
                words[r] = FineStart[c] + j;
                var centre = Fine[c].AsSpan(j * Dim, Dim);
                sum.Clear();
                for (; a < order.Length && order[a] >> 32 == j; a++) AddResidual(descriptors.AsSpan(members[(int)(uint)order[a]] * Dim, Dim), centre, sum);
                SignBits(sum, codes.AsSpan(r * cw, cw));
            }
        });
        var all = new int[cellWords.Sum(w => w?.Length ?? 0)];
        var allCodes = new ulong[all.Length * cw];
        for (int c = 0, n = 0; c < CoarseCells; c++)
        {
            if (cellWords[c] is not { } w) continue;
            w.CopyTo(all, n);
            cellCodes[c].CopyTo(allCodes, n * cw);
            n += w.Length;
        }
        return (all, allCodes);
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

    /// <summary>Bit k of the code set when sum[k] &gt; 0 (4 components at a time).</summary>
    private static void SignBits(ReadOnlySpan<double> sum, Span<ulong> code)
    {
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; k + 4 <= sum.Length; k += 4)
                code[k >> 6] |= (ulong)Vector256.GreaterThan(Vector256.Create(sum.Slice(k, 4)), Vector256<double>.Zero).ExtractMostSignificantBits() << (k & 63);
        for (; k < sum.Length; k++) if (sum[k] > 0) code[k >> 6] |= 1UL << (k & 63);
    }

    private delegate void CellWork(int cell, ReadOnlySpan<int> members, ReadOnlySpan<int> fine);

    /// <summary>The fine search cell by cell, so that a cell's fine centres (up to 128 kB) stay in
    /// cache for all of its descriptors instead of being fetched again for each one; then
    /// <paramref name="work"/> with the cell's descriptors (input order) and their fine centres.
    /// Cells run on up to <paramref name="threads"/> threads (0: all cores).</summary>
    private void ForEachCell(float[] descriptors, int count, int threads, int[]? coarse, CellWork work)
    {
        if (coarse != null && coarse.Length != count) throw new ArgumentException($"{coarse.Length} coarse cells for {count} descriptors");
        coarse ??= CoarseCellsOf(descriptors, count, 1, threads);
        var start = new int[CoarseCells + 1];
        foreach (var c in coarse) start[c + 1]++;
        for (int c = 0; c < CoarseCells; c++) start[c + 1] += start[c];
        var fill = (int[])start.Clone();
        var byCell = new int[count];
        for (int i = 0; i < count; i++) byCell[fill[coarse[i]]++] = i;
        var fine = new int[count];
        int t = Math.Max(1, Math.Min(threads > 0 ? threads : Environment.ProcessorCount, count / 256));
        Parallel.For(0, CoarseCells, new ParallelOptions { MaxDegreeOfParallelism = t }, c =>
        {
            // Four descriptors of the cell at a time, copied side by side for the four-row dots.
            Span<float> xs = stackalloc float[4 * Dim];
            for (int a = start[c]; a < start[c + 1]; a += 4)
            {
                int rows = Math.Min(4, start[c + 1] - a);
                for (int r = 0; r < rows; r++) descriptors.AsSpan(byCell[a + r] * Dim, Dim).CopyTo(xs.Slice(r * Dim, Dim));
                _fine[c].Nearest(xs[..(rows * Dim)], rows, fine.AsSpan(a, rows));
            }
            if (start[c] < start[c + 1]) work(c, byCell.AsSpan(start[c], start[c + 1] - start[c]), fine.AsSpan(start[c], start[c + 1] - start[c]));
        });
    }

    /// <summary>
    /// Centres stored for the nearest-centre search, transposed (<see cref="TransposedDots"/>).
    /// Padding centres have norm +∞, so they never win. Stack buffers are not zeroed first (every
    /// slot read is written before; zeroing 4 kB per four descriptors cost ~10% of the search).
    /// </summary>
    [SkipLocalsInit]
    private sealed class Centres
    {
        private readonly int _dim, _padded;
        private readonly float[] _t, _norm;

        public Centres(float[] rowMajor, int dim)
        {
            int count = rowMajor.Length / dim;
            _dim = dim;
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
            Nearest(x, 1, best);
            return best[0];
        }

        /// <summary>For each of <paramref name="rows"/> (1–4) vectors, row-major in <paramref name="xs"/>,
        /// its best.Length / rows nearest centres, nearest first (ties: the first centre; −1 past the count).</summary>
        public void Nearest(ReadOnlySpan<float> xs, int rows, Span<int> best)
        {
            int k = best.Length / rows;
            Span<float> dots = _padded <= 1024 ? stackalloc float[4 * _padded] : new float[4 * _padded];
            TransposedDots.DotsRows(xs, rows, _dim, _t, _padded, 0, _padded, dots, _padded);
            for (int r = 0; r < rows; r++) Select(dots.Slice(r * _padded, _padded), best.Slice(r * k, k));
        }

        // The k smallest ‖c‖² − 2 x·c from the dots, in order.
        private void Select(ReadOnlySpan<float> dots, Span<int> best)
        {
            int k = best.Length;
            if (k == 1 && Vector512.IsHardwareAccelerated) { best[0] = NearestOf(dots); return; }
            best.Fill(-1);
            Span<float> bestD = stackalloc float[k];
            bestD.Fill(float.PositiveInfinity);
            Span<float> group = stackalloc float[16];
            // 16 (or 8) centres at a time: a group none of whose distances beats the k-th best is
            // skipped whole (most are); the others' lanes that beat it are inserted in order of index.
            int g = 0;
            if (Vector512.IsHardwareAccelerated)
                for (; g + 16 <= _padded; g += 16)
                {
                    var d16 = Vector512.Create(_norm.AsSpan(g, 16)) - Vector512.Create(dots.Slice(g, 16)) * 2f;
                    ulong lanes = Vector512.LessThan(d16, Vector512.Create(bestD[k - 1])).ExtractMostSignificantBits();
                    if (lanes == 0) continue;
                    d16.CopyTo(group);
                    for (; lanes != 0; lanes &= lanes - 1)
                    {
                        int l = BitOperations.TrailingZeroCount(lanes);
                        Insert(group[l], g + l, best, bestD);
                    }
                }
            for (; g < _padded; g += 8)
            {
                var d8 = Vector256.Create(_norm.AsSpan(g, 8)) - Vector256.Create(dots.Slice(g, 8)) * 2f;
                if (Vector256.LessThan(d8, Vector256.Create(bestD[k - 1])) == Vector256<float>.Zero) continue;
                d8.CopyTo(group);
                for (int l = 0; l < 8; l++) Insert(group[l], g + l, best, bestD);
            }
        }

        // Centre i at distance d into the sorted best list, when it beats the last (ties: the earlier centre stays first).
        private static void Insert(float d, int i, Span<int> best, Span<float> bestD)
        {
            int k = best.Length;
            if (!(d < bestD[k - 1])) return;
            int at = k - 1;
            for (; at > 0 && d < bestD[at - 1]; at--) { bestD[at] = bestD[at - 1]; best[at] = best[at - 1]; }
            bestD[at] = d; best[at] = i;
        }

        // The one nearest: per lane of 16 its first minimum, then the lowest index at the minimum of
        // the lanes (the first centre of equal distances, as the insertion above gives).
        private int NearestOf(ReadOnlySpan<float> dots)
        {
            var bestV = Vector512.Create(float.PositiveInfinity);
            var bestI = Vector512<int>.Zero;
            var index = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            int g = 0;
            for (; g + 16 <= _padded; g += 16)
            {
                var d = Vector512.Create(_norm.AsSpan(g, 16)) - Vector512.Create(dots.Slice(g, 16)) * 2f;
                var lt = Vector512.LessThan(d, bestV);
                bestV = Vector512.ConditionalSelect(lt, d, bestV);
                bestI = Vector512.ConditionalSelect(lt.AsInt32(), index, bestI);
                index += Vector512.Create(16);
            }
            float min = float.PositiveInfinity;
            int arg = -1;
            for (int l = 0; l < 16; l++)
                if (bestV[l] < min || (bestV[l] == min && bestI[l] < arg)) { min = bestV[l]; arg = bestI[l]; }
            for (; g < _padded; g++)
            {
                float d = _norm[g] - dots[g] * 2f;
                if (d < min) { min = d; arg = g; }
            }
            return arg;
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

    /// <summary>The ASMK representation of an image's descriptors (row-major count × dim), cell by
    /// cell on all cores (<see cref="AsmkCodebook.Aggregate"/>). <paramref name="coarse"/>: the
    /// descriptors' nearest coarse centres when the caller has them (<see cref="AsmkCodebook.AssignAll"/>).</summary>
    public static AsmkImage Encode(float[] descriptors, int count, AsmkCodebook codebook, int[]? coarse = null)
    {
        var (words, codes) = codebook.Aggregate(descriptors, count, coarse: coarse);
        return new AsmkImage(words, codes);
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

    /// <summary>Bytes of postings (image index and code) a search for <paramref name="query"/> reads:
    /// the walk's memory traffic, over the memory's read rate a floor on its time at Aachen's size.</summary>
    public long WalkBytes(AsmkImage query) => Postings(query) * (4 + 8L * _cw);

    private long Postings(AsmkImage query)
    {
        long postings = 0;
        foreach (var w in query.Words) postings += _start[w + 1] - _start[w];
        return postings;
    }

    // Query words are scored in this many parts, each into its own score array, summed in a fixed
    // order: the scores do not depend on the number of threads.
    private const int Parts = 4;

    /// <summary>The threads a search for <paramref name="threads"/> (0: all cores) runs on: at most one per part.</summary>
    public static int SearchThreads(int threads = 0) => Math.Clamp(threads > 0 ? threads : Environment.ProcessorCount, 1, Parts);

    /// <summary>The k best database images for an encoded query, best first, with their scores;
    /// the postings are scanned on up to <paramref name="threads"/> threads (0: all cores).</summary>
    public List<(int ImageId, double Score)> Search(AsmkImage query, int k, int threads = 0)
    {
        int n = query.Words.Length;
        var partial = new double[Parts][];
        // Parts of about equal postings, not of equal words: a common word costs thousands.
        long postings = Postings(query);
        var bounds = new int[Parts + 1];
        long acc = 0;
        for (int q = 0, part = 1; q < n && part < Parts; q++)
        {
            acc += _start[query.Words[q] + 1] - _start[query.Words[q]];
            if (acc * Parts >= postings * part) bounds[part++] = q + 1;
        }
        for (int part = 1; part <= Parts; part++) bounds[part] = part == Parts ? n : Math.Max(bounds[part], bounds[part - 1]);
        Parallel.For(0, Parts, new ParallelOptions { MaxDegreeOfParallelism = SearchThreads(threads) }, part =>
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
    private unsafe double[] ScorePart(AsmkImage query, int from, int to)
    {
        var score = new double[_ids.Length];
        if (_cw == 2)
        {
            fixed (ulong* codes = _postCode)
            fixed (int* images = _postImage)
            fixed (double* lut = _lut, s = score)
            {
                // A cursor runs Lead postings ahead of the walk through the same lists, across their
                // ends, prefetching: the hardware prefetcher starts over at each list (~1,000 postings
                // of 20 bytes at Aachen's size), and a posting takes a few ns, so it needs hundreds of
                // postings' lead to hide the memory's latency (~1/3 of the walk's time).
                var ahead = new Cursor(query.Words, _start, from, to);
                ahead.Advance(Lead);
                for (int q = from; q < to; q++)
                {
                    int w = query.Words[q];
                    double idf = _idf[w];
                    if (idf <= 0) continue;
                    int end = _start[w + 1];
                    ulong a = query.Codes[2 * q], b = query.Codes[2 * q + 1];
                    int p = _start[w];
                    // Four postings (one cache line of codes) per prefetch.
                    for (; p + 4 <= end; p += 4)
                    {
                        if (Sse.IsSupported)
                        {
                            Sse.Prefetch0(codes + 2L * ahead.Posting);
                            if ((ahead.Posting & 15) < 4) Sse.Prefetch0(images + ahead.Posting);
                        }
                        ahead.Advance(4);
                        ulong* c = codes + 2L * p;
                        int* im = images + p;
                        int h0 = BitOperations.PopCount(c[0] ^ a) + BitOperations.PopCount(c[1] ^ b);
                        int h1 = BitOperations.PopCount(c[2] ^ a) + BitOperations.PopCount(c[3] ^ b);
                        int h2 = BitOperations.PopCount(c[4] ^ a) + BitOperations.PopCount(c[5] ^ b);
                        int h3 = BitOperations.PopCount(c[6] ^ a) + BitOperations.PopCount(c[7] ^ b);
                        s[im[0]] += idf * lut[h0];
                        s[im[1]] += idf * lut[h1];
                        s[im[2]] += idf * lut[h2];
                        s[im[3]] += idf * lut[h3];
                    }
                    ahead.Advance(end - p); // the cursor keeps its lead over the list's last postings
                    for (; p < end; p++)
                        s[images[p]] += idf * lut[BitOperations.PopCount(codes[2L * p] ^ a) + BitOperations.PopCount(codes[2L * p + 1] ^ b)];
                }
            }
            return score;
        }
        for (int q = from; q < to; q++)
        {
            int w = query.Words[q];
            double idf = _idf[w];
            if (idf <= 0) continue;
            int end = _start[w + 1];
            for (int p = _start[w]; p < end; p++)
            {
                int h = 0;
                for (int j = 0; j < _cw; j++) h += BitOperations.PopCount(_postCode[p * _cw + j] ^ query.Codes[q * _cw + j]);
                score[_postImage[p]] += idf * _lut[h];
            }
        }
        return score;
    }

    private const int Lead = 512;

    /// <summary>A position in the walk over the postings of query words [from, to), in walk order.</summary>
    private struct Cursor(int[] words, int[] start, int from, int to)
    {
        private int _q = from;
        public int Posting = from < to ? start[words[from]] : 0;

        public void Advance(int by)
        {
            Posting += by;
            while (_q < to && Posting >= start[words[_q] + 1])
            {
                int over = Posting - start[words[_q] + 1];
                if (++_q < to) Posting = start[words[_q]] + over;
                else Posting = Math.Max(0, start[words[to - 1] + 1] - 1); // past the last list: stays on its last posting
            }
        }
    }
}
