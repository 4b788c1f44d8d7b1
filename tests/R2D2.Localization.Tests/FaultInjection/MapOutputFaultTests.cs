using Xunit;

namespace R2D2.Localization.Tests.FaultInjection;

/// <summary>build-map never writes over its own inputs: the map database or the exported model
/// landing on an image or on the poses is refused before anything is opened, inputs unchanged.</summary>
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
    }
}
