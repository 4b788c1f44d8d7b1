using System.Diagnostics;
using OpenCvSharp;
using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests;

/// <summary>The `localize` program run as a user runs it: exit codes, one-line errors naming the path.</summary>
public class CliTests
{
    internal static (int Code, string Out, string Err) Localize(params string[] args) =>
        Run("dotnet", args.Prepend(Path.Combine(AppContext.BaseDirectory, "localize.dll")).ToArray());

    /// <summary>Runs a program to its end: exit code, stdout, stderr.</summary>
    internal static (int Code, string Out, string Err) Run(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    // Small images and a small pyramid keep these fast.
    private static readonly string[] Small = { "--min-size", "100", "--max-size", "200" };
    private static string Model => SharedData.Model("r2d2_WASF_N16");

    private static string WriteCrop(string dir, string name, int w = 160, int h = 120)
    {
        var img = ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png")).Crop(0, 0, w, h);
        using var m = ImageFile.ToBgrMat(img);
        var path = Path.Combine(dir, name);
        Cv2.ImWrite(path, m);
        return path;
    }

    private static (int, string, string) Extract(string outDir, params string[] images) =>
        Localize(new[] { "extract", "--model", Model, "--out", outDir, "--images" }.Concat(images).Concat(Small).ToArray());

    [Fact]
    public void ADecodersOwnWarningNamesTheImage()
    {
        // A PNG whose ancillary tEXt chunk has a wrong CRC decodes, and libpng says so on stderr
        // ("libpng warning: tEXt: CRC error") without naming the file.
        var dir = TempDir.Create();
        var png = File.ReadAllBytes(WriteCrop(dir, "whole.png"));
        var text = new byte[] { 0, 0, 0, 3, (byte)'t', (byte)'E', (byte)'X', (byte)'t', (byte)'a', 0, (byte)'b', 0, 0, 0, 0 };
        var bad = Path.Combine(dir, "badcrc.png");
        File.WriteAllBytes(bad, png[..33].Concat(text).Concat(png[33..]).ToArray()); // after the signature and IHDR
        File.Delete(Path.Combine(dir, "whole.png"));
        var (code, _, err) = Extract(Path.Combine(dir, "out"), bad);
        Assert.True(code == 0, err);
        Assert.Contains($"{bad}: libpng warning: tEXt: CRC error", err);
        Assert.DoesNotContain("\nlibpng", "\n" + err);
    }

    [Fact]
    public void ExtractWritesBothFormats()
    {
        var dir = TempDir.Create();
        var img = WriteCrop(dir, "crop.png");
        var (code, stdout, err) = Extract(Path.Combine(dir, "out"), img);
        Assert.True(code == 0, err);
        var (f, meta) = FeatureFiles.ReadSafetensors(Path.Combine(dir, "out", "crop.png.features.safetensors"));
        Assert.True(f.Count > 20);
        Assert.Equal("r2d2_WASF_N16", meta["model"]);
        // Rerun: up to date, skipped.
        (code, stdout, err) = Extract(Path.Combine(dir, "out"), img);
        Assert.Equal(0, code);
        Assert.Contains("1 skipped", stdout);
        // --output is --out's other name (query and report name their output so).
        (code, _, err) = Localize(new[] { "extract", "--model", Model, "--output", Path.Combine(dir, "r2d2"), "--format", "r2d2", "--images", img }.Concat(Small).ToArray());
        Assert.True(code == 0, err);
        var npz = Npz.Read(Path.Combine(dir, "r2d2", "crop.png.r2d2"));
        Assert.Equal(new long[] { f.Count, 3 }, npz["keypoints"].Shape);
    }

    [Fact]
    public void BadImagesGiveOneLineErrorsNamingThePath()
    {
        var dir = TempDir.Create();
        var missing = Path.Combine(dir, "missing.jpg");
        var text = Path.Combine(dir, "text.jpg");
        File.WriteAllText(text, "this is not an image\n");
        var good = WriteCrop(dir, "good.jpg");
        var truncated = Path.Combine(dir, "truncated.jpg");
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var tiny = WriteCrop(dir, "tiny.png", 1, 1);
        foreach (var bad in new[] { missing, text, truncated, tiny })
        {
            var (code, _, err) = Extract(Path.Combine(dir, "out"), bad);
            Assert.Equal(1, code);
            var errorLines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:") && l.Contains(bad)).ToList();
            Assert.True(errorLines.Count >= 1, err);
            Assert.DoesNotContain("   at ", err); // no stack traces
        }
    }

    [Fact]
    public void AFolderWithOneBadImageExtractsTheOthers()
    {
        var dir = TempDir.Create();
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        WriteCrop(images, "a.png");
        WriteCrop(images, "b.jpg");
        File.WriteAllText(Path.Combine(images, "broken.jpg"), "not a jpeg");
        var (code, _, err) = Extract(Path.Combine(dir, "out"), images);
        Assert.Equal(1, code);
        Assert.Contains("broken.jpg", err);
        Assert.Contains("1 of 3 images failed", err);
        Assert.True(File.Exists(Path.Combine(dir, "out", "a.png.features.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir, "out", "b.jpg.features.safetensors")));
    }

    [Fact]
    public void BadCheckpointsGiveOneLineErrors()
    {
        var dir = TempDir.Create();
        var img = WriteCrop(dir, "crop.png");
        var truncated = Path.Combine(dir, "truncated.pt");
        var bytes = File.ReadAllBytes(Model);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 3)]);
        var unknown = Path.Combine(dir, "unknown.safetensors");
        var c = R2D2.Localization.Features.Checkpoint.Load(Model);
        new R2D2.Localization.Features.Checkpoint("Resnet50()", c.StateDict).SaveSafeTensors(unknown);
        foreach (var (ckpt, what) in new[] { (truncated, "truncated"), (unknown, "unknown network 'Resnet50()'"), (Path.Combine(dir, "none.pt"), "not found") })
        {
            var (code, _, err) = Localize("extract", "--model", ckpt, "--images", img, "--out", Path.Combine(dir, "out"));
            Assert.Equal(1, code);
            Assert.Contains(ckpt, err);
            Assert.Contains(what, err);
            Assert.DoesNotContain("   at ", err);
        }
    }

    [Fact]
    public void VizWritesPngs()
    {
        var dir = TempDir.Create();
        var img = WriteCrop(dir, "crop.png");
        var kp = Path.Combine(dir, "kp.png");
        var hm = Path.Combine(dir, "hm.png");
        var (code, _, err) = Localize(new[] { "viz", "keypoints", img, "--model", Model, "--out", kp }.Concat(Small).ToArray());
        Assert.True(code == 0, err);
        (code, _, err) = Localize("viz", "heatmaps", img, "--model", Model, "--out", hm);
        Assert.True(code == 0, err);
        using var k = Cv2.ImRead(kp);
        using var h = Cv2.ImRead(hm);
        Assert.Equal(160, k.Cols);
        Assert.Equal(3 * 160, h.Cols);
        // The picture onto the image it draws: refused (it overwrote the photo).
        var before = File.ReadAllBytes(img);
        foreach (var kind in new[] { "keypoints", "heatmaps" })
        {
            (code, _, err) = Localize("viz", kind, img, "--model", Model, "--out", img);
            Assert.Equal(1, code);
            Assert.Contains("the picture would overwrite the image", err);
            Assert.Equal(before, File.ReadAllBytes(img));
        }
        (code, _, err) = Localize("viz", "keypoints", img, "--model", "rootsift", "--out", kp);
        Assert.Equal(2, code); // a usage error, as the parser's
        Assert.Contains("--model rootsift: this command needs an R2D2 checkpoint", err); // "rootsift: file not found"
    }

    [Fact]
    public void ModelConvertWritesSafetensorsThatExtractUses()
    {
        var dir = TempDir.Create();
        var st = Path.Combine(dir, "m.safetensors");
        var (code, _, err) = Localize("model", "convert", Model, st);
        Assert.True(code == 0, err);
        var img = WriteCrop(dir, "crop.png");
        (code, _, err) = Localize(new[] { "extract", "--model", st, "--images", img, "--out", Path.Combine(dir, "out") }.Concat(Small).ToArray());
        Assert.True(code == 0, err);
    }
}
