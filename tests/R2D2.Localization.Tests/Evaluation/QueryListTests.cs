using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>Aachen's query lists, read from the real files, and the errors of broken ones.</summary>
public class QueryListTests
{
    private static string Aachen(string file) => SharedData.Path_("datasets", "formats", "Aachen-Day-Night", "queries", file);

    [Fact]
    public void ReadsAachenQueriesWithIntrinsicsInThePixelCentreConvention()
    {
        var queries = QueryList.ReadWithIntrinsics(Aachen("day_time_queries_with_intrinsics.txt"));
        // Four lines; the last has no line break.
        Assert.Equal(4, queries.Count);
        Assert.All(queries, q => Assert.Same(CameraModel.SimpleRadial, q.Camera!.Model));
        Assert.Equal(new[] { 1, 2, 3, 4 }, queries.Select(q => q.Camera!.Id));

        var first = queries[0];
        Assert.Equal("query/day/nexus4/IMG_20140520_182846.jpg", first.Name);
        Assert.Equal("IMG_20140520_182846.jpg", first.SubmissionName);
        Assert.Equal((1600, 1200), (first.Camera!.Width, first.Camera.Height));
        // The file says f 1469.2, cx 800, cy 600, k −0.0353019 (COLMAP: centre of the first pixel at 0.5).
        Assert.Equal(new[] { 1469.2, 799.5, 599.5, -0.0353019 }, first.Camera.Params);

        // A portrait image: the shift applies to cx and cy alike, not swapped.
        var portrait = queries[3];
        Assert.Equal("query/day/milestone/2011-12-17_14-50-43_241.jpg", portrait.Name);
        Assert.Equal((768, 1024), (portrait.Camera!.Width, portrait.Camera.Height));
        Assert.Equal(new[] { 971.838, 383.5, 511.5, -0.00177789 }, portrait.Camera.Params);
    }

    [Fact]
    public void ReadsAachenQueriesWithoutIntrinsics()
    {
        var names = QueryList.ReadNames(Aachen("day_time_queries_without_intrinsics.txt"));
        Assert.Equal(4, names.Count);
        Assert.All(names, q => Assert.Null(q.Camera));
        Assert.Equal(QueryList.ReadWithIntrinsics(Aachen("day_time_queries_with_intrinsics.txt")).Select(q => q.Name), names.Select(q => q.Name));
    }

    [Fact]
    public void AcceptsEverySupportedModelByNameAndRefusesTheOthers()
    {
        var path = Path.Combine(TempDir.Create(), "queries.txt");
        // Every model with its parameter count; cx, cy (where the model has them) 320.5, 240.5.
        string Line(CameraModel m) => $"q/{m.Name}.jpg {m.Name.ToLowerInvariant()} 640 480 "
            + string.Join(' ', m.ParamNames.Select(n => n switch { "cx" => "320.5", "cy" => "240.5", _ => "0.125" }));
        File.WriteAllLines(path, Camera.SupportedModels.Select(Line));
        var queries = QueryList.ReadWithIntrinsics(path);
        Assert.Equal(Camera.SupportedModels.Count, queries.Count);
        for (int i = 0; i < queries.Count; i++)
        {
            var model = Camera.SupportedModels[i];
            var c = queries[i].Camera!;
            Assert.Same(model, c.Model);
            c.Validate();
            var expected = model.ParamNames.Select(n => n switch { "cx" => 320.0, "cy" => 240.0, _ => 0.125 });
            Assert.Equal(expected, c.Params);
        }
        // The others (fisheye, division, FOV…) would be projected wrongly: refused, naming the supported ones.
        foreach (var model in CameraModel.All.Except(Camera.SupportedModels))
        {
            File.WriteAllLines(path, new[] { "# one query", Line(model) });
            var e = Assert.Throws<FileFormatException>(() => QueryList.ReadWithIntrinsics(path));
            Assert.StartsWith($"{path}:2: camera model {model.Name} is not supported", e.Message);
            Assert.Contains("supported: SIMPLE_PINHOLE, PINHOLE, SIMPLE_RADIAL, RADIAL, OPENCV, FULL_OPENCV", e.Message);
        }
    }

    [Theory]
    [InlineData("q.jpg", "found 1 field (a list of names only? then give the cameras with --intrinsics)")]
    [InlineData("q.jpg PINHOLE 640 480 500 500 320", "PINHOLE needs 4 parameters (fx, fy, cx, cy), found 3")]
    [InlineData("q.jpg SIMPLE_RADIAL 640 480 500 320 240 0 0", "SIMPLE_RADIAL needs 4 parameters (f, cx, cy, k), found 5")]
    [InlineData("q.jpg FISHEYE_PLUS 640 480 500 320 240", "unknown COLMAP camera model 'FISHEYE_PLUS'")]
    [InlineData("my copy.jpg SIMPLE_PINHOLE 640 480 500 320 240", "image name 'my copy.jpg' holds white space")] // was "unknown model 'copy.jpg'"
    [InlineData("q.jpg SIMPLE_PINHOLE 640 0 500 320 240", "height '0' is not a positive whole number")]
    [InlineData("q.jpg SIMPLE_PINHOLE 640.5 480 500 320 240", "width '640.5' is not a positive whole number")]
    [InlineData("q.jpg SIMPLE_PINHOLE 640 480 500 3x0 240", "parameter cx ('3x0') is not a finite number")]
    [InlineData("a.jpg SIMPLE_PINHOLE 640 480 500 320 240", "'a.jpg' appears again (first on line 2)")]
    [InlineData("q.jpg SIMPLE_RADIAL 640 480 -500 320 240 0", "parameter f = -500 must be positive")]
    [InlineData("q.jpg PINHOLE 640 480 500 500 320 5000", "parameter cy = 5000 lies outside [-480, 960]")]
    [InlineData("q.jpg RADIAL 640 480 500 320 240 0.1 -40", "parameter k2 = -40 is beyond ±10")]
    public void BadIntrinsicsLinesNameFileAndLine(string bad, string message)
    {
        var path = Path.Combine(TempDir.Create(), "queries.txt");
        File.WriteAllText(path, "# Aachen-style list\na.jpg SIMPLE_RADIAL 1600 1200 1469.2 800 600 -0.035\n\n" + bad + "\n");
        var e = Assert.Throws<FileFormatException>(() => QueryList.ReadWithIntrinsics(path));
        Assert.StartsWith($"{path}:4: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void BadNameListsNameFileAndLine()
    {
        var path = Path.Combine(TempDir.Create(), "names.txt");
        File.WriteAllText(path, "a.jpg\nb.jpg SIMPLE_PINHOLE 640 480 500 320 240\n");
        var e = Assert.Throws<FileFormatException>(() => QueryList.ReadNames(path));
        Assert.StartsWith($"{path}:2: expected one image name, found 7 fields", e.Message);
        File.WriteAllText(path, "a.jpg\nb.jpg\na.jpg\n");
        e = Assert.Throws<FileFormatException>(() => QueryList.ReadNames(path));
        Assert.StartsWith($"{path}:3: 'a.jpg' appears again", e.Message);
        Assert.Throws<FileNotFoundException>(() => QueryList.ReadNames(Path.Combine(TempDir.Create(), "none.txt")));
    }
}
