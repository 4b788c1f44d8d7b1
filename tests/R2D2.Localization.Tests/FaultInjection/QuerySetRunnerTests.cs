using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.FaultInjection;

/// <summary>The query-set runner in the library (no process): per-query isolation, what the
/// progress sink hears, outputs written after every query, refusals before any work.</summary>
[Collection("tiny map")]
public class QuerySetRunnerTests(TinyMap tiny)
{
    private static readonly Camera DayCamera =
        new Camera(1, CameraModel.Pinhole, 256, 192, new[] { 200.0, 200, 128, 96 }).WithPrincipalPointShift(-ColmapConvention.PixelOffset);

    private sealed class Recorder(Action<int>? onFinished = null) : IQuerySetProgress
    {
        public readonly List<string> Events = new();
        public readonly List<string> Warnings = new();
        public void Started(int index, int total, QueryImage query) => Events.Add($"start {index + 1}/{total} {query.Name}");
        public void Finished(int index, int total, QueryOutcome outcome)
        {
            Events.Add($"end {index + 1}/{total} {outcome.Query.Name} {outcome.Status}");
            onFinished?.Invoke(index);
        }
        public void Warning(string message) => Warnings.Add(message);
    }

    [Fact]
    public void EachQueryIsIsolatedAndTheRunGoesOn()
    {
        var dir = tiny.Workspace("day_01.jpg", "day_02.jpg");
        var (map, source) = TinyMap.Load(dir);
        using var _ = source;
        var queries = new List<QueryImage>
        {
            new("day_01.jpg", DayCamera),
            new("missing.jpg", DayCamera),
            new("day_02.jpg", DayCamera with { Params = new[] { 0.0, 0, 127.5, 95.5 } }), // focal 0
            new("fisheye.jpg", new Camera(2, CameraModel.Fisheye, 256, 192, new[] { 200.0, 200, 127.5, 95.5 })),
            new("no-camera.jpg", null),
        };
        File.Copy(Path.Combine(dir, "day_01.jpg"), Path.Combine(dir, "fisheye.jpg"));
        File.Copy(Path.Combine(dir, "day_01.jpg"), Path.Combine(dir, "no-camera.jpg"));
        var progress = new Recorder();
        var poses = Path.Combine(dir, "out", "poses.txt");
        var summary = new QuerySetRunner(map, source, null, new QuerySetOptions { ImageRoot = dir, OutputPath = poses }).Run(queries, progress);

        Assert.Equal(new[] { QueryStatus.Localized, QueryStatus.Unreadable, QueryStatus.Failed, QueryStatus.Failed, QueryStatus.Failed },
            summary.Outcomes.Select(o => o.Status));
        Assert.Equal("query: 5 queries, 1 localized, 0 fallback, 1 unreadable, 3 failed", summary.Line);
        Assert.True(summary.HasErrors);
        Assert.Equal(10, progress.Events.Count);
        Assert.Equal("end 2/5 missing.jpg Unreadable", progress.Events[3]);
        Assert.Contains("file not found", summary.Outcomes[1].Result.Warning);
        Assert.Contains("FISHEYE", summary.Outcomes[3].Result.Warning);
        Assert.Contains("has no camera", summary.Outcomes[4].Result.Warning);
        Assert.All(summary.Outcomes.Skip(1), o => Assert.Equal(map.Images.Values.First(i => i.Name == o.Result.FallbackImage).Pose.Translation, o.Result.Pose.Translation));
        Assert.Equal(queries.Select(q => q.Name), Submission.Read(poses).Select(p => p.Name));
    }

    /// <summary>The query stage from files (what `localize query` runs): the list, the map and its
    /// model opened and checked before any query, the shard's count, the outputs it names.</summary>
    [Fact]
    public void AQueryRunFromFilesOpensChecksAndRuns()
    {
        var dir = tiny.Workspace("day_01.jpg", "day_02.jpg", "day_03.jpg");
        var list = Path.Combine(dir, "queries.txt");
        File.WriteAllLines(list, new[] { "day_01.jpg", "day_02.jpg", "day_03.jpg" }.Select(n => $"{n} {TinyMap.Camera}"));
        var options = new QueryRunOptions { MapPath = Path.Combine(dir, "map.db"), QueriesPath = list, ImagesFolder = dir, OutputPath = Path.Combine(dir, "out", "poses.txt"), Shard = new Shard(0, 2) };
        // A precision for a map whose features no network computes: refused before any output.
        Assert.Contains("--precision applies to R2D2 models", Assert.Throws<UsageException>(() => QueryRun.Open(options with { PrecisionGiven = true })).Message);
        Assert.Throws<UsageException>(() => QueryRun.Open(options with { SubmissionFolders = -1 }));
        // A checkpoint for a RootSIFT map was ignored without a word; 'rootsift' is the map's own.
        Assert.Contains("was built with RootSIFT, whose queries are RootSIFT's too", Assert.Throws<UsageException>(() => QueryRun.Open(options with { Model = "default" })).Message);
        QueryRun.Open(options with { Model = "rootsift" }).Dispose();
        // The device is resolved after the map is read: a missing map is said first.
        Assert.Contains("not found", Assert.ThrowsAny<R2D2Exception>(() => QueryRun.Open(options with
            { MapPath = Path.Combine(dir, "none.db"), Device = () => throw new Xunit.Sdk.XunitException("device resolved first") })).Message);
        Assert.False(Directory.Exists(Path.Combine(dir, "out")));
        using var run = QueryRun.Open(options);
        Assert.Equal(3, run.ListCount);
        Assert.InRange(run.Count, 1, 2); // shard 0 of 2 (by the images' costs)
        Assert.Equal(Path.Combine(dir, "out", "poses.csv"), run.Outputs[1]);
        var summary = run.Run();
        Assert.Equal(run.Count, summary.Outcomes.Count);
        Assert.All(run.Outputs, f => Assert.True(File.Exists(f), f));
        Assert.Contains(QueryRunInfo.Read(run.Outputs[^1]).Stages, s => s.Stage == "load map");
    }

    [Fact]
    public void TheOutputsAreWrittenAfterEveryQuery()
    {
        var dir = tiny.Workspace("day_01.jpg", "day_02.jpg", "day_03.jpg");
        var (map, source) = TinyMap.Load(dir);
        using var _ = source;
        var poses = Path.Combine(dir, "poses.txt");
        var seen = new List<int>();
        var progress = new Recorder(i => seen.Add(Submission.Read(poses).Count));
        var queries = new[] { "day_01.jpg", "day_02.jpg", "day_03.jpg" }.Select(n => new QueryImage(n, DayCamera)).ToList();
        var summary = new QuerySetRunner(map, source, null, new QuerySetOptions { ImageRoot = dir, OutputPath = poses }).Run(queries, progress);
        Assert.False(summary.HasErrors);
        Assert.Equal(new[] { 1, 2, 3 }, seen);
        Assert.Equal(3, File.ReadAllLines(Path.ChangeExtension(poses, ".csv")).Length - 1);
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        // Every match with RANSAC's verdict, as many as the CSV counts; the inliers among them are the inliers file's.
        var matches = QueryMatches.Read(QueryMatches.PathFor(poses));
        var inliers = QueryInliers.Read(QueryInliers.PathFor(poses));
        foreach (var o in summary.Outcomes)
        {
            var m = matches[o.Query.Name];
            Assert.Equal(o.Result.Matches, m.Count);
            Assert.Equal(o.Result.Inliers, m.InlierCount);
            Assert.Equal(inliers[o.Query.Name].PointIds.Order(), m.PointIds.Where((_, i) => m.Inlier[i]).Order());
        }
        // The run description: settings, model and time per stage.
        var run = QueryRunInfo.Read(QueryRunInfo.PathFor(poses));
        Assert.Equal(12, run.MinInliers);
        Assert.Contains(("done", "3"), run.Settings);
        Assert.Contains(("extractor.type", "rootsift"), run.Settings);
        Assert.Equal(new[] { "query: extract", "query: match", "query: PnP", "write outputs", "total (this invocation)" }, run.Stages.Select(s => s.Stage));

        // Run again: replacing the poses is said, except where every run makes its outputs anew (the demos).
        var again = new Recorder();
        new QuerySetRunner(map, source, null, new QuerySetOptions { ImageRoot = dir, OutputPath = poses }).Run(queries.Take(1).ToList(), again);
        Assert.Contains(again.Warnings, w => w.Contains("holds 3 poses of an earlier run, which this run replaces"));
        var fresh = new Recorder();
        new QuerySetRunner(map, source, null, new QuerySetOptions { ImageRoot = dir, OutputPath = poses, Fresh = true }).Run(queries.Take(1).ToList(), fresh);
        Assert.DoesNotContain(fresh.Warnings, w => w.Contains("earlier run"));
    }

    [Fact]
    public void AQueryThatIsNotLocalizedKeepsItsMatchesAndTheReportExplainsIt()
    {
        var dir = tiny.Workspace("day_01.jpg", "day_02.jpg");
        var (map, source) = TinyMap.Load(dir);
        using var _ = source;
        var poses = Path.Combine(dir, "poses.txt");
        // More inliers required than any query has: every query falls back, with its matches recorded.
        // A tight threshold leaves outliers among a map image's own matches (with 8 px, whether any
        // match is an outlier was the luck of RANSAC's samples), so the report draws both kinds.
        var options = new QuerySetOptions { ImageRoot = dir, OutputPath = poses, Localizer = new LocalizerOptions { MinInliers = 100_000, Pnp = new PnpOptions { ThresholdPx = 0.5 } } };
        var summary = new QuerySetRunner(map, source, null, options).Run(new[] { new QueryImage("day_01.jpg", DayCamera) });
        var o = Assert.Single(summary.Outcomes);
        Assert.Equal(QueryStatus.Fallback, o.Status);
        var m = QueryMatches.Read(QueryMatches.PathFor(poses))["day_01.jpg"];
        Assert.True(m.Count > 20 && m.InlierCount == o.Result.Inliers && m.InlierCount > 0, $"{m.Count} matches, {m.InlierCount} inliers");
        Assert.Equal(0, QueryInliers.Read(QueryInliers.PathFor(poses))["day_01.jpg"].Count);

        var data = R2D2.Localization.Evaluation.HtmlReport.Load(Path.Combine(dir, "map.db"), poses, null, dir, null);
        var html = R2D2.Localization.Evaluation.HtmlReport.Render(data);
        Assert.Contains($"Why: too few inliers: {o.Result.Inliers} of {o.Result.Matches} matches agree on a pose, at least 100000 are needed", html);
        Assert.Contains("<span class=\"fb\">fallback pose</span>", html);
        var captions = string.Join("\n", System.Text.RegularExpressions.Regex.Matches(html, "<figcaption>[^<]*</figcaption>").Select(c => c.Value));
        Assert.True(System.Text.RegularExpressions.Regex.IsMatch(html, "Lines: [1-9][0-9]* of [1-9][0-9]* inliers \\(green\\), [1-9][0-9]* of [1-9][0-9]* outliers \\(red\\)"), captions);
    }

    [Fact]
    public void CollidingNamesAndOutputsOverInputsAreRefusedBeforeAnyWork()
    {
        var dir = tiny.Workspace("day_01.jpg");
        var (map, source) = TinyMap.Load(dir);
        using var _ = source;
        var list = Path.Combine(dir, "list.txt");
        File.WriteAllText(list, "x/day_01.jpg\ny/day_01.jpg\n");
        var progress = new Recorder();
        var runner = new QuerySetRunner(map, source, null, new QuerySetOptions { ImageRoot = dir, OutputPath = Path.Combine(dir, "p.txt"), QueryListPath = list });
        var e = Assert.Throws<R2D2Exception>(() => runner.Run(new[] { new QueryImage("x/day_01.jpg", DayCamera), new QueryImage("y/day_01.jpg", DayCamera) }, progress));
        Assert.Equal(list, e.File);
        Assert.Equal(2, e.Line);
        Assert.Empty(progress.Events);

        var intoImage = new QuerySetRunner(map, source, null, new QuerySetOptions { ImageRoot = dir, OutputPath = Path.Combine(dir, "p.txt"), CsvPath = Path.Combine(dir, "day_01.jpg") });
        var before = TinyMap.Hash(Path.Combine(dir, "day_01.jpg"));
        e = Assert.Throws<R2D2Exception>(() => intoImage.Run(new[] { new QueryImage("day_01.jpg", DayCamera) }, progress));
        Assert.Contains("would overwrite the query image", e.Message);
        Assert.Empty(progress.Events);
        Assert.Equal(before, TinyMap.Hash(Path.Combine(dir, "day_01.jpg")));
        Assert.False(File.Exists(Path.Combine(dir, "p.txt")));
    }

    [Fact]
    public void WithoutAnOutputNothingIsWritten()
    {
        var dir = tiny.Workspace("day_01.jpg");
        var (map, source) = TinyMap.Load(dir);
        using var _ = source;
        var before = Directory.GetFiles(dir).Order().ToList();
        var summary = new QuerySetRunner(map, source, null, new QuerySetOptions { ImageRoot = dir }).Run(new[] { new QueryImage("day_01.jpg", DayCamera) });
        Assert.Equal(QueryStatus.Localized, Assert.Single(summary.Outcomes).Status);
        Assert.NotNull(summary.Outcomes[0].Result.InlierPoints);
        Assert.Equal(before, Directory.GetFiles(dir).Order().ToList());
    }

    /// <summary>A global-descriptor file without one of the queries is refused before any work (the
    /// query failed alone, after the others' extraction); a pairs file without one is said.</summary>
    [Fact]
    public void RetrievalFilesLackingQueriesAreSaidBeforeAnyWork()
    {
        var dir = tiny.Workspace("day_01.jpg", "day_02.jpg");
        var (map, source) = TinyMap.Load(dir);
        using var _ = source;
        // Queries named apart from the map's images (the day photos), so no database entry stands for them.
        File.Copy(Path.Combine(dir, "day_01.jpg"), Path.Combine(dir, "q1.jpg"));
        File.Copy(Path.Combine(dir, "day_02.jpg"), Path.Combine(dir, "q2.jpg"));
        var queries = new[] { "q1.jpg", "q2.jpg" }.Select(n => new QueryImage(n, DayCamera)).ToList();
        var dbNames = map.Images.Values.Select(i => i.Name).ToList();
        var h5 = Path.Combine(dir, "global-feats.h5");
        Hloc.WriteGlobal(h5, dbNames.Select((n, i) => (n, new[] { 1f, i })).Append(("query/q1.jpg", new[] { 1f, 0 })));
        var poses = Path.Combine(dir, "out", "poses.txt");
        QuerySetRunner Runner(string method) => new(map, source, null, new QuerySetOptions
        {
            ImageRoot = dir, OutputPath = poses,
            Localizer = new LocalizerOptions { RetrievedImages = 1, RetrievalMethod = ImageRetrieval.Create(method, map) },
        });
        var e = Assert.Throws<R2D2Exception>(() => Runner("global:" + h5).Run(queries, new Recorder()));
        Assert.Equal(h5, e.File);
        Assert.Contains("no global descriptor for 1 of the 2 queries (first: 'q2.jpg')", e.Message);
        Assert.False(File.Exists(poses));

        var pairs = Path.Combine(dir, "pairs.txt");
        RetrievalPairs.Write(pairs, new[] { ("q1.jpg", dbNames[0], (double?)null) });
        var progress = new Recorder();
        var summary = Runner("pairs:" + pairs).Run(queries, progress);
        Assert.Contains(progress.Warnings, w => w.Contains("no pair for 1 of the 2 queries (first: 'q2.jpg'): they get no database image"));
        Assert.Equal(2, summary.Outcomes.Count);
        // So is a --pairs file's (the images each query is matched against).
        progress = new Recorder();
        new QuerySetRunner(map, source, null, new QuerySetOptions
        {
            ImageRoot = dir, OutputPath = poses,
            Localizer = new LocalizerOptions { PairsByQuery = new NameIndex<List<int>>(new Dictionary<string, List<int>> { ["q1.jpg"] = map.Images.Keys.Take(1).ToList() }) },
        }).Run(queries, progress);
        Assert.Contains(progress.Warnings, w => w.Contains("--pairs: no pair for 1 of the 2 queries (first: 'q2.jpg')"));
        // No output inside an input folder (a kapture global_features folder): a submission named as
        // one of its .gfeat files replaced it, a kapture output wrote sensors/ into it.
        var folder = Path.Combine(dir, "global_features");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "q1.jpg.gfeat"), new byte[8]);
        foreach (var (output, kapture) in new[] { (Path.Combine(folder, "q1.jpg.gfeat"), (string?)null), (poses, folder) })
        {
            var inside = Assert.Throws<R2D2Exception>(() => new QuerySetRunner(map, source, null, new QuerySetOptions
            {
                ImageRoot = dir, OutputPath = output, KaptureOutput = kapture, OtherInputs = new[] { ("global descriptors", (string?)folder) },
            }).Run(queries, new Recorder()));
            Assert.Contains($"lies inside the global descriptors ({folder})", inside.Message);
        }
        Assert.Equal(new byte[8], File.ReadAllBytes(Path.Combine(folder, "q1.jpg.gfeat")));
        Assert.Equal(new[] { Path.Combine(folder, "q1.jpg.gfeat") }, Directory.GetFileSystemEntries(folder));
    }
}
