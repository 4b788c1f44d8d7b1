using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

public class PosedImageFormatTests
{
    [Fact]
    public void ReadsRealColmapTextModels()
    {
        var m = ColmapText.ReadModel(SharedData.Path_("datasets", "formats", "maupertuis", "colmap", "reconstruction"));
        var cam = Assert.Single(m.Cameras);
        Assert.Equal("SIMPLE_PINHOLE", cam.Model.Name);
        Assert.Equal(new[] { 1847.53, 959.0, 539.0 }, cam.Params); // COLMAP's 959.5, 539.5 shifted to pixel centres
        Assert.Equal(4, m.Images.Count);
        Assert.Equal(1039, m.Points.Count);
        var im = m.Images.Single(i => i.Posed.Name == "03.jpg");
        Near(new[] { 0.860298, 0.0113506, 0.344769, 0.375358 }, im.Posed.Pose.Quaternion, 1e-6);
        Assert.Equal(355.968 - 0.5, im.Points2D[0], 9);
        // Every track entry names an image and a 2D point that points back to the 3D point.
        var byId = m.Images.ToDictionary(i => i.Id);
        foreach (var p in m.Points)
            for (int k = 0; k < p.Track.Length; k += 2)
                Assert.Equal(p.Id, byId[p.Track[k]].Point3DIds[p.Track[k + 1]]);
        // t265 writes commas between fields and empty POINTS2D lines.
        var t = ColmapText.ReadModel(SharedData.Path_("datasets", "formats", "t265", "colmap"));
        Assert.Equal(2, t.Cameras.Count);
        Assert.Equal(6, t.Images.Count);
        Assert.Equal("OPENCV_FISHEYE", t.Cameras[0].Model.Name);
    }

    [Fact]
    public void OurExportReadsBackAndFollowsTheDocumentedLayout()
    {
        var m = ColmapText.ReadModel(SharedData.Path_("datasets", "formats", "maupertuis", "colmap", "reconstruction"));
        var dir = TempDir.Create();
        ColmapText.WriteModel(dir, m);
        var back = ColmapText.ReadModel(dir);
        Assert.Equal(m.Cameras[0].Params, back.Cameras[0].Params);
        for (int i = 0; i < m.Images.Count; i++)
        {
            Assert.Equal(m.Images[i].Posed.Name, back.Images[i].Posed.Name);
            Assert.Equal(m.Images[i].Points2D, back.Images[i].Points2D);
            Assert.Equal(m.Images[i].Point3DIds, back.Images[i].Point3DIds);
            for (int k = 0; k < 3; k++) Assert.Equal(m.Images[i].Posed.Pose.Translation[k], back.Images[i].Posed.Pose.Translation[k], 12);
        }
        Assert.Equal(m.Points.Select(p => p.Track.Length), back.Points.Select(p => p.Track.Length));
        // Field by field: cameras 4 + params; images 10 then triples; points 8 + pairs.
        var cams = File.ReadAllLines(Path.Combine(dir, "cameras.txt")).Where(l => !l.StartsWith('#')).ToList();
        Assert.Equal(4 + 3, cams[0].Split(' ').Length);
        Assert.Equal("1 SIMPLE_PINHOLE 1919 1079 1847.53 959.5 539.5", cams[0]);
        var imgs = File.ReadAllLines(Path.Combine(dir, "images.txt")).Where(l => !l.StartsWith('#')).ToList();
        Assert.Equal(10, imgs[0].Split(' ').Length);
        Assert.Equal(0, imgs[1].Split(' ').Length % 3);
        var pts = File.ReadAllLines(Path.Combine(dir, "points3D.txt")).Where(l => !l.StartsWith('#')).ToList();
        Assert.All(pts, l => Assert.Equal(0, (l.Split(' ').Length - 8) % 2));
    }

    private static string Aachen(params string[] p) => SharedData.Path_(new[] { "datasets", "formats", "Aachen-Day-Night" }.Concat(p).ToArray());

    [Fact]
    public void ReadsTheAachenNvm()
    {
        var images = Nvm.Read(Aachen("3D-models", "aachen_cvpr2018_db.nvm"), null, null, Aachen("images_upright"));
        Assert.Equal(3, images.Count);
        var first = images[0];
        Assert.Equal("db/1045.jpg", first.Name);
        // Quaternion world→camera, centre as written.
        Near(new[] { 738.038, -6.17486, -41.8371 }, first.Pose.CameraCenter, 1e-9);
        Assert.Equal(1084.59, first.Camera.Params[0]);
    }

    /// <summary>Every model of an NVM is read, as kapture's import reads them (only the first was,
    /// and the second model's image was dropped without a word); an image in two models is an error.</summary>
    [Fact]
    public void EveryModelOfAnNvmIsRead()
    {
        var parts = Aachen("3D-models", "aachen_two_parts.nvm");
        var one = Nvm.Read(Aachen("3D-models", "aachen_cvpr2018_db.nvm"), null, null, Aachen("images_upright"));
        var two = Nvm.Read(parts, null, null, Aachen("images_upright"));
        Assert.Equal(one.Select(p => p.Name).Order(), two.Select(p => p.Name).Order());
        foreach (var im in two) Near(one.Single(o => o.Name == im.Name).Pose.CameraCenter, im.Pose.CameraCenter, 1e-9);
        Assert.Equal(3, Nvm.ReadPoses(parts).Count);

        var lines = File.ReadAllLines(parts);
        int second = Array.FindIndex(lines, l => l.StartsWith("db/1135.jpg"));
        lines[second] = lines[second].Replace("db/1135.jpg", "db/1045.jpg");
        var twice = Path.Combine(TempDir.Create(), "twice.nvm");
        File.WriteAllLines(twice, lines);
        var e = Assert.Throws<FileFormatException>(() => Nvm.ReadPoses(twice));
        Assert.Contains($"{twice}:{second + 1}: image 'db/1045.jpg' is also on line 4", e.Message);
    }

    /// <summary>A submission from an NVM needs the poses only: neither intrinsics nor images (it asked
    /// for them to make cameras it then did not write); the poses are those of the full read.</summary>
    [Fact]
    public void AnNvmGivesItsPosesWithoutIntrinsicsOrImages()
    {
        var nvm = Aachen("3D-models", "aachen_cvpr2018_db.nvm");
        var full = Nvm.Read(nvm, null, null, Aachen("images_upright"));
        var poses = Nvm.ReadPoses(nvm);
        Assert.Equal(full.Select(p => p.Name), poses.Select(p => p.Name));
        for (int i = 0; i < full.Count; i++) Assert.Equal(full[i].Pose.Translation, poses[i].Pose.Translation);
        var sub = Path.Combine(TempDir.Create(), "sub.txt");
        R2D2.Localization.Pipeline.ConvertRunner.Run(nvm, sub, R2D2.Localization.Pipeline.PoseFormat.Submission);
        Assert.Equal(full.Count, Submission.Read(sub).Count);
        var e = Assert.Throws<R2D2Exception>(() => R2D2.Localization.Pipeline.ConvertRunner.Run(nvm, Path.Combine(TempDir.Create(), "m"), R2D2.Localization.Pipeline.PoseFormat.ColmapText));
        Assert.Contains("has no camera, which colmap-text needs (give --intrinsics", e.Message);
        // The way out an NVM has besides intrinsics: the images' sizes (with the then written model's cameras).
        Assert.Contains("or --images: the NVM's focal lengths with the images' sizes", e.Message);
        var model = Path.Combine(TempDir.Create(), "m");
        R2D2.Localization.Pipeline.ConvertRunner.Run(nvm, model, R2D2.Localization.Pipeline.PoseFormat.ColmapText, imageRoot: Aachen("images_upright"));
        Assert.Equal(full.Count, ColmapModels.Read(model).Images.Count);
        // Bundler's .out beside it names no image: refused as what it is (it was read as a query list: "found 2 fields").
        var bundler = Aachen("3D-models", "aachen_cvpr2018_db.out");
        var b = Assert.Throws<FileFormatException>(() => R2D2.Localization.Pipeline.ConvertRunner.Run(bundler, Path.Combine(TempDir.Create(), "m"), R2D2.Localization.Pipeline.PoseFormat.ColmapText));
        Assert.Contains($"{bundler}:1: a Bundler .out file", b.Message);
    }

    [Fact]
    public void BadNvmFilesNameTheFileAndLine()
    {
        var dir = TempDir.Create();
        var root = Aachen("images_upright");
        var good = File.ReadAllLines(Aachen("3D-models", "aachen_cvpr2018_db.nvm"));
        void Expect(string[] lines, string message, int line)
        {
            var path = Path.Combine(dir, $"bad{Guid.NewGuid():N}.nvm");
            File.WriteAllLines(path, lines);
            var e = Assert.Throws<FileFormatException>(() => Nvm.Read(path, null, null, root));
            Assert.Contains($"{path}:{line}:", e.Message);
            Assert.Contains(message, e.Message);
        }
        var malformed = (string[])good.Clone();
        malformed[4] = "db/4446.jpg 1556.98 0.118 nonsense";
        Expect(malformed, "4 fields where NVM_V3 has 11", 5);
        var extraField = (string[])good.Clone();
        extraField[4] += " 7";
        Expect(extraField, "12 fields where NVM_V3 has 11", 5);
        // A camera line beyond the declared count was dropped without a word.
        var beyond = good.Take(6).Append(good[4]).Concat(good.Skip(6)).ToArray();
        Expect(beyond, "expected the number of points after the 3 cameras", 7);
        // A header that declares more cameras than follow: said so (it was "1 fields where NVM_V3 has 11").
        var fewer = (string[])good.Clone();
        fewer[2] = "4";
        Expect(fewer, "the file declares 4 cameras but lists 3", 8);
        var other = (string[])good.Clone();
        other[0] = "NVM_V3_KRT";
        Expect(other, "NVM_V3_KRT is not read", 1);
        var missing = (string[])good.Clone();
        missing[3] = missing[3].Replace("db/1045.jpg", "db/none.jpg");
        Expect(missing, "not found", 4);
        var zero = (string[])good.Clone();
        zero[3] = zero[3].Replace("1084.59000000", "0");
        Expect(zero, "not positive", 4);
    }

    /// <summary>NVM_V3_R9T holds the rotation matrix: the same cameras as the quaternion file (its
    /// nine values were read as a quaternion and a centre before).</summary>
    [Fact]
    public void TheRotationMatrixVariantGivesTheSamePoses()
    {
        var good = File.ReadAllLines(Aachen("3D-models", "aachen_cvpr2018_db.nvm"));
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var r9t = good.Select((l, i) =>
        {
            if (i == 0) return "NVM_V3_R9T";
            var f = l.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (i < 3 || i > 5) return l; // the three camera lines
            var r = Rotations.FromQuaternion(f.Skip(2).Take(4).Select(v => double.Parse(v, inv)).ToArray());
            return string.Join(' ', f.Take(2).Concat(r.Select(v => v.ToString("R", inv))).Concat(f.Skip(6)));
        }).ToArray();
        var path = Path.Combine(TempDir.Create(), "r9t.nvm");
        File.WriteAllLines(path, r9t);
        var a = Nvm.Read(Aachen("3D-models", "aachen_cvpr2018_db.nvm"), null, null, Aachen("images_upright"));
        var b = Nvm.Read(path, null, null, Aachen("images_upright"));
        Assert.Equal(a.Select(p => p.Name), b.Select(p => p.Name));
        for (int i = 0; i < a.Count; i++)
        {
            Near(a[i].Pose.CameraCenter, b[i].Pose.CameraCenter, 1e-9);
            Near(a[i].Pose.Rotation, b[i].Pose.Rotation, 1e-12);
        }
        r9t[3] = r9t[3].Replace(r9t[3].Split(' ')[2], "2");
        File.WriteAllLines(path, r9t);
        Assert.Contains("not orthonormal", Assert.Throws<FileFormatException>(() => Nvm.Read(path, null, null, Aachen("images_upright"))).Message);
    }

    /// <summary>COLMAP and hloc read an images.txt name up to its first space: a name with one is
    /// refused before anything is written (it was written, to be read back as another name).</summary>
    [Fact]
    public void AColmapTextModelRefusesNamesWithSpaces()
    {
        var cam = new Camera(1, CameraModel.SimplePinhole, 640, 480, new[] { 500.0, 320, 240 });
        var model = new ColmapModel(new List<Camera> { cam },
            new List<ColmapImage> { new(1, new PosedImage("my 0000.jpg", cam, Pose.Identity), Array.Empty<double>(), Array.Empty<long>()) }, new List<ColmapPoint>());
        var folder = Path.Combine(TempDir.Create(), "model");
        Assert.Contains("'my 0000.jpg' cannot be written", Assert.Throws<R2D2Exception>(() => ColmapText.WriteModel(folder, model)).Message);
        Assert.False(Directory.Exists(folder));
    }

    [Fact]
    public void StrechaCamerasProjectAsDocumented()
    {
        var dir = SharedData.Path_("datasets", "strecha", "fountain-P11", "cameras");
        var cams = StrechaCameras.ReadFolder(dir);
        Assert.Equal(11, cams.Count);
        var c = cams[0];
        Assert.Equal("0000.jpg", c.Name);
        Near(new[] { -7.28137, -7.57667, 0.204446 }, c.Pose.CameraCenter, 1e-4); // R in the file is orthonormal to ~1e-6 only
        // x ~ K Rᵀ (X − C): a point 10 m along the file's camera z axis (third column of R) projects to the principal point.
        var rows = File.ReadAllLines(Path.Combine(dir, "0000.jpg.camera")).Skip(4).Take(3)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(double.Parse).ToArray()).ToArray();
        var z = new[] { rows[0][2], rows[1][2], rows[2][2] };
        var x = c.Pose.CameraCenter.Zip(z, (a, b) => a + 10 * b).ToArray();
        var xc = c.Pose.ToCamera(x[0], x[1], x[2]);
        var (px, py) = c.Camera.Project(xc[0], xc[1], xc[2]);
        Assert.InRange(px, 1520.68, 1520.70);
        Assert.InRange(py, 1006.80, 1006.82);
    }

    private static void Near(double[] expected, double[] actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}] {expected[i]} vs {actual[i]}");
    }
}
