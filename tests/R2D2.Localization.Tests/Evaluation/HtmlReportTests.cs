using System.Text.Json;
using System.Text.RegularExpressions;
using OpenCvSharp;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Mapping;
using R2D2.Localization.Synthesis;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>A made-up run for report tests: two database images, 30 map points seen by both, and
/// queries of every kind (localized, fallback with too few inliers, missing from the run,
/// unreadable), plus <paramref name="more"/> localized ones with varied errors (for sorting).</summary>
internal static class MadeUpRun
{
    public static ReportData Create(string dir, int more = 0)
    {
        void Png(string name, int seed)
        {
            using var m = new Mat(96, 128, MatType.CV_8UC3);
            Cv2.Randu(m, Scalar.All(0), Scalar.All(255));
            Cv2.GaussianBlur(m, m, new Size(9, 9), 3);
            _ = seed;
            Cv2.ImWrite(Path.Combine(dir, name), m);
        }
        Png("db1.png", 1); Png("db2.png", 2); Png("q1.png", 3); Png("q2.png", 4);
        File.WriteAllBytes(Path.Combine(dir, "q4.jpg"), new byte[] { 0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10 }); // a truncated JPEG
        var db1 = DemoScene.LookAlong(0, 1.6, 0, 0, 0);
        var db2 = DemoScene.LookAlong(1, 1.6, 0, 10, 0);
        var points = Enumerable.Range(0, 30).Select(i => new MapPoint(100 + i, i * 0.1, 1 + 0.05 * i, 8, 200, 100, 50, 0.5,
            new[] { new TrackElement(1, i), new TrackElement(2, i) }, null)).ToList();
        var images = new Dictionary<int, (string Name, Pose Pose)> { [1] = ("db1.png", db1), [2] = ("db2.png", db2) };
        var truth = DemoScene.LookAlong(0.5, 1.6, 0.2, 5, 0);
        var estimate = DemoScene.LookAlong(0.52, 1.6, 0.21, 5.2, 0);
        var q2Truth = DemoScene.LookAlong(3, 1.6, 3, 90, 0);
        var inliers = new QueryInlierSet("q1.png", new float[] { 10, 10, 20, 30, 40, 12 }, new long[] { 100, 101, 102 });
        var q1Matches = new QueryMatchSet("q1.png", new float[] { 10, 10, 20, 30, 40, 12, 50, 50, 60, 20 }, new long[] { 100, 101, 102, 103, 104 },
            new[] { true, true, true, false, false });
        var q2Matches = new QueryMatchSet("q2.png", new float[] { 5, 5, 15, 25, 35, 45, 55, 65, 75, 85, 95, 5 }, new long[] { 105, 106, 107, 108, 109, 999 },
            new[] { true, false, true, false, false, false });
        var queries = new List<ReportQuery>
        {
            new("q1.png", estimate, truth, true, 5, 3, inliers, null, null, Path.Combine(dir, "q1.png"))
                { Status = QueryStatus.Localized, MatchSet = q1Matches, Seconds = 1.25 },
            new("q2.png", db2, q2Truth, false, 6, 2, null, "db2.png", "q2.png: not localized (only 2 inliers (< 12)); written with the pose of database image db2.png",
                Path.Combine(dir, "q2.png")) { Status = QueryStatus.Fallback, MatchSet = q2Matches, Seconds = 0.5 },
            new("q3.png", null, truth, false, 0, 0, null, null, "no pose in poses.txt", null), // missing from the run
            new("q4.jpg", db1, null, false, 0, 0, null, "db1.png", "broken JPEG (truncated); written with the pose of database image db1.png",
                Path.Combine(dir, "q4.jpg")) { Status = QueryStatus.Unreadable, MatchSet = QueryMatchSet.Empty("q4.jpg"), Seconds = 0 },
        };
        var estimates = new Dictionary<string, Pose> { ["q1.png"] = estimate, ["q2.png"] = db2, ["q4.jpg"] = db1 };
        var truths = new List<KeyValuePair<string, Pose>> { new("q1.png", truth), new("q2.png", q2Truth), new("q3.png", truth) };
        var rng = new Random(5);
        for (int i = 0; i < more; i++)
        {
            var t = DemoScene.LookAlong(rng.NextDouble() * 4, 1.6, rng.NextDouble() * 4, rng.NextDouble() * 360, 0);
            var e = PosePerturbation.Perturb(t, 0.01 + rng.NextDouble(), rng.NextDouble() * 0.05, rng);
            var name = $"m{i:D2}.png";
            queries.Add(new ReportQuery(name, e, t, true, 40 + i, 20 + (i * 7) % 13, null, null, null, null) { Status = QueryStatus.Localized, Seconds = 1 + 0.1 * ((i * 5) % 7) });
            estimates[name] = e;
            truths.Add(new(name, t));
        }
        var evaluation = PoseEvaluation.Evaluate(estimates, truths);
        var kp = new R2D2.Localization.Storage.Keypoints(Enumerable.Range(0, 30).Select(i => (float)(i * 4)).ToArray(),
            Enumerable.Range(0, 30).Select(i => (float)(i * 3)).ToArray(), new float[30], new float[30], 2);
        var runPath = Path.Combine(dir, "poses.run.json");
        QueryRunInfo.Write(runPath, new (string, object?)[]
        {
            ("map", "map.db"), ("features", "R2D2 test"), ("localizer", new (string, object?)[] { ("min_inliers", 12), ("pnp_threshold_px", 12.0) }),
        }, new[] { ("query: extract", 1.5), ("query: PnP", 0.01) });
        return new ReportData("test <run>", "map.db", points, images, dir, queries, evaluation)
        {
            Timings = new[] { ("extract", 1.5) },
            MapKeypoints = _ => kp,
            Run = QueryRunInfo.Read(runPath),
        };
    }
}

/// <summary>The HTML report on a made-up run: its sections, the failure explained, the pictures
/// with their match lines, and that it is self-contained.</summary>
public class HtmlReportTests
{
    [Fact]
    public void AReportHasItsSectionsAndFetchesNothing()
    {
        var dir = TempDir.Create();
        var path = Path.Combine(dir, "report.html");
        HtmlReport.Write(path, MadeUpRun.Create(dir));
        var html = File.ReadAllText(path);

        foreach (var section in new[] { "id=\"results\"", "id=\"run\"", "id=\"table\"", "id=\"map\"", "id=\"queries\"", "id=\"view3d\"", "id=\"q-q1.png\"",
                     "id=\"q-q2.png\"", "0.25 m, 2°" })
            Assert.Contains(section, html);
        Assert.Contains("test &lt;run&gt;", html);                   // escaped
        Assert.Matches(new Regex("<figure class=\"plot\"><svg[^>]*>"), html); // the error plot, inline SVG
        Assert.Contains("localizer.min_inliers", html);              // the run's settings
        Assert.Contains("<td>query: extract</td><td>1.5</td>", html); // and its time per stage
        // The table: a row per query, with its errors, sortable (numbers in data-v).
        Assert.Equal(4, Regex.Matches(html, "<tr data-i=").Count);
        Assert.Contains("data-name=\"q3.png\" data-show=\"failed\"", html);
        Assert.Contains("<td class=\"t\">missing</td><td class=\"t\">no pose in the run</td>", html);
        // Self-contained: every src is a data URI, no link to anything (not even the SVG namespace).
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        foreach (System.Text.RegularExpressions.Match m in Regex.Matches(html, "src=\"([^\"]*)\""))
            Assert.StartsWith("data:", m.Groups[1].Value);
        // The 3D view's data: every point (under the cap), both cameras, every query.
        var json = Regex.Match(html, "<script type=\"application/json\" id=\"view3d-data\">(.*?)</script>").Groups[1].Value;
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(30, doc.RootElement.GetProperty("count").GetInt32());
        Assert.Equal(2, doc.RootElement.GetProperty("cameras").GetArrayLength());
        Assert.Equal("fallback", doc.RootElement.GetProperty("queries")[1].GetProperty("k").GetString());
        Assert.Equal(30 * 9, Convert.FromBase64String(doc.RootElement.GetProperty("points").GetString()!).Length);
    }

    [Fact]
    public void EachFailureHasItsReasonItsMatchLinesAndItsFallbackLabelled()
    {
        var dir = TempDir.Create();
        var html = HtmlReport.Render(MadeUpRun.Create(dir));
        string Card(string name) => Regex.Match(html, $"<section class=\"q[^\"]*\" id=\"q-{Regex.Escape(name)}\">(.*?)</section>", RegexOptions.Singleline).Groups[1].Value;

        var q1 = Card("q1.png");
        Assert.Contains("estimated position", q1);
        Assert.DoesNotContain("Why:", q1);
        Assert.Contains("database image db1.png, which sees 3 of the 3 inliers", q1); // most shared inliers, lowest id on ties
        Assert.Contains("Lines: 3 of 3 inliers (green), 2 of 2 outliers (red)", q1);

        var q2 = Card("q2.png");
        Assert.Contains("Why: too few inliers: 2 of 6 matches agree on a pose, at least 12 are needed", q2);
        Assert.Contains("<span class=\"fb\">fallback pose</span>: the pose of database image db2.png", q2);
        Assert.DoesNotContain("estimated position", q2);
        // Two database images for a failure; point 999 is in no image, so 5 of the 6 matches have lines.
        Assert.Equal(2, Regex.Matches(q2, "<img ").Count);
        Assert.Contains("Lines: 2 of 2 inliers (green), 3 of 3 outliers (red)", q2);

        Assert.Contains("Why: the run has no pose for this query", Card("q3.png"));
        Assert.Empty(Regex.Matches(Card("q3.png"), "<img "));
        var q4 = Card("q4.jpg");
        Assert.Contains("Why: image unreadable: broken JPEG (truncated)", q4);
        Assert.Contains("the fallback pose's image", q4);
        Assert.Single(Regex.Matches(q4, "<img "));
        // A failure's images are those that see most of its matches (a rejected pose's inliers picked
        // images that saw a handful); the caption counts matched points, not inliers.
        Assert.Contains("which sees 5 of the 6 matched points", q2);
        Assert.Contains("no pose in the run", Card("q3.png")); // not "0 inliers of 0 matches"
        // Failures counted by reason.
        Assert.Contains("<tr><td>too few inliers</td><td>1</td></tr>", html);
        Assert.Contains("<tr><td>image unreadable</td><td>1</td></tr>", html);
    }

    /// <summary>One estimate a kilometre off is drawn at the edge of the view from above, its
    /// distance said (the view took it in and shrank the map to a blob); no "-0.00" in positions.</summary>
    [Fact]
    public void AFarOffEstimateIsDrawnAtTheEdgeAndTheMapKeepsItsScale()
    {
        var dir = TempDir.Create();
        var d = MadeUpRun.Create(dir);
        var far = d.Queries[0] with { Estimate = DemoScene.LookAlong(1000, 1.6, 0, 5, 0) };
        var near = d with { Queries = d.Queries.Skip(1).ToList() };
        string ScaleBar(string svg) => Regex.Match(svg, ">([0-9.]+) m</text>").Groups[1].Value;
        var withFar = MapViews.TopView(d with { Queries = d.Queries.Skip(1).Prepend(far).ToList() });
        Assert.Equal(ScaleBar(MapViews.TopView(near)), ScaleBar(withFar));
        Assert.Matches("\\(off the view, (99[0-9] m|1 km)\\)", withFar);
        // Labels do not sit on each other: a second query at the first's place is labelled apart.
        var twin = d.Queries[0] with { Name = "q1-twin.png" };
        var crowded = MapViews.TopView(d with { Queries = d.Queries.Append(twin).ToList() });
        var spots = Regex.Matches(crowded, "<text x=\"([0-9.]+)\" y=\"([0-9.]+)\"[^>]*>(q1|q1-twin)</text>").Select(m => (m.Groups[1].Value, m.Groups[2].Value)).ToList();
        Assert.Equal(2, spots.Count);
        Assert.NotEqual(spots[0], spots[1]);
        var zero = d.Queries[0] with { Estimate = Pose.FromCameraCenter(d.Queries[0].Estimate!.Rotation, new[] { -0.001, 1.6, -0.0001 }) };
        var html = HtmlReport.Render(d with { Queries = d.Queries.Skip(1).Prepend(zero).ToList() });
        Assert.Contains("estimated position (0.00, 1.60, 0.00)", html);
        Assert.DoesNotMatch(@"[(, ]-0\.00[,)]", html);
    }

    [Fact]
    public void PicturesDrawSampledLinesInTheirColours()
    {
        Assert.Equal(new[] { 0, 10, 20, 30, 40, 50, 60, 70, 80, 90 }, ReportPictures.SampleEvenly(Enumerable.Range(0, 100).ToList(), 10));
        Assert.Equal(new[] { 1, 2, 3 }, ReportPictures.SampleEvenly(new[] { 1, 2, 3 }, 10));

        using var q = new Mat(100, 200, MatType.CV_8UC3, Scalar.All(0));
        using var db = new Mat(50, 100, MatType.CV_8UC3, Scalar.All(0)); // half the size: drawn at the query's height
        // Inliers along the top, outliers along the bottom.
        var matches = Enumerable.Range(0, 200).Select(i => new DrawnMatch(i, i % 2 == 0 ? 20 : 80, i % 100, i % 2 == 0 ? 10 : 40, i % 2 == 0)).ToList();
        var (jpeg, stats) = ReportPictures.Draw(q, db, matches, 1000, 10, 95, "none");
        Assert.Equal(new PictureStats(100, 100, 10, 10), stats);
        using var img = Cv2.ImDecode(jpeg, ImreadModes.Color);
        Assert.Equal((50, 206), (img.Rows, img.Cols)); // both at the smaller one's height (never enlarged): 100 + 6 + 100
        int green = 0, red = 0, rows = img.Rows, cols = img.Cols;
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < cols; x++)
            {
                var c = img.At<Vec3b>(y, x);
                if (c.Item1 > 120 && c.Item2 < 90) green++;
                if (c.Item2 > 120 && c.Item1 < 90) red++;
            }
        Assert.True(green > 50 && red > 50, $"green {green}, red {red}");
    }

    [Fact]
    public void LargeRunsGetSmallerPictures()
    {
        var dir = TempDir.Create();
        var data = MadeUpRun.Create(dir);
        int Width(string html, string name) =>
            Regex.Matches(Regex.Match(html, $"id=\"q-{Regex.Escape(name)}\">(.*?)</section>", RegexOptions.Singleline).Groups[1].Value, "base64,([^\"]+)")
                .Select(m => Cv2.ImDecode(Convert.FromBase64String(m.Groups[1].Value), ImreadModes.Color).Cols).Max();
        var large = HtmlReport.Render(data with { Options = new ReportOptions { PictureWidth = 200, SmallPicturesAbove = 10 } });
        Assert.InRange(Width(large, "q2.png"), 101, 200);
        var small = HtmlReport.Render(data with { Options = new ReportOptions { PictureWidth = 200, SmallPicturesAbove = 2 } });
        Assert.True(Width(small, "q1.png") <= 100);
        Assert.True(Width(small, "q2.png") <= 100);
    }

    /// <summary>Past --max-pictures the cards are text, the failures' pictures kept first (10,000
    /// queries made a 296 MB page; ~36,000 stopped the report, the page being one string); the page
    /// is written as it is rendered.</summary>
    [Fact]
    public void PicturesAreCappedFailuresFirstAndThePageIsStreamed()
    {
        var dir = TempDir.Create();
        var data = MadeUpRun.Create(dir) with { Options = new ReportOptions { PictureWidth = 200, MaxPictureCards = 1 } };
        var html = HtmlReport.Render(data);
        string Card(string name) => Regex.Match(html, $"id=\"q-{Regex.Escape(name)}\">(.*?)</section>", RegexOptions.Singleline).Groups[1].Value;
        Assert.Contains("base64,", Card("q2.png"));     // not localized: drawn
        Assert.DoesNotContain("base64,", Card("q1.png"));
        // Of the queries in the submission: one missing from it has no picture to count.
        int inSubmission = data.Queries.Count(q => !q.Missing);
        Assert.Contains($"Pictures of 1 of the {inSubmission} queries in the submission", html);
        var withMissing = data with { Queries = data.Queries.Append(data.Queries[0] with { Name = "gone.png", Estimate = null }).ToList() };
        Assert.Contains($"Pictures of 1 of the {inSubmission} queries in the submission", HtmlReport.Render(withMissing));
        var path = Path.Combine(dir, "capped.html");
        var cards = new List<int>();
        HtmlReport.Write(path, data, (i, n) => cards.Add(i));
        static string Unnumbered(string page) => Regex.Replace(page, "cl_[0-9]+", "cl_"); // the plot's clip paths are numbered per process
        Assert.Equal(Unnumbered(html), Unnumbered(File.ReadAllText(path)));
        Assert.Equal(Enumerable.Range(0, data.Queries.Count), cards);
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
        // Coordinates that parse but are no position (a report drew NaN); a count whose line length overflowed.
        foreach (var line in new[] { "c.jpg 1 NaN 2 3", "c.jpg 1 1 Infinity 3", "c.jpg 1431655765 1 2 3" })
        {
            File.WriteAllText(path, line + "\n");
            Assert.Contains($"{path}:1:", Assert.Throws<FileFormatException>(() => QueryInliers.Read(path)).Message);
        }
    }
}

/// <summary>The matches file of `localize query` (all matches, RANSAC's verdict on each).</summary>
public class QueryMatchesTests
{
    [Fact]
    public void MatchesRoundTripAndABadLineIsNamed()
    {
        var path = Path.Combine(TempDir.Create(), "poses.matches.txt");
        Assert.Equal(path, QueryMatches.PathFor(Path.Combine(Path.GetDirectoryName(path)!, "poses.txt")));
        QueryMatches.Write(path, new[]
        {
            new QueryMatchSet("q/a.jpg", new[] { 1.25f, 2.5f, 100.75f, 7f }, new long[] { 5, 123456789012 }, new[] { false, true }),
            QueryMatchSet.Empty("b.jpg"),
        });
        var read = QueryMatches.Read(path);
        Assert.Equal(new[] { 1.25f, 2.5f, 100.75f, 7f }, read["q/a.jpg"].XY);
        Assert.Equal(new long[] { 5, 123456789012 }, read["q/a.jpg"].PointIds);
        Assert.Equal(new[] { false, true }, read["q/a.jpg"].Inlier);
        Assert.Equal(1, read["q/a.jpg"].InlierCount);
        Assert.Equal(0, read["b.jpg"].Count);
        File.AppendAllText(path, "c.jpg 1 1 2 3 yes\n");
        var e = Assert.Throws<FileFormatException>(() => QueryMatches.Read(path));
        Assert.Contains($"{path}:3:", e.Message);
        File.WriteAllText(path, "d.jpg 2 1 2 3 1\n");
        Assert.Throws<FileFormatException>(() => QueryMatches.Read(path));
        File.WriteAllText(path, "d.jpg 1 NaN 2 3 1\n");
        Assert.Contains("finite numbers", Assert.Throws<FileFormatException>(() => QueryMatches.Read(path)).Message);
    }
}

/// <summary>A failure's reason from what a run records, and the run description's JSON.</summary>
public class QueryFailureAndRunInfoTests
{
    [Fact]
    public void ReasonsFollowStatusMatchesAndInliers()
    {
        Assert.Equal(FailureReason.None, QueryFailure.Classify(QueryStatus.Localized, 100, 50));
        Assert.Equal(FailureReason.TooFewMatches, QueryFailure.Classify(QueryStatus.Fallback, 3, 0));
        Assert.Equal(FailureReason.NoModel, QueryFailure.Classify(QueryStatus.Fallback, 40, 0));
        Assert.Equal(FailureReason.TooFewInliers, QueryFailure.Classify(QueryStatus.Fallback, 134, 6));
        Assert.Equal(FailureReason.Unreadable, QueryFailure.Classify(QueryStatus.Unreadable, 0, 0));
        Assert.Equal(FailureReason.Error, QueryFailure.Classify(QueryStatus.Failed, 0, 0));
        Assert.Equal("too few inliers: 6 of 134 matches agree on a pose, at least 12 are needed",
            QueryFailure.Explain(FailureReason.TooFewInliers, 134, 6, 12, null));
        Assert.Equal("too few matches: 1 2D–3D match, PnP needs at least 4", QueryFailure.Explain(FailureReason.TooFewMatches, 1, 0, null, null));
        Assert.Equal("image unreadable: a.jpg: file not found",
            QueryFailure.Explain(FailureReason.Unreadable, 0, 0, 12, "a.jpg: file not found; written with the pose of database image d.jpg"));
        Assert.Equal("a.jpg: localization failed: bad camera",
            QueryFailure.Explain(FailureReason.Error, 0, 0, 12, "a.jpg: localization failed: bad camera; written with the pose of database image d.jpg"));
    }

    [Fact]
    public void RunInfoRoundTripsAndAForeignFileIsNamed()
    {
        var dir = TempDir.Create();
        var path = QueryRunInfo.PathFor(Path.Combine(dir, "poses.txt"));
        Assert.Equal(Path.Combine(dir, "poses.run.json"), path);
        QueryRunInfo.Write(path, new (string, object?)[]
        {
            ("map", "m.db"), ("queries", 3), ("extractor", new (string, object?)[] { ("settings", new JsonObjectText("{\"top_k\": 2000}")) }),
            ("localizer", new (string, object?)[] { ("min_inliers", 12), ("min_similarity", null) }),
        }, new[] { ("query: extract", 1.23456), ("query: PnP", 0.5) });
        var info = QueryRunInfo.Read(path);
        Assert.Equal(new[] { ("map", "m.db"), ("queries", "3"), ("extractor.settings.top_k", "2000"), ("localizer.min_inliers", "12"), ("localizer.min_similarity", "–") },
            info.Settings);
        Assert.Equal(new[] { ("query: extract", 1.2346), ("query: PnP", 0.5) }, info.Stages);
        Assert.Equal(12, info.MinInliers);
        File.WriteAllText(path, "{\"format\": \"something else\"}");
        Assert.Contains($"{path}:1:", Assert.Throws<FileFormatException>(() => QueryRunInfo.Read(path)).Message);
        File.WriteAllText(path, "{ not json");
        Assert.Contains(path, Assert.Throws<FileFormatException>(() => QueryRunInfo.Read(path)).Message);
        // A key twice (JSON allows it) would have been a stack trace where a resume compares settings.
        File.WriteAllText(path, $"{{\"format\": \"{QueryRunInfo.FormatName}\", \"localizer\": {{\"min_inliers\": 12, \"min_inliers\": 30}}}}");
        Assert.Contains($"{path}: \"localizer.min_inliers\" is given 2 times", Assert.Throws<FileFormatException>(() => QueryRunInfo.Read(path)).Message);
    }
}
