using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;
using R2D2.Localization.Tests.Storage;
using R2D2.Localization.Training;
using Xunit;

namespace R2D2.Localization.Tests.Training;

/// <summary>Map pairs from a small fake map written straight into a database: two Strecha fountain
/// images with their true poses, and random 3D points in front of both whose keypoints are their
/// exact projections (plus unobserved distractor keypoints).</summary>
public class MapPairTests
{
    private static string Scene => SharedData.Path_("datasets", "strecha", "fountain-P11");

    private sealed record FakeMap(string Db, PosedImage[] Images, double[][] Points);

    private static readonly Lazy<FakeMap> Map = new(Build);

    private static FakeMap Build()
    {
        var posed = new[] { "0004.jpg", "0006.jpg" }.Select(n => StrechaCameras.Read(Path.Combine(Scene, "cameras", n + ".camera"))).ToArray();
        var path = Path.Combine(TempDir.Create(), "map.db");
        using var db = FeatureDatabase.Open(path);
        var ids = posed.Select(p => db.AddImage(new DatabaseImage(0, p.Name, db.AddCamera(p.Camera with { Id = 0 }), p.Pose.Quaternion, p.Pose.Translation))).ToArray();

        // Points around where the two optical axes pass closest to each other.
        var c1 = posed[0].Pose.CameraCenter; var c2 = posed[1].Pose.CameraCenter;
        var d1 = posed[0].Pose.ViewingDirection; var d2 = posed[1].Pose.ViewingDirection;
        double depth = Enumerable.Range(0, 3).Sum(i => (c2[i] - c1[i]) * (c2[i] - c1[i])) is var b2 ? Math.Sqrt(b2) * 3 : 0;
        var centre = Enumerable.Range(0, 3).Select(i => (c1[i] + depth * d1[i] + c2[i] + depth * d2[i]) / 2).ToArray();
        var rng = new Random(5);
        var points = new List<double[]>();
        var kp = new[] { new List<(float, float)>(), new List<(float, float)>() };
        var tracks = new List<TrackElement[]>();
        while (points.Count < 400)
        {
            var x = centre.Select(v => v + (rng.NextDouble() - 0.5) * depth * 0.6).ToArray();
            var proj = posed.Select(p => Project(p, x)).ToArray();
            if (proj.Any(q => q == null)) continue;
            var track = new TrackElement[2];
            for (int k = 0; k < 2; k++)
            {
                track[k] = new TrackElement(ids[k], kp[k].Count);
                kp[k].Add(((float)proj[k]!.Value.X, (float)proj[k]!.Value.Y));
            }
            points.Add(x); tracks.Add(track);
        }
        // Keypoints no point observes, shuffled in among the others.
        for (int k = 0; k < 2; k++)
            for (int j = 0; j < 200; j++) kp[k].Add(((float)rng.NextDouble() * 3071, (float)rng.NextDouble() * 2047));
        for (int k = 0; k < 2; k++)
        {
            var f = StorageTestData.RandomFeatures(rng, kp[k].Count, width: 3072, height: 2048);
            var set = new FeatureSet
            {
                ImageWidth = 3072, ImageHeight = 2048, X = kp[k].Select(p => p.Item1).ToArray(), Y = kp[k].Select(p => p.Item2).ToArray(),
                OfficialX = f.OfficialX, OfficialY = f.OfficialY, Scale = f.Scale, Score = f.Score, Reliability = f.Reliability,
                Repeatability = f.Repeatability, Descriptors = f.Descriptors, Dim = f.Dim,
            };
            db.WriteFeatures(ids[k], set, StorageTestData.R2D2Extractor);
        }
        db.WriteMap(points.Select((x, i) => new MapPoint(i + 1, x[0], x[1], x[2], 128, 128, 128, 0.1, tracks[i], null)).ToList(), "{}");
        return new FakeMap(path, posed, points.ToArray());
    }

    private static (double X, double Y)? Project(PosedImage p, double[] x)
    {
        var c = p.Pose.ToCamera(x[0], x[1], x[2]);
        if (c[2] <= 0) return null;
        var q = p.Camera.Project(c[0], c[1], c[2]);
        return q.X >= 0 && q.Y >= 0 && q.X <= p.Camera.Width - 1 && q.Y <= p.Camera.Height - 1 ? q : null;
    }

    [Fact]
    public void FlowIsKnownOnlyAtCorrespondencesAndAgreesWithTheMapsProjections()
    {
        var map = Map.Value;
        var src = new MapPairSource(map.Db, Path.Combine(Scene, "images"), 3, new MapPairSettings { CropSize = 128, Photometric = PhotometricSettings.Off });
        Assert.Equal(1, src.PairCount);
        Assert.Contains("map pairs", src.Describe());
        int c = 128, n = c * c;
        var byName = map.Images.ToDictionary(i => i.Name);
        int total = 0;
        var ratios = new List<double>();
        for (int i = 0; i < 6; i++)
        {
            var s = src.Sample(i);
            var p = s.Pair;
            Assert.False(p.Dense);
            Assert.NotEqual(s.Image1, s.Image2);
            int known = 0;
            var found = new List<(double X1, double Y1, double X2, double Y2)>();
            for (int y = 0; y < c; y++)
                for (int x = 0; x < c; x++)
                {
                    float fx = p.Flow[y * c + x], fy = p.Flow[n + y * c + x];
                    Assert.Equal(float.IsNaN(fx), float.IsNaN(fy));
                    if (float.IsNaN(fx)) continue;
                    known++;
                    Assert.InRange(fx, 0, c - 1); Assert.InRange(fy, 0, c - 1);
                    // A 3D point projects into image 1 within the crop's half-pixel rounding of this
                    // pixel (in full-resolution pixels; two points may share a pixel)…
                    var (u, v) = s.Crop1.Invert(x, y);
                    double tol = 0.5 / s.Crop1.ScaleX + 1e-3;
                    var near = map.Points.Select(X => (X, P: Project(byName[s.Image1], X))).Where(t => t.P != null
                        && Math.Abs(t.P!.Value.X - u) <= tol && Math.Abs(t.P!.Value.Y - v) <= tol).ToList();
                    Assert.True(near.Count > 0, $"no map point at pixel ({x}, {y}) of {s.Image1}");
                    // …and the flow is its projection into image 2, moved by the same rounding.
                    var expected = near.Select(t => (t.P!.Value, E: Project(byName[s.Image2], t.X)!.Value)).Select(t => (t.Value, E: s.Crop2.Apply(t.E.X, t.E.Y)))
                        .MinBy(t => Math.Max(Math.Abs(fx - t.E.X), Math.Abs(fy - t.E.Y)));
                    var (ex, ey) = expected.E;
                    Assert.True(Math.Abs(fx - ex) <= 0.51 && Math.Abs(fy - ey) <= 0.51, $"flow ({fx:F2}, {fy:F2}), projection ({ex:F2}, {ey:F2})");
                    var (a1, b1) = s.Crop1.Apply(expected.Value.X, expected.Value.Y);
                    found.Add((a1, b1, ex, ey));
                }
            Assert.Equal(s.Correspondences, known);
            total += known;
            // The crops put the common points at about the same scale.
            for (int k = 0; k + 1 < found.Count; k++)
            {
                var (a, b) = (found[k], found[k + 1]);
                double d1 = Math.Sqrt(Math.Pow(a.X1 - b.X1, 2) + Math.Pow(a.Y1 - b.Y1, 2)), d2 = Math.Sqrt(Math.Pow(a.X2 - b.X2, 2) + Math.Pow(a.Y2 - b.Y2, 2));
                if (d1 > 10) ratios.Add(d2 / d1);
            }
        }
        Assert.True(total >= 6 * 10, $"{total} correspondences in 6 pairs");
        ratios.Sort();
        Assert.InRange(ratios[ratios.Count / 2], 0.7, 1.4);
    }

    [Fact]
    public void MapPairsAreDeterministicAndJittered()
    {
        var map = Map.Value;
        var a = new MapPairSource(map.Db, Path.Combine(Scene, "images"), 9, new MapPairSettings { CropSize = 64 });
        var b = new MapPairSource(map.Db, Path.Combine(Scene, "images"), 9, new MapPairSettings { CropSize = 64 });
        var p = a.Get(2);
        var q = b.Get(2);
        Assert.True(p.Image1.AsSpan().SequenceEqual(q.Image1) && p.Image2.AsSpan().SequenceEqual(q.Image2) && p.Flow.AsSpan().SequenceEqual(q.Flow));
        Assert.False(p.Flow.AsSpan().SequenceEqual(a.Get(3).Flow));
        Assert.All(p.Image2, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void AMissingImageFolderOrMapIsReportedByName()
    {
        var map = Map.Value;
        var e = Assert.Throws<FileNotFoundException>(() => new MapPairSource(map.Db, Path.Combine(Scene, "nowhere"), 0));
        Assert.Contains("0004.jpg", e.Message);
        var (db, path, _) = StorageTestData.NewDatabase(2);
        db.Dispose();
        Assert.Throws<FeatureDatabaseException>(() => new MapPairSource(path, Scene, 0));
    }
}
