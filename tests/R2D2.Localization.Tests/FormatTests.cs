using OpenCvSharp;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests;

public class FormatTests
{
    [Fact]
    public void ReadsTheOfficialNpzOutput()
    {
        var npz = Npz.Read(SharedData.Path_("reference", "r2d2", "multiscale", "boat__r2d2_WASF_N16.npz"));
        Assert.Equal(new long[] { 512, 512 }, npz["imsize"].AsInt64());
        Assert.Equal(new long[] { 5000, 3 }, npz["keypoints"].Shape);
        Assert.Equal(SharedData.Raw<float>("reference", "r2d2", "multiscale", "boat__r2d2_WASF_N16.keypoints.f32"), npz["keypoints"].AsFloat32());
    }

    [Fact]
    public void NpzRoundTripsAndNumpyReadsIt()
    {
        var path = Path.Combine(TempDir.Create(), "a.r2d2");
        var kp = new float[] { 1, 2, 3, 4, 5, 6 };
        Npz.Write(path, new Dictionary<string, NpyArray> { ["keypoints"] = NpyArray.Of(kp, 2, 3), ["imsize"] = NpyArray.Of(new long[] { 7, 8 }, 2) });
        var back = Npz.Read(path);
        Assert.Equal(kp, back["keypoints"].AsFloat32());
        Assert.Equal(new long[] { 2, 3 }, back["keypoints"].Shape);
        if (PythonTools.HasModule("numpy"))
            Assert.Equal("(2, 3) float32 [7 8]", PythonTools.Run($"import numpy as np\na=np.load('{path}')\nprint(a['keypoints'].shape, a['keypoints'].dtype, a['imsize'])").Trim());
        else Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "CI must have python3-numpy (see .ci/run)");
    }

    [Fact]
    public void JpegStructureFindsTruncation()
    {
        using var m = new Mat(64, 48, MatType.CV_8UC3, new Scalar(10, 200, 30));
        Cv2.Randu(m, Scalar.All(0), Scalar.All(255));
        var jpeg = m.ImEncode(".jpg");
        Assert.Null(JpegStructure.Check(jpeg));
        foreach (int keep in new[] { 3, 20, jpeg.Length / 2, jpeg.Length - 2 })
            Assert.NotNull(JpegStructure.Check(jpeg[..keep]));
    }

    [Fact]
    public void FeatureFileRoundTripsWithMetadata()
    {
        var f = new FeatureSet
        {
            ImageWidth = 10, ImageHeight = 20, X = new[] { 1.5f, 2 }, Y = new[] { 3f, 4 }, OfficialX = new[] { 1f, 2 }, OfficialY = new[] { 3f, 4 },
            Scale = new[] { 32f, 45.25f }, Score = new[] { 0.9f, 0.8f }, Reliability = new[] { 0.95f, 0.9f }, Repeatability = new[] { 0.94f, 0.88f },
            Descriptors = new float[] { 1, 0, 0, 1 }, Dim = 2,
        };
        var path = Path.Combine(TempDir.Create(), "x.features.safetensors");
        FeatureFiles.WriteSafetensors(path, f, new Dictionary<string, string> { ["model"] = "m" });
        var (g, meta) = FeatureFiles.ReadSafetensors(path);
        Assert.Equal(f.X, g.X); Assert.Equal(f.Y, g.Y); Assert.Equal(f.Scale, g.Scale); Assert.Equal(f.Descriptors, g.Descriptors);
        Assert.Equal("m", meta["model"]);
        Assert.Equal("20", meta["image_height"]);
    }

    [Fact]
    public void OfficialExportHasTheOfficialLayoutWithImsizeWidthFirst()
    {
        // extract.py saves imsize = PIL's img.size, i.e. (W, H); a non-square image tells them apart.
        var f = new FeatureSet
        {
            ImageWidth = 160, ImageHeight = 120, X = new[] { 1.5f, 2 }, Y = new[] { 3f, 4 }, OfficialX = new[] { 1f, 2 }, OfficialY = new[] { 3f, 4 },
            Scale = new[] { 32f, 45.25f }, Score = new[] { 0.9f, 0.8f }, Reliability = new[] { 0.95f, 0.9f }, Repeatability = new[] { 0.94f, 0.88f },
            Descriptors = new float[] { 1, 0, 0, 1 }, Dim = 2,
        };
        var path = Path.Combine(TempDir.Create(), "x.png.r2d2");
        FeatureFiles.WriteOfficial(path, f);
        var ours = Npz.Read(path);
        Assert.Equal(new long[] { 160, 120 }, ours["imsize"].AsInt64());
        Assert.Equal(new[] { 2f, 4, 45.25f, 1, 3, 32 }, ours["keypoints"].AsFloat32()); // ascending score, as the official file
        var official = Npz.Read(SharedData.Path_("reference", "r2d2", "multiscale", "boat__r2d2_WASF_N16.npz"));
        Assert.Equal(official.Keys.Order(), ours.Keys.Order());
        foreach (var k in official.Keys)
        {
            Assert.Equal(official[k].DType, ours[k].DType);
            Assert.Equal(official[k].Shape.Length, ours[k].Shape.Length);
        }
    }
}

public class ExtractorUnitTests
{
    [Fact]
    public void PyramidPlanFollowsTheOfficialLoop()
    {
        using var net = new R2D2Network(Checkpoint.Load(SharedData.Model("r2d2_WASF_N16")));
        var plan = new MultiScaleExtractor(net).PlanLevels(512, 512);
        Assert.Equal(new[] { 512, 431, 362, 304, 256 }, plan.Select(p => p.Width));
        // A 3072-px photo: levels above 1024 px are skipped, the pyramid goes down to 256 px.
        var big = new MultiScaleExtractor(net).PlanLevels(3072, 2048);
        Assert.True(big[0].Width <= 1024 + 1 && big[^1].Width >= 256);
        Assert.Empty(new MultiScaleExtractor(net).PlanLevels(1, 1));
    }

    [Fact]
    public void SubPixelPeakOfAParabolaIsExact()
    {
        // r(x) = 1 − (x − 2.3)², sampled at x = 1, 2, 3: vertex at 2.3.
        var map = new float[] { 1 - 1.69f, 1 - 0.09f, 1 - 0.49f };
        Assert.Equal(0.3, MultiScaleExtractor.PeakOffset(map, 1, 0, 3, 1, 1, 0), 5);
        Assert.Equal(0, MultiScaleExtractor.PeakOffset(map, 0, 0, 3, 1, 1, 0)); // border
    }

    [Fact]
    public void PixelCentreCoordinatesAreTheOfficialOnesShifted()
    {
        using var net = new R2D2Network(Checkpoint.Load(SharedData.Model("r2d2_WASF_N16")));
        var img = ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png")).Crop(0, 0, 300, 200);
        var f = new MultiScaleExtractor(net, new ExtractionSettings { MinSize = 150, MaxSize = 300 }).Extract(img);
        Assert.True(f.Count > 50);
        for (int i = 0; i < f.Count; i++)
        {
            // x = (i + 0.5)·W/w − 0.5 = official + 0.5·(W/w − 1), with W/w ≈ 1/s = scale/32.
            double ratio = f.Scale[i] / 32.0;
            Assert.InRange(f.X[i] - f.OfficialX[i] - 0.5 * (ratio - 1), -0.01, 0.01);
        }
    }
}

public class ImageListTests
{
    [Fact]
    public void FoldersWithTheSameFileNamesDoNotCollide()
    {
        var dir = TempDir.Create();
        foreach (var sub in new[] { "1", "2" })
        {
            Directory.CreateDirectory(Path.Combine(dir, sub));
            File.WriteAllText(Path.Combine(dir, sub, "adam.png"), "x");
        }
        var list = ImageList.Resolve(new[] { Path.Combine(dir, "1"), Path.Combine(dir, "2") });
        Assert.Equal(new[] { "1/adam.png", "2/adam.png" }, list.Select(i => i.Name));
        Assert.Equal("adam.png", Assert.Single(ImageList.Resolve(new[] { Path.Combine(dir, "1") })).Name);
        Assert.Throws<InputListException>(() => ImageList.Resolve(new[] { Path.Combine(dir, "1", "adam.png"), Path.Combine(dir, "2", "adam.png") }));
    }

    /// <summary>A list line that is a path with spaces names that image (it was refused: "'my' is not
    /// an image file name"); a line with more columns still gives its first.</summary>
    [Fact]
    public void ListLinesWithSpacesInTheImagePath()
    {
        var dir = TempDir.Create();
        Directory.CreateDirectory(Path.Combine(dir, "day shots"));
        File.WriteAllText(Path.Combine(dir, "day shots", "my photo.png"), "x");
        File.WriteAllText(Path.Combine(dir, "q.jpg"), "x");
        var list = Path.Combine(dir, "list.txt");
        File.WriteAllLines(list, new[] { "day shots/my photo.png", "q.jpg SIMPLE_RADIAL 1600 1200 1469.2 800 600 -0.035", "gone photo.png" });
        var images = ImageList.Resolve(new[] { list });
        Assert.Equal(new[] { "day shots/my photo.png", "q.jpg", "gone photo.png" }, images.Select(i => i.Name));
        Assert.Equal(Path.Combine(dir, "day shots", "my photo.png"), images[0].Path);
    }
}
