using static TorchSharp.torch;

namespace R2D2.Localization.Matching;

/// <summary>A match between keypoint <see cref="I"/> of image 1 and <see cref="J"/> of image 2.</summary>
public readonly record struct Match(int I, int J, float Similarity);

/// <summary>
/// Mutual nearest neighbours of L2-normalized descriptors (similarity = dot product): i and j
/// match when j is i's best in image 2 and i is j's best in image 1. Computed on the device in
/// row blocks, so memory stays at blockRows × n2 similarities whatever the sizes.
/// </summary>
public static class MutualNearestNeighbours
{
    public static List<Match> Match(float[] desc1, int n1, float[] desc2, int n2, int dim,
        Device? device = null, float minSimilarity = float.NegativeInfinity, int blockRows = 4096)
    {
        var result = new List<Match>();
        if (n1 == 0 || n2 == 0) return result;
        device ??= CPU;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var a = tensor(desc1, new long[] { n1, dim }).to(device);
        var b = tensor(desc2, new long[] { n2, dim }).to(device);
        var best12 = new long[n1];
        var sim12 = new float[n1];
        var colBest = full(n2, float.NegativeInfinity, device: device);
        var colArg = zeros(n2, dtype: int64, device: device);
        for (int start = 0; start < n1; start += blockRows)
        {
            using var blockScope = NewDisposeScope();
            int rows = Math.Min(blockRows, n1 - start);
            var s = a.narrow(0, start, rows).mm(b.t());
            var (rowMax, rowArg) = s.max(1);
            rowArg.cpu().data<long>().CopyTo(best12.AsSpan(start, rows));
            rowMax.cpu().data<float>().CopyTo(sim12.AsSpan(start, rows));
            var (cMax, cArg) = s.max(0);
            var better = cMax.gt(colBest); // strict: ties keep the earlier row, like argmax over all rows
            colBest.copy_(where(better, cMax, colBest));
            colArg.copy_(where(better, cArg.add(start), colArg));
        }
        var best21 = colArg.cpu().data<long>().ToArray();
        for (int i = 0; i < n1; i++)
        {
            int j = (int)best12[i];
            if (best21[j] == i && sim12[i] >= minSimilarity) result.Add(new Match(i, j, sim12[i]));
        }
        return result;
    }
}
