using R2D2.Localization.Geometry;
using R2D2.Localization.Mapping;
using R2D2.Localization.Tests.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Mapping;

/// <summary>One track → its point or nothing, against random ground truth (cameras on a ring around a cloud of points).</summary>
public class TrackTriangulationTests
{
    private static readonly TriangulationOptions Defaults = new();

    /// <summary>The observation of point <paramref name="x"/> in camera <paramref name="c"/> (image id c), with pixel noise and an offset.</summary>
    private static TrackObservation Observe(SyntheticScene s, int c, double[] x, int keypoint, double noisePx = 0, double offsetPx = 0)
    {
        var (u, v) = s.Project(c, x, noisePx);
        return new TrackObservation(new TrackElement(c, keypoint), new Observation(s.Cameras[c].P, u + offsetPx, v), s.Cameras[c].Centre);
    }

    [Fact]
    public void NoisyTracksGiveTheirPointWithinMillimetresAndKeepEveryObservation()
    {
        var s = new SyntheticScene(11, 6, 200);
        var errors = new List<double>();
        for (int p = 0; p < s.Points.Count; p++)
        {
            var track = Enumerable.Range(0, 6).Select(c => Observe(s, c, s.Points[p], keypoint: p, noisePx: 0.5)).ToList();
            var outcome = TrackTriangulation.Triangulate(track, Array.Empty<TrackObservation>(), Defaults, new Rng((ulong)p));
            Assert.Equal(TrackRejection.None, outcome.Rejection);
            var point = outcome.Point!;
            errors.Add(SyntheticScene.Distance(point.Point, s.Points[p]));
            Assert.Equal(track.Select(t => t.Element), point.Track); // all kept, sorted by image
            Assert.Equal(0, point.Completed);
            Assert.Equal(track.Average(t => Triangulation.ReprojectionError(t.Observation, point.Point)), point.Error, 12);
            Assert.InRange(point.Error, 0, 2);
        }
        errors.Sort();
        Assert.True(errors[errors.Count / 2] < 0.01, $"median error {errors[errors.Count / 2]:F4} m");
    }

    [Fact]
    public void AWrongObservationIsDroppedAndAnAmbiguousKeypointNearThePointIsRestored()
    {
        var s = new SyntheticScene(12, 6, 50);
        for (int p = 0; p < s.Points.Count; p++)
        {
            var x = s.Points[p];
            // Cameras 0–3 see the point, camera 5 holds a keypoint 40 px off (a wrong match).
            var track = Enumerable.Range(0, 4).Select(c => Observe(s, c, x, keypoint: 10)).Append(Observe(s, 5, x, keypoint: 11, offsetPx: 40)).ToList();
            // Camera 4 matched two keypoints of the track (dropped as ambiguous): the right one (7) and one 30 px off (8).
            var conflicts = new[] { Observe(s, 4, x, keypoint: 8, offsetPx: 30), Observe(s, 4, x, keypoint: 7, noisePx: 0.3) };
            var point = TrackTriangulation.Triangulate(track, conflicts, Defaults, new Rng((ulong)p)).Point!;
            Assert.True(SyntheticScene.Distance(point.Point, x) < 1e-3);
            Assert.Equal(new[] { new TrackElement(0, 10), new TrackElement(1, 10), new TrackElement(2, 10), new TrackElement(3, 10), new TrackElement(4, 7) }, point.Track);
            Assert.Equal(1, point.Completed);
        }
    }

    /// <summary>A camera at (centreX, 0, −10) looking along +z, observing <paramref name="x"/> exactly, or <paramref name="dvPx"/> lower.</summary>
    private static TrackObservation FrontoParallel(int id, double centreX, double[] x, double dvPx = 0)
    {
        var pose = Pose.FromCameraCenter(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, new[] { centreX, 0, -10 });
        var p = new Camera(1, CameraModel.SimplePinhole, 640, 480, new[] { 800.0, 320, 240 }).ProjectionMatrix(pose);
        double w = p[8] * x[0] + p[9] * x[1] + p[10] * x[2] + p[11];
        var obs = new Observation(p, (p[0] * x[0] + p[1] * x[1] + p[2] * x[2] + p[3]) / w, (p[4] * x[0] + p[5] * x[1] + p[6] * x[2] + p[7]) / w + dvPx);
        return new TrackObservation(new TrackElement(id, 0), obs, pose.CameraCenter);
    }

    [Fact]
    public void ObservationsOffTheirEpipolarLinesHaveNoConsensus()
    {
        // A sideways baseline makes the epipolar lines horizontal: 50 px down is 50 px off the line in every pair.
        var x = new[] { 0.3, -0.2, 0.0 };
        var track = new[] { FrontoParallel(1, 0, x), FrontoParallel(2, 1, x, dvPx: 50), FrontoParallel(3, 2, x, dvPx: 100) };
        var outcome = TrackTriangulation.Triangulate(track, Array.Empty<TrackObservation>(), Defaults, new Rng(1));
        Assert.Null(outcome.Point);
        Assert.Equal(TrackRejection.NoConsensus, outcome.Rejection);
        // The same cameras with consistent observations give the point.
        var consistent = new[] { FrontoParallel(1, 0, x), FrontoParallel(2, 1, x), FrontoParallel(3, 2, x) };
        Assert.True(SyntheticScene.Distance(TrackTriangulation.Triangulate(consistent, Array.Empty<TrackObservation>(), Defaults, new Rng(1)).Point!.Point, x) < 1e-6);
    }

    [Fact]
    public void ASmallBaselineIsRejectedByItsAngle()
    {
        // Two cameras 5 cm apart, 10 m from the point: 0.29°, under the 1.5° minimum.
        var x = new[] { 0.3, -0.2, 0.0 };
        var narrow = TrackTriangulation.Triangulate(new[] { FrontoParallel(1, 0, x), FrontoParallel(2, 0.05, x) }, Array.Empty<TrackObservation>(), Defaults, new Rng(1));
        Assert.Equal(TrackRejection.SmallAngle, narrow.Rejection);
        Assert.Null(narrow.Point);
        var lenient = TrackTriangulation.Triangulate(new[] { FrontoParallel(1, 0, x), FrontoParallel(2, 0.05, x) }, Array.Empty<TrackObservation>(),
            Defaults with { MinTriangulationAngleDeg = 0.1 }, new Rng(1));
        Assert.Equal(TrackRejection.None, lenient.Rejection);
        Assert.True(SyntheticScene.Distance(lenient.Point!.Point, x) < 1e-4);
    }
}
