using System.Globalization;
using System.Text.RegularExpressions;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Tests.Storage;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

/// <summary>COLMAP's binary models: our reader and writer against each other, against our text
/// model, and against COLMAP itself (model_converter both ways, model_analyzer's figures).</summary>
public class ColmapBinaryTests
{
    private static string Maupertuis => SharedData.Path_("datasets", "formats", "maupertuis", "colmap", "reconstruction");

    private static bool SkipWithoutColmap()
    {
        if (ColmapInteropTests.HasColmap()) return false;
        Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "CI must have colmap (see tools/setup)");
        return true;
    }

    private static void SameModel(ColmapModel a, ColmapModel b, double tol = 0)
    {
        Assert.Equal(a.Cameras.Count, b.Cameras.Count);
        foreach (var (x, y) in a.Cameras.OrderBy(c => c.Id).Zip(b.Cameras.OrderBy(c => c.Id)))
        {
            Assert.Equal((x.Id, x.Model, x.Width, x.Height), (y.Id, y.Model, y.Width, y.Height));
            for (int k = 0; k < x.Params.Length; k++) Assert.Equal(x.Params[k], y.Params[k], tol);
        }
        Assert.Equal(a.Images.Count, b.Images.Count);
        foreach (var (x, y) in a.Images.OrderBy(i => i.Id).Zip(b.Images.OrderBy(i => i.Id)))
        {
            Assert.Equal((x.Id, x.Posed.Name, x.Posed.Camera.Id), (y.Id, y.Posed.Name, y.Posed.Camera.Id));
            for (int k = 0; k < 9; k++) Assert.Equal(x.Posed.Pose.Rotation[k], y.Posed.Pose.Rotation[k], 1e-12);
            for (int k = 0; k < 3; k++) Assert.Equal(x.Posed.Pose.Translation[k], y.Posed.Pose.Translation[k], Math.Max(tol, 1e-12));
            Assert.Equal(x.Point3DIds, y.Point3DIds);
            for (int k = 0; k < x.Points2D.Length; k++) Assert.Equal(x.Points2D[k], y.Points2D[k], Math.Max(tol, 1e-12));
        }
        Assert.Equal(a.Points.Count, b.Points.Count);
        foreach (var (x, y) in a.Points.OrderBy(p => p.Id).Zip(b.Points.OrderBy(p => p.Id)))
        {
            Assert.Equal((x.Id, x.R, x.G, x.B), (y.Id, y.R, y.G, y.B));
            Assert.Equal(x.X, y.X, tol); Assert.Equal(x.Y, y.Y, tol); Assert.Equal(x.Z, y.Z, tol); Assert.Equal(x.Error, y.Error, tol);
            Assert.Equal(x.Track, y.Track);
        }
    }

    /// <summary>A camera of every COLMAP model, with plausible parameters.</summary>
    internal static List<Camera> EveryModel() => CameraModel.All.Select((m, i) =>
    {
        var p = m.ParamNames.Select(n => n switch
        {
            "f" or "fx" or "fy" => 500.0 + i,
            "cx" => 319.5, "cy" => 239.5,
            "width" => 640.0, "height" => 480.0,
            "alpha" => 0.5, "beta" => 1.0, "omega" => 0.9,
            _ => 0.001 * (i + 1),
        }).ToArray();
        return new Camera(i + 1, m, 640, 480, p);
    }).ToList();

    private static ColmapModel ModelWithEveryCamera(int maxModelId)
    {
        var cams = EveryModel().Where(c => c.Model.Id <= maxModelId).ToList();
        var images = cams.Select((c, i) => new ColmapImage(10 + i, new PosedImage($"dir/im {i}.jpg", c,
            new Pose(Rotations.Exp(0.1 * i, -0.2, 0.3), new[] { i, 2.0, -1 })), new[] { 10.25, 20.5, 3, 4 }, new long[] { -1, 7 })).ToList();
        var points = new List<ColmapPoint> { new(7, 1, 2, 3, 10, 20, 30, 0.5, images.SelectMany(im => new[] { im.Id, 1 }).ToArray()) };
        return new ColmapModel(cams, images, points);
    }

    [Fact]
    public void EveryCameraModelRoundTrips()
    {
        var model = ModelWithEveryCamera(int.MaxValue);
        var dir = TempDir.Create();
        ColmapBinary.WriteModel(dir, model);
        SameModel(model, ColmapBinary.ReadModel(dir));
        Assert.True(ColmapModels.IsBinary(dir));
        SameModel(model, ColmapModels.Read(dir));
        // The folder is recognised by its files wherever poses are taken.
        Assert.Equal(model.Images.Count(i => i.Posed.Camera.UnsupportedModelProblem == null),
            ColmapModels.Read(dir).Images.Count(i => i.Posed.Camera.UnsupportedModelProblem == null));
    }

    [Fact]
    public void ColmapConvertsOurBinaryModelAndWeReadItsOwn()
    {
        if (SkipWithoutColmap()) return;
        var text = ColmapText.ReadModel(Maupertuis);
        // Ours → COLMAP's text: the same model.
        var ours = TempDir.Create();
        ColmapBinary.WriteModel(ours, text);
        var back = TempDir.Create();
        ColmapInteropTests.Colmap("model_converter", "--input_path", ours, "--output_path", back, "--output_type", "TXT");
        SameModel(text, ColmapText.ReadModel(back), 1e-9);
        // COLMAP's binary → ours: the same model.
        var theirs = TempDir.Create();
        ColmapInteropTests.Colmap("model_converter", "--input_path", Maupertuis, "--output_path", theirs, "--output_type", "BIN");
        SameModel(text, ColmapBinary.ReadModel(theirs), 1e-12);
        Assert.Equal(File.ReadAllBytes(Path.Combine(theirs, "cameras.bin")), File.ReadAllBytes(Path.Combine(ours, "cameras.bin")));
    }

    [Fact]
    public void ModelAnalyzerFiguresEqualOurs()
    {
        if (SkipWithoutColmap()) return;
        var dir = TempDir.Create();
        var m = ColmapText.ReadModel(Maupertuis);
        ColmapBinary.WriteModel(dir, m);
        var output = ColmapInteropTests.Colmap("model_analyzer", "--path", dir);
        double Figure(string name) => double.Parse(Regex.Match(output, name + @": ([0-9.]+)").Groups[1].Value, CultureInfo.InvariantCulture);
        long obs = m.Points.Sum(p => p.Track.Length / 2);
        Assert.Equal(m.Cameras.Count, Figure("Cameras"));
        Assert.Equal(m.Images.Count, Figure("Registered images"));
        Assert.Equal(m.Points.Count, Figure("Points"));
        Assert.Equal(obs, Figure("Observations"));
        Assert.Equal((double)obs / m.Points.Count, Figure("Mean track length"), 5);
        Assert.Equal((double)obs / m.Images.Count, Figure("Mean observations per image"), 5);
        Assert.Equal(m.Points.Average(p => p.Error), Figure("Mean reprojection error"), 5);
    }

    [Fact]
    public void ColmapReadsEveryCameraModelItKnows()
    {
        if (SkipWithoutColmap()) return;
        // COLMAP 3.8 knows the models up to THIN_PRISM_FISHEYE (id 10); later versions add the rest.
        var model = ModelWithEveryCamera(10);
        var dir = TempDir.Create();
        ColmapBinary.WriteModel(dir, model);
        var back = TempDir.Create();
        ColmapInteropTests.Colmap("model_converter", "--input_path", dir, "--output_path", back, "--output_type", "TXT");
        SameModel(model, ColmapText.ReadModel(back), 1e-9);
    }

    [Fact]
    public void TruncatedOrCorruptFilesNameTheFileAndRecord()
    {
        var dir = TempDir.Create();
        ColmapBinary.WriteModel(dir, ModelWithEveryCamera(int.MaxValue));
        var images = Path.Combine(dir, "images.bin");
        var bytes = File.ReadAllBytes(images);
        File.WriteAllBytes(images, bytes[..^5]);
        var e = Assert.Throws<FileFormatException>(() => ColmapBinary.ReadModel(dir));
        Assert.Equal(images, e.File);
        Assert.Contains("image record 18 of 18", e.Message);
        Assert.Contains("truncated", e.Message);
        // A count no file could hold is refused before anything is allocated.
        var cams = Path.Combine(dir, "cameras.bin");
        var cb = File.ReadAllBytes(cams);
        BitConverter.TryWriteBytes(cb.AsSpan(0, 8), ulong.MaxValue / 2);
        File.WriteAllBytes(cams, cb);
        var e2 = Assert.Throws<FileFormatException>(() => ColmapModels.Read(dir));
        Assert.Equal(cams, e2.File);
        Assert.Contains("cannot fit", e2.Message);
        // An unknown model id names its record.
        cb = File.ReadAllBytes(cams);
        BitConverter.TryWriteBytes(cb.AsSpan(0, 8), 18UL);
        BitConverter.TryWriteBytes(cb.AsSpan(12, 4), 99);
        File.WriteAllBytes(cams, cb);
        Assert.Contains("camera record 1 of 18: unknown camera model id 99", Assert.Throws<FileFormatException>(() => ColmapModels.Read(dir)).Message);
    }

    /// <summary>A point whose track names an image the model lacks, or a 2D point its image lacks,
    /// or an id given twice, is refused in either form, naming the file and the line or record
    /// (such a model converted without a word; COLMAP cannot load it).</summary>
    [Fact]
    public void InconsistentTracksNameTheFileAndPoint()
    {
        var good = ModelWithEveryCamera(int.MaxValue);
        // Names without spaces: the text form cannot hold them.
        good = good with { Images = good.Images.Select(i => i with { Posed = i.Posed with { Name = i.Posed.Name.Replace(' ', '_') } }).ToList() };
        var pt = good.Points[0];
        foreach (var (points, message) in new (List<ColmapPoint>, string)[]
        {
            (new() { pt with { Track = new[] { 99, 0 } } }, "point 7: its track names image 99, which the model does not have"),
            (new() { pt with { Track = new[] { 10, 2 } } }, "point 7: its track names 2D point 2 of image 10, which has 2"),
            (new() { pt, pt with { X = 5 } }, "point3D id 7 is given twice"),
        })
        {
            var model = good with { Points = points };
            foreach (bool binary in new[] { false, true })
            {
                var dir = TempDir.Create();
                ColmapModels.Write(dir, model, binary);
                var e = Assert.Throws<FileFormatException>(() => ColmapModels.Read(dir));
                Assert.Equal(Path.Combine(dir, binary ? "points3D.bin" : "points3D.txt"), e.File);
                Assert.Contains(message, e.Message);
                Assert.Contains(binary ? $"point record {points.Count} of {points.Count}: " : $"points3D.txt:{3 + points.Count}: ", e.Message);
            }
        }
        var ok = TempDir.Create();
        ColmapModels.Write(ok, good, binary: false);
        Assert.Single(ColmapModels.Read(ok).Points);
    }

    /// <summary>Names are read as written: a binary name that is not UTF-8 is refused (it read as
    /// U+FFFD, and 'caf\xe9' and 'caf\xe8' became one name); a text name keeps its commas, runs of
    /// spaces and tabs (they were split and joined with single spaces).</summary>
    [Fact]
    public void NamesAreReadAsWritten()
    {
        var dir = TempDir.Create();
        var model = ModelWithEveryCamera(int.MaxValue);
        ColmapBinary.WriteModel(dir, model with { Images = model.Images.Take(1).Select(i => i with { Posed = i.Posed with { Name = "cafX.jpg" } }).ToList() });
        var images = Path.Combine(dir, "images.bin");
        var bytes = File.ReadAllBytes(images);
        int at = bytes.AsSpan().IndexOf("cafX"u8) + 3;
        bytes[at] = 0xE9;
        File.WriteAllBytes(images, bytes);
        var e = Assert.Throws<FileFormatException>(() => ColmapBinary.ReadModel(dir));
        Assert.Contains("an image name is not UTF-8 text", e.Message);

        var text = TempDir.Create();
        File.WriteAllText(Path.Combine(text, "cameras.txt"), "1 PINHOLE 640 480 500 500 320 240\n");
        File.WriteAllText(Path.Combine(text, "points3D.txt"), "");
        File.WriteAllText(Path.Combine(text, "images.txt"),
            "1 1 0 0 0 0 0 0 1 img,1.jpg\n\n2 1 0 0 0 0 0 0 1 my  photo.jpg\n\n3 1 0 0 0 0 0 0 1 tab\tname.jpg\n\n");
        Assert.Equal(new[] { "img,1.jpg", "my  photo.jpg", "tab\tname.jpg" }, ColmapText.ReadModel(text).Images.Select(i => i.Posed.Name));
    }
}
