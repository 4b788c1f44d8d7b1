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
