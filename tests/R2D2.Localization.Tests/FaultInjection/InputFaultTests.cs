using System.Diagnostics;
using System.Text.Json.Nodes;
using OpenCvSharp;
using R2D2.Localization.Formats;
using Xunit;
using Xunit.Abstractions;

namespace R2D2.Localization.Tests.FaultInjection;

/// <summary>
/// Issue 13, input side: each bad input is replayed through the command line. Every case checks
/// the exit code, a one-line message naming the file (and line), that the inputs are byte-identical
/// afterwards, and that outputs are complete or absent.
/// </summary>
public class InputFaultTests
{
    private readonly ITestOutputHelper _out;
    public InputFaultTests(ITestOutputHelper output) => _out = output;

    // Small images and a small pyramid keep these fast.
    private static readonly string[] Small = { "--min-size", "100", "--max-size", "200" };
    private static string Model => SharedData.Model("r2d2_WASF_N16");

    private static (int Code, string Out, string Err) Extract(string outDir, string[] images, params string[] extra) =>
        CliTests.Localize(new[] { "extract", "--model", Model, "--out", outDir, "--images" }.Concat(images).Concat(Small).Concat(extra).ToArray());

    private static void OneLineErrorNaming(string err, string path, string? message = null)
    {
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("error:") && l.Contains(path)).ToList();
        Assert.True(lines.Count >= 1, $"no error line names {path}:\n{err}");
        if (message != null) Assert.True(lines.Any(l => l.Contains(message)), $"no error line says '{message}':\n{err}");
        Assert.DoesNotContain("   at ", err); // no stack traces
        Assert.DoesNotContain("Exception", err);
    }

    /// <summary>The files below <paramref name="dir"/>, relative, sorted (temporary files would show).</summary>
    private static string[] FilesBelow(string dir) =>
        Directory.Exists(dir) ? Directory.GetFiles(dir, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(dir, p)).Order(StringComparer.Ordinal).ToArray() : Array.Empty<string>();

    [Fact]
    public void EachBadImageFailsAloneAndTheRunGoesOn()
    {
        var dir = TempDir.Create();
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        TestImages.WriteBoat(images, "good.png");
        var jpg = File.ReadAllBytes(TestImages.WriteBoat(images, "corrupt.jpg"));
        File.WriteAllBytes(Path.Combine(images, "corrupt.jpg"), jpg[..(jpg.Length / 2)]);
        File.WriteAllBytes(Path.Combine(images, "empty.png"), Array.Empty<byte>());
        File.WriteAllText(Path.Combine(images, "text.bmp"), "not an image");
        File.CreateSymbolicLink(Path.Combine(images, "dangling.jpg"), Path.Combine(dir, "gone.jpg"));
        TestImages.WriteConstantPng(Path.Combine(images, "huge.png"), 20000, 20000);
        var before = TestImages.Snapshot(images);
        var bad = new[] { "corrupt.jpg", "dangling.jpg", "empty.png", "huge.png", "text.bmp" };

        foreach (var mode in new[] { "--out", "--database" })
        {
            var output = Path.Combine(dir, mode == "--out" ? "features" : "features.db");
            var (code, stdout, err) = CliTests.Localize(new[] { "extract", "--model", Model, mode, output, "--images", images }.Concat(Small).ToArray());
            Assert.True(code == 1, $"exit {code}\n{stdout}\n{err}");
            Assert.Contains("1 extracted", stdout);
            Assert.Contains("5 failed", stdout);
            foreach (var b in bad) OneLineErrorNaming(err, Path.Combine(images, b));
            OneLineErrorNaming(err, Path.Combine(images, "huge.png"), "20000×20000 (400 megapixels), over the limit of 100 megapixels");
            OneLineErrorNaming(err, Path.Combine(images, "dangling.jpg"), "broken symbolic link");
            Assert.Equal(before, TestImages.Snapshot(images));
            if (mode == "--out")
                Assert.Equal(new[] { "good.png.features.safetensors" }, FilesBelow(output)); // nothing for the failed ones, no leftovers
        }
    }

    [Fact]
    public void HugePngIsRefusedFromItsHeaderWithoutMemory()
    {
        var dir = TempDir.Create();
        var small = TestImages.WriteBoat(dir, "small.png");
        var huge = TestImages.WriteConstantPng(Path.Combine(dir, "huge.png"), 20000, 20000);
        Assert.True(new FileInfo(huge).Length < 10_000_000); // a few MB for 400 megapixels
        var (code, _, err) = Extract(Path.Combine(dir, "a"), new[] { small }, "--stats", Path.Combine(dir, "a.json"));
        Assert.True(code == 0, err);
        (code, _, err) = Extract(Path.Combine(dir, "b"), new[] { huge }, "--stats", Path.Combine(dir, "b.json"));
        Assert.Equal(1, code);
        OneLineErrorNaming(err, huge, "over the limit of 100 megapixels (--max-pixels)");
        // Decoding it would take 1.2 GB (3 bytes a pixel) before anything else.
        double baseline = PeakRssMb(Path.Combine(dir, "a.json")), peak = PeakRssMb(Path.Combine(dir, "b.json"));
        _out.WriteLine($"peak RSS: {peak:F0} MB with the 20,000² PNG, {baseline:F0} MB with a small image");
        Assert.True(peak < baseline + 150, $"peak RSS {peak:F0} MB, with a small image {baseline:F0} MB");
        Assert.Empty(FilesBelow(Path.Combine(dir, "b")));
    }

    [Fact]
    public void Png30000IsRefusedCleanlyEvenAtTheHighestLimit()
    {
        var dir = TempDir.Create();
        var huge = TestImages.WriteConstantPng(Path.Combine(dir, "huge30k.png"), 30000, 30000);
        var before = TestImages.Snapshot(dir);
        foreach (var limit in new[] { "100000000", ImageLimits.MaxPixelsLimit.ToString() })
        {
            var (code, _, err) = Extract(Path.Combine(dir, "out"), new[] { huge }, "--max-pixels", limit);
            Assert.Equal(1, code);
            OneLineErrorNaming(err, huge, "30000×30000 (900 megapixels), over the limit");
            Assert.DoesNotContain("Overflow", err);
        }
        Assert.Equal(before, TestImages.Snapshot(dir));
        Assert.Empty(FilesBelow(Path.Combine(dir, "out")));
    }

    [Fact]
    public void LargeJpegOverTheLimitIsDecodedReducedWithBoundedMemory()
    {
        var dir = TempDir.Create();
        var small = TestImages.WriteBoat(dir, "small.jpg");
        var big = Path.Combine(dir, "big.jpg");
        using (var m = new Mat(8192, 8192, MatType.CV_8UC1, new Scalar(128)))
        {
            Cv2.Circle(m, new Point(4096, 4096), 2000, new Scalar(30), -1); // something to find keypoints on
            Cv2.ImWrite(big, m);
        }
        var (code, _, err) = Extract(Path.Combine(dir, "a"), new[] { small }, "--stats", Path.Combine(dir, "a.json"));
        Assert.True(code == 0, err);
        string stdout;
        (code, stdout, err) = Extract(Path.Combine(dir, "b"), new[] { big }, "--max-pixels", "10000000", "--stats", Path.Combine(dir, "b.json"));
        Assert.True(code == 0, err);
        Assert.Contains("over --max-pixels, decoded at 1/4 size", stdout);
        // Whole, it would be 200 MB decoded and 800 MB as the network's input (plus its normalization's
        // temporaries); at 1/4, 13 MB and 50 MB (~200 MB with the temporaries).
        double baseline = PeakRssMb(Path.Combine(dir, "a.json")), peak = PeakRssMb(Path.Combine(dir, "b.json"));
        _out.WriteLine($"peak RSS: {peak:F0} MB with the 8192² JPEG at 1/4, {baseline:F0} MB with a small image");
        Assert.True(peak < baseline + 500, $"peak RSS {peak:F0} MB, with a small image {baseline:F0} MB");
        var (f, _) = FeatureFiles.ReadSafetensors(Path.Combine(dir, "b", "big.jpg.features.safetensors"));
        Assert.Equal((8192, 8192), (f.ImageWidth, f.ImageHeight)); // keypoints in the file's pixels
        Assert.All(f.X, x => Assert.InRange(x, -0.5f, 8191.5f));

        // A limit that no reduction fits within the pyramid is refused, saying why.
        (code, _, err) = Extract(Path.Combine(dir, "c"), new[] { big }, "--max-pixels", "10000", "--stats", Path.Combine(dir, "c.json"));
        Assert.Equal(1, code);
        OneLineErrorNaming(err, big, "smaller than the pyramid's first level");
    }

    [Fact]
    public void ListEntriesWithDotDotWriteInsideOut()
    {
        var dir = TempDir.Create();
        var day = Path.Combine(dir, "day");
        Directory.CreateDirectory(day);
        TestImages.WriteBoat(day, "a.png");
        var lists = Path.Combine(dir, "lists");
        Directory.CreateDirectory(lists);
        var list = Path.Combine(lists, "list.txt");
        File.WriteAllText(list, "../day/a.png\n");
        var outDir = Path.Combine(dir, "lists", "out");
        var (code, _, err) = Extract(outDir, new[] { list });
        Assert.True(code == 0, err);
        Assert.Equal(new[] { "__/day/a.png.features.safetensors" }, FilesBelow(outDir));
        Assert.Equal(new[] { "a.png" }, FilesBelow(day)); // nothing written beside the input
    }

    [Fact]
    public void SymlinkLoopInAFolderEndsAndEachImageIsExtractedOnce()
    {
        var dir = TempDir.Create();
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(Path.Combine(images, "sub"));
        TestImages.WriteBoat(images, "a.png");
        TestImages.WriteBoat(Path.Combine(images, "sub"), "b.png", 150, 110);
        Directory.CreateSymbolicLink(Path.Combine(images, "sub", "up"), images);
        var sw = Stopwatch.StartNew();
        var (code, stdout, err) = Extract(Path.Combine(dir, "out"), new[] { images });
        Assert.True(code == 0, err);
        Assert.Contains("extract: 2 images", stdout);
        Assert.Contains("2 extracted", stdout);
        Assert.Equal(new[] { "a.png.features.safetensors", "sub/b.png.features.safetensors" }, FilesBelow(Path.Combine(dir, "out")));
        Assert.True(sw.Elapsed.TotalSeconds < 60, $"took {sw.Elapsed}");
    }

    [Theory]
    [InlineData("--top-k", "-1", "--top-k must be ≥ 0")]
    [InlineData("--max-size", "-5", "--max-size must be ≥ 0")]
    [InlineData("--min-size", "0", "--min-size must be ≥ 1")]
    [InlineData("--threads", "-2", "--threads must be in [0, 1024]")]
    [InlineData("--scale-f", "1", "--scale-f must be > 1")]
    [InlineData("--scale-f", "NaN", "--scale-f must be > 1")]
    [InlineData("--reliability-thr", "1.5", "--reliability-thr must be in [0, 1]")]
    [InlineData("--repeatability-thr", "-0.1", "--repeatability-thr must be in [0, 1]")]
    [InlineData("--max-scale", "0", "--max-scale must be in (0, 1]")]
    [InlineData("--min-scale", "-1", "--min-scale must be in [0, 1]")]
    [InlineData("--max-pixels", "0", "--max-pixels must be in [1, ")]
    [InlineData("--warmup", "-1", "--warmup must be ≥ 0")]
    public void NumericOptionsOutOfRangeAreUsageErrors(string option, string value, string message)
    {
        var dir = TempDir.Create();
        var img = TestImages.WriteBoat(dir, "a.png");
        var (code, _, err) = CliTests.Localize("extract", "--model", Model, "--out", Path.Combine(dir, "out"), "--images", img, option, value);
        Assert.True(code == 2, $"exit {code}: {err}");
        Assert.Contains(message, err);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
    }

    /// <summary>Other commands' numeric options: out of range is a usage error before any work (a
    /// similarity of 5 stored every pair without matches, which a corrected rerun then skipped).</summary>
    [Theory]
    [InlineData("match --database x.db --pairs exhaustive --min-similarity 5", "--min-similarity must be in [-1, 1]")]
    [InlineData("match --database x.db --pairs exhaustive --min-similarity NaN", "--min-similarity must be in [-1, 1]")]
    [InlineData("make-pairs hpatches --images x --out o --night 5", "--night must be in [0, 1]")]
    [InlineData("make-pairs hpatches --images x --out o --max-size 1", "--max-size must be ≥ 64")]
    [InlineData("make-pairs hpatches --images x --out o --warps 0", "--warps must be in [1, 1000]")]
    [InlineData("make-pairs hpatches --images x --out o --warps 100000", "--warps must be in [1, 1000]")] // wrote 11,000 files and on
    [InlineData("make-pairs preview --out o --count -3", "--count must be ≥ 1")]
    [InlineData("make-pairs preview --out o --crop 0", "--crop must be in [8, 2048]")]
    [InlineData("make-pairs preview --out o --crop 100000", "--crop must be in [8, 2048]")] // an overflow's stack trace
    [InlineData("make-pairs preview --out o --first -1", "--first must be ≥ 0")] // wrote pair_-00001.png
    [InlineData("make-pairs preview --out o --images x --pairs rendered", "--pairs and --images are two sources of pairs: give one")] // --images was ignored
    [InlineData("make-pairs procedural --out o --width 100000 --count 1", "--width must be in [8, 8192]")]
    [InlineData("eval-wxbs --model rootsift --pairs x --sift-features 0", "--sift-features must be in [1, 1000000]")] // "SIFT features must be ≥ 1"
    [InlineData("eval-wxbs --model rootsift --pairs x --sift-max-size -1", "--sift-max-size must be in [0, 16384]")] // ran at full size
    // Not numbers at all: the parser's message in plain words (a range check read the value and
    // the program aborted with a stack trace; an int? option was named "System.Nullable`1[System.Int32]").
    [InlineData("match --database x.db --pairs exhaustive --min-similarity abc", "Cannot parse argument 'abc' for option '--min-similarity' as a number")]
    [InlineData("build-retrieval --map x.db --words abc", "Cannot parse argument 'abc' for option '--words' as an integer")]
    [InlineData("query --map x.db --queries x --images x --output o --verify-candidates abc", "Cannot parse argument 'abc' for option '--verify-candidates' as an integer")]
    // A bad choice among named values (it was exit 1).
    [InlineData("query --map x.db --queries x --images x --output o --matching 3d3d", "Argument '3d3d' not recognized")]
    [InlineData("evaluate-retrieval --map x.db --set n:x:x:x --localize 2d", "Argument '2d' not recognized")]
    public void OtherCommandsNumericOptionsOutOfRangeAreUsageErrors(string command, string message)
    {
        var dir = TempDir.Create();
        var (code, _, err) = CliTests.Localize(command.Split(' ').Select(a => a is "x.db" or "x" or "o" ? Path.Combine(dir, a) : a).ToArray());
        Assert.True(code == 2, $"exit {code}: {err}");
        Assert.Contains(message, err);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir));
    }

    /// <summary>A missing poses source, a folder given as a query list, an empty pairs file: said as
    /// such before any work (they were a list of accepted formats, "query list not found", and an
    /// exit 0 with "0 pair(s)" or a build that extracted every image first).</summary>
    [Theory]
    [InlineData("build-map --poses nope --images d --map x.db", "nope: not found (poses:", 1)]
    [InlineData("query --map x.db --queries d --images d --output o", "d: is a folder, not a query list", 1)]
    [InlineData("build-map --poses d --images d --map x.db --pairs empty.txt", "empty.txt: lists no pairs of two images", 1)]
    [InlineData("demo --scene town --images 8 --queries 2 --scale 0.25 --out o", "the town's photos would be 128×96 px: no pyramid level fits", 2)]
    [InlineData("demo --scene town --images 3 --queries 1 --render-only --device cuda --out o", "--images 3: the first 4 photos are the headings of one position", 2)] // a render needs no device: the town's own check first (was "no CUDA device")
    [InlineData("demo --scene town --images 8 --queries 2 --scale 0.001 --render-only --out o", "--scale 0.001: the town's photos would be 1×0 px; at least 16 px a side", 2)] // an internal error, town.txt left // after rendering, each photo "could not be read"
    [InlineData("evaluate-retrieval --map x.db --set :q:d:g", "--set ':q:d:g': the label is empty", 2)]
    [InlineData("evaluate-retrieval --map x.db --set n::d:g", "--set 'n::d:g': the query list is empty", 2)] // ": query list not found"
    [InlineData("query --map x.db --queries db.db --images d --output o", "db.db: is an SQLite database (a map or a feature database?), not a query list", 1)] // "unknown COLMAP camera model 'format'"
    [InlineData("extract --images d/none/ --out o", "d/none/: folder not found", 1)] // after loading the model, "file not found" for an image named ""
    [InlineData("demo --scene nope.scene --images 5 --out o", "nope.scene: not found (--scene)", 1)] // "--images N is for a town scene"
    [InlineData("demo --scene town --images 4 --queries 2 --out o", "a map needs 2 positions or more: --images 8 or more", 2)] // rendered, extracted, then "no overlapping pairs"
    [InlineData("demo --scene town --images 8 --max-day 3 --out o", "--max-day is for the square's scene", 2)] // ignored
    public void MissingOrWrongKindsOfInputAreSaidBeforeAnyWork(string command, string message, int exit)
    {
        var dir = TempDir.Create();
        Directory.CreateDirectory(Path.Combine(dir, "d"));
        File.WriteAllBytes(Path.Combine(dir, "db.db"), "SQLite format 3\0"u8.ToArray().Concat(new byte[4080]).ToArray());
        File.WriteAllText(Path.Combine(dir, "empty.txt"), "# no pairs\n");
        if (command.Contains("--pairs"))
            foreach (var name in new[] { "0000.jpg", "0001.jpg" })
            {
                File.Copy(SharedData.Path_("datasets", "strecha", "fountain-P11", "cameras", name + ".camera"), Path.Combine(dir, "d", name + ".camera"));
                File.Copy(SharedData.Path_("datasets", "strecha", "fountain-P11", "images", name), Path.Combine(dir, "d", name));
            }
        var (code, _, err) = CliTests.Localize(command.Split(' ').Select(a => a is "x.db" or "d" or "o" or "nope" or "empty.txt" or "db.db" or "d/none/" ? Path.Combine(dir, a) : a).ToArray());
        // 1: a missing or wrong input; 2: options that do not go together (as the parser's errors).
        Assert.True(code == exit, $"exit {code}: {err}");
        Assert.Contains(message, err);
        Assert.False(File.Exists(Path.Combine(dir, "x.db")));
        Assert.False(File.Exists(Path.Combine(dir, "o")));
    }

    /// <summary>The square demo does not replace a town's run in its folder (its map was replaced
    /// without a word), nor does a town start in a folder holding another run's map.</summary>
    [Fact]
    public void TheDemosDoNotTakeEachOthersFolders()
    {
        var town = TempDir.Create();
        File.WriteAllText(Path.Combine(town, "town.txt"), "a town\n");
        File.WriteAllText(Path.Combine(town, "map.db"), "a town's map");
        var (code, _, err) = CliTests.Localize("demo", "--max-day", "2", "--out", town);
        Assert.True(code == 1, err);
        Assert.Contains("--out holds a town's run", err);
        Assert.Equal("a town's map", File.ReadAllText(Path.Combine(town, "map.db")));
        Assert.Equal(new[] { "map.db", "town.txt" }, Directory.GetFileSystemEntries(town).Select(Path.GetFileName).Order());

        var square = TempDir.Create();
        File.WriteAllText(Path.Combine(square, "map.db"), "the square's map");
        (code, _, err) = CliTests.Localize("demo", "--scene", "town", "--images", "8", "--queries", "1", "--out", square);
        Assert.True(code == 1, err);
        Assert.Contains("--out holds files that no town run wrote (map.db, and no town.txt)", err);
        Assert.Equal(new[] { "map.db" }, Directory.GetFileSystemEntries(square).Select(Path.GetFileName));
        // Nor does either demo write into a folder of someone else's files: a map (the square replaced
        // it), an Aachen-layout dataset (the town replaced its lists and a photo of the render's name).
        (code, _, err) = CliTests.Localize("demo", "--max-day", "2", "--out", square);
        Assert.True(code == 1, err);
        Assert.Contains("--out holds files that no square demo run wrote (map.db, and no square.txt)", err);
        Assert.Equal("the square's map", File.ReadAllText(Path.Combine(square, "map.db")));
        var dataset = TempDir.Create();
        Directory.CreateDirectory(Path.Combine(dataset, "images_upright", "db"));
        File.WriteAllText(Path.Combine(dataset, "images_upright", "db", "00001.jpg"), "a photo");
        (code, _, err) = CliTests.Localize("demo", "--scene", "town", "--images", "8", "--queries", "1", "--render-only", "--out", dataset);
        Assert.True(code == 1, err);
        Assert.Contains("--out holds files that no town run wrote (images_upright", err);
        Assert.Equal("a photo", File.ReadAllText(Path.Combine(dataset, "images_upright", "db", "00001.jpg")));
        Assert.Equal(new[] { "images_upright" }, Directory.GetFileSystemEntries(dataset).Select(Path.GetFileName));
    }

    [Fact]
    public void ExtractionOptionsThatDoNotGoTogetherAreUsageErrors()
    {
        var dir = TempDir.Create();
        var img = TestImages.WriteBoat(dir, "a.png");
        var (code, _, err) = CliTests.Localize("extract", "--model", Model, "--out", Path.Combine(dir, "out"), "--images", img, "--min-size", "300", "--max-size", "200");
        // Two options that do not go together: a usage error, as the parser's (it was exit 1).
        Assert.True(code == 2, $"exit {code}: {err}");
        Assert.Contains("--max-size 200 is below --min-size 300", err);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
        (code, _, err) = CliTests.Localize("extract", "--model", Model, "--out", Path.Combine(dir, "out"), "--images", img, "--min-scale", "0.8", "--max-scale", "0.5");
        Assert.True(code == 2, $"exit {code}: {err}");
        Assert.Contains("--min-scale 0.8 is above --max-scale 0.5", err);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
    }

    // ---- Cameras and poses ----------------------------------------------------------------------

    private static (int Code, string Out, string Err) BuildMap(string dir, string poses) =>
        CliTests.Localize(new[] { "build-map", "--model", Model, "--images", Path.Combine(dir, "images"), "--poses", poses, "--map", Path.Combine(dir, "map.db") }.Concat(Small).ToArray());

    /// <summary>A two-image COLMAP model whose files the cases break one line at a time.</summary>
    private static string ColmapModel(string dir, string camera, string pose2)
    {
        Directory.CreateDirectory(Path.Combine(dir, "images"));
        TestImages.WriteBoat(Path.Combine(dir, "images"), "a.png");
        TestImages.WriteBoat(Path.Combine(dir, "images"), "b.png");
        var model = Path.Combine(dir, "model");
        Directory.CreateDirectory(model);
        File.WriteAllText(Path.Combine(model, "cameras.txt"), $"# cameras\n{camera}\n");
        File.WriteAllText(Path.Combine(model, "images.txt"), $"# images\n1 1 0 0 0 0 0 0 1 a.png\n\n{pose2} 1 b.png\n\n");
        return model;
    }

    [Theory]
    [InlineData("1 SIMPLE_PINHOLE 160 120 -150 80 60", "2 1 0 0 0 0.1 0 0", "cameras.txt:2:", "parameter f = -150 must be positive")]
    [InlineData("1 SIMPLE_RADIAL 160 120 150 80 60 25", "2 1 0 0 0 0.1 0 0", "cameras.txt:2:", "parameter k = 25 is beyond ±10")]
    [InlineData("1 PINHOLE 160 120 150 150 800 60", "2 1 0 0 0 0.1 0 0", "cameras.txt:2:", "parameter cx = 800 lies outside [-160, 320]")]
    [InlineData("1 OPENCV_FISHEYE 160 120 150 150 80 60 0 0 0 0", "2 1 0 0 0 0.1 0 0", "cameras.txt:2:", "camera model OPENCV_FISHEYE is not supported")]
    [InlineData("1 SIMPLE_RADIAL_FISHEYE 160 120 150 80 60 0.2", "2 1 0 0 0 0.1 0 0", "cameras.txt:2:", "supported: SIMPLE_PINHOLE, PINHOLE")]
    [InlineData("1 SIMPLE_PINHOLE 160 120 150 80 60", "2 0 0 0 0 0.1 0 0", "images.txt:4:", "norm 0 is ~0")]
    [InlineData("1 SIMPLE_PINHOLE 160 120 150 80 60", "2 1 0 nan 0 0.1 0 0", "images.txt:4:", "quaternion 'nan' is not a number")]
    [InlineData("1 SIMPLE_PINHOLE 160 120 150 80 60", "1 1 0 0 0 0.1 0 0", "images.txt:4:", "image id 1 is also on line 2")]
    [InlineData("1 SIMPLE_PINHOLE 160 120 150 80 60\n1 PINHOLE 160 120 150 150 80 60", "2 1 0 0 0 0.1 0 0", "cameras.txt:3:", "camera 1 is also on line 2")]
    public void BadColmapCamerasAndPosesNameFileAndLine(string camera, string pose2, string where, string message)
    {
        var dir = TempDir.Create();
        var model = ColmapModel(dir, camera, pose2);
        var before = TestImages.Snapshot(model);
        var (code, _, err) = BuildMap(dir, model);
        Assert.Equal(1, code);
        OneLineErrorNaming(err, Path.Combine(model, where), message);
        Assert.Equal(before, TestImages.Snapshot(model));
        Assert.False(File.Exists(Path.Combine(dir, "map.db"))); // refused before anything was written
    }

    /// <summary>Two poses for one image name: an error naming the line (it was .NET's "An item with
    /// the same key has already been added" after the map database had been created).</summary>
    [Fact]
    public void AColmapImageNamedTwiceIsRefusedBeforeTheMapIsCreated()
    {
        var dir = TempDir.Create();
        var model = ColmapModel(dir, "1 SIMPLE_PINHOLE 160 120 150 80 60", "2 1 0 0 0 0.1 0 0");
        File.WriteAllText(Path.Combine(model, "images.txt"), File.ReadAllText(Path.Combine(model, "images.txt")).Replace("b.png", "a.png"));
        var (code, _, err) = BuildMap(dir, model);
        Assert.Equal(1, code);
        OneLineErrorNaming(err, Path.Combine(model, "images.txt:4:"), "image 'a.png' is also on line 2");
        Assert.False(File.Exists(Path.Combine(dir, "map.db")));
    }

    [Theory]
    [InlineData(4, "NEGATE", 5, "reflection")] // one row's sign flipped: still orthonormal, det −1
    [InlineData(4, "0.9 -0.0945642 -0.887537", 5, "not orthonormal")]
    [InlineData(3, "0.01 0 0", 4, "non-zero distortion is not supported")]
    [InlineData(0, "2759.48 0.5 1520.69", 1, "no skew")]
    [InlineData(8, "3072 -2048", 9, "width and height must be positive whole numbers")]
    public void BadStrechaCamerasNameFileAndLine(int row, string replacement, int line, string message)
    {
        var dir = TempDir.Create();
        var cams = Path.Combine(dir, "cameras");
        Directory.CreateDirectory(cams);
        Directory.CreateDirectory(Path.Combine(dir, "images"));
        var source = SharedData.Path_("datasets", "strecha", "fountain-P11", "cameras");
        foreach (var n in new[] { "0000.jpg.camera", "0001.jpg.camera" }) File.Copy(Path.Combine(source, n), Path.Combine(cams, n));
        var bad = Path.Combine(cams, "0001.jpg.camera");
        var lines = File.ReadAllLines(bad);
        lines[row] = replacement == "NEGATE"
            ? string.Join(' ', lines[row].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => v.StartsWith('-') ? v[1..] : "-" + v))
            : replacement;
        File.WriteAllLines(bad, lines);
        var (code, _, err) = BuildMap(dir, cams);
        Assert.Equal(1, code);
        OneLineErrorNaming(err, $"{bad}:{line}:", message);
        Assert.False(File.Exists(Path.Combine(dir, "map.db")));
    }

    [Theory]
    [InlineData("q.png OPENCV_FISHEYE 160 120 150 150 80 60 0 0 0 0", "camera model OPENCV_FISHEYE is not supported by the map and query pipeline")]
    [InlineData("q.png FOV 160 120 150 150 80 60 0.5", "camera model FOV is not supported")]
    [InlineData("q.png SIMPLE_RADIAL 160 120 0 80 60 0", "query 'q.png': SIMPLE_RADIAL parameter f = 0 must be positive")]
    [InlineData("q.png SIMPLE_RADIAL 160 120 150 80 1e6 0", "parameter cy = 1000000 lies outside")]
    public void BadQueryCamerasAreRefusedWithFileAndLine(string line, string message)
    {
        var dir = TempDir.Create();
        TestImages.WriteBoat(dir, "q.png");
        var list = Path.Combine(dir, "queries.txt");
        File.WriteAllText(list, "# queries\n" + line + "\n");
        var map = Path.Combine(dir, "map.db");
        File.WriteAllBytes(map, new byte[] { 1, 2, 3 }); // never opened: the list is read first
        var before = TestImages.Snapshot(dir);
        var output = Path.Combine(dir, "out", "poses.txt");
        var (code, _, err) = CliTests.Localize("query", "--map", map, "--queries", list, "--images", dir, "--output", output);
        Assert.Equal(1, code);
        OneLineErrorNaming(err, $"{list}:2:", message);
        Assert.Equal(before, TestImages.Snapshot(dir));
        Assert.False(File.Exists(output));
    }

    private static double PeakRssMb(string statsJson) =>
        JsonNode.Parse(File.ReadAllText(statsJson))!["peak_rss_mb"]!.GetValue<double>();
}
