using System.Diagnostics;
using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

/// <summary>How --images expands: folder walks through symbolic links, and output names that stay inside --out.</summary>
public class ImageListTests
{
    private static void Touch(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, new byte[] { 1 });
    }

    /// <summary>A file name in Latin-1 (not UTF-8) is named as such: .NET decodes it with a U+FFFD
    /// that opens nothing, and each such image was reported "not found".</summary>
    [Fact]
    public void AFileNameThatIsNotUtf8IsSaidToBeOne()
    {
        var root = Path.Combine(TempDir.Create(), "images");
        Touch(Path.Combine(root, "a.jpg"));
        using (var touch = Process.Start(new ProcessStartInfo("/bin/sh", new[] { "-c", "touch \"$(printf 'caf\\351.jpg')\"" }) { WorkingDirectory = root })!)
            touch.WaitForExit();
        var e = Assert.Throws<InputListException>(() => ImageList.Resolve(new[] { root }));
        Assert.StartsWith($"{root}: 'caf\uFFFD.jpg' is not a UTF-8 file name", e.Message);
    }

    [Fact]
    public void SymlinkLoopsEndAndEachFolderIsWalkedOnce()
    {
        var root = Path.Combine(TempDir.Create(), "images");
        Touch(Path.Combine(root, "a.jpg"));
        Touch(Path.Combine(root, "sub", "b.png"));
        Directory.CreateSymbolicLink(Path.Combine(root, "sub", "loop"), root);       // back up the tree
        Directory.CreateSymbolicLink(Path.Combine(root, "twin"), Path.Combine(root, "sub")); // a second way into sub
        File.CreateSymbolicLink(Path.Combine(root, "self.jpg"), Path.Combine(root, "self.jpg")); // a file link loop
        File.CreateSymbolicLink(Path.Combine(root, "gone.jpg"), Path.Combine(root, "missing.jpg")); // dangling
        var sw = Stopwatch.StartNew();
        var images = ImageList.Resolve(new[] { root });
        Assert.True(sw.Elapsed.TotalSeconds < 5, $"took {sw.Elapsed}");
        // sub is entered once (as "sub"; "twin" sorts after it and leads to the same real folder), the
        // loop back to the root is not followed, and the broken links are listed for extraction to report.
        Assert.Equal(new[] { "a.jpg", "gone.jpg", "self.jpg", "sub/b.png" }, images.Select(i => i.Name));
    }

    [Fact]
    public void LinkedFoldersOutsideTheTreeAreFollowed()
    {
        var dir = TempDir.Create();
        Touch(Path.Combine(dir, "elsewhere", "c.jpg"));
        var root = Path.Combine(dir, "images");
        Touch(Path.Combine(root, "a.jpg"));
        Directory.CreateSymbolicLink(Path.Combine(root, "more"), Path.Combine(dir, "elsewhere"));
        Assert.Equal(new[] { "a.jpg", "more/c.jpg" }, ImageList.Resolve(new[] { root }).Select(i => i.Name));
    }

    [Theory]
    [InlineData("../day/a.jpg", "__/day/a.jpg")]
    [InlineData("./x/../../b.jpg", "x/__/__/b.jpg")]
    [InlineData("c//d.jpg", "c/d.jpg")]
    [InlineData("e.jpg", "e.jpg")]
    public void OutputNamesStayInsideTheOutputFolder(string entry, string output)
    {
        var dir = TempDir.Create();
        var list = Path.Combine(dir, "lists", "list.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(list)!);
        File.WriteAllText(list, entry + "\n");
        var image = Assert.Single(ImageList.Resolve(new[] { list }));
        Assert.Equal(entry, image.Name); // databases keep the name as written
        Assert.Equal(output, image.OutputName);
        var outDir = Path.Combine(dir, "out");
        var path = Path.GetFullPath(global::R2D2.Localization.Pipeline.FeatureExtraction.OutputPath(outDir, image, FeatureFileFormat.Safetensors));
        Assert.StartsWith(outDir + "/", path);
    }

    [Fact]
    public void NamesWhoseOutputsWouldCollideAreRefused()
    {
        var dir = TempDir.Create();
        var list = Path.Combine(dir, "list.txt");
        File.WriteAllText(list, "../a.jpg\n__/a.jpg\n");
        var e = Assert.Throws<InputListException>(() => ImageList.Resolve(new[] { list }));
        Assert.Contains("'__/a.jpg'", e.Message);
    }
}
