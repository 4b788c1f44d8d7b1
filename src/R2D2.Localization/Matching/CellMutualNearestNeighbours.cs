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
        // Per cell: its set-2 members transposed into one block (TransposedDots), then each set-1
        // member against the whole block, 64 at a time.
        Parallel.For(0, cellCount, new ParallelOptions { MaxDegreeOfParallelism = t }, () => (Block: Array.Empty<float>(), Dots: Array.Empty<float>()), (c, _, buffers) =>
        {
            int e0 = start2[c], width = start2[c + 1] - e0;
            if (width == 0 || start1[c] == start1[c + 1]) return buffers;
            int padded = TransposedDots.Padded(width);
            if (buffers.Block.Length < dim * padded) buffers = (new float[dim * padded], new float[padded]);
            var block = buffers.Block.AsSpan(0, dim * padded);
            TransposedDots.Transpose(desc2, members2.AsSpan(e0, width), dim, padded, block);
            var dots = buffers.Dots.AsSpan(0, padded);
            for (int a = start1[c]; a < start1[c + 1]; a++)
            {
                int i = members1[a];
                TransposedDots.Dots(desc1.AsSpan(i * dim, dim), block, padded, 0, padded, dots);
                float best = rowMax[i]; int arg = rowArg[i];
                for (int e = 0; e < width; e++)
                {
                    float s = dots[e];
                    int j = members2[e0 + e];
                    if (s > best || (s == best && j < arg)) { best = s; arg = j; }
                    if (s > entryMax[e0 + e] || (s == entryMax[e0 + e] && i < entryArg[e0 + e])) { entryMax[e0 + e] = s; entryArg[e0 + e] = i; }
                }
                rowMax[i] = best; rowArg[i] = arg;
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
