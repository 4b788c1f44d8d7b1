using R2D2.Localization.Formats;
using R2D2.Localization.Synthesis;
using Xunit;

namespace R2D2.Localization.Tests.Synthesis;

/// <summary>The demo scene: its file, the renderer's geometry (a marked facade point appears where
/// the pose and camera project it) and determinism.</summary>
public class DemoSceneTests
{
    private static string ScenePath => Path.Combine(SharedData.RepoRoot, "maps", "demo-square.scene");

    /// <summary>One facade at z = 10 (x from −5 to 5, 8 m tall), black, with a white 0.3 m square
    /// centred on the world point (1.3, 2.7, 10).</summary>
    private static (SceneRenderer Renderer, double[] Marker) MarkedFacade()
    {
        var facade = new Facade(1, -5, 10, 5, 10, 8);
        var scene = new DemoScene("marker", 160, 120, 150, 64, 3, 95, new[] { 0.0, 0.0, -1.0 }, null, new[] { facade },
            Array.Empty<Lamp>(), new NightSettings(), new[] { new SceneCamera("a", 0, 1.5, 0, 0, 0), new SceneCamera("b", 1, 1.5, 0, 0, 0) });
        var tex = new Texture(640, 512, 64);
        // Facade coordinates: metres along the wall from (X0, Z0), and down from its top.
        tex.Fill(6.3 - 0.15, 8 - 2.7 - 0.15, 6.3 + 0.15, 8 - 2.7 + 0.15, new Rgb(1, 1, 1));
        return (new SceneRenderer(scene, new[] { tex }, null), new[] { 1.3, 2.7, 10.0 });
    }

    [Fact]
    public void AMarkedFacadePointIsRenderedWhereThePoseProjectsIt()
    {
        var (renderer, marker) = MarkedFacade();
        var pose = DemoScene.LookAlong(0.4, 1.5, 0.5, 5, 4);
        var camera = renderer.Scene.Camera();
        var xc = pose.ToCamera(marker[0], marker[1], marker[2]);
        var (u, v) = camera.Project(xc[0], xc[1], xc[2]);
        var img = renderer.RenderDay(pose);
        // Brightness-weighted centroid of the marker in a window around the projection.
        double sw = 0, sx = 0, sy = 0;
        for (int y = (int)v - 8; y <= (int)v + 8; y++)
            for (int x = (int)u - 8; x <= (int)u + 8; x++)
            {
                double b = img.Pixels[(y * img.Width + x) * 3 + 1];
                sw += b; sx += b * x; sy += b * y;
            }
        Assert.True(sw > 0, "no marker near its projection");
        Assert.True(Math.Abs(sx / sw - u) < 0.2 && Math.Abs(sy / sw - v) < 0.2, $"marker at ({sx / sw:F2}, {sy / sw:F2}), projection ({u:F2}, {v:F2})");
        // And the ray through that pixel hits the marked point.
        var hit = renderer.PointAt(pose, u, v)!;
        Assert.True(Math.Sqrt(hit.Zip(marker, (a, b) => (a - b) * (a - b)).Sum()) < 1e-6);
        // The poses are upright: the camera's x axis is horizontal and y points down.
        Assert.Equal(0, pose.Rotation[1], 12);
        Assert.True(pose.Rotation[4] < 0);
    }

    [Fact]
    public void SameSceneAndSeedGiveTheSameBytes()
    {
        // The real scene, small: few texels and pixels keep it fast.
        var scene = DemoScene.Load(ScenePath) with { Width = 96, Height = 72, Focal = 75, TexelsPerMetre = 16, Supersampling = 2 };
        var pose = scene.DayCameras[3].Pose;
        byte[] Day() => JpegCodec.Encode(new SceneRenderer(scene).RenderDay(pose), 90);
        byte[] Night(int seed) => JpegCodec.Encode(new SceneRenderer(scene).RenderNight(pose, seed), 85);
        Assert.Equal(Day(), Day());
        var n = Night(SceneRenderer.SeedOf("night_00.jpg"));
        Assert.Equal(n, Night(SceneRenderer.SeedOf("night_00.jpg")));
        Assert.NotEqual(n, Night(SceneRenderer.SeedOf("night_01.jpg")));
        Assert.Equal(SceneRenderer.SeedOf("night_00.jpg"), SceneRenderer.SeedOf("night_00.jpg"));
    }

    [Fact]
    public void TheRepositorySceneAndItsQueriesFitTogether()
    {
        var scene = DemoScene.Load(ScenePath);
        Assert.True(scene.DayCameras.Count >= 10);
        var queries = QueryList.ReadWithIntrinsics(Path.Combine(SharedData.RepoRoot, "queries", "demo-square-night.txt"));
        var truth = Submission.Read(Path.Combine(SharedData.RepoRoot, "queries", "demo-square-night.poses.txt"));
        Assert.Equal(queries.Select(q => q.Name), truth.Select(t => t.Name));
        // The lists' cameras (COLMAP convention) are the scene's camera (project convention).
        Assert.All(queries, q => Assert.Equal(scene.Camera().Params, q.Camera!.Params));
    }

    [Fact]
    public void TheEmbeddedDemoFilesAreTheRepositorys()
    {
        var dir = TempDir.Create();
        foreach (var (folder, name) in new[] { ("maps", DemoFiles.Scene), ("queries", DemoFiles.Queries), ("queries", DemoFiles.GroundTruth), ("maps", DemoFiles.Town) })
            Assert.Equal(File.ReadAllBytes(Path.Combine(SharedData.RepoRoot, folder, name)), File.ReadAllBytes(DemoFiles.Extract(name, dir)));
        // Written again, an earlier copy is kept; one edited since is not replaced (it was, on every run).
        var town = DemoFiles.Extract(DemoFiles.Town, dir);
        File.AppendAllText(town, "# my edit\n");
        var e = Assert.Throws<R2D2Exception>(() => DemoFiles.Extract(DemoFiles.Town, dir));
        Assert.Contains($"differs from the embedded town.scene (edited, or written by another version): it is not replaced; give it with --scene {town} and a new --out", e.Message);
        Assert.EndsWith("# my edit\n", File.ReadAllText(town));
    }

    [Theory]
    [InlineData("image 64 48 50\nfacade 1 0 0 1\n", 2, "expected 'facade SEED X0 Z0 X1 Z1 HEIGHT'")]
    [InlineData("image 64 48 fifty\n", 1, "focal 'fifty' is not a number")]
    [InlineData("image 64 48 50\nwindow 1 2\n", 2, "unknown keyword 'window'")]
    [InlineData("image 64 48 50\nnight ambient=0.1 glow=2\n", 2, "unknown key 'glow'")]
    [InlineData("image 64 48 50\nfacade 1 0 0 1 0 5\nday a 0 1 0 0 0\nday a 0 1 1 0 0\n", 4, "'a' appears again")]
    [InlineData("image 40000 30000 31250\n", 1, "at most 8192 pixels a side")] // rendered 20000×15000 images with no cap
    [InlineData("image 64 48 50\nsupersampling 1000\n", 2, "supersampling 1000: at most 8")]
    [InlineData("image 64 48 50\nday-jpeg 200\n", 2, "day-jpeg 200: a JPEG quality in [1, 100]")] // was taken as 100
    // Textures too large for one array (stack traces: an index out of range, an overflow).
    [InlineData("image 64 48 50\ntexels-per-metre 1e9\nfacade 1 0 0 1 0 5\n", 3, "at most 64,000,000 (fewer texels a metre, line 2, or a smaller surface)")]
    [InlineData("image 64 48 50\nground 7 -1e7 -1e7 1e7 1e7\n", 2, "at most 64,000,000")]
    public void ABadSceneFileNamesTheFileAndLine(string text, int line, string message)
    {
        var path = Path.Combine(TempDir.Create(), "bad.scene");
        File.WriteAllText(path, text);
        var e = Assert.Throws<FileFormatException>(() => DemoScene.Load(path));
        Assert.Contains($"{path}:{line}:", e.Message);
        Assert.Contains(message, e.Message);
    }
}
