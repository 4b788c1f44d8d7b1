using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.FaultInjection;

/// <summary>
/// "Nothing lost, nothing silently wrong" for the outputs of query, report and evaluate: outputs
/// that would overwrite an input are refused before anything is written, outputs are replaced
/// atomically and never written through a planted symlink, a bad query costs only itself, a
/// resumed run keeps what it kept byte for byte, and the CSV survives names a spreadsheet or a
/// naive splitter would misread. Each case checks the exit code, the message, the inputs
/// (hashes before and after) and the outputs (complete or absent).
/// </summary>
[Collection("tiny map")]
public class OutputFaultTests(TinyMap tiny)
{
    private static (int Code, string Out, string Err) Query(string dir, string list, string output, params string[] extra) =>
        CliTests.Localize(new[] { "query", "--map", Path.Combine(dir, "map.db"), "--queries", list, "--images", dir, "--output", output }.Concat(extra).ToArray());

    private static string List(string dir, params string[] lines)
    {
        var path = Path.Combine(dir, "queries.txt");
        File.WriteAllText(path, string.Concat(lines.Select(l => l + "\n")));
        return path;
    }

    private static string Good(string name) => $"{name} {TinyMap.Camera}";

    private static string[] OutputsOf(string poses) => new[] { poses, Path.ChangeExtension(poses, ".csv"), QueryInliers.PathFor(poses) };

    /// <summary>A map whose recorded extraction settings do not parse is named as damaged (a stack trace
    /// before), and so is one whose settings parse out of range (a usage error, exit 2, naming no file).</summary>
    [Theory]
    [InlineData("{\"max_size\": \"x\"}")]
    [InlineData("{\"max_size\": 1024, \"max_features\": 0}")]
    public void AMapWithDamagedExtractionSettingsIsNamed(string settings)
    {
        var dir = tiny.Workspace("day_01.jpg");
        var map = Path.Combine(dir, "map.db");
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={map};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = $"UPDATE r2d2_meta SET value = '{settings}' WHERE key = 'settings'";
            Assert.Equal(1, cmd.ExecuteNonQuery());
        }
        var (code, _, err) = Query(dir, List(dir, Good("day_01.jpg")), Path.Combine(dir, "out", "poses.txt"));
        Assert.Equal(1, code);
        Assert.Contains($"{map}: records extraction settings that cannot be read", err);
        Assert.DoesNotContain("   at ", err);
    }

    [Fact]
    public void QueryOutputsThatAreInputsAreRefusedBeforeAnythingIsWritten()
    {
        var dir = tiny.Workspace("day_01.jpg");
        var list = List(dir, Good("day_01.jpg"));
        var pairs = Path.Combine(dir, "pairs.txt");
        File.WriteAllText(pairs, "day_01.jpg day_02.jpg\n");
        var before = TinyMap.Hashes(dir);
        foreach (var (args, role) in new[]
        {
            (new[] { "--output", Path.Combine(dir, "map.db") }, "the map"),
            (new[] { "--output", pairs, "--retrieval", "1", "--retrieval-method", "pairs:" + pairs }, "the retrieval pairs file"),
            (new[] { "--output", list }, "the query list"),
            (new[] { "--output", Path.Combine(dir, "p.txt"), "--csv", Path.Combine(dir, "day_01.jpg") }, "the query image"),
            (new[] { "--output", Path.Combine(dir, "p.txt"), "--csv", Path.Combine(dir, "p.inliers.txt") }, "the inliers file and the CSV are the same file"),
        })
        {
            var (code, _, err) = Query(dir, list, args[1], args.Skip(2).ToArray());
            Assert.Equal(1, code);
            Assert.Contains(role, err);
            Assert.Contains("nothing was written", err);
            Assert.DoesNotContain("   at ", err);
            foreach (var (file, hash) in before) Assert.Equal(hash, TinyMap.Hash(Path.Combine(dir, file)));
            Assert.False(File.Exists(Path.Combine(dir, "p.txt")));
            Assert.False(File.Exists(Path.Combine(dir, "p.csv")));
        }
    }

    /// <summary>The evaluation from what the command is given: the sets read, the map and its model
    /// loaded and said (Info), every method of the default (oracle included, as the command's help says).</summary>
    [Fact]
    public void TheRetrievalEvaluationReadsItsInputsAndSaysTheMap()
    {
        var dir = tiny.Workspace();
        File.Copy(Path.Combine(tiny.Folder, "images", "night", "night_00.jpg"), Path.Combine(dir, "night_00.jpg"));
        var truth = Path.Combine(dir, "truth.txt");
        File.Copy(Path.Combine(tiny.Folder, "ground-truth.txt"), truth);
        var list = List(dir, Good("night_00.jpg"));
        var inputs = new RetrievalEvaluationInputs { MapPath = Path.Combine(dir, "map.db") };
        Assert.Contains("give at least one --set or --strecha", Assert.Throws<UsageException>(() => RetrievalEvaluationRunner.Run(inputs, new RetrievalEvaluationOptions())).Message);
        var info = new List<string>();
        // A wrong option is said before the query sets and the map are read (the map's summary was
        // printed first; a set's missing list was said instead).
        var bogus = Assert.Throws<UsageException>(() => RetrievalEvaluationRunner.Run(inputs with { Sets = new[] { $"night:{dir}/none.txt:{dir}:{truth}" } },
            new RetrievalEvaluationOptions { Methods = new[] { "asmk", "bogus" } }, new InfoRecorder(info)));
        Assert.Contains("--methods: 'bogus' is not one of", bogus.Message);
        Assert.Empty(info);
        var result = RetrievalEvaluationRunner.Run(inputs with { Sets = new[] { $"night:{list}:{dir}:{truth}" } }, new RetrievalEvaluationOptions(), new InfoRecorder(info));
        Assert.StartsWith($"{inputs.MapPath} (", Assert.Single(info));
        Assert.Equal(new[] { "vlad", "asmk", "oracle" }, result.Recall.Select(r => r.Method));
    }

    private sealed class InfoRecorder(List<string> lines) : IProgressSink
    {
        public void Info(string message) => lines.Add(message);
    }

    /// <summary>evaluate-retrieval's outputs (the per-query diagnosis CSV, the ground-truth pairs)
    /// are refused when they are the map or a query set's file, and a missing query image is named
    /// before any work; a run writes one diagnosed row per query and method, and leaves its inputs
    /// as they were.</summary>
    [Fact]
    public void EvaluateRetrievalDiagnosesEachQueryAndRefusesOutputsThatAreInputs()
    {
        var dir = tiny.Workspace();
        foreach (var n in new[] { "night_00.jpg", "night_01.jpg" }) File.Copy(Path.Combine(tiny.Folder, "images", "night", n), Path.Combine(dir, n));
        var truth = Path.Combine(dir, "truth.txt");
        File.Copy(Path.Combine(tiny.Folder, "ground-truth.txt"), truth);
        var list = List(dir, Good("night_00.jpg"), Good("night_01.jpg"));
        var map = Path.Combine(dir, "map.db");
        string[] Args(params string[] extra) => new[] { "evaluate-retrieval", "--map", map, "--set", $"night:{list}:{dir}:{truth}", "--methods", "oracle", "asmk", "--localize", "2d3d" }.Concat(extra).ToArray();
        var before = TinyMap.Hashes(dir);
        foreach (var (option, path, role) in new[] { ("--per-query", map, "the map database"), ("--write-gt-pairs", list, "the query set file"), ("--per-query", truth, "the query set file") })
        {
            var (code, _, err) = CliTests.Localize(Args(option, path));
            Assert.Equal(1, code);
            Assert.Contains($"would overwrite {role}", err);
            Assert.Contains("nothing was written", err);
            foreach (var (file, hash) in before) Assert.Equal(hash, TinyMap.Hash(Path.Combine(dir, file)));
        }
        // Checked before any work too (each was found after the run, or replaced a photo or a cached
        // query's features with exit 0): a photo's name as a text output, a file inside the features
        // cache, a folder as the CSV, an option value repeated, --per-query with nothing to diagnose.
        var cache = Path.Combine(dir, "fc");
        Directory.CreateDirectory(Path.Combine(dir, "folder.csv"));
        foreach (var (args, code0, message) in new[]
        {
            (Args("--per-query", Path.Combine(dir, "night_00.jpg")), 2, "the per-query CSV is a text file, and this name is an image's"),
            (Args("--write-gt-pairs", Path.Combine(tiny.DayImages, "day_00.jpg")), 2, "the ground-truth pairs file is a text file, and this name is an image's"),
            (Args("--features-cache", cache, "--per-query", Path.Combine(cache, "x.csv")), 1, "lies inside the features cache"),
            (Args("--per-query", Path.Combine(dir, "folder.csv")), 1, "is a folder: the per-query CSV is a file"),
            (Args("--per-query", Path.Combine(dir, "truth.txt", "x.csv")), 1, "which is a file: the per-query CSV cannot be written there"),
            (Args("--localize", "2d3d"), 2, "--localize: 2d3d is given 2 times"),
            (Args("--methods", "oracle"), 2, "--methods: 'oracle' is given 2 times"),
            (Args().Where(a => a != "--localize" && a != "2d3d").Append("--per-query").Append(Path.Combine(dir, "p.csv")).ToArray(), 2, "--per-query diagnoses localized queries: give --localize"),
        })
        {
            var (code, _, err) = CliTests.Localize(args);
            Assert.True(code == code0, $"exit {code}: {err}");
            Assert.Contains(message, err);
            foreach (var (file, hash) in before) Assert.Equal(hash, TinyMap.Hash(Path.Combine(dir, file)));
            Assert.False(Directory.Exists(cache));
            Assert.False(File.Exists(Path.Combine(dir, "p.csv")));
        }
        Directory.Delete(Path.Combine(dir, "folder.csv"));
        var csv = Path.Combine(dir, "diagnosis.csv");
        // Every query image of the set gone (the wrong folder): said before any query is evaluated, nothing written.
        File.Move(Path.Combine(dir, "night_00.jpg"), Path.Combine(dir, "away0.jpg"));
        File.Move(Path.Combine(dir, "night_01.jpg"), Path.Combine(dir, "away.jpg"));
        var (gone, _, goneErr) = CliTests.Localize(Args("--per-query", csv));
        Assert.Equal(1, gone);
        Assert.Contains($"{dir}: none of the 2 query images of set 'night' is there (e.g. night_00.jpg)", goneErr);
        Assert.False(File.Exists(csv));
        // One of them gone: that query fails on its own, the other is evaluated (it stopped the run).
        File.Move(Path.Combine(dir, "away0.jpg"), Path.Combine(dir, "night_00.jpg"));
        var (one, oneOut, oneErr) = CliTests.Localize(Args("--per-query", csv));
        Assert.Equal(1, one);
        Assert.Contains("set 'night': 1 of 2 query images not found", oneErr);
        Assert.Contains("night_01.jpg: FAILED", oneOut + oneErr);
        Assert.Contains("night_00.jpg", oneOut);
        File.Move(Path.Combine(dir, "away.jpg"), Path.Combine(dir, "night_01.jpg"));
        var (ok, stdout, error) = CliTests.Localize(Args("--per-query", csv));
        Assert.True(ok == 0, error + stdout);
        Assert.Contains("verdicts against (0.25 m, 2°)", stdout);
        var lines = File.ReadAllLines(csv);
        Assert.Equal(1 + 2 * 2, lines.Length); // a header, then 2 queries × 2 methods
        var labels = Enum.GetValues<R2D2.Localization.Evaluation.QueryVerdict>().Select(R2D2.Localization.Evaluation.QueryDiagnoses.Label).ToHashSet();
        Assert.All(lines.Skip(1), l => Assert.Contains(l.Split(',')[^1], labels));
        foreach (var (file, hash) in before) Assert.Equal(hash, TinyMap.Hash(Path.Combine(dir, file)));

        // A photo that cannot be read is that query's failure, named, not the run's (it stopped the
        // run): the other query is evaluated, the exit code says one failed.
        var broken = Path.Combine(dir, "night_01.jpg");
        var bytes = File.ReadAllBytes(broken);
        File.WriteAllBytes(broken, bytes.Take(200).ToArray());
        var (partial, partialOut, partialErr) = CliTests.Localize(Args("--per-query", csv));
        Assert.True(partial == 1, partialErr + partialOut);
        Assert.Contains(broken, partialErr);
        Assert.Contains("1 query image could not be read or extracted", partialErr);
        Assert.Contains("verdicts against (0.25 m, 2°)", partialOut);
        Assert.Equal(1 + 2, File.ReadAllLines(csv).Length); // the readable query, by both methods
        File.WriteAllBytes(broken, bytes);

        // Ground truth that names none of the queries: refused, naming the file (it printed NaN and exited 0).
        var other = Path.Combine(dir, "other-truth.txt");
        File.WriteAllText(other, "elsewhere.jpg 1 0 0 0 0 0 0\n");
        var (none, _, noneErr) = CliTests.Localize(new[] { "evaluate-retrieval", "--map", map, "--set", $"night:{list}:{dir}:{other}", "--methods", "oracle" });
        Assert.Equal(1, none);
        Assert.Contains($"{other}: set 'night': none of its 2 queries", noneErr);

        // A label given twice (two rows nothing told apart), --localize's own name in its error (it said
        // --matching), two queries of one base name (a bare "An item with the same key has already
        // been added"), and a map of another place (every figure empty, and no word).
        var (twice, _, twiceErr) = CliTests.Localize(Args().Concat(new[] { "--set", $"night:{list}:{dir}:{truth}" }).ToArray());
        Assert.Equal(2, twice);
        Assert.Contains("the label 'night' is given 2 times", twiceErr);
        var (bad, _, badErr) = CliTests.Localize(Args().Select(a => a == "2d3d" ? "3d3d" : a).ToArray());
        Assert.Equal(2, bad);
        Assert.Contains("Argument '3d3d' not recognized", badErr);
        Directory.CreateDirectory(Path.Combine(dir, "a"));
        File.Copy(Path.Combine(dir, "night_00.jpg"), Path.Combine(dir, "a", "night_00.jpg"));
        var twoNames = Path.Combine(dir, "two-names.txt");
        File.WriteAllLines(twoNames, new[] { Good("night_00.jpg"), Good("a/night_00.jpg") });
        var (same, _, sameErr) = CliTests.Localize(new[] { "evaluate-retrieval", "--map", map, "--set", $"night:{twoNames}:{dir}:{truth}", "--methods", "oracle" });
        Assert.Equal(1, same);
        Assert.Contains($"{twoNames}: set 'night': query names 'night_00.jpg' and 'a/night_00.jpg' have one base name", sameErr);
        var far = Path.Combine(dir, "far-truth.txt");
        File.WriteAllLines(far, File.ReadAllLines(truth).Select(l => l.Split(' ')).Select(f => string.Join(' ', f.Take(5).Concat(new[] { "1000", "1000", "1000" }))));
        var (farCode, _, farErr) = CliTests.Localize(new[] { "evaluate-retrieval", "--map", map, "--set", $"night:{list}:{dir}:{far}", "--methods", "asmk" });
        Assert.True(farCode == 0, farErr);
        Assert.Contains("set 'night': no query has a relevant image", farErr);
    }

    [Fact]
    public void ReportOutputThatIsTheMapThePosesOrAPhotoIsRefused()
    {
        var (dir, poses) = LocalizedWorkspace();
        var before = TinyMap.Hashes(dir);
        foreach (var (output, role) in new[] { (Path.Combine(dir, "map.db"), "the map"), (poses, "the poses"), (Path.ChangeExtension(poses, ".csv"), "the CSV") })
        {
            var (code, _, err) = CliTests.Localize("report", "--map", Path.Combine(dir, "map.db"), "--poses", poses, "--output", output);
            Assert.Equal(1, code);
            Assert.Contains($"would overwrite {role}", err);
            foreach (var (file, hash) in before) Assert.Equal(hash, TinyMap.Hash(Path.Combine(dir, file)));
        }
        // A query photo (the report reads them) was overwritten with HTML: only .html names are taken.
        var photo = Path.Combine(dir, "day_01.jpg");
        var (c, _, e) = CliTests.Localize("report", "--map", Path.Combine(dir, "map.db"), "--poses", poses, "--query-images", dir, "--output", photo);
        Assert.Equal(2, c); // a bad option value, as the parser's errors
        Assert.Contains("ending in .html", e);
        foreach (var (file, hash) in before) Assert.Equal(hash, TinyMap.Hash(Path.Combine(dir, file)));
    }

    /// <summary>Retrieval options that would be ignored are refused (a pairs file beside --retrieval-method,
    /// a method with --retrieval all), as are values that cannot be meant; a method named on a map of a
    /// few images retrieves (its 'auto' matched every point and ignored the method without a word).</summary>
    [Fact]
    public void RetrievalOptionsThatWouldBeIgnoredAreRefused()
    {
        var dir = tiny.Workspace("day_01.jpg");
        var list = List(dir, Good("day_01.jpg"));
        var pairs = Path.Combine(dir, "pairs.txt");
        File.WriteAllText(pairs, "day_01.jpg day_02.jpg\n");
        var output = Path.Combine(dir, "o.txt");
        foreach (var (extra, message) in new[]
                 {
                     (new[] { "--pairs", pairs, "--retrieval-method", "vlad" }, "--retrieval-method does not apply beside it"),
                     (new[] { "--pairs", pairs, "--retrieval", "2" }, "--retrieval does not apply beside it"),
                     (new[] { "--retrieval-method", "vlad", "--retrieval", "all" }, "--retrieval all matches every map point"),
                     (new[] { "--retrieval-method", "pairs:" }, "give the retrieval pairs file after the colon"),
                     (new[] { "--pnp-threshold", "Infinity" }, "positive finite numbers"),
                     (new[] { "--threads", "100000" }, "--threads must be in [0, 1024]"),
                 })
        {
            var (code, _, err) = Query(dir, list, output, extra);
            Assert.True(code == 2, string.Join(' ', extra) + ": " + err);
            Assert.Contains(message, err);
        }
        Assert.False(File.Exists(output));
        var (c, _, e) = Query(dir, list, output, "--retrieval-method", "pairs:" + pairs);
        Assert.True(c == 0, e);
        Assert.Contains("the points of the 20 most similar database images", File.ReadAllText(QueryRunInfo.PathFor(output)));
        // --retrieval auto (the default, as tools/aachen/run passed it) goes beside --pairs.
        (c, _, e) = Query(dir, list, Path.Combine(dir, "p2.txt"), "--pairs", pairs, "--retrieval", "auto");
        Assert.True(c == 0, e);
    }

    /// <summary>A workspace with the tiny map and day_01.jpg localized against it into poses.txt.</summary>
    private (string Dir, string Poses) LocalizedWorkspace()
    {
        var dir = tiny.Workspace("day_01.jpg");
        var poses = Path.Combine(dir, "poses.txt");
        Assert.Equal(0, Query(dir, List(dir, Good("day_01.jpg")), poses).Code);
        return (dir, poses);
    }

    /// <summary>A submission named .csv (another tool's) was read as its own side CSV ("the header lacks 'name'").</summary>
    [Fact]
    public void AReportOfASubmissionNamedCsvReadsItAsTheSubmission()
    {
        var (dir, poses) = LocalizedWorkspace();
        var other = Path.Combine(dir, "other");
        Directory.CreateDirectory(other);
        File.Copy(poses, Path.Combine(other, "poses.csv"));
        var (code, stdout, err) = CliTests.Localize("report", "--map", Path.Combine(dir, "map.db"), "--poses", Path.Combine(other, "poses.csv"), "--output", Path.Combine(other, "r.html"));
        Assert.True(code == 0, err);
        Assert.Contains("(1 query, ", stdout);
    }

    /// <summary>The report stage in the library: a card a step, the file's size, the warnings of what the run's files lack.</summary>
    [Fact]
    public void TheReportRunnerWritesTheReportACardAStep()
    {
        var (dir, poses) = LocalizedWorkspace();
        File.Delete(QueryMatches.PathFor(poses));
        var stages = new List<(string, int)>();
        var progress = new StageRecorder(stages);
        var x = ReportRunner.Run(new ReportRunOptions { MapPath = Path.Combine(dir, "map.db"), PosesPath = poses, OutputPath = Path.Combine(dir, "r.html") }, progress);
        Assert.Equal(new FileInfo(x.Path).Length, x.Bytes);
        Assert.Equal(new[] { ("query cards", x.Queries) }, stages);
        Assert.Contains(progress.Warnings, w => w.Contains(Path.GetFileName(QueryMatches.PathFor(poses)))); // what the run's files lack
    }

    private sealed class StageRecorder(List<(string, int)> stages) : IProgressSink
    {
        public readonly List<string> Warnings = new();
        public void Stage(string name, int items, Action<Action<string>> work) { stages.Add((name, items)); work(_ => { }); }
        public void Warning(string message) => Warnings.Add(message);
    }

    /// <summary>A submission and its side files that disagree are said to (an added line was counted
    /// as localized, a dropped one shown as missing without a word); the query photos come from
    /// where the run read them when --query-images is not given.</summary>
    [Fact]
    public void AReportSaysWhereTheSubmissionAndItsSideFilesDiffer()
    {
        var (dir, poses) = LocalizedWorkspace();
        var line = File.ReadAllLines(poses).Single();
        // A submission alone (tools/aachen/run's, the sets' concatenated) names a query by base name:
        // its photo is the one file of that name below --query-images (Aachen's query/night/…).
        var bare = Path.Combine(dir, "bare", "submission.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(bare)!);
        File.WriteAllText(bare, line + "\n");
        var photos = Path.Combine(dir, "photos");
        Directory.CreateDirectory(Path.Combine(photos, "query", "night"));
        File.Copy(Path.Combine(dir, "day_01.jpg"), Path.Combine(photos, "query", "night", "day_01.jpg"));
        Assert.Equal(Path.Combine(photos, "query", "night", "day_01.jpg"),
            R2D2.Localization.Evaluation.ReportLoader.Load(Path.Combine(dir, "map.db"), bare, null, photos, null).Queries.Single().ImagePath);
        Directory.CreateDirectory(Path.Combine(photos, "db"));
        File.Copy(Path.Combine(dir, "day_01.jpg"), Path.Combine(photos, "db", "day_01.jpg"));
        Assert.Contains(R2D2.Localization.Evaluation.ReportLoader.Load(Path.Combine(dir, "map.db"), bare, null, photos, null).Warnings,
            w => w.Contains($"1 of 1 query photos not found under {photos}")); // two of that name: not guessed
        File.WriteAllText(poses, line.Replace("day_01.jpg", "night_99.jpg") + "\n");
        var report = R2D2.Localization.Evaluation.ReportLoader.Load(Path.Combine(dir, "map.db"), poses, null, null, null);
        Assert.Contains(report.Warnings, w => w.Contains("1 line of") && w.Contains("is not in the run's") && w.Contains("'night_99.jpg'"));
        Assert.Contains(report.Warnings, w => w.Contains("1 query of") && w.Contains("has no line in") && w.Contains("'day_01.jpg'"));
        Assert.Equal(Path.Combine(dir, "night_99.jpg"), report.Queries.Single().ImagePath); // the run's image folder (run.json)
        var html = R2D2.Localization.Evaluation.HtmlReport.Render(report);
        Assert.Contains("inliers and matches unknown", html);
    }

    [Fact]
    public void ReportRefusesAnEmptyGroundTruthAndAMissingQueryImageFolder()
    {
        var (dir, poses) = LocalizedWorkspace();
        var empty = Path.Combine(dir, "empty.txt");
        File.WriteAllText(empty, "");
        var report = Path.Combine(dir, "report.html");
        var (code, _, err) = CliTests.Localize("report", "--map", Path.Combine(dir, "map.db"), "--poses", poses, "--ground-truth", empty, "--output", report);
        Assert.Equal(1, code);
        Assert.Contains($"{empty}: no poses in the ground truth", err);
        Assert.False(File.Exists(report));
        var missing = Path.Combine(dir, "no-such-folder");
        (code, _, err) = CliTests.Localize("report", "--map", Path.Combine(dir, "map.db"), "--poses", poses, "--query-images", missing, "--output", report);
        Assert.Equal(1, code);
        Assert.Contains($"{missing}: query image folder not found", err);
        Assert.False(File.Exists(report));

        // A run against another map: its run description's point count differs, or its inliers name
        // points this map lacks. The report drew another map's points (or none) without a word.
        var map = Path.Combine(dir, "map.db");
        var runJson = Path.ChangeExtension(poses, ".run.json");
        var json = File.ReadAllText(runJson);
        var points = System.Text.RegularExpressions.Regex.Match(json, "\"map_points\": (\\d+)").Groups[1].Value;
        File.WriteAllText(runJson, json.Replace($"\"map_points\": {points}", "\"map_points\": 123456"));
        (code, _, err) = CliTests.Localize("report", "--map", map, "--poses", poses, "--output", report);
        Assert.Equal(1, code);
        Assert.Contains($"{runJson}: the query run was against a map of 123456 points", err);
        Assert.Contains($"{map} holds {points}", err);
        File.WriteAllText(runJson, json);
        var inliers = Path.ChangeExtension(poses, ".inliers.txt");
        var text = File.ReadAllText(inliers);
        var line = File.ReadAllLines(inliers).First(l => !l.StartsWith('#') && l.Split(' ').Length > 3);
        var fields = line.Split(' ');
        fields[^1] = "987654321"; // the last inlier's point id
        File.WriteAllText(inliers, text.Replace(line, string.Join(' ', fields)));
        (code, _, err) = CliTests.Localize("report", "--map", map, "--poses", poses, "--output", report);
        Assert.Equal(1, code);
        Assert.Contains($"{inliers}: query 'day_01.jpg' names map point 987654321, which {map} does not hold", err);
        Assert.False(File.Exists(report));
    }

    [Fact]
    public void EvaluateRefusesAPlotThatIsNoImageOrThatIsAnInput()
    {
        var dir = TempDir.Create();
        var truth = Path.Combine(dir, "truth.txt");
        File.WriteAllText(truth, "a.jpg 1 0 0 0 0 0 0\n");
        var before = TinyMap.Hash(truth);
        var txt = Path.Combine(dir, "x.txt");
        var (code, _, err) = CliTests.Localize("evaluate", "--poses", truth, "--ground-truth", truth, "--plot", txt);
        Assert.Equal(2, code); // a bad option value, as the parser's errors
        Assert.Contains($"--plot {txt}: a plot is written there", err);
        Assert.Contains(".png", err);
        Assert.DoesNotContain("   at ", err);
        Assert.False(File.Exists(txt));
        var png = Path.Combine(dir, "truth.png");
        File.CreateSymbolicLink(png, truth); // a plot path that resolves to the ground truth
        (code, _, err) = CliTests.Localize("evaluate", "--poses", truth, "--ground-truth", truth, "--plot", png);
        Assert.Equal(1, code);
        Assert.Contains("would overwrite the poses", err);
        Assert.Equal(before, TinyMap.Hash(truth));
        // A plot under a file failed after the tables and the CSV were written; two poses files whose
        // CSVs coincide are named (it said "the per-query CSV and the per-query CSV").
        (code, _, err) = CliTests.Localize("evaluate", "--poses", truth, "--ground-truth", truth, "--plot", Path.Combine(truth, "sub", "x.png"));
        Assert.Equal(1, code);
        Assert.Contains($"lies under {truth}, which is a file", err);
        var csv = Path.Combine(dir, "truth.csv");
        File.Copy(truth, csv);
        (code, _, err) = CliTests.Localize("evaluate", "--poses", truth, csv, "--ground-truth", truth, "--no-plot");
        Assert.Equal(1, code);
        Assert.Contains($"the per-query CSV of {csv} and the per-query CSV of {truth} are the same file", err);
        Assert.Equal(new[] { "truth.csv", "truth.png", "truth.txt" }, Directory.GetFiles(dir).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void AnOutputThatIsAPlantedSymlinkIsReplacedNotWrittenThrough()
    {
        var dir = tiny.Workspace("day_01.jpg");
        var precious = Path.Combine(dir, "precious.txt");
        File.WriteAllText(precious, "not to be overwritten\n");
        var poses = Path.Combine(dir, "out", "poses.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(poses)!);
        File.CreateSymbolicLink(poses, precious);
        var (code, _, err) = Query(dir, List(dir, Good("day_01.jpg")), poses);
        Assert.True(code == 0, err);
        Assert.Equal("not to be overwritten\n", File.ReadAllText(precious));
        Assert.Null(new FileInfo(poses).LinkTarget);
        Assert.Single(Submission.Read(poses));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(poses)!, "*.tmp"));
    }

    [Fact]
    public void AnUnreadableQueryBetweenGoodOnesCostsOnlyItself()
    {
        var dir = tiny.Workspace("day_01.jpg", "day_02.jpg");
        File.WriteAllText(Path.Combine(dir, "corrupt.jpg"), "this is not an image\n");
        var list = List(dir, Good("day_01.jpg"), Good("missing.jpg"), Good("corrupt.jpg"), Good("day_02.jpg"));
        var inputs = TinyMap.Hashes(dir);
        var poses = Path.Combine(dir, "out", "poses.txt");
        var (code, stdout, err) = Query(dir, list, poses);
        Assert.Equal(1, code);
        Assert.Contains("query: 4 queries, 2 localized, 0 fallback, 2 unreadable, 0 failed", stdout);
        Assert.Contains($"{Path.Combine(dir, "missing.jpg")}: file not found", err);
        Assert.Contains(Path.Combine(dir, "corrupt.jpg"), err);
        Assert.DoesNotContain("   at ", err);
        Assert.Equal(new[] { "day_01.jpg", "missing.jpg", "corrupt.jpg", "day_02.jpg" }, Submission.Read(poses).Select(p => p.Name));
        var csv = QueryOutputs.ReadStored(poses, Path.ChangeExtension(poses, ".csv"));
        Assert.Equal(QueryStatus.Unreadable, csv["missing.jpg"].Status);
        Assert.Equal(QueryStatus.Unreadable, csv["corrupt.jpg"].Status);
        Assert.NotNull(csv["corrupt.jpg"].Result.FallbackImage);
        Assert.True(csv["day_02.jpg"].Result.Localized);
        Assert.Equal(4, QueryInliers.Read(QueryInliers.PathFor(poses)).Count);
        foreach (var (file, hash) in inputs) Assert.Equal(hash, TinyMap.Hash(Path.Combine(dir, file)));
    }

    [Fact]
    public void AQueryWithFocalLengthZeroFailsAlone()
    {
        var dir = tiny.Workspace("day_01.jpg", "day_02.jpg");
        var list = List(dir, "day_01.jpg PINHOLE 256 192 0 0 128 96", Good("day_02.jpg"));
        var poses = Path.Combine(dir, "poses.txt");
        var (code, stdout, err) = Query(dir, list, poses);
        if (code == 1 && err.Contains($"{list}:1")) // refused when the list is read: nothing localized, nothing written
        {
            Assert.All(OutputsOf(poses), p => Assert.False(File.Exists(p)));
            return;
        }
        Assert.Equal(1, code);
        Assert.Contains("query: 2 queries, 1 localized, 0 fallback, 0 unreadable, 1 failed", stdout);
        Assert.Contains("day_01.jpg: localization failed", err);
        var csv = QueryOutputs.ReadStored(poses, Path.ChangeExtension(poses, ".csv"));
        Assert.Equal(QueryStatus.Failed, csv["day_01.jpg"].Status);
        Assert.Equal(QueryStatus.Localized, csv["day_02.jpg"].Status);
    }

    [Fact]
    public void AFisheyeQueryFailsAloneOrIsRefusedWithFileAndLine()
    {
        var dir = tiny.Workspace("day_01.jpg", "day_02.jpg");
        var list = List(dir, Good("day_01.jpg"), "day_02.jpg FISHEYE 256 192 200 200 128 96");
        var poses = Path.Combine(dir, "poses.txt");
        var (code, stdout, err) = Query(dir, list, poses);
        Assert.Equal(1, code);
        Assert.DoesNotContain("   at ", err);
        if (err.Contains($"{list}:2")) // refused when the list is read
        {
            Assert.All(OutputsOf(poses), p => Assert.False(File.Exists(p)));
            return;
        }
        Assert.Contains("query: 2 queries, 1 localized, 0 fallback, 0 unreadable, 1 failed", stdout);
        Assert.Contains("FISHEYE", err);
        Assert.Equal(2, Submission.Read(poses).Count);
        Assert.Equal(QueryStatus.Failed, QueryOutputs.ReadStored(poses, Path.ChangeExtension(poses, ".csv"))["day_02.jpg"].Status);
    }

    [Fact]
    public void DuplicateBaseNamesAreRefusedBeforeAnyQueryIsLocalized()
    {
        var dir = tiny.Workspace();
        foreach (var sub in new[] { "a", "b" })
        {
            Directory.CreateDirectory(Path.Combine(dir, sub));
            File.Copy(Path.Combine(tiny.DayImages, "day_01.jpg"), Path.Combine(dir, sub, "day_01.jpg"));
        }
        var list = List(dir, "# two folders, one base name", Good("a/day_01.jpg"), "", Good("b/day_01.jpg"));
        var poses = Path.Combine(dir, "poses.txt");
        var (code, stdout, err) = Query(dir, list, poses);
        Assert.Equal(1, code);
        Assert.Contains($"{list}:4: query 'b/day_01.jpg' has the base name 'day_01.jpg' of 'a/day_01.jpg' (line 2)", err);
        Assert.DoesNotContain("[1/2]", stdout);
        Assert.All(OutputsOf(poses), p => Assert.False(File.Exists(p)));
    }

    [Fact]
    public void ResumeKeepsTheKeptLinesByteIdenticalAndRetriesUnreadableQueries()
    {
        var dir = tiny.Workspace("day_01.jpg", "day_02.jpg", "day_03.jpg");
        var poses = Path.Combine(dir, "poses.txt");
        var csvPath = Path.ChangeExtension(poses, ".csv");
        var (code, _, err) = Query(dir, List(dir, Good("day_01.jpg"), Good("later.jpg")), poses);
        Assert.Equal(1, code); // later.jpg is not there yet

        // A kept line in a form this program would not write (quaternion not normalized, other
        // digits): a resumed run that re-formatted it would change it.
        var lines = File.ReadAllLines(poses);
        var f = lines[0].Split(' ');
        lines[0] = string.Join(' ', new[] { f[0] }.Concat(f.Skip(1).Take(4).Select(v => (2 * double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToString("F17", System.Globalization.CultureInfo.InvariantCulture))).Concat(f.Skip(5)));
        File.WriteAllText(poses, string.Concat(lines.Select(l => l + "\n")));
        var keptPose = lines[0];
        var keptCsv = File.ReadAllLines(csvPath)[1];
        var keptInliers = File.ReadAllLines(QueryInliers.PathFor(poses))[0];

        File.Copy(Path.Combine(dir, "day_02.jpg"), Path.Combine(dir, "later.jpg"));
        string stdout;
        (code, stdout, err) = Query(dir, List(dir, Good("day_01.jpg"), Good("later.jpg"), Good("day_03.jpg")), poses, "--resume");
        Assert.True(code == 0, err);
        Assert.Contains("day_01.jpg: done earlier", stdout);
        Assert.Contains("query: 3 queries, 3 localized, 0 fallback, 0 unreadable, 0 failed", stdout);
        Assert.Equal(keptPose, File.ReadAllLines(poses)[0]);
        Assert.Equal(keptCsv, File.ReadAllLines(csvPath)[1]);
        Assert.Equal(keptInliers, File.ReadAllLines(QueryInliers.PathFor(poses))[0]);
        var stored = QueryOutputs.ReadStored(poses, csvPath);
        Assert.Equal(QueryStatus.Localized, stored["later.jpg"].Status); // run again, now readable
        Assert.Equal(3, Submission.Read(poses).Count);
    }

    /// <summary>--resume compares the folders themselves, not their spelling (a trailing slash, or the
    /// same folder in full, was refused; the same words from another working folder, which name
    /// other files, were taken), and refuses a list that lacks queries of the earlier run (they were
    /// dropped from the outputs without a word).</summary>
    [Fact]
    public void ResumeComparesFoldersAndKeepsEveryEarlierQuery()
    {
        var dir = tiny.Workspace("day_01.jpg", "day_02.jpg");
        var poses = Path.Combine(dir, "poses.txt");
        var list = List(dir, Good("day_01.jpg"), Good("day_02.jpg"));
        var (code, _, err) = Query(dir, list, poses);
        Assert.True(code == 0, err);
        var before = OutputsOf(poses).Select(TinyMap.Hash).ToList();
        string stdout;
        (code, stdout, err) = CliTests.Localize("query", "--map", Path.Combine(dir, "map.db"), "--queries", list, "--images", dir + "/", "--output", poses, "--resume");
        Assert.True(code == 0, err);
        Assert.Contains("2 queries done in an earlier run, kept", stdout);
        // From another working folder, the same relative words name other files: refused.
        var elsewhere = Path.Combine(dir, "elsewhere");
        Directory.CreateDirectory(Path.Combine(elsewhere, "images"));
        var (c2, _, e2) = CliTests.Run("bash", "-c", $"cd '{elsewhere}' && exec dotnet '{Path.Combine(AppContext.BaseDirectory, "localize.dll")}' query --map '{Path.Combine(dir, "map.db")}' "
            + $"--queries '{list}' --images images --output '{poses}' --resume");
        Assert.Equal(1, c2);
        Assert.Contains($"image_root: {dir} → {Path.Combine(elsewhere, "images")}", e2);
        // A list without day_02.jpg would drop it.
        (code, _, err) = Query(dir, List(dir, Good("day_01.jpg")), poses, "--resume");
        Assert.Equal(1, code);
        Assert.Contains("holds 1 query of the earlier run that this list lacks (first: 'day_02.jpg')", err);
        Assert.Equal(before, OutputsOf(poses).Select(TinyMap.Hash).ToList());
    }

    [Fact]
    public void CsvQuotingSurvivesCommasQuotesAndFormulasAndResumeButNotOtherSettings()
    {
        const string formula = "=HYPERLINK(\"x\",1).jpg", comma = "a,b.jpg";
        var dir = tiny.Workspace();
        File.Copy(Path.Combine(tiny.DayImages, "day_01.jpg"), Path.Combine(dir, formula));
        File.Copy(Path.Combine(tiny.DayImages, "day_02.jpg"), Path.Combine(dir, comma));
        var list = List(dir, Good(formula), Good(comma));
        var poses = Path.Combine(dir, "poses.txt");
        var csvPath = Path.ChangeExtension(poses, ".csv");
        var (code, _, err) = Query(dir, list, poses);
        Assert.True(code == 0, err);
        var rows = File.ReadAllLines(csvPath);
        Assert.StartsWith("\"'=HYPERLINK(\"\"x\"\",1).jpg\",", rows[1]);
        Assert.StartsWith("\"a,b.jpg\",", rows[2]);
        var records = Csv.Read(File.ReadAllText(csvPath), csvPath).ToList();
        Assert.All(records, r => Assert.Equal(records[0].Fields.Count, r.Fields.Count));
        var stored = QueryOutputs.ReadStored(poses, csvPath);
        Assert.Equal(new[] { formula, comma }.Order(), stored.Keys.Order());
        Assert.All(stored.Values, s => Assert.Equal(QueryStatus.Localized, s.Status));

        // Run again without --resume: the earlier poses are replaced, and that is said.
        (code, _, err) = Query(dir, list, poses);
        Assert.True(code == 0, err);
        Assert.Contains($"{poses} holds 2 poses of an earlier run, which this run replaces (--resume keeps them", err);

        var before = OutputsOf(poses).Select(TinyMap.Hash).ToList();
        string stdout;
        (code, stdout, err) = Query(dir, list, poses, "--resume");
        Assert.True(code == 0, err);
        Assert.Contains($"{formula}: done earlier", stdout);
        Assert.Contains($"{comma}: done earlier", stdout);
        Assert.Equal(before, OutputsOf(poses).Select(TinyMap.Hash).ToList());

        // Resumed with other settings or another image folder: the kept poses would be another run's.
        var other = Path.Combine(dir, "other");
        Directory.CreateDirectory(other);
        foreach (var (images, extra, difference) in new[]
        {
            (dir, new[] { "--pnp-threshold", "30" }, "localizer.pnp_threshold_px: 8 → 30"),
            (other, Array.Empty<string>(), $"image_root: {dir} → {other}"),
            // The kept lines hold base names; the new ones would have held folders.
            (dir, new[] { "--submission-folders", "1" }, "submission_folders: 0 → 1"),
            // The tiny map matches every point by default: retrieving by another method is another run.
            (dir, new[] { "--retrieval", "2", "--retrieval-method", "vlad" }, "localizer.retrieval_method: none → vlad"),
        })
        {
            (code, _, err) = CliTests.Localize(new[] { "query", "--map", Path.Combine(dir, "map.db"), "--queries", list, "--images", images,
                "--output", poses, "--resume" }.Concat(extra).ToArray());
            Assert.Equal(1, code);
            Assert.Contains(difference, err);
            Assert.Contains("nothing was written", err);
            Assert.Equal(before, OutputsOf(poses).Select(TinyMap.Hash).ToList());
        }

        // The map's ASMK index rebuilt meanwhile (same path, points and images): another vocabulary.
        var asmkBefore = QueryRunInfo.Setting(QueryRunInfo.Read(QueryRunInfo.PathFor(poses)).Settings, "map_asmk");
        Assert.Matches(@"^5 images, \d+ words, sha256 [0-9a-f]{12}$", asmkBefore);
        (code, _, err) = CliTests.Localize("build-retrieval", "--map", Path.Combine(dir, "map.db"), "--seed", "1");
        Assert.True(code == 0, err);
        (code, _, err) = Query(dir, list, poses, "--resume");
        Assert.Equal(1, code);
        Assert.Contains($"map_asmk: {asmkBefore} → ", err);
        Assert.Equal(before, OutputsOf(poses).Select(TinyMap.Hash).ToList());

        // Outputs without their run description (an older version's, or a run killed as it began):
        // --resume cannot tell their settings, and kept them under any.
        var runJson = QueryRunInfo.PathFor(poses);
        var description = File.ReadAllText(runJson);
        File.Delete(runJson);
        (code, _, err) = Query(dir, list, poses, "--resume", "--pnp-threshold", "30");
        Assert.Equal(1, code);
        Assert.Contains($"{runJson}: --resume: the run description of the outputs is missing", err);
        File.WriteAllText(runJson, description);

        // A fresh run with other settings, killed at its first query (here: its progress throws):
        // its description and empty outputs are on disk already. The earlier run's description stayed
        // beside the new run's first poses, and a resume with the earlier settings kept them.
        var map = QueryInputs.LoadMap(Path.Combine(dir, "map.db")).Map;
        using var source = R2D2.Localization.Features.FeatureSource.ForRootSift();
        var settings = new QuerySetOptions { ImageRoot = dir, OutputPath = poses, QueryListPath = list,
            Localizer = new LocalizerOptions { Pnp = new LocalizerOptions().Pnp with { ThresholdPx = 30 } } };
        Assert.Throws<TimeoutException>(() => new QuerySetRunner(map, source, null, settings).Run(QueryInputs.ReadQueries(list, null), new KilledAtFirstQuery()));
        Assert.Contains("\"pnp_threshold_px\": 30", File.ReadAllText(runJson));
        Assert.Empty(QueryOutputs.ReadStored(poses, csvPath));
    }

    private sealed class KilledAtFirstQuery : IQuerySetProgress
    {
        public void Started(int index, int total, QueryImage query) => throw new TimeoutException("killed");
        public void Finished(int index, int total, QueryOutcome outcome) { }
    }

    /// <summary>A file given where a command writes a folder: said as such, the file untouched (it was
    /// "could not find a part of the path" or "already exists", after some work).</summary>
    [Theory]
    [InlineData("demo --model rootsift --max-day 3 --max-queries 1 --scale 0.25 --out FILE", "--out takes a folder")]
    [InlineData("train --out FILE --steps 1", "--out takes a folder")]
    [InlineData("make-pairs preview --out FILE --count 1", "--out takes a folder")]
    [InlineData("convert --from STRECHA --to FILE --format kapture", "--to (a kapture output) takes a folder")]
    public void AFileWhereAFolderGoesIsSaidToBeOne(string command, string message)
    {
        var file = Path.Combine(TempDir.Create(), "afile.txt");
        File.WriteAllText(file, "mine\n");
        var args = command.Split(' ').Select(a => a == "FILE" ? file : a == "STRECHA" ? SharedData.Path_("datasets", "strecha", "fountain-P11", "cameras") : a).ToArray();
        var (code, _, err) = CliTests.Localize(args);
        Assert.Equal(1, code);
        Assert.Contains($"{file}: is a file: {message}", err);
        Assert.Equal("mine\n", File.ReadAllText(file));
    }

    /// <summary>Inputs that are not what a command takes are named as what they are: a folder given as
    /// a map ("map not found" before), a shard's submission that is missing (its run description was
    /// named instead), an image given twice to --only (an empty list of images "not in" the poses).</summary>
    [Theory]
    [InlineData("query --map DIR --queries DIR/list.txt --images DIR --output DIR/p.txt", "DIR: is a folder, not a database")]
    [InlineData("build-retrieval --map DIR", "DIR: is a folder, not a database")]
    [InlineData("merge --queries DIR/list.txt --outputs DIR/nope.txt --out DIR/m.txt", "DIR/nope.txt: shard's submission not found")]
    [InlineData("build-map --poses CAMERAS --images DIR --map DIR/m.db --only 0002.jpg 0002.jpg --check", "--only names 0002.jpg 2 times")]
    public void AnInputIsNamedAsWhatItIs(string command, string message)
    {
        var dir = TempDir.Create();
        File.WriteAllText(Path.Combine(dir, "list.txt"), "a.jpg PINHOLE 640 480 500 500 320 240\n");
        var cameras = SharedData.Path_("datasets", "strecha", "fountain-P11", "cameras");
        var args = command.Split(' ').Select(a => a.Replace("CAMERAS", cameras).Replace("DIR", dir)).ToArray();
        var (code, _, err) = CliTests.Localize(args);
        Assert.NotEqual(0, code);
        Assert.Contains(message.Replace("DIR", dir), err);
        Assert.DoesNotContain("   at ", err);
        Assert.Equal(new[] { "list.txt" }, Directory.GetFileSystemEntries(dir).Select(Path.GetFileName));
    }

    /// <summary>A folder where convert writes a file: said before either file is written (the NVM's
    /// intrinsics list was written beside the folder, then the NVM failed).</summary>
    [Fact]
    public void AFolderWhereConvertWritesAFileIsRefusedBeforeAnyFile()
    {
        var dir = TempDir.Create();
        var to = Path.Combine(dir, "model");
        Directory.CreateDirectory(to);
        var (code, _, err) = CliTests.Localize("convert", "--from", SharedData.Path_("datasets", "strecha", "fountain-P11", "cameras"), "--to", to, "--format", "nvm");
        Assert.Equal(1, code);
        Assert.Contains($"{to}: is a folder: --to takes a file for nvm (nothing was written)", err);
        Assert.Equal(new[] { to }, Directory.GetFileSystemEntries(dir));
    }

    /// <summary>The demo's printed report command quotes paths with spaces (it could not be pasted);
    /// bash reads it back as the same paths.</summary>
    [Fact]
    public void TheDemosPrintedCommandQuotesPathsWithSpaces()
    {
        var outDir = Path.Combine(TempDir.Create(), "sp ace", "dëmo out");
        var (code, stdout, err) = CliTests.Localize("demo", "--model", "rootsift", "--max-day", "3", "--max-queries", "1", "--scale", "0.25", "--out", outDir);
        Assert.True(code == 0, err);
        var command = stdout.Split('`')[1];
        Assert.Contains($"--map '{Path.Combine(outDir, "map.db")}'", command);
        var echo = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("bash", new[] { "-c", "printf '%s\\n' " + command }) { RedirectStandardOutput = true })!;
        var words = echo.StandardOutput.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        echo.WaitForExit();
        Assert.Equal(Path.Combine(outDir, "map.db"), words[Array.IndexOf(words, "--map") + 1]);
    }

    /// <summary>A long file name (230 characters) is written: its temporary file's name, the whole
    /// name plus 46, went past the 255-byte limit (".NET: the path is too long", naming the temporary file).</summary>
    [Fact]
    public void ALongOutputNameIsWritten()
    {
        var path = Path.Combine(TempDir.Create(), new string('a', 226) + ".txt");
        OutputFile.WriteAllText(path, "x");
        OutputFile.WriteAllTextsTogether(new[] { (path, "y") });
        Assert.Equal("y", File.ReadAllText(path));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(path)!));
    }

    /// <summary>A pipe (or a device) at an output path is refused: the renamed file replaced it
    /// (as root, /dev/full became a regular file).</summary>
    [Fact]
    public void AnOutputThatIsAPipeIsRefusedNotReplaced()
    {
        var fifo = Path.Combine(TempDir.Create(), "out.txt");
        using (var mk = System.Diagnostics.Process.Start("mkfifo", fifo)) mk.WaitForExit();
        var e = Assert.Throws<R2D2Exception>(() => OutputFile.WriteAllText(fifo, "x"));
        Assert.Contains("is not a regular file", e.Message);
        Assert.Throws<R2D2Exception>(() => OutputFile.WriteAllTextsTogether(new[] { (fifo, "x") }));
        using (var test = System.Diagnostics.Process.Start("test", new[] { "-p", fifo })) { test.WaitForExit(); Assert.Equal(0, test.ExitCode); } // still a pipe
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(fifo)!, "*.tmp"));
    }

    [Fact]
    public void AWriterThatDiesMidwayLeavesTheOldFileAndNoTemporaryFile()
    {
        var dir = TempDir.Create();
        var path = Path.Combine(dir, "poses.txt");
        File.WriteAllText(path, "the complete old file\n");
        var e = Assert.Throws<IOException>(() => OutputFile.Write(path, s =>
        {
            s.Write("half of the new"u8);
            throw new IOException("disk full");
        }));
        Assert.Equal("disk full", e.Message);
        Assert.Equal("the complete old file\n", File.ReadAllText(path));
        Assert.Equal(new[] { path }, Directory.GetFiles(dir));
    }


    /// <summary>A long name of non-ASCII characters (255 bytes at most, as a file name may be) is
    /// written: its temporary file's name was cut at 100 characters, 300 bytes of '€', too long.</summary>
    [Fact]
    public void ALongNonAsciiOutputNameIsWritten()
    {
        var path = Path.Combine(TempDir.Create(), new string('€', 80) + ".txt");
        OutputFile.WriteAllText(path, "x");
        Assert.Equal("x", File.ReadAllText(path));
        Assert.True(System.Text.Encoding.UTF8.GetByteCount(OutputFile.Stem(new string('€', 80))) <= 100);
    }

    [Fact]
    public void AWriterThatDiesMidwayTakesAwayTheFoldersItMadeButNoOther()
    {
        var dir = TempDir.Create();
        var fresh = Path.Combine(dir, "new", "deeper");
        Assert.Throws<IOException>(() => OutputFile.WriteTogether(new (string, Action<Stream>)[]
        {
            (Path.Combine(fresh, "features.h5"), s => s.Write("complete"u8)),
            (Path.Combine(fresh, "matches.h5"), s => throw new IOException("malformed input")),
        }));
        Assert.False(Directory.Exists(Path.Combine(dir, "new")));
        Assert.True(Directory.Exists(dir));
        // A folder that was there before stays, empty or not.
        var kept = Path.Combine(dir, "kept");
        Directory.CreateDirectory(kept);
        Assert.Throws<IOException>(() => OutputFile.Write(Path.Combine(kept, "a.txt"), s => throw new IOException("x")));
        Assert.True(Directory.Exists(kept));
    }
    [Fact]
    public void CsvFieldsRoundTrip()
    {
        string[] texts = { "plain", "a,b", "say \"hi\"", "two\nlines", "=1+2", "+x", "-y", "@z", "'quoted", "''", "", "\tTab" };
        var line = string.Join(",", texts.Select(t => Csv.Field(t)));
        var record = Assert.Single(Csv.Read(line + "\n", "t.csv"));
        Assert.Equal(texts, record.Fields.Select(Csv.Text));
        Assert.Equal(line, record.Raw);
        Assert.All(record.Fields.Where(f => f.Length > 0), f => Assert.False("=+-@".Contains(f[0]), f));
        var e = Assert.Throws<FileFormatException>(() => Csv.Read("a,\"open\n", "t.csv").ToList());
        Assert.Contains("t.csv:1", e.Message);
    }
}
