using R2D2.Localization.Mapping;
using Xunit;

namespace R2D2.Localization.Tests.Mapping;

/// <summary>The compact tracks are TrackBuilder's, element for element and in the same order.</summary>
public class TrackSetTests
{
    [Theory]
    [InlineData(1, 8, 300, 500)]    // dense: tracks with conflicts, long chains
    [InlineData(2, 30, 2000, 4000)] // sparse: short tracks, keypoint indices over several 64-bit words
    [InlineData(3, 3, 5, 50)]       // tiny: components collapse
    public void SameTracksConflictsAndOrderAsTrackBuilder(int seed, int images, int keypoints, int matches)
    {
        var rng = new Random(seed);
        var list = new List<(int, int, int, int)>();
        for (int m = 0; m < matches; m++)
        {
            int a = rng.Next(images), b = rng.Next(images - 1);
            if (b >= a) b++;
            list.Add((a * 7 + 3, rng.Next(keypoints), b * 7 + 3, rng.Next(keypoints))); // sparse, unordered image ids
        }
        var builder = new TrackBuilder();
        foreach (var (i1, k1, i2, k2) in list) builder.AddMatch(i1, k1, i2, k2);
        var expected = builder.BuildWithConflicts();
        int replays = 0;
        var set = TrackSet.Build(add => { replays++; foreach (var (i1, k1, i2, k2) in list) add(i1, k1, i2, k2); });
        Assert.Equal(2, replays);
        Assert.Equal(expected.Count, set.Count);
        for (int t = 0; t < expected.Count; t++)
        {
            Assert.Equal(expected[t].Track, set.Track(t).ToArray());
            Assert.Equal(expected[t].Conflicts, set.Conflicts(t).ToArray());
        }
        Assert.Equal(expected.Sum(t => t.Track.Length), set.ElementCount);
        Assert.Equal(expected.Sum(t => t.Conflicts.Length), set.ConflictCount);
        if (seed == 1) Assert.Contains(expected, t => t.Conflicts.Length > 0 && t.Track.Length > 2);
    }

    [Fact]
    public void AmbiguousObservationsAreDroppedAsTrackBuilderDropsThem()
    {
        var matches = new[] { (0, 1, 1, 5), (1, 5, 2, 7), (0, 2, 1, 6), (1, 6, 2, 7), (3, 0, 4, 0) };
        var set = TrackSet.Build(add => { foreach (var (a, b, c, d) in matches) add(a, b, c, d); });
        Assert.Equal(1, set.Count); // the first collapses to image 2 alone and is dropped
        Assert.Equal(new[] { new TrackElement(3, 0), new TrackElement(4, 0) }, set.Track(0).ToArray());
        Assert.Empty(TrackSet.Build(_ => { }).AllElements.ToArray());
    }

    [Fact]
    public void MatchesThatChangeBetweenThePassesAreRefused()
    {
        int pass = 0;
        Assert.Throws<InvalidOperationException>(() => TrackSet.Build(add => { pass++; add(0, 1, 1, pass == 1 ? 2 : 3); }));
    }
}
