using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Training;
using Xunit;

namespace R2D2.Localization.Tests.Training;

public class HPatchesSequenceTests
{
    private static string Boat => SharedData.Path_("reference", "r2d2", "images", "boat.png");

    [Fact]
    public void SequencesAreFoundAndTheirHomographiesMapImage1OntoTheWarps()
    {
        var dir = TempDir.Create();
        var o = new HPatchesOptions { Warps = 3, Seed = 1, Photometric = PhotometricSettings.Off };
        var written = HPatchesSequences.Write(new[] { Boat }, dir, o);
        Assert.Single(written);
        var pairs = HomographyPairs.Find(dir);
        Assert.Equal(new[] { "boat/1-2", "boat/1-3", "boat/1-4" }, pairs.Select(p => p.Name));
        for (int k = 0; k < pairs.Count; k++) Assert.Equal(written[0].H[k], pairs[k].H); // "R" formatting round-trips

        var img1 = ImageFile.ReadRgb(pairs[0].Image1);
        foreach (var p in pairs)
        {
            var img2 = ImageFile.ReadRgb(p.Image2);
            Assert.Equal((img1.Width, img1.Height), (img2.Width, img2.Height));
            Assert.False(p.H.SequenceEqual(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }));
            double exact = Error(img1, img2, p.H, 0);
            double off = Error(img1, img2, p.H, 1.5);
            // Interpolation only (the view zooms in, no blur); a 1.5 px error is clearly worse.
            Assert.True(exact < 4, $"{p.Name}: mean error {exact:F2} / 255");
            Assert.True(exact < 0.6 * off, $"{p.Name}: error {exact:F2} with H, {off:F2} 1.5 px off");
        }
    }

    [Fact]
    public void TheSameSeedWritesTheSameFilesAndTheCommandLineWritesThem()
    {
        var a = TempDir.Create();
        var (code, stdout, err) = CliTests.Localize("make-pairs", "hpatches", "--images", Boat, "--out", a, "--warps", "2", "--seed", "4", "--max-size", "256");
        Assert.True(code == 0, err + stdout);
        var pairs = HomographyPairs.Find(a);
        Assert.Equal(2, pairs.Count);
        Assert.Equal(256, ImageFile.ReadRgb(pairs[0].Image1).Width);
        var b = TempDir.Create();
        HPatchesSequences.Write(new[] { Boat }, b, new HPatchesOptions { Warps = 2, Seed = 4, MaxSide = 256 });
        var files = Directory.GetFiles(Path.Combine(a, "boat")).Select(Path.GetFileName).Order().ToList();
        Assert.Equal(new[] { "1.png", "2.png", "3.png", "H_1_2", "H_1_3" }, files);
        foreach (var f in files)
            Assert.True(File.ReadAllBytes(Path.Combine(a, "boat", f!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(b, "boat", f!))), f);
        var c = TempDir.Create();
        HPatchesSequences.Write(new[] { Boat }, c, new HPatchesOptions { Warps = 2, Seed = 5, MaxSide = 256 });
        Assert.NotEqual(File.ReadAllText(Path.Combine(a, "boat", "H_1_2")), File.ReadAllText(Path.Combine(c, "boat", "H_1_2")));
        // Written again with fewer warps: the earlier views beyond them are gone (eval-homography read 3 pairs of 2).
        HPatchesSequences.Write(new[] { Boat }, c, new HPatchesOptions { Warps = 1, Seed = 5, MaxSide = 256 });
        Assert.Equal(new[] { "1.png", "2.png", "H_1_2" }, Directory.GetFiles(Path.Combine(c, "boat")).Select(Path.GetFileName).Order());
        Assert.Single(HomographyPairs.Find(c));
        // A photo that cannot be read fails alone: the photos after it are written, the exit is 1.
        var photos = TempDir.Create();
        File.WriteAllText(Path.Combine(photos, "a.png"), "not an image");
        File.Copy(Boat, Path.Combine(photos, "b.png"));
        var d = TempDir.Create();
        (code, stdout, err) = CliTests.Localize("make-pairs", "hpatches", "--images", photos, "--out", d, "--warps", "1", "--max-size", "128");
        Assert.Equal(1, code);
        Assert.Contains(Path.Combine(photos, "a.png"), err);
        Assert.Contains("wrote 1 sequence", stdout);
        Assert.Single(HomographyPairs.Find(Path.Combine(d, "b")));
    }

    /// <summary>Mean |image2(p) − image1(H⁻¹·p)| over image 2 (0–255), with H⁻¹·p moved by <paramref name="shift"/> px.</summary>
    private static double Error(RgbImage img1, RgbImage img2, double[] h, double shift)
    {
        var inv = Homography.Inverse(h);
        double sum = 0; long n = 0;
        var f1 = PlanarImage.FromRgb(img1);
        int w = img1.Width, hh = img1.Height;
        for (int y = 0; y < img2.Height; y += 2)
            for (int x = 0; x < img2.Width; x += 2)
            {
                var (u, v) = Homography.Apply(inv, x, y);
                u += shift;
                if (u < 0 || v < 0 || u > w - 1 || v > hh - 1) continue;
                for (int ch = 0; ch < 3; ch++)
                    sum += Math.Abs(img2.Pixels[3 * (y * img2.Width + x) + ch] - 255 * HomographyPairTests.Bilinear(f1, w, hh, ch, u, v));
                n += 3;
            }
        return sum / n;
    }

    /// <summary>`make-pairs`'s stage: procedural images, pair pictures with their times and the
    /// folder's pictures of an earlier run, and the inputs of sequences refused before any is written.</summary>
    [Fact]
    public void TheMakePairsRunnerWritesImagesPicturesAndRefusesMissingPhotos()
    {
        var dir = TempDir.Create();
        var images = TrainingPairsRunner.Procedural(Path.Combine(dir, "proc"), 3, 2, 32, 24);
        Assert.Equal(new[] { "procedural_00003.png", "procedural_00004.png" }, images.Select(i => Path.GetFileName(i.Png)));
        var options = new PairPreviewOptions { OutDir = Path.Combine(dir, "preview"), Count = 2, Crop = 32 };
        var first = TrainingPairsRunner.Preview(options);
        Assert.Equal(2, first.Previews.Count);
        Assert.NotNull(first.MedianMs);
        Assert.Empty(first.Others);
        var said = new List<string>();
        var later = TrainingPairsRunner.Preview(options with { First = 5, Count = 1, Throughput = 2 }, onWarning: said.Add);
        Assert.Null(later.MedianMs);
        Assert.Equal(2, later.Others.Count);
        // Said through the runner, before it times the throughput (the command said it at the end).
        Assert.StartsWith($"{options.OutDir} also holds 2 other pair pictures", Assert.Single(said));
        Assert.NotNull(later.PairsPerSecond);
        Assert.Throws<UsageException>(() => TrainingPairsRunner.Preview(options with { PairsSpec = "generated", ImagesFolder = dir }));
        var missing = Path.Combine(dir, "none.jpg");
        Assert.Contains($"{missing}: no such image or folder",
            Assert.Throws<R2D2Exception>(() => TrainingPairsRunner.HPatches(new[] { missing }, Path.Combine(dir, "seq"), new HPatchesOptions(), null, (_, _) => { })).Message);
        Directory.CreateDirectory(Path.Combine(dir, "empty"));
        Assert.Contains("no images found", Assert.Throws<UsageException>(() => TrainingPairsRunner.HPatches(new[] { Path.Combine(dir, "empty") }, Path.Combine(dir, "seq"), new HPatchesOptions(), null, (_, _) => { })).Message);
        Assert.False(Directory.Exists(Path.Combine(dir, "seq")));
        // Outputs over the photos: a preview into the photos' folder replaced pair_00000.png there,
        // a sequence at OUT/<name>/1.png its own photo.
        var photos = Path.Combine(dir, "photos");
        Directory.CreateDirectory(Path.Combine(photos, "1"));
        var photo = Path.Combine(photos, "1", "1.png");
        File.Copy(Boat, photo);
        var before = File.ReadAllBytes(photo);
        Assert.Contains("the --out folder is the photos folder", Assert.Throws<R2D2Exception>(() =>
            TrainingPairsRunner.Preview(options with { ImagesFolder = Path.Combine(photos, "1"), OutDir = Path.Combine(photos, "1") })).Message);
        Assert.Contains("the --out folder holds the photo", Assert.Throws<R2D2Exception>(() =>
            TrainingPairsRunner.HPatches(new[] { photo }, photos, new HPatchesOptions { Warps = 1, MaxSide = 128 }, null, (_, _) => { })).Message);
        Assert.Equal(before, File.ReadAllBytes(photo));
        Assert.Equal(new[] { photo }, Directory.GetFiles(photos, "*", SearchOption.AllDirectories));
    }
}
