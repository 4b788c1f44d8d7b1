using System.Runtime.Intrinsics;

namespace R2D2.Localization.Matching;

/// <summary>
/// Mutual nearest neighbours of L2-normalized descriptors compared only within cells of a
/// partition of descriptor space (a vocabulary's coarse cells, as Active Search and vocabulary-tree
/// matching do): descriptor i of set 1 lies in one cell, descriptor j of set 2 in up to k cells (its
/// k nearest centres), and i and j are compared when i's cell is one of j's. i and j match when j is
/// i's best among the descriptors it is compared with and i is j's best likewise (exact ties: the
/// lower index). With C cells the work is about k/C of the full similarity matrix's; a pair whose
/// cells differ is missed, which multiple cells for set 2 make rare. The result does not depend on
/// the number of threads.
/// </summary>
public static class CellMutualNearestNeighbours
{
    /// <param name="cell1">set 1's cell per descriptor (−1: compared with nothing).</param>
    /// <param name="cells2">set 2's cells, <paramref name="cellsPerDescriptor"/> per descriptor, row-major (−1: none).</param>
    public static List<Match> Match(float[] desc1, int n1, int[] cell1, float[] desc2, int n2, int[] cells2, int cellsPerDescriptor,
        int dim, int cellCount, float minSimilarity = float.NegativeInfinity, int threads = 0)
    {
        if (desc1.Length < (long)n1 * dim || desc2.Length < (long)n2 * dim || cell1.Length < n1 || cells2.Length < (long)n2 * cellsPerDescriptor)
            throw new ArgumentException("descriptor or cell arrays are shorter than their counts");
        var result = new List<Match>();
        if (n1 == 0 || n2 == 0) return result;
        var (start1, members1) = Buckets(cell1, n1, 1, cellCount);
        var (start2, members2) = Buckets(cells2, n2, cellsPerDescriptor, cellCount);
        var rowMax = new float[n1];
        var rowArg = new int[n1];
        Array.Fill(rowMax, float.NegativeInfinity);
        Array.Fill(rowArg, -1);
        // Set 2's best per (cell, member) entry: an entry belongs to one cell, so cells run on threads
        // without sharing a slot; a descriptor's entries are merged afterwards.
        var entryMax = new float[members2.Length];
        var entryArg = new int[members2.Length];
        Array.Fill(entryMax, float.NegativeInfinity);
        Array.Fill(entryArg, -1);
        int t = Math.Max(1, threads > 0 ? threads : Environment.ProcessorCount);
        // Per cell: its set-2 members transposed into one block (TransposedDots), then the set-1
        // members against the whole block, four at a time.
        Parallel.For(0, cellCount, new ParallelOptions { MaxDegreeOfParallelism = t }, () => (Block: Array.Empty<float>(), Dots: Array.Empty<float>(), Rows: new float[4 * dim]), (c, _, buffers) =>
        {
            int e0 = start2[c], width = start2[c + 1] - e0;
            if (width == 0 || start1[c] == start1[c + 1]) return buffers;
            int padded = TransposedDots.Padded(width);
            if (buffers.Block.Length < dim * padded) buffers = (new float[dim * padded], new float[4 * padded], buffers.Rows);
            var block = buffers.Block.AsSpan(0, dim * padded);
            TransposedDots.Transpose(desc2, members2.AsSpan(e0, width), dim, padded, block);
            // Four set-1 members at a time (copied side by side), each then taken in order as before.
            for (int a0 = start1[c]; a0 < start1[c + 1]; a0 += 4)
            {
                int rows = Math.Min(4, start1[c + 1] - a0);
                for (int r = 0; r < rows; r++) desc1.AsSpan(members1[a0 + r] * dim, dim).CopyTo(buffers.Rows.AsSpan(r * dim, dim));
                TransposedDots.DotsRows(buffers.Rows, rows, dim, block, padded, 0, padded, buffers.Dots, padded);
                for (int r = 0; r < rows; r++)
                {
                    int i = members1[a0 + r];
                    var (s, e) = Update(buffers.Dots.AsSpan(r * padded, width), i, entryMax.AsSpan(e0, width), entryArg.AsSpan(e0, width));
                    int j = members2[e0 + e];
                    if (s > rowMax[i] || (s == rowMax[i] && j < rowArg[i])) { rowMax[i] = s; rowArg[i] = j; }
                }
            }
            return buffers;
        }, _ => { });
        var colMax = new float[n2];
        var colArg = new int[n2];
        Array.Fill(colMax, float.NegativeInfinity);
        Array.Fill(colArg, -1);
        for (int e = 0; e < members2.Length; e++)
        {
            int j = members2[e], i = entryArg[e];
            if (i < 0) continue;
            if (entryMax[e] > colMax[j] || (entryMax[e] == colMax[j] && i < colArg[j])) { colMax[j] = entryMax[e]; colArg[j] = i; }
        }
        for (int i = 0; i < n1; i++)
        {
            int j = rowArg[i];
            if (j >= 0 && colArg[j] == i && rowMax[i] >= minSimilarity) result.Add(new Match(i, j, rowMax[i]));
        }
        return result;
    }

    /// <summary>One set-1 descriptor i against a cell's set-2 entries: each entry whose best so far it
    /// beats takes it (ties keep the earlier i: a cell's set-1 members come in ascending order, so an
    /// entry's current i is always lower), and its own best entry, the first of equal ones (entries
    /// are in ascending j), 8 at a time.</summary>
    private static (float Best, int Entry) Update(ReadOnlySpan<float> dots, int i, Span<float> entryMax, Span<int> entryArg)
    {
        int width = dots.Length, e = 0;
        float best = float.NegativeInfinity; int arg = 0;
        if (Vector256.IsHardwareAccelerated && width >= 8)
        {
            var bestV = Vector256.Create(float.NegativeInfinity);
            var bestE = Vector256<int>.Zero;
            var lane = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7);
            var iv = Vector256.Create(i);
            for (; e + 8 <= width; e += 8)
            {
                var s = Vector256.Create(dots.Slice(e, 8));
                var gt = Vector256.GreaterThan(s, bestV);
                bestV = Vector256.ConditionalSelect(gt, s, bestV);
                bestE = Vector256.ConditionalSelect(gt.AsInt32(), lane + Vector256.Create(e), bestE);
                var m = Vector256.Create(entryMax.Slice(e, 8));
                var up = Vector256.GreaterThan(s, m);
                Vector256.ConditionalSelect(up, s, m).CopyTo(entryMax.Slice(e, 8));
                Vector256.ConditionalSelect(up.AsInt32(), iv, Vector256.Create(entryArg.Slice(e, 8))).CopyTo(entryArg.Slice(e, 8));
            }
            // Each lane kept its first maximum; of the lanes at the maximum, the lowest entry.
            best = MaxOf(bestV);
            arg = int.MaxValue;
            for (int l = 0; l < 8; l++) if (bestV[l] == best && bestE[l] < arg) arg = bestE[l];
        }
        for (; e < width; e++)
        {
            float s = dots[e];
            if (s > best) { best = s; arg = e; }
            if (s > entryMax[e]) { entryMax[e] = s; entryArg[e] = i; }
        }
        return (best, arg);
    }

    private static float MaxOf(Vector256<float> v)
    {
        float m = v[0];
        for (int l = 1; l < 8; l++) m = Math.Max(m, v[l]);
        return m;
    }

    /// <summary>Members of each cell, by a counting sort (a descriptor named twice by the same cell is listed once).</summary>
    private static (int[] Start, int[] Members) Buckets(int[] cells, int n, int perDescriptor, int cellCount)
    {
        var start = new int[cellCount + 1];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < perDescriptor; k++)
                if (Valid(cells, i, k, perDescriptor, cellCount)) start[cells[i * perDescriptor + k] + 1]++;
        for (int c = 0; c < cellCount; c++) start[c + 1] += start[c];
        var fill = (int[])start.Clone();
        var members = new int[start[cellCount]];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < perDescriptor; k++)
                if (Valid(cells, i, k, perDescriptor, cellCount)) members[fill[cells[i * perDescriptor + k]]++] = i;
        return (start, members);
    }

    private static bool Valid(int[] cells, int i, int k, int perDescriptor, int cellCount)
    {
        int c = cells[i * perDescriptor + k];
        if (c < 0) return false;
        if (c >= cellCount) throw new ArgumentException($"cell {c} is outside 0..{cellCount - 1}");
        for (int p = 0; p < k; p++) if (cells[i * perDescriptor + p] == c) return false;
        return true;
    }
}
