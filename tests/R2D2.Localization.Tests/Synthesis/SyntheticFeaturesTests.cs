using R2D2.Localization.Matching;
using R2D2.Localization.Synthesis;
using Xunit;

namespace R2D2.Localization.Tests.Synthesis;

/// <summary>The scale benchmark's synthetic street: deterministic by seed, keypoints where the
/// poses project their facade points, and true correspondences that are nearest neighbours.</summary>
public class SyntheticFeaturesTests
{
    private static readonly SyntheticStreetOptions Small = new() { Images = 6, Keypoints = 3000, Seed = 7 };

    [Fact]
    public void TheSameSeedGivesTheSameFeaturesAndAnotherSeedOthers()
    {
        var a = new SyntheticStreet(Small).Features(2, out var idsA);
        var b = new SyntheticStreet(Small).Features(2, out var idsB);
        Assert.Equal(a.X, b.X);
        Assert.Equal(a.Descriptors, b.Descriptors);
        Assert.Equal(idsA, idsB);
        var c = new SyntheticStreet(Small with { Seed = 8 }).Features(2);
        Assert.NotEqual(a.Descriptors, c.Descriptors);
        Assert.Equal(3000, a.Count);
        Assert.Equal(new SyntheticStreet(Small).Query(1).Features.Descriptors, new SyntheticStreet(Small).Query(1).Features.Descriptors);
        // The point ids alone (the true-matches stage's) are those of the features, for every image,
        // with clutter (3,000 keypoints) and without (1,000: the facade's points fill them all).
        foreach (var o in new[] { Small, Small with { Keypoints = 1000 } })
            for (int i = 0; i < o.Images; i++)
            {
                new SyntheticStreet(o).Features(i, out var ids);
                Assert.Equal(ids, new SyntheticStreet(o).PointIds(i));
            }
        new SyntheticStreet(Small with { Keypoints = 1000 }).Features(0, out var full);
        Assert.DoesNotContain(-1L, full);
    }

    [Fact]
    public void TrueCorrespondencesAreMutualNearestNeighbours()
    {
        var street = new SyntheticStreet(Small);
        // Images 0 and 2: the same facade from positions 1.5 m apart.
        var f1 = street.Features(0, out var ids1);
        var f2 = street.Features(2, out var ids2);
        var truth = SyntheticStreet.TrueMatches(ids1, ids2);
        Assert.True(truth.Count > 500, $"{truth.Count} shared points");
        Assert.True(ids1.Count(i => i < 0) > 0, "clutter fills up the keypoints");
        var mnn = MutualNearestNeighbours.Match(f1.Descriptors, f1.Count, f2.Descriptors, f2.Count, f1.Dim, null)
            .Select(m => (m.I, m.J)).ToHashSet();
        Assert.All(truth, t => Assert.Contains((t.I, t.J), mnn));
        // Images facing opposite facades share nothing.
        street.Features(1, out var ids3);
        Assert.Empty(SyntheticStreet.TrueMatches(ids1, ids3));
    }

    [Fact]
    public void KeypointsOfFacadePointsLieWithinHalfAPixelOfTheirProjection()
    {
        var street = new SyntheticStreet(Small);
        var f = street.Features(0, out var ids);
        var q = street.Query(0);
        Assert.True(q.Features.Count == 3000);
        // Two images 1.5 m apart on the same side: a shared point's keypoints differ by the parallax
        // of a facade 8 m away (1200 px focal: 1.5 / 8 · 1200 = 225 px) ± 1 px of detection noise.
        var g = street.Features(2, out var ids2);
        foreach (var m in SyntheticStreet.TrueMatches(ids, ids2).Take(100))
        {
            Assert.InRange(Math.Abs(Math.Abs(f.X[m.I] - g.X[m.J]) - 225), 0, 1.01);
            Assert.InRange(Math.Abs(f.Y[m.I] - g.Y[m.J]), 0, 1.01);
        }
    }
}
