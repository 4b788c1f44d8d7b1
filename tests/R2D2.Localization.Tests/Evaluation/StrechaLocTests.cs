using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>The strecha-loc split of a scene folder.</summary>
public class StrechaLocTests
{
    /// <summary>A copy of fountain-P11's cameras with empty stand-ins for its images and night
    /// versions (the split reads names only).</summary>
    private static string Scene(string? dropCamera = null)
    {
        var from = SharedData.Path_("datasets", "strecha", "fountain-P11");
        var dir = Path.Combine(TempDir.Create(), "fountain-P11");
        foreach (var sub in new[] { "images", "cameras", "night" }) Directory.CreateDirectory(Path.Combine(dir, sub));
        foreach (var image in Directory.GetFiles(Path.Combine(from, "images"), "*.jpg"))
        {
            var name = Path.GetFileName(image);
            File.WriteAllBytes(Path.Combine(dir, "images", name), Array.Empty<byte>());
            File.WriteAllBytes(Path.Combine(dir, "night", name), Array.Empty<byte>());
            if (name != dropCamera) File.Copy(Path.Combine(from, "cameras", name + ".camera"), Path.Combine(dir, "cameras", name + ".camera"));
        }
        return dir;
    }

    [Fact]
    public void EvenImagesMapOddImagesQuery()
    {
        var scene = StrechaLoc.Load(Scene());
        Assert.Equal("fountain-P11", scene.Name);
        Assert.Equal(new[] { "0000.jpg", "0002.jpg", "0004.jpg", "0006.jpg", "0008.jpg", "0010.jpg" }, scene.Map.Select(p => p.Name));
        Assert.Equal(new[] { "0001.jpg", "0003.jpg", "0005.jpg", "0007.jpg", "0009.jpg" }, scene.Queries.Select(p => p.Name));
    }

    /// <summary>A missing camera file is an error naming it: the split went by position in the
    /// cameras/ listing, so the images after it changed sides (map images became queries) silently.</summary>
    [Fact]
    public void AMissingCameraIsAnErrorNotAShiftedSplit()
    {
        var dir = Scene(dropCamera: "0003.jpg");
        var e = Assert.Throws<FileFormatException>(() => StrechaLoc.Load(dir));
        Assert.StartsWith(Path.Combine(dir, "cameras", "0003.jpg.camera") + ": is missing", e.Message);
    }
}
