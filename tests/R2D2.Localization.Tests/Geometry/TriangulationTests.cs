using R2D2.Localization.Geometry;
using R2D2.Localization.Mapping;
using Xunit;

namespace R2D2.Localization.Tests.Geometry;

public class TriangulationTests
{
    [Fact]
    public void DltIsExactWithoutNoise()
    {
        var s = new SyntheticScene(1, 4, 50);
        foreach (var x in s.Points)
        {
            var obs = Enumerable.Range(0, 4).Select(c => { var (u, v) = s.Project(c, x); return new Observation(s.Cameras[c].P, u, v); }).ToList();
            var t = Triangulation.Dlt(obs)!;
            Assert.True(SyntheticScene.Distance(t, x) < 1e-8);
        }
    }

    /// <summary>The same scene moved to UTM-like coordinates (500 km east, 5,600 km north): the DLT
    /// still finds each point within 10 µm, and the noisy two-view tracks of the scale benchmark's
    /// street 3 km from its origin are all triangulated, as near the origin.</summary>
    [Fact]
    public void TriangulationFarFromTheOriginIsAsGoodAsNearIt()
    {
        var s = new SyntheticScene(1, 4, 50);
        var o = new[] { 500_000.0, 5_600_000.0, 120.0 };
        double[] Moved(double[] p)
        {
            var q = (double[])p.Clone();
            for (int r = 0; r < 3; r++) q[4 * r + 3] = p[4 * r + 3] - (p[4 * r] * o[0] + p[4 * r + 1] * o[1] + p[4 * r + 2] * o[2]);
            return q;
        }
        foreach (var x in s.Points)
        {
            var obs = Enumerable.Range(0, 4).Select(c => { var (u, v) = s.Project(c, x); return new Observation(Moved(s.Cameras[c].P), u, v); }).ToList();
            var t = Triangulation.Dlt(obs)!;
            Assert.True(SyntheticScene.Distance(t, new[] { x[0] + o[0], x[1] + o[1], x[2] + o[2] }) < 1e-5);
            Assert.Equal(s.Cameras[0].Centre[0] + o[0], Triangulation.CameraCentre(obs[0].P)![0], 6);
        }
        var street = new R2D2.Localization.Synthesis.SyntheticStreet(new() { Images = 4004 });
        foreach (int c in new[] { 10, 4000 })
        {
            var a = street.Images[c]; var b = street.Images[c + 2]; // the same side, 1.5 m apart
            var fa = street.Features(c, out var ia); var fb = street.Features(c + 2, out var ib);
            var m = R2D2.Localization.Synthesis.SyntheticStreet.TrueMatches(ia, ib);
            var pa = a.Camera.ProjectionMatrix(a.Pose); var pb = b.Camera.ProjectionMatrix(b.Pose);
            int kept = m.Count(k => TrackTriangulation.Triangulate(new List<TrackObservation>
            {
                new(new TrackElement(1, k.I), new Observation(pa, fa.X[k.I], fa.Y[k.I]), a.Pose.CameraCenter),
                new(new TrackElement(2, k.J), new Observation(pb, fb.X[k.J], fb.Y[k.J]), b.Pose.CameraCenter),
            }, new List<TrackObservation>(), new TriangulationOptions(), new Rng((ulong)k.I)).Point != null);
            Assert.True(m.Count > 1000);
            Assert.Equal(m.Count, kept);
        }
    }

    [Fact]
    public void NoisyTracksWithWrongObservationsAreTriangulatedWithinTheExpectedError()
    {
        // 0.5 px noise, 30% of the observations wrong (random pixels): RANSAC + refinement.
        var s = new SyntheticScene(2, 8, 300);
        var errors = new List<double>();
        int wrongKept = 0, wrongTotal = 0, rightRejected = 0, rightTotal = 0;
        foreach (var x in s.Points)
        {
            var obs = new List<Observation>();
            var wrong = new List<bool>();
            for (int c = 0; c < 8; c++)
            {
                bool bad = s.U(0, 1) < 0.3;
                var (u, v) = bad ? (s.U(0, 640), s.U(0, 480)) : s.Project(c, x, 0.5);
                obs.Add(new Observation(s.Cameras[c].P, u, v));
                wrong.Add(bad);
            }
            var r = Triangulation.Ransac(obs, thresholdPx: 4, minInliers: 2);
            Assert.NotNull(r);
            var refined = Triangulation.Refine(r.Value.Inliers.Select(i => obs[i]).ToList(), r.Value.Point);
            errors.Add(SyntheticScene.Distance(refined, x));
            for (int i = 0; i < 8; i++)
            {
                bool kept = r.Value.Inliers.Contains(i);
                if (wrong[i]) { wrongTotal++; if (kept && Triangulation.ReprojectionError(obs[i], x) > 8) wrongKept++; /* a random pixel may land near the truth */ }
                else { rightTotal++; if (!kept) rightRejected++; }
            }
        }
        errors.Sort();
        // Depth ~9 m, f = 800: 0.5 px ≈ 6 mm laterally per view; with several views a few mm.
        Assert.True(errors[errors.Count / 2] < 0.01, $"median error {errors[errors.Count / 2]:F4} m");
        Assert.True(errors[(int)(errors.Count * 0.95)] < 0.05, $"95th percentile error {errors[(int)(errors.Count * 0.95)]:F4} m");
        Assert.Equal(0, wrongKept);
        Assert.True(rightRejected <= rightTotal * 0.01, $"{rightRejected} of {rightTotal} right observations rejected");
    }

    [Fact]
    public void DepthAndAngle()
    {
        var s = new SyntheticScene(3, 2, 1);
        var x = s.Points[0];
        Assert.True(Triangulation.Depth(s.Cameras[0].P, x) > 0);
        var behind = new[] { 2 * s.Cameras[0].Centre[0] - x[0], 2 * s.Cameras[0].Centre[1] - x[1], 2 * s.Cameras[0].Centre[2] - x[2] };
        Assert.True(Triangulation.Depth(s.Cameras[0].P, behind) < 0);
        double angle = Triangulation.MaxTriangulationAngle(new[] { s.Cameras[0].Centre, s.Cameras[1].Centre }, x);
        Assert.InRange(angle, 0, Math.PI);
    }

    [Fact]
    public void TracksDropObservationsThatAreAmbiguousInOneImage()
    {
        var b = new TrackBuilder();
        b.AddMatch(0, 1, 1, 5);
        b.AddMatch(1, 5, 2, 7);
        b.AddMatch(0, 2, 1, 6);
        b.AddMatch(1, 6, 2, 7); // joins both: image 2 has one keypoint, image 0 two (1 and 2), image 1 two (5 and 6)
        b.AddMatch(3, 0, 4, 0);
        var tracks = b.Build();
        Assert.Single(tracks); // the first collapses to image 2 alone and is dropped
        Assert.Equal(new[] { new TrackElement(3, 0), new TrackElement(4, 0) }, tracks[0]);
    }
}
