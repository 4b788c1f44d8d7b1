using R2D2.Localization.Features;
using static TorchSharp.torch;

namespace R2D2.Localization.Matching;

/// <summary>
/// Mutual nearest neighbours of L2-normalized descriptors (similarity = dot product): i and j
/// match when j is i's best in image 2 and i is j's best in image 1 (on exact ties, the first
/// index, as argmax takes it). Exact: the result is that of the full similarity matrix, which is
/// computed in row blocks so memory stays at blockRows × n2 similarities whatever the sizes.
/// </summary>
public static class MutualNearestNeighbours
{
    /// <param name="blockRows">rows of the similarity matrix per block; 0 chooses <see cref="BlockRowsFor"/>.</param>
    public static List<Match> Match(float[] desc1, int n1, float[] desc2, int n2, int dim,
        Device? device = null, float minSimilarity = float.NegativeInfinity, int blockRows = 0)
    {
        if (n1 == 0 || n2 == 0) return new List<Match>();
        device ??= CPU;
        int rows = blockRows > 0 ? blockRows : BlockRowsFor(n2);
        var best = device.type == TorchSharp.DeviceType.CPU
            ? SimilarityScan.Run(desc1, n1, desc2, n2, dim, rows)
            : ScanWithTorchReductions(desc1, n1, desc2, n2, dim, device, rows);
        return Mutual(best, minSimilarity);
    }

    /// <summary>
    /// The default block: about 2 M similarities (8 MB), so a block stays in the last-level cache
    /// between the matrix product that writes it and the scan that reads it, and the product still
    /// has enough rows to run at full speed.
    /// </summary>
    public static int BlockRowsFor(int n2) => Math.Clamp((1 << 21) / Math.Max(n2, 1), 64, 8192);

    /// <summary>The pairs that are each other's best.</summary>
    private static List<Match> Mutual(SimilarityScan.Best best, float minSimilarity)
    {
        var result = new List<Match>();
        for (int i = 0; i < best.RowArg.Length; i++)
        {
            int j = best.RowArg[i];
            if (j >= 0 && best.ColumnArg[j] == i && best.RowMax[i] >= minSimilarity) result.Add(new Match(i, j, best.RowMax[i]));
        }
        return result;
    }

    /// <summary>The same scan with torch's reductions, for GPUs (where they are fast; on the CPU,
    /// libtorch's column max with indices is several times slower than the product itself).</summary>
    internal static SimilarityScan.Best ScanWithTorchReductions(float[] desc1, int n1, float[] desc2, int n2, int dim, Device device, int blockRows)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var a = TorchScalars.Copied<float>(desc1.AsSpan(0, n1 * dim), new long[] { n1, dim }, float32).to(device);
        var b = TorchScalars.Copied<float>(desc2.AsSpan(0, n2 * dim), new long[] { n2, dim }, float32).to(device);
        var rowArg = new long[n1];
        var rowMax = new float[n1];
        var colBest = TorchScalars.Full(n2, float.NegativeInfinity, device);
        var colArg = zeros(n2, dtype: int64, device: device);
        for (int start = 0; start < n1; start += blockRows)
        {
            using var blockScope = NewDisposeScope();
            int rows = Math.Min(blockRows, n1 - start);
            var s = a.narrow(0, start, rows).mm(b.t());
            var (rMax, rArg) = s.max(1);
            rArg.cpu().data<long>().CopyTo(rowArg.AsSpan(start, rows));
            rMax.cpu().data<float>().CopyTo(rowMax.AsSpan(start, rows));
            var (cMax, cArg) = s.max(0);
            var better = cMax.gt(colBest); // strict: ties keep the earlier row, like argmax over all rows
            colBest.copy_(where(better, cMax, colBest));
            colArg.copy_(where(better, cArg.Add(start), colArg));
        }
        var colArgHost = colArg.cpu().data<long>().ToArray();
        return new SimilarityScan.Best(rowMax, rowArg.Select(v => (int)v).ToArray(), colArgHost.Select(v => (int)v).ToArray());
    }
}
