using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests.FaultInjection;

/// <summary>build-map never writes over its own inputs: the map database or the exported model
/// landing on an image or on the poses, or an export folder that is, holds or lies inside an input
/// folder (kapture's sensors/), is refused before anything is opened, inputs unchanged.</summary>
public class MapOutputFaultTests
{
    [Fact]
    public void AMapOrAnExportOverAnInputIsRefusedBeforeAnythingIsWritten()
    {
        var scene = SharedData.Path_("datasets", "strecha", "fountain-P11");
        var dir = TempDir.Create();
        var images = Path.Combine(dir, "images");
        var cameras = Path.Combine(dir, "cameras");
        Directory.CreateDirectory(images);
        Directory.CreateDirectory(cameras);
        foreach (var name in new[] { "0000.jpg", "0002.jpg" })
        {
            File.Copy(Path.Combine(scene, "images", name), Path.Combine(images, name));
            File.Copy(Path.Combine(scene, "cameras", name + ".camera"), Path.Combine(cameras, name + ".camera"));
        }
        var before = TinyMap.Hashes(dir);
        string[] Args(string map, string export) => new[] { "build-map", "--images", images, "--poses", cameras, "--map", map,
            "--model", "rootsift", "--export", export };

        var (code, _, err) = CliTests.Localize(Args(Path.Combine(images, "0000.jpg"), Path.Combine(dir, "model")));
        Assert.Equal(1, code);
        Assert.Contains("would overwrite the image", err);
        (code, _, err) = CliTests.Localize(Args(Path.Combine(cameras, "0000.jpg.camera"), Path.Combine(dir, "model")));
        Assert.Equal(1, code);
        Assert.Contains("would overwrite the poses", err);
        Assert.Equal(before, TinyMap.Hashes(dir));

        // An export onto the pairs file, or onto any file, failed with .NET's "already exists"
        // after the whole build (the map stored); now before the database is created.
        var pairs = Path.Combine(dir, "pairs.txt");
        File.WriteAllText(pairs, "0000.jpg 0002.jpg\n");
        var other = Path.Combine(dir, "notes.txt");
        File.WriteAllText(other, "mine\n");
        before = TinyMap.Hashes(dir);
        var map = Path.Combine(dir, "map.db");
        foreach (var (export, why) in new[] { (pairs, "pairs file"), (other, "is a file: --export takes a folder") })
        {
            (code, _, err) = CliTests.Localize(Args(map, export).Concat(new[] { "--pairs", pairs }).ToArray());
            Assert.True(code == 1, err);
            Assert.Contains(export, err);
            Assert.Contains(why, err);
            Assert.False(File.Exists(map));
            Assert.Equal(before, TinyMap.Hashes(dir));
        }

        // A name with a space cannot go into a text model: said before the build, not after it.
        File.Move(Path.Combine(images, "0002.jpg"), Path.Combine(images, "my 0002.jpg"));
        File.Move(Path.Combine(cameras, "0002.jpg.camera"), Path.Combine(cameras, "my 0002.jpg.camera"));
        (code, _, err) = CliTests.Localize(Args(map, Path.Combine(dir, "model")));
        Assert.True(code == 1, err);
        Assert.Contains("image name 'my 0002.jpg' holds white space", err);
        Assert.False(File.Exists(map));
    }

    [Fact]
    public void AnExportFolderInsideOrAroundAKaptureInputIsRefusedNamingBoth()
    {
        var dir = TempDir.Create();
        var kapture = Path.Combine(dir, "kapture");
        TempDir.CopyTree(SharedData.Path_("datasets", "formats", "kapture", "berlin", "kapture"), kapture);
        var sensors = Path.Combine(kapture, "sensors");
        var map = Path.Combine(dir, "map.db");
        var before = TinyMap.Hashes(dir);
        foreach (var (export, why) in new[]
        {
            (Path.Combine(sensors, "model"), $"lies inside the poses folder ({sensors})"),
            (Path.Combine(sensors, "records_data"), $"lies inside the poses folder ({sensors})"),
            (sensors, $"is the poses folder ({sensors})"),
            (kapture, $"holds the poses folder ({sensors})"),
            (dir, "holds the poses folder"),
        })
        {
            var (code, _, err) = CliTests.Localize("build-map", "--poses", kapture, "--map", map, "--model", "rootsift", "--export", export);
            Assert.True(code == 1, err);
            Assert.Contains($"{export}: the export folder {why}", err);
            Assert.DoesNotContain("   at ", err);
            Assert.Equal(before, TinyMap.Hashes(dir));
            Assert.False(File.Exists(map));
        }
    }

    [Fact]
    public void AnOutputFolderThatIsHoldsOrLiesInsideAnInputIsRefused()
    {
        var dir = TempDir.Create();
        var model = Path.Combine(dir, "model");
        Directory.CreateDirectory(model);
        var poses = Path.Combine(model, "images.txt");
        File.WriteAllText(poses, "");
        var image = Path.Combine(dir, "images", "a.jpg");
        var ins = new[] { ("model folder", (string?)model), ("poses", poses), ("image", image) };
        void Refused(string folder, string why)
        {
            var e = Assert.Throws<R2D2Exception>(() => OutputFile.RefuseInputs(Array.Empty<(string, string?)>(), ins, new[] { ("export folder", (string?)folder) }));
            Assert.Equal(folder, e.File);
            Assert.Contains($"the export folder {why}", e.Message);
        }
        Refused(model, $"is the model folder ({model})");
        Refused(model + "/", $"is the model folder ({model})");
        Refused(Path.Combine(model, "sub", "deeper"), $"lies inside the model folder ({model})");
        Refused(dir, $"holds the model folder ({model})");
        Refused(Path.Combine(dir, "images"), $"holds the image ({image})");
        // Beside the inputs, or a name that only starts like an input folder's: written.
        OutputFile.RefuseInputs(Array.Empty<(string, string?)>(), ins, new[] { ("export folder", (string?)Path.Combine(dir, "export")) });
        OutputFile.RefuseInputs(Array.Empty<(string, string?)>(), ins, new[] { ("export folder", (string?)(model + "2")) });
        OutputFile.RefuseInputs(Array.Empty<(string, string?)>(), ins, new[] { ("export folder", (string?)null) });
        // A file inside an input folder is no folder: only its own path is checked.
        OutputFile.RefuseInputs(new[] { ("map", (string?)Path.Combine(model, "map.db")) }, ins);
    }
}
