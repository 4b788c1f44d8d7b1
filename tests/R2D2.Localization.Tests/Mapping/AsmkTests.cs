using R2D2.Localization.Mapping;
using Xunit;

namespace R2D2.Localization.Tests.Mapping;

public class AsmkTests
{
    private static float[] Unit(Random rng, int dim)
    {
        var v = new float[dim];
        double n = 0;
        for (int i = 0; i < dim; i++) { v[i] = (float)(rng.NextDouble() * 2 - 1); n += v[i] * v[i]; }
        for (int i = 0; i < dim; i++) v[i] /= (float)Math.Sqrt(n);
        return v;
    }

    private static float[] Noisy(float[] d, Random rng, double noise)
    {
        var v = d.Select(x => x + (float)((rng.NextDouble() * 2 - 1) * noise)).ToArray();
        float n = MathF.Sqrt(v.Sum(x => x * x));
        return v.Select(x => x / n).ToArray();
    }

    [Fact]
    public void SelectivityIsTheCubeOfTheSimilarityAboveZero()
    {
        Assert.Equal(1, Asmk.Selectivity(0, 128));
        Assert.Equal(Math.Pow(0.5, 3), Asmk.Selectivity(32, 128), 12);
        Assert.Equal(0, Asmk.Selectivity(64, 128));
        Assert.Equal(0, Asmk.Selectivity(100, 128));
    }

    [Fact]
    public void ACodebookAssignsToTheNearestFineCentreOfTheNearestCoarseCentre()
    {
        var coarse = new float[] { 1, 0, -1, 0 };
        var fine = new[] { new float[] { 1, 1, 1, -1 }, new float[] { -1, 0.5f } };
        var cb = new AsmkCodebook(2, coarse, fine);
        Assert.Equal(3, cb.Words);
        Assert.Equal(1, cb.Assign(new float[] { 0.9f, -0.8f }, out var c));
        Assert.Equal(new float[] { 1, -1 }, c.ToArray());
        Assert.Equal(2, cb.Assign(new float[] { -2, 0 }, out _));
        Assert.Null(AsmkCodebook.FromParts(2, new Dictionary<int, float[]> { [-1] = coarse, [0] = fine[0] }));
        Assert.Equal(3, AsmkCodebook.FromParts(2, new Dictionary<int, float[]> { [-1] = coarse, [0] = fine[0], [1] = fine[1] })!.Words);
    }

    /// <summary>Images are noisy views of overlapping windows of a long row of "points"; a query (a
    /// new noisy view of an image's window) finds that image first, and its neighbours next.</summary>
    [Fact]
    public void TheInvertedFileRanksTheImageSeeingTheSamePointsFirst()
    {
        var rng = new Random(3);
        const int dim = 128, points = 3000, images = 30, window = 200, step = 90;
        var pts = Enumerable.Range(0, points).Select(_ => Unit(rng, dim)).ToArray();
        float[] View(int first) => Enumerable.Range(first, window).Where(_ => rng.NextDouble() < 0.7).SelectMany(p => Noisy(pts[p], rng, 0.05)).ToArray();
        var samples = Enumerable.Range(0, 4000).SelectMany(_ => Noisy(pts[rng.Next(points)], rng, 0.05)).ToArray();
        var coarse = Vlad.TrainCodebook(samples, dim, 16, 5, 1);
        var fine = Enumerable.Range(0, 16).Select(c => Vlad.TrainCodebook(samples.Skip(c * 250 * dim).Take(250 * dim).ToArray(), dim, 16, 5, c)).ToList();
        var cb = new AsmkCodebook(dim, coarse, fine);
        var db = new Dictionary<int, AsmkImage>();
        for (int i = 0; i < images; i++) { var v = View(i * step); db[100 + i] = Asmk.Encode(v, v.Length / dim, cb); }
        var index = new AsmkIndex(cb, db);
        Assert.True(index.MemoryBytes > 0);
        for (int i = 0; i < images; i += 7)
        {
            var q = View(i * step);
            var found = index.Search(Asmk.Encode(q, q.Length / dim, cb), 3);
            Assert.Equal(100 + i, found[0].ImageId);
            Assert.InRange(found[0].Score, 0.05, 1);
            Assert.True(found[0].Score >= found[1].Score);
        }
        // An image against itself scores 1.
        Assert.Equal(1, index.Search(db[105], 1)[0].Score, 6);
        // The scan's parts run on any number of threads with the same scores, and as a plain sum over the postings.
        var query = db[110];
        var one = index.Search(query, images, threads: 1);
        Assert.Equal(one, index.Search(query, images, threads: 2));
        var plain = new Dictionary<int, double>();
        double Idf(int w) => Math.Log((double)images / db.Values.Count(im => im.Words.Contains(w)));
        double qn = 0;
        foreach (var w in query.Words) qn += Idf(w);
        foreach (var (id, im) in db)
        {
            double sc = 0;
            for (int a = 0; a < query.Words.Length; a++)
                for (int b = 0; b < im.Words.Length; b++)
                    if (query.Words[a] == im.Words[b])
                    {
                        int h = System.Numerics.BitOperations.PopCount(query.Codes[2 * a] ^ im.Codes[2 * b]) + System.Numerics.BitOperations.PopCount(query.Codes[2 * a + 1] ^ im.Codes[2 * b + 1]);
                        sc += Idf(query.Words[a]) * Asmk.Selectivity(h, dim);
                    }
            if (sc > 0) plain[id] = sc / Math.Sqrt(qn * im.Words.Sum(Idf));
        }
        Assert.Equal(plain.Count, one.Count);
        foreach (var (id, sc) in one) Assert.Equal(plain[id], sc, 9);
        // The walk reads a posting (a 4-byte image index and a 16-byte code) per database image holding a query word.
        long shared = db.Values.Sum(im => (long)im.Words.Intersect(query.Words).Count());
        Assert.Equal(shared * 20, index.WalkBytes(query));
    }

    /// <summary>An image's encoding, words in parts on threads and residuals 8 components at a
    /// time, is byte for byte the plain one: per word in ascending order, the sign of the sum of its
    /// descriptors' residuals (float32 differences summed in float64).</summary>
    [Fact]
    public void TheEncodingIsTheSignOfEachWordsResidualSum()
    {
        var rng = new Random(9);
        const int dim = 128;
        var cb = new AsmkCodebook(dim, Enumerable.Range(0, 64).SelectMany(_ => Unit(rng, dim)).ToArray(),
            Enumerable.Range(0, 64).Select(_ => Enumerable.Range(0, 64).SelectMany(_ => Unit(rng, dim)).ToArray()).ToList());
        const int count = 20_000;
        var x = Enumerable.Range(0, count).SelectMany(_ => Unit(rng, dim)).ToArray();
        var image = Asmk.Encode(x, count, cb);
        var assigned = cb.AssignAll(x, count);
        var words = assigned.Distinct().Order().ToArray();
        Assert.True(words.Length > 3000);
        Assert.Equal(words, image.Words);
        var codes = new ulong[words.Length * 2];
        for (int r = 0; r < words.Length; r++)
        {
            var sum = new double[dim];
            var c = cb.Centre(words[r]);
            for (int i = 0; i < count; i++)
                if (assigned[i] == words[r])
                    for (int k = 0; k < dim; k++) sum[k] += x[i * dim + k] - c[k];
            for (int k = 0; k < dim; k++) if (sum[k] > 0) codes[2 * r + (k >> 6)] |= 1UL << (k & 63);
        }
        Assert.Equal(codes, image.Codes);
        // Given the coarse cells (as the query side shares them with the 2D–3D search): the same encoding.
        var given = Asmk.Encode(x, count, cb, cb.CoarseCellsOf(x, count, 1));
        Assert.Equal(image.Words, given.Words);
        Assert.Equal(image.Codes, given.Codes);
        Assert.Throws<ArgumentException>(() => Asmk.Encode(x, count, cb, new int[count - 1]));
    }

    /// <summary>A descriptor's k nearest coarse cells, nearest first, are those of a plain search
    /// (all of them and −1 past the number of cells); the first is the cell <see cref="AsmkCodebook.Assign"/> takes.</summary>
    [Fact]
    public void TheCoarseCellsAreTheNearestCentresInOrder()
    {
        var rng = new Random(8);
        const int dim = 128;
        var coarse = Enumerable.Range(0, 70).SelectMany(_ => Unit(rng, dim)).ToArray();
        var cb = new AsmkCodebook(dim, coarse, Enumerable.Range(0, 70).Select(_ => Unit(rng, dim)).ToList());
        const int count = 600;
        var x = Enumerable.Range(0, count).SelectMany(_ => Unit(rng, dim)).ToArray();
        foreach (int k in new[] { 1, 5, 72 })
        {
            var cells = cb.CoarseCellsOf(x, count, k, threads: 2);
            for (int i = 0; i < count; i++)
            {
                double D(int c) { double d = 0; for (int j = 0; j < dim; j++) d += (double)(x[i * dim + j] - coarse[c * dim + j]) * (x[i * dim + j] - coarse[c * dim + j]); return d; }
                var got = cells.AsSpan(i * k, k).ToArray();
                if (k <= 5) Assert.Equal(Enumerable.Range(0, 70).OrderBy(D).Take(k), got);
                else Assert.Equal(Enumerable.Range(-1, 71).Prepend(-1), got.Order()); // far centres' order is float rounding's
                Assert.InRange(cb.Assign(x.AsSpan(i * dim, dim), out _) - cb.FineStart[cells[i * k]], 0, cb.Fine[cells[i * k]].Length / dim - 1);
            }
        }
    }

    /// <summary>The assignment over transposed centres finds the nearest coarse centre, then the
    /// nearest of its fine centres, as a plain search of ‖x − c‖² does: fine codebooks of 3, 8, 64,
    /// 70 and 200 words (the 64-wide and the narrow paths), for one descriptor and for many on threads.</summary>
    [Fact]
    public void TheAssignmentIsTheNearestCentreOfAPlainSearch()
    {
        var rng = new Random(5);
        const int dim = 128;
        var sizes = new[] { 3, 8, 64, 70, 200 };
        var coarse = Enumerable.Range(0, sizes.Length).SelectMany(_ => Unit(rng, dim)).ToArray();
        var fine = sizes.Select(n => Enumerable.Range(0, n).SelectMany(_ => Unit(rng, dim)).ToArray()).ToList();
        var cb = new AsmkCodebook(dim, coarse, fine);
        int Plain(float[] centres, ReadOnlySpan<float> x)
        {
            int best = 0; double bestD = double.PositiveInfinity;
            for (int i = 0; i < centres.Length / dim; i++)
            {
                double d = 0;
                for (int k = 0; k < dim; k++) d += (double)(x[k] - centres[i * dim + k]) * (x[k] - centres[i * dim + k]);
                if (d < bestD) { bestD = d; best = i; }
            }
            return best;
        }
        const int count = 3000;
        var x = Enumerable.Range(0, count).SelectMany(_ => Unit(rng, dim)).ToArray();
        var all = cb.AssignAll(x, count, threads: 2);
        var seen = new HashSet<int>();
        for (int i = 0; i < count; i++)
        {
            var xi = x.AsSpan(i * dim, dim);
            int c = Plain(coarse, xi);
            int expected = cb.FineStart[c] + Plain(fine[c], xi);
            Assert.Equal(expected, all[i]);
            Assert.Equal(expected, cb.Assign(xi, out var centre));
            Assert.Equal(fine[c].AsSpan((expected - cb.FineStart[c]) * dim, dim).ToArray(), centre.ToArray());
            Assert.Equal(centre.ToArray(), cb.Centre(expected).ToArray());
            seen.Add(c);
        }
        Assert.Equal(sizes.Length, seen.Count);
    }

    [Fact]
    public void AKilledVocabularyTrainingResumesWithTheSamePartsAndTrainsOnlyWhatIsMissing()
    {
        var rng = new Random(9);
        const int dim = 16, side = 6;
        var samples = Enumerable.Range(0, 2000).SelectMany(_ => Unit(rng, dim)).ToArray();
        var stored = new Dictionary<int, float[]>();
        var full = AsmkVocabulary.Train(samples, dim, side, 5, 3, new Dictionary<int, float[]>(), (p, c) => stored[p] = c);
        Assert.Equal(side + 1, stored.Count);
        // As if killed after the coarse centres and two cells.
        var known = stored.Where(kv => kv.Key < 2).ToDictionary(kv => kv.Key, kv => kv.Value);
        var trained = new List<int>();
        var said = new List<string>();
        var resumed = AsmkVocabulary.Train(samples, dim, side, 5, 3, known, (p, _) => trained.Add(p), said.Add);
        Assert.Equal(Enumerable.Range(2, side - 2), trained);
        // The progress says which parts came from the database (a resumed run printed a fresh run's lines).
        Assert.Equal(new[] { "coarse words (stored)", "fine words of coarse cell 0 (stored)", "fine words of coarse cell 1 (stored)", "fine words of coarse cell 2" }, said.Take(4));
        Assert.Equal(full.Coarse, resumed.Coarse);
        for (int c = 0; c < side; c++) Assert.Equal(full.Fine[c], resumed.Fine[c]);
    }
}
