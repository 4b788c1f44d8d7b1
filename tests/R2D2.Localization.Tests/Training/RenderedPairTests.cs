using R2D2.Localization.Evaluation;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using R2D2.Localization.Synthesis;
using R2D2.Localization.Training;
using Xunit;

namespace R2D2.Localization.Tests.Training;

/// <summary>Rendered training pairs: the renderer's depth, the flow from depth and poses (a facade
/// point lands where the other pose projects it; hidden points get none), determinism, the held-apart
/// validation scenes and the MMA of matches against the true flow.</summary>
public class RenderedPairTests
{
    // A back wall at z = 10 (x −10…10, 8 m tall) and a 2 m wide, 3 m tall panel at z = 6 in front of it.
    private static readonly Facade Wall = new(1, -10, 10, 10, 10, 8), Panel = new(2, -1, 6, 1, 6, 3);

    private static SceneRenderer TwoWalls()
    {
        var scene = new DemoScene("walls", 64, 48, 60, 8, 1, 95, new[] { 0.0, 0.7, -0.7 }, null, new[] { Wall, Panel },
            new[] { new Lamp(0, 4, 8, 1, 3) }, new NightSettings(), Array.Empty<SceneCamera>());
        Texture Grey(Facade f) { var t = new Texture((int)(f.Width * 8), (int)(f.Height * 8), 8); t.Fill(0, 0, f.Width, f.Height, new Rgb(0.5f, 0.5f, 0.5f)); return t; }
        return new SceneRenderer(scene, new[] { Grey(Wall), Grey(Panel) }, null);
    }

    /// <summary>The first surface along the ray C + s·d among the two walls (analytically), or null.</summary>
    private static double[]? Hit(double[] c, double[] d)
    {
        double[]? best = null; double bestS = double.PositiveInfinity;
        foreach (var f in new[] { Panel, Wall })
        {
            double s = (f.Z0 - c[2]) / d[2];
            if (!(s > 1e-9) || s >= bestS) continue;
            double x = c[0] + s * d[0], y = c[1] + s * d[1];
            if (x < Math.Min(f.X0, f.X1) || x > Math.Max(f.X0, f.X1) || y < 0 || y > f.Height) continue;
            bestS = s; best = new[] { x, y, f.Z0 };
        }
        return best;
    }

    private static double[] RayOf(Pose pose, double focal, int w, int h, double x, double y)
    {
        var r = pose.Rotation;
        double a = (x - (w - 1) / 2.0) / focal, b = (y - (h - 1) / 2.0) / focal;
        return new[] { r[0] * a + r[3] * b + r[6], r[1] * a + r[4] * b + r[7], r[2] * a + r[5] * b + r[8] };
    }

    [Fact]
    public void DepthIsTheCameraZOfTheSurfaceAtEachPixelCentre()
    {
        var renderer = TwoWalls();
        var pose = DemoScene.LookAlong(0.7, 1.6, 0.3, 8, 5);
        var view = renderer.RenderView(pose, 50, 64, 48, night: false, seed: 1);
        int checkedPixels = 0;
        for (int y = 0; y < 48; y += 3)
            for (int x = 0; x < 64; x += 3)
            {
                var p = Hit(pose.CameraCenter, RayOf(pose, 50, 64, 48, x, y));
                float z = view.Depth[y * 64 + x];
                if (p == null) { Assert.True(float.IsPositiveInfinity(z), $"({x},{y}) sky has depth {z}"); continue; }
                Assert.Equal(pose.ToCamera(p[0], p[1], p[2])[2], z, 1e-3);
                checkedPixels++;
            }
        Assert.True(checkedPixels > 100);
        Assert.All(view.Rgb, v => Assert.InRange(v, 0f, 1f));
    }

    [Fact]
    public void FlowMapsAFacadePointToWhereTheOtherPoseProjectsItAndHiddenPointsGetNone()
    {
        var renderer = TwoWalls();
        int w = 96, h = 72;
        var pose1 = DemoScene.LookAlong(0, 1.5, 0, 0, 2);
        var pose2 = DemoScene.LookAlong(4, 2.0, 1, -22, 3);
        var v1 = renderer.RenderView(pose1, 70, w, h, night: false, seed: 1);
        var v2 = renderer.RenderView(pose2, 85, w, h, night: true, seed: 2);
        var flow = RenderedPairSource.FlowOf(v1, v2);
        int n = w * h, visible = 0, hidden = 0;
        var c2 = pose2.CameraCenter;
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                var p = Hit(pose1.CameraCenter, RayOf(pose1, 70, w, h, x, y));
                float fu = flow[y * w + x], fv = flow[n + y * w + x];
                if (p == null) { Assert.True(float.IsNaN(fu) && float.IsNaN(fv)); continue; }
                var q = pose2.ToCamera(p[0], p[1], p[2]);
                double u = 85 * q[0] / q[2] + (w - 1) / 2.0, v = 85 * q[1] / q[2] + (h - 1) / 2.0;
                if (u < 1 || v < 1 || u > w - 2 || v > h - 2) continue; // near image 2's border: either way
                // Is the point hidden from camera 2? The first hit from C2 towards it, clearly before it or clearly not.
                var toP = new[] { p[0] - c2[0], p[1] - c2[1], p[2] - c2[2] };
                var first = Hit(c2, toP)!;
                double gap = Math.Sqrt(Math.Pow(first[0] - p[0], 2) + Math.Pow(first[1] - p[1], 2) + Math.Pow(first[2] - p[2], 2));
                bool nearEdge = Math.Abs(Math.Abs(first[0]) - 1) < 0.15 || Math.Abs(first[1] - 3) < 0.15 || Math.Abs(Math.Abs(p[0]) - 1) < 0.15 || Math.Abs(p[1] - 3) < 0.15;
                if (nearEdge) continue;
                if (gap > 0.5)
                {
                    Assert.True(float.IsNaN(fu), $"({x},{y}) is hidden from camera 2 by the panel but has flow ({fu:F1},{fv:F1})");
                    hidden++;
                }
                else
                {
                    Assert.False(float.IsNaN(fu), $"({x},{y}) is visible in image 2 at ({u:F1},{v:F1}) but has no flow");
                    Assert.True(Math.Sqrt((fu - u) * (fu - u) + (fv - v) * (fv - v)) < 0.5, $"({x},{y}): flow ({fu:F2},{fv:F2}), projection ({u:F2},{v:F2})");
                    visible++;
                }
            }
        Assert.True(visible > 1000, $"{visible} visible pixels checked");
        Assert.True(hidden > 50, $"{hidden} hidden pixels checked");
    }

    private static RenderedPairSource Small(long seed) => new(seed, new RenderedPairSettings { Width = 48, Height = 48, PairsPerScene = 4, GroupsPerScene = 2 });

    private static bool Same(TrainingPair a, TrainingPair b) =>
        a.Image1.AsSpan().SequenceEqual(b.Image1) && a.Image2.AsSpan().SequenceEqual(b.Image2) && a.Flow.AsSpan().SequenceEqual(b.Flow);

    [Fact]
    public void PairsOfGeneratedScenesAreAFunctionOfSeedAndIndexWithConsistentDepth()
    {
        var a = Small(3);
        var sequential = Enumerable.Range(0, 6).Select(i => a.Sample(i)).ToArray();
        var parallel = new RenderedPairSample[6];
        Parallel.For(0, 6, i => parallel[i] = Small(3).Sample(5 - (i % 6)));
        for (int i = 0; i < 6; i++) Assert.True(Same(sequential[5 - i].Pair, parallel[i].Pair), $"pair {5 - i} differs between sources");
        Assert.False(Same(sequential[0].Pair, Small(4).Sample(0).Pair));
        Assert.NotEqual(sequential[0].SceneSeed, sequential[4].SceneSeed); // 4 pairs per scene
        foreach (var s in sequential)
        {
            Assert.True(s.SceneSeed >= 0, "training scenes have seeds ≥ 0 (validation: < 0)");
            int known = 0;
            for (int k = 0; k < 48 * 48; k++) if (!float.IsNaN(s.Pair.Flow[k])) known++;
            Assert.True(known > 48 * 48 / 20, $"scene {s.SceneSeed}: only {known} pixels with flow");
            Assert.All(s.Pair.Image1, v => Assert.InRange(v, 0f, 1f));
        }
        Assert.All(RenderedPairSource.Validation(2, 48, 36), v => Assert.True(v.SceneSeed < 0 && !v.Night1 && v.Night2));
    }

    [Fact]
    public void TheValidationRowHasItsColumnsAndTheScoreWeighsBothSetsAlike()
    {
        var dayNight = new MmaRow("m", new[] { 0.1, 0.3, 0.4 }, 100, 800, 24);
        var viewpoint = new MmaRow("m", new[] { 0.5, 0.7, 0.75 }, 600, 900, 24);
        var row = ValidationSets.Row(dayNight, viewpoint);
        Assert.Equal(ValidationSets.Columns.Count, row.Length);
        Assert.Equal(new[] { 0.1, 0.3, 0.4, 100, 800, 0.5, 0.7, 0.75, 600, 0.5 }, row, (x, y) => Math.Abs(x - y) < 1e-12);
        Assert.Equal(ValidationSets.Columns.Count - 1, ValidationSets.Columns.ToList().IndexOf(ValidationSets.ScoreColumn));
    }

    [Fact]
    public void PairsSpecsNameTheRenderedSource()
    {
        var s = TrainingPairSources.Parse(new[] { "generated", "rendered:day-night" }, 64, 0);
        Assert.Contains("rendered day-night pairs of generated scenes", s.Describe());
        var ex = Assert.Throws<UsageException>(() => TrainingPairSources.Parse(new[] { "rendered:dusk" }, 64, 0));
        Assert.Contains("rendered:dusk", ex.Message);
    }

    [Fact]
    public void MatchAccuracyFollowsTheTrueFlowAndCountsMatchesWithoutFlowAsWrong()
    {
        int w = 8, h = 6, n = w * h;
        var flow = new float[2 * n];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) { flow[y * w + x] = x + 10; flow[n + y * w + x] = y + 0.5f; }
        flow[5 * w + 7] = flow[n + 5 * w + 7] = float.NaN; // pixel (7, 5): no flow
        float[] x1 = { 2.5f, 3, 7 }, y1 = { 1.5f, 2, 5 }, x2 = { 12.5f, 15.5f, 17 }, y2 = { 2, 2.5f, 5.5f };
        var matches = new List<Match> { new(0, 0, 1), new(1, 1, 1), new(2, 2, 1) };
        var acc = RenderedPairsEvaluation.OfPair(matches, x1, y1, x2, y2, flow, w, h, new[] { 1, 3 });
        // Match 0 exact (12.5, 2.0); match 1 off by 2.5 px; match 2 has no flow.
        Assert.Equal(new[] { 1 / 3.0, 2 / 3.0 }, acc);
    }
}
