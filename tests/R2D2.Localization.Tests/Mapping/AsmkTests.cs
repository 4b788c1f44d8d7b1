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
        for (int i = 0; i < images; i++) { var v = View(i * step); db[100 + i] = Asmk.Encode(v, v.Length / dim, cb, threads: 2); }
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
    }
}
