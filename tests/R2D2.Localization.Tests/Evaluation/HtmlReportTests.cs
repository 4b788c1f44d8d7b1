using System.Text.RegularExpressions;
using OpenCvSharp;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Mapping;
using R2D2.Localization.Synthesis;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>The HTML report on a tiny made-up run: its sections, and that it is self-contained.</summary>
public class HtmlReportTests
{
    [Fact]
    public void AReportHasItsSectionsAndFetchesNothing()
    {
        var dir = TempDir.Create();
        void Png(string name) { using var m = new Mat(48, 64, MatType.CV_8UC3, new Scalar(90, 140, 200)); Cv2.ImWrite(Path.Combine(dir, name), m); }
        Png("db1.png"); Png("db2.png"); Png("q1.png");
        var db1 = DemoScene.LookAlong(0, 1.6, 0, 0, 0);
        var db2 = DemoScene.LookAlong(1, 1.6, 0, 10, 0);
        var points = Enumerable.Range(0, 30).Select(i => new MapPoint(100 + i, i * 0.1, 1 + 0.05 * i, 8, 200, 100, 50, 0.5,
            new[] { new TrackElement(1, i), new TrackElement(2, i) }, null)).ToList();
        var images = new Dictionary<int, (string Name, Pose Pose)> { [1] = ("db1.png", db1), [2] = ("db2.png", db2) };
        var truth = DemoScene.LookAlong(0.5, 1.6, 0.2, 5, 0);
        var estimate = DemoScene.LookAlong(0.52, 1.6, 0.21, 5.2, 0);
        var inliers = new QueryInlierSet("q1.png", new float[] { 10, 10, 20, 30, 40, 12 }, new long[] { 100, 101, 102 });
        var queries = new List<ReportQuery>
        {
            new("q1.png", estimate, truth, true, 50, 3, inliers, null, null, Path.Combine(dir, "q1.png")),
            new("q2.png", db2, DemoScene.LookAlong(3, 1.6, 3, 90, 0), false, 4, 0, null, "db2.png", "q2.png: not localized", null),
            new("q3.png", null, truth, false, 0, 0, null, null, "no estimate in poses.txt", null), // missing from the run
        };
        var evaluation = PoseEvaluation.Evaluate(new Dictionary<string, Pose> { ["q1.png"] = estimate, ["q2.png"] = db2 },
            new[] { KeyValuePair.Create("q1.png", truth), KeyValuePair.Create("q2.png", DemoScene.LookAlong(3, 1.6, 3, 90, 0)) });
        var kp = new R2D2.Localization.Storage.Keypoints(Enumerable.Range(0, 30).Select(i => (float)i).ToArray(), Enumerable.Range(0, 30).Select(i => (float)i).ToArray(),
            new float[30], new float[30], 2);
        var data = new ReportData("test <run>", "map.db", points, images, dir, queries, evaluation)
        {
            Timings = new[] { ("extract", 1.5) }, MapKeypoints = _ => kp,
        };
        var path = Path.Combine(dir, "report.html");
        HtmlReport.Write(path, data);
        var html = File.ReadAllText(path);

        foreach (var section in new[] { "id=\"results\"", "id=\"map\"", "id=\"queries\"", "<svg", "id=\"q-q1.png\"", "id=\"q-q2.png\"", "0.25 m, 2°" })
            Assert.Contains(section, html);
        Assert.Contains("test &lt;run&gt;", html);                    // escaped
        Assert.Contains("data:image/png;base64,", html);               // the error plot
        Assert.Contains("database image db1.png, sharing 3", html);   // the matched image: most shared inliers, lowest id on ties
        Assert.Contains("not localized", html);
        Assert.Contains("q3.png (true; no estimate)", html);
        // Self-contained: every src is a data URI, no link to anything.
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        foreach (System.Text.RegularExpressions.Match m in Regex.Matches(html, "src=\"([^\"]*)\""))
            Assert.StartsWith("data:", m.Groups[1].Value);
        // The plot, q1 and its database image, q2's fallback database image (q2 has no picture of its own).
        Assert.Equal(4, Regex.Matches(html, "<img ").Count);
    }
}

/// <summary>The inliers file of `localize query`: written and read back, bad lines named.</summary>
public class QueryInliersTests
{
    [Fact]
    public void InliersRoundTripAndABadLineIsNamed()
    {
        var path = Path.Combine(TempDir.Create(), "poses.inliers.txt");
        Assert.Equal(path, QueryInliers.PathFor(Path.Combine(Path.GetDirectoryName(path)!, "poses.txt")));
        QueryInliers.Write(path, new[]
        {
            new QueryInlierSet("q/a.jpg", new[] { 1.25f, 2.5f, 100.75f, 7f }, new long[] { 5, 123456789012 }),
            new QueryInlierSet("b.jpg", Array.Empty<float>(), Array.Empty<long>()),
        });
        var read = QueryInliers.Read(path);
        Assert.Equal(new[] { 1.25f, 2.5f, 100.75f, 7f }, read["q/a.jpg"].XY);
        Assert.Equal(new long[] { 5, 123456789012 }, read["q/a.jpg"].PointIds);
        Assert.Equal(0, read["b.jpg"].Count);
        File.AppendAllText(path, "c.jpg 2 1 2 3\n");
        var e = Assert.Throws<FileFormatException>(() => QueryInliers.Read(path));
        Assert.Contains($"{path}:3:", e.Message);
    }
}
