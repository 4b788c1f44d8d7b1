using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using Xunit;

namespace R2D2.Localization.Tests;

public class MatchingTests
{
    private static float[] RandomDescriptors(Random rng, int n, int dim)
    {
        var d = new float[n * dim];
        for (int i = 0; i < n; i++)
        {
            double norm = 0;
            for (int k = 0; k < dim; k++) { d[i * dim + k] = (float)(rng.NextDouble() * 2 - 1); norm += d[i * dim + k] * d[i * dim + k]; }
            for (int k = 0; k < dim; k++) d[i * dim + k] /= (float)Math.Sqrt(norm);
        }
        return d;
    }

    [Theory]
    [InlineData(300, 200, 64)]
    [InlineData(50, 400, 7)] // blocks smaller than the row count
    public void MutualNearestNeighboursEqualBruteForce(int n1, int n2, int block)
    {
        var rng = new Random(1);
        const int dim = 16;
        var a = RandomDescriptors(rng, n1, dim);
        var b = RandomDescriptors(rng, n2, dim);
        var ours = MutualNearestNeighbours.Match(a, n1, b, n2, dim, blockRows: block).Select(m => (m.I, m.J)).ToHashSet();
        double Sim(int i, int j) { double s = 0; for (int k = 0; k < dim; k++) s += a[i * dim + k] * b[j * dim + k]; return s; }
        var nn12 = Enumerable.Range(0, n1).Select(i => Enumerable.Range(0, n2).MaxBy(j => Sim(i, j))).ToArray();
        var nn21 = Enumerable.Range(0, n2).Select(j => Enumerable.Range(0, n1).MaxBy(i => Sim(i, j))).ToArray();
        var expected = Enumerable.Range(0, n1).Where(i => nn21[nn12[i]] == i).Select(i => (i, nn12[i])).ToHashSet();
        Assert.Equal(expected, ours);
    }

    /// <summary>Brute-force mutual NN, ties to the first index (as argmax).</summary>
    private static HashSet<(int, int)> BruteForce(float[] a, int n1, float[] b, int n2, int dim)
    {
        double Sim(int i, int j) { double s = 0; for (int k = 0; k < dim; k++) s += a[i * dim + k] * b[j * dim + k]; return s; }
        var nn12 = Enumerable.Range(0, n1).Select(i => Enumerable.Range(0, n2).MaxBy(j => Sim(i, j))).ToArray();
        var nn21 = Enumerable.Range(0, n2).Select(j => Enumerable.Range(0, n1).MaxBy(i => Sim(i, j))).ToArray();
        return Enumerable.Range(0, n1).Where(i => nn21[nn12[i]] == i).Select(i => (i, nn12[i])).ToHashSet();
    }

    /// <summary>Within cells: the brute force over the pairs that share a cell (set 1's one, among
    /// set 2's k), ties to the lower index; the same whatever the threads; with every cell listed for
    /// set 2, the full mutual nearest neighbours.</summary>
    [Theory]
    [InlineData(300, 200, 5, 2, false)]
    [InlineData(257, 301, 7, 3, true)] // small integer descriptors: exact dot products, many ties
    [InlineData(40, 9, 3, 1, true)]
    public void CellMutualNearestNeighboursEqualBruteForceWithinCells(int n1, int n2, int cellCount, int k, bool integers)
    {
        var rng = new Random(6);
        int dim = integers ? 8 : 16;
        var a = integers ? Enumerable.Range(0, n1 * dim).Select(_ => (float)rng.Next(3)).ToArray() : RandomDescriptors(rng, n1, dim);
        var b = integers ? Enumerable.Range(0, n2 * dim).Select(_ => (float)rng.Next(3)).ToArray() : RandomDescriptors(rng, n2, dim);
        var cell1 = Enumerable.Range(0, n1).Select(_ => rng.Next(-1, cellCount)).ToArray(); // −1: compared with nothing
        var cells2 = Enumerable.Range(0, n2 * k).Select(_ => rng.Next(-1, cellCount)).ToArray(); // repeats and −1 included
        double Sim(int i, int j) { double s = 0; for (int d = 0; d < dim; d++) s += a[i * dim + d] * b[j * dim + d]; return s; }
        bool Shares(int i, int j) => cell1[i] >= 0 && cells2.AsSpan(j * k, k).Contains(cell1[i]);
        int Best(IEnumerable<int> candidates, Func<int, double> sim)
        {
            int best = -1; double bestS = double.NegativeInfinity;
            foreach (var c in candidates) if (sim(c) > bestS) { best = c; bestS = sim(c); }
            return best;
        }
        var nn12 = Enumerable.Range(0, n1).Select(i => Best(Enumerable.Range(0, n2).Where(j => Shares(i, j)), j => Sim(i, j))).ToArray();
        var nn21 = Enumerable.Range(0, n2).Select(j => Best(Enumerable.Range(0, n1).Where(i => Shares(i, j)), i => Sim(i, j))).ToArray();
        var expected = Enumerable.Range(0, n1).Where(i => nn12[i] >= 0 && nn21[nn12[i]] == i).Select(i => (i, nn12[i])).ToHashSet();
        Assert.NotEmpty(expected);
        foreach (int threads in new[] { 1, 3 })
            Assert.Equal(expected, CellMutualNearestNeighbours.Match(a, n1, cell1, b, n2, cells2, k, dim, cellCount, threads: threads).Select(m => (m.I, m.J)).ToHashSet());
        if (!integers) return;
        var everyCell = Enumerable.Range(0, n2).SelectMany(_ => Enumerable.Range(0, cellCount)).ToArray();
        var inACell = cell1.Select(c => Math.Max(c, 0)).ToArray();
        Assert.Equal(BruteForce(a, n1, b, n2, dim),
            CellMutualNearestNeighbours.Match(a, n1, inACell, b, n2, everyCell, cellCount, dim, cellCount).Select(m => (m.I, m.J)).ToHashSet());
    }

    [Theory]
    [InlineData(257, 301, 0)]
    [InlineData(257, 301, 5)]
    [InlineData(40, 9, 0)]     // fewer columns than a SIMD vector: the scalar tail alone
    [InlineData(100, 1003, 64)]
    public void TiesGoToTheFirstIndexLikeArgmax(int n1, int n2, int block)
    {
        // Small integer descriptors: every dot product is exact in float32, so ties abound and
        // the blocked, vectorized, multi-threaded scan must resolve them as a plain argmax does.
        var rng = new Random(4);
        const int dim = 8;
        var a = Enumerable.Range(0, n1 * dim).Select(_ => (float)rng.Next(3)).ToArray();
        var b = Enumerable.Range(0, n2 * dim).Select(_ => (float)rng.Next(3)).ToArray();
        var ours = MutualNearestNeighbours.Match(a, n1, b, n2, dim, blockRows: block).Select(m => (m.I, m.J)).ToHashSet();
        Assert.Equal(BruteForce(a, n1, b, n2, dim), ours);
    }

    [Theory]
    [InlineData(300, 200, 64)]
    [InlineData(1000, 3000, 0)]
    public void TorchReductionPathEqualsTheCpuScan(int n1, int n2, int block)
    {
        // The GPU path (torch's reductions), run on the CPU, against the default CPU scan.
        var rng = new Random(2);
        const int dim = 32;
        var a = RandomDescriptors(rng, n1, dim);
        var b = RandomDescriptors(rng, n2, dim);
        var cpu = MutualNearestNeighbours.Match(a, n1, b, n2, dim, blockRows: block);
        var rows = block > 0 ? block : MutualNearestNeighbours.BlockRowsFor(n2);
        var viaTorch = MutualNearestNeighbours.ScanWithTorchReductions(a, n1, b, n2, dim, TorchSharp.torch.CPU, rows);
        var expected = Enumerable.Range(0, n1).Where(i => viaTorch.ColumnArg[viaTorch.RowArg[i]] == i).Select(i => (i, viaTorch.RowArg[i])).ToList();
        Assert.Equal(expected, cpu.Select(m => (m.I, m.J)).ToList());
        Assert.Equal(expected.Select(e => viaTorch.RowMax[e.i]), cpu.Select(m => m.Similarity));
    }

    [Fact]
    public void MinimumSimilarityDropsWeakMatches()
    {
        var a = new float[] { 1, 0, 0, 1 };
        var b = new float[] { 0.9f, 0.43589f, 0, 1 };
        var all = MutualNearestNeighbours.Match(a, 2, b, 2, 2);
        Assert.Equal(2, all.Count);
        Assert.Single(MutualNearestNeighbours.Match(a, 2, b, 2, 2, minSimilarity: 0.95f));
    }

    [Fact]
    public void MmaCountsMatchesWithinTheThreshold()
    {
        double[] h = { 1, 0, 10, 0, 1, 0, 0, 0, 1 }; // shift by 10 px in x
        var x1 = new float[] { 0, 0, 0 }; var y1 = new float[] { 0, 5, 9 };
        var x2 = new float[] { 10, 11.5f, 14 }; var y2 = new float[] { 0, 5, 9 };
        var m = new List<Match> { new(0, 0, 1), new(1, 1, 1), new(2, 2, 1) };
        var acc = MatchingAccuracy.OfPair(m, x1, y1, x2, y2, h, new[] { 1, 2, 5 });
        Assert.Equal(new[] { 1 / 3.0, 2 / 3.0, 1.0 }, acc);
    }

    [Fact]
    public void HomographyShiftIsAConjugation()
    {
        var rng = new Random(3);
        var h = Enumerable.Range(0, 9).Select(_ => rng.NextDouble()).ToArray();
        h[8] = 1;
        var shifted = Homography.Shift(h, 0.5);
        // Map (x, y) in the shifted convention: x+0.5 in H's convention, then back by −0.5.
        var (ax, ay) = Homography.Apply(shifted, 3, 4);
        var (bx, by) = Homography.Apply(h, 3.5, 4.5);
        Assert.Equal(bx - 0.5, ax, 9);
        Assert.Equal(by - 0.5, ay, 9);
    }

    [Fact]
    public void FindsTheSharedHomographyPairs()
    {
        var graf = HomographyPairs.Find(SharedData.Path_("datasets", "oxford-graf"));
        var p = Assert.Single(graf);
        Assert.EndsWith("graf1.png", p.Image1);
        Assert.EndsWith("graf3.png", p.Image2);
        Assert.Equal(225.67123, p.H[2], 5);
        Assert.Equal(7, HomographyPairs.Find(SharedData.Path_("datasets", "evd")).Count);
    }

    /// <summary>A homography without its image, or one that is not a finite invertible matrix, is an
    /// error naming the file: the pair was skipped silently (scores over fewer pairs), and a NaN or
    /// singular H was scored.</summary>
    [Fact]
    public void IncompletePairsAndBadHomographiesNameTheFile()
    {
        var dir = Path.Combine(TempDir.Create(), "evd");
        TempDir.CopyTree(SharedData.Path_("datasets", "evd"), dir);
        var h = Path.Combine(dir, "h", "cat.txt");
        var good = File.ReadAllText(h);
        File.Move(Path.Combine(dir, "2", "cat.png"), Path.Combine(dir, "cat.png"));
        var e = Assert.Throws<FileFormatException>(() => HomographyPairs.Find(dir));
        Assert.StartsWith($"{h}: relates cat.*, which is not in {Path.Combine(dir, "2")}", e.Message);
        File.Move(Path.Combine(dir, "cat.png"), Path.Combine(dir, "2", "cat.png"));
        foreach (var (matrix, message) in new[]
        {
            ("1 0 0 0 NaN 0 0 0 1", "value 5 ('NaN') is not a finite number"),
            ("1 0 0 0 1 0 0 0 x", "value 9 ('x') is not a finite number"),
            ("1 2 3 2 4 6 0 0 1", "the homography is singular"),
        })
        {
            File.WriteAllText(h, matrix);
            Assert.StartsWith($"{h}: {message}", Assert.Throws<FileFormatException>(() => HomographyPairs.Find(dir)).Message);
        }
        File.WriteAllText(h, good);
        Assert.Equal(7, HomographyPairs.Find(dir).Count);
    }
}
