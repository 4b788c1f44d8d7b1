using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Synthesis;
using Xunit;

namespace R2D2.Localization.Tests.Synthesis;

/// <summary>The generated town: its file, determinism, the grid renderer against brute force, the
/// Aachen-format outputs and the limits of its streets.</summary>
public class TownTests
{
    private static string ScenePath => Path.Combine(SharedData.RepoRoot, "maps", "town.scene");

    /// <summary>The repository's town, small: few texels and pixels keep the tests fast.</summary>
    private static TownScene Small(TownScene? t = null) =>
        (t ?? TownScene.Load(ScenePath)) with { Width = 64, Height = 48, Focal = 50, TexelsPerMetre = 8, Supersampling = 1 };

    [Fact]
    public void TheSameFileGivesTheSameTownPosesAndBytes()
    {
        var a = Small();
        var b = Small();
        Assert.True(a.MaxImages >= 5000, $"the repository's town holds {a.MaxImages} photos; Aachen-size runs need 5,000");
        var dayA = a.DayShots(40);
        Assert.Equal(dayA, b.DayShots(40));
        Assert.Equal(a.QueryShots(dayA, 5, night: true), b.QueryShots(b.DayShots(40), 5, night: true));
        // A prefix: more photos extend the trajectory, the first ones stay.
        Assert.Equal(dayA, a.DayShots(60).Take(40));
        var sceneA = a.Build(dayA);
        var sceneB = b.Build(dayA);
        Assert.Equal(sceneA.Facades, sceneB.Facades);
        Assert.Equal(sceneA.Lamps, sceneB.Lamps);
        Assert.True(sceneA.Facades.Count >= 300, $"{sceneA.Facades.Count} facades: hundreds of buildings expected");
        Assert.True(sceneA.Facades.Select(f => f.Style).Distinct().Count() <= a.Styles);
        var pose = dayA[5].Pose;
        byte[] Day(DemoScene s) => JpegCodec.Encode(new SceneRenderer(s).RenderDay(pose), 90);
        Assert.Equal(Day(sceneA), Day(sceneB));
        var nightPose = a.QueryShots(dayA, 1, night: true)[0].Pose;
        Assert.Equal(JpegCodec.Encode(new SceneRenderer(sceneA).RenderNight(nightPose, 7), 85), JpegCodec.Encode(new SceneRenderer(sceneB).RenderNight(nightPose, 7), 85));
    }

    [Fact]
    public void TheGridRendersTheSamePixelsAsBruteForce()
    {
        // A town of 2 × 2 blocks (a square among them) and the demo square, day and night, from
        // cameras inside and outside the scene, looking level, up and down.
        var town = Small(TownScene.Load(ScenePath) with { BlocksX = 2, BlocksZ = 2, Squares = 1, GridCell = 5 });
        var day = town.DayShots(12);
        var square = DemoScene.Load(Path.Combine(SharedData.RepoRoot, "maps", "demo-square.scene")) with { Width = 64, Height = 48, Focal = 50, TexelsPerMetre = 8, Supersampling = 1 };
        foreach (var (scene, poses) in new[]
        {
            (town.Build(day), day.Select(d => d.Pose).Append(DemoScene.LookAlong(-20, 30, -20, 45, -30)).Append(DemoScene.LookAlong(40, 1.6, 25, 270, 40)).ToList()),
            (square, square.DayCameras.Take(4).Select(c => c.Pose).Append(DemoScene.LookAlong(-40, 8, 3, 90, -5)).ToList()),
        })
        {
            var grid = new SceneRenderer(scene);
            var brute = grid.BruteForce();
            foreach (var p in poses)
            {
                Assert.Equal(brute.RenderDay(p).Pixels, grid.RenderDay(p).Pixels);
                Assert.Equal(brute.RenderNight(p, 3).Pixels, grid.RenderNight(p, 3).Pixels);
            }
        }
    }

    [Fact]
    public void AMalformedTownFileNamesTheFileAndLine()
    {
        var dir = Directory.CreateTempSubdirectory("town-scene-").FullName;
        try
        {
            var path = Path.Combine(dir, "bad.scene");
            File.WriteAllText(path, "town 3\n# a comment\nblocks 4 x\n");
            var e = Assert.Throws<FileFormatException>(() => TownScene.Load(path));
            Assert.Equal(path, e.File);
            Assert.Equal(3, e.Line);
            Assert.Contains("'x'", e.Message);
            File.WriteAllText(path, "town 3\nstreet 10\n\nstreet 12\n");
            e = Assert.Throws<FileFormatException>(() => TownScene.Load(path));
            Assert.Equal(4, e.Line);
            File.WriteAllText(path, "town 3\nsquares 4\nblocks 2 2\n");
            Assert.Throws<FileFormatException>(() => TownScene.Load(path));
            // A broken first line is still a town file's (the square's parser answered, listing its keywords).
            File.WriteAllText(path, "Town 15\nblocks 2 2\n");
            Assert.True(TownScene.IsTownFile(path));
            e = Assert.Throws<FileFormatException>(() => TownScene.Load(path));
            Assert.Equal((1, $"{path}:1: a town file starts with 'town SEED', found 'Town'"), (e.Line, e.Message));
            File.WriteAllText(path, "town 3\nfacade 1 0 0 1 1 5\n");
            e = Assert.Throws<FileFormatException>(() => TownScene.Load(path));
            Assert.Equal(2, e.Line);
            Assert.Contains("unknown keyword", e.Message);
            // Sizes beyond any machine's memory are said at their line (they grew by 180 MB/s without a word).
            foreach (var (text, line, words) in new[] { ("town 3\nblocks 100000 100000\n", 2, "at most 10,000 in all"),
                         ("town 3\nblock 40 30\nblock 1 1\n", 3, "appears again"),
                         ("town 3\nblocks 90 90\nblock 2000 2000\n", 3, "buildings: at most"),
                         ("town 3\ntrajectory 0.001 4 1.6 8\n", 2, "positions: at most"),
                         ("town 3\ntrajectory 3 100000 1.6 8\n", 2, "at most 360"),
                         ("town 3\nimage 100000 384 400\n", 2, "at most 8192 px"),
                         // Each of these grew memory by tens of MB/s, or stalled, without a word.
                         ("town 3\ngrid-cell 0.0001\n", 2, "cells: at most 4,000,000"),
                         ("town 3\ntexels-per-metre 100000\n", 2, "texels: at most 200,000,000"),
                         ("town 3\nlamps 0.001 4.5 1.0 3.0\n", 2, "lamps: at most 100,000"),
                         ("town 3\nsupersampling 1000\n", 2, "at most 8"),
                         // Out of range was clamped without a word; a key twice taken silently.
                         ("town 3\nday-jpeg 500\n", 2, "quality 500: at most 100"),
                         ("town 3\nnight jpeg=500\n", 2, "jpeg quality '500' is not a whole number in [1, 100]"),
                         ("town 3\nnight jpeg=85 jpeg=90\n", 2, "'jpeg' is given twice") })
            {
                File.WriteAllText(path, text);
                e = Assert.Throws<FileFormatException>(() => TownScene.Load(path));
                Assert.Equal(line, e.Line);
                Assert.Contains(words, e.Message);
            }
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void MorePhotosThanTheStreetsHoldIsRefusedWithTheMaximum()
    {
        var town = TownScene.Load(ScenePath);
        var e = Assert.Throws<UsageException>(() => town.DayShots(town.MaxImages + 1));
        Assert.Contains($"at most {town.MaxImages}", e.Message);
        Assert.Equal(town.MaxImages, town.DayShots(town.MaxImages).Count);
        Assert.Equal(town.MaxImages, town.DayShots(town.MaxImages).Select(s => s.Name).Distinct().Count());
    }

    [Fact]
    public void TheWrittenFilesAreReadAsAachensAndTheRenderResumes()
    {
        var dir = Directory.CreateTempSubdirectory("town-data-").FullName;
        try
        {
            var town = Small() with { Path = ScenePath };
            var data = new TownDataset(town, dir, 6, 2, 1);
            data.WriteFiles();
            var renderer = new SceneRenderer(town.Build(data.Day));
            var rendered = new List<string>();
            data.Render(renderer, (n, done) => { if (done) rendered.Add(n); });
            Assert.Equal(9, rendered.Count);
            // A second run finds every image on disk: nothing is rendered again.
            var first = File.ReadAllBytes(Path.Combine(data.ImageRoot, data.Day[2].Name));
            rendered.Clear();
            File.Delete(Path.Combine(data.ImageRoot, data.Night[1].Name));
            data.Render(renderer, (n, done) => { if (done) rendered.Add(n); });
            Assert.Equal(new[] { data.Night[1].Name }, rendered);
            Assert.Equal(first, File.ReadAllBytes(Path.Combine(data.ImageRoot, data.Day[2].Name)));
            // A photo cut short (its header whole) is rendered again: kept, it stopped every build.
            var cut = Path.Combine(data.ImageRoot, data.Day[2].Name);
            File.WriteAllBytes(cut, first.Take(first.Length / 2).ToArray());
            rendered.Clear();
            data.Render(renderer, (n, done) => { if (done) rendered.Add(n); });
            Assert.Equal(new[] { data.Day[2].Name }, rendered);
            Assert.Equal(first, File.ReadAllBytes(cut));

            // build-map's readers: the NVM with the intrinsics list, and the COLMAP model.
            var fromNvm = MapInputs.ReadPosed(data.NvmPath, data.IntrinsicsPath, data.ImageRoot, null);
            var fromColmap = MapInputs.ReadPosed(data.ColmapFolder, null, data.ImageRoot, null);
            foreach (var posed in new[] { fromNvm, fromColmap })
            {
                Assert.Equal(data.Day.Select(d => d.Name), posed.Select(p => p.Name));
                for (int i = 0; i < posed.Count; i++)
                {
                    Assert.Equal(town.Camera().Params, posed[i].Camera.Params.Select(v => Math.Round(v, 9)));
                    var c = posed[i].Pose.CameraCenter;
                    Assert.True(Math.Abs(c[0] - data.Day[i].X) + Math.Abs(c[1] - data.Day[i].Y) + Math.Abs(c[2] - data.Day[i].Z) < 1e-9);
                }
            }
            // The query lists and the ground truth, as Aachen's.
            var night = QueryList.ReadWithIntrinsics(data.QueryList(true));
            Assert.Equal(data.Night.Select(n => n.Name), night.Select(q => q.Name));
            Assert.Equal(town.Camera().Params, night[0].Camera!.Params.Select(v => Math.Round(v, 9)));
            var truth = Submission.Read(data.TruthPath(true));
            Assert.Equal(night.Select(q => q.SubmissionName), truth.Select(t => t.Name));

            // Another town in the same folder is refused before anything is written.
            var other = new TownDataset(town, dir, 7, 2, 1);
            var e = Assert.Throws<R2D2Exception>(other.WriteFiles);
            Assert.Contains("another town", e.Message);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void AnNvmIsWrittenAsItIsRead()
    {
        var dir = Directory.CreateTempSubdirectory("town-nvm-").FullName;
        try
        {
            var cam = new global::R2D2.Localization.Geometry.Camera(1, global::R2D2.Localization.Geometry.CameraModel.SimpleRadial, 100, 80, new[] { 90.0, 49.5, 39.5, 0 });
            var images = new[] { new PosedImage("db/a.jpg", cam, DemoScene.LookAlong(1, 2, 3, 30, 5)), new PosedImage("db/b.jpg", cam, DemoScene.LookAlong(-1, 1.5, 0, 200, -3)) };
            var nvm = Path.Combine(dir, "m.nvm");
            var intr = Path.Combine(dir, "intrinsics.txt");
            Nvm.Write(nvm, images, intr);
            var back = Nvm.Read(nvm, Intrinsics.Read(intr), intr, null);
            Assert.Equal(images.Select(i => i.Name), back.Select(b => b.Name));
            for (int i = 0; i < 2; i++)
            {
                Assert.Equal(images[i].Camera.Params, back[i].Camera.Params.Select(v => Math.Round(v, 9)));
                for (int k = 0; k < 3; k++) Assert.Equal(images[i].Pose.Translation[k], back[i].Pose.Translation[k], 9);
            }
        }
        finally { Directory.Delete(dir, true); }
    }
}
