using R2D2.Localization.Localization;
using R2D2.Localization.Storage;
using Xunit;
using static R2D2.Localization.Tests.Storage.StorageTestData;

namespace R2D2.Localization.Tests.Localization;

/// <summary>A loaded map holds each point's descriptor once (float16, as stored) and finds the
/// point of a database keypoint without a dictionary entry per observation.</summary>
public class MapIndexTests
{
    [Fact]
    public void DescriptorsAreStoredOnceAndKeypointsFindTheirPoints()
    {
        var (db, path, ids) = NewDatabase(3);
        var rng = new Random(5);
        var f = RandomFeatures(rng, 40);
        var points = new List<MapPoint>();
        for (int p = 0; p < 25; p++)
        {
            var track = new[] { new TrackElement(ids[0], p), new TrackElement(ids[1 + p % 2], 39 - p) };
            // Point 7 has no descriptor: a loaded map leaves it out (as before), and the points after it move up.
            points.Add(new MapPoint(p + 1, p, 2 * p, 3, 128, 128, 128, 0.5, track, p == 7 ? null : f.Descriptor(p).ToArray()));
        }
        using (db)
        {
            db.WriteFeatures(ids[0], f, R2D2Extractor);
            db.WriteMap(points, "{}");
        }
        using var ro = FeatureDatabase.OpenReadOnly(path);
        var map = MapIndex.Load(ro);
        var kept = points.Where(p => p.Descriptor != null).ToList();
        Assert.Equal(kept.Select(p => p.Id), map.Points.Select(p => p.Id));
        Assert.All(map.Points, p => Assert.Null(p.Descriptor));
        Assert.Equal(128, map.Dim);
        Assert.Equal(kept.Count * 128, map.Descriptors.Length);
        var stored = ro.ReadMap().Where(p => p.Descriptor != null).ToList();
        for (int i = 0; i < kept.Count; i++)
        {
            Assert.Equal(stored[i].Descriptor!, map.Descriptors.AsSpan(i * 128, 128).ToArray().Select(h => (float)h).ToArray());
            Assert.Equal(kept[i].Track, map.Points[i].Track);
            foreach (var e in kept[i].Track) Assert.Equal(i, map.PointOf(e.ImageId, e.KeypointIndex));
        }
        Assert.Equal(-1, map.PointOf(ids[0], 7)); // the point without a descriptor
        Assert.Equal(-1, map.PointOf(ids[0], 30));
        Assert.Equal(-1, map.PointOf(ids[2], 39)); // keypoint 39 observes point 0 in ids[1], nothing in ids[2]
        Assert.Equal(-1, map.PointOf(ids[0], -1));
        Assert.Equal(-1, map.PointOf(999, 0));
        // Matching against every point and against the points of all images finds the same.
        var all = map.MatchToPoints(f, null);
        var viaImages = map.MatchToPointsOf(f, ids, null);
        Assert.Equal(all, viaImages);
        Assert.Equal(kept.Count, all.Count); // each point's descriptor is its keypoint's (within float16)
    }
}
