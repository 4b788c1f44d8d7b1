using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>`localize evaluate` run as a user runs it.</summary>
public class EvaluateCommandTests
{
    /// <summary>20 queries: 10 exact, 5 off by 0.3 m and 1°, 3 by 2 m and 3°, 2 missing, plus one
    /// pose for an image the ground truth does not know.</summary>
    private static (string Poses, string Truth) WriteRun(string dir)
    {
        var rng = new Random(17);
        var truth = Enumerable.Range(0, 20).Select(i => new ImagePose($"IMG_{i:D3}.jpg", RandomGeometry.RandomPose(rng, 100))).ToList();
        var estimates = new List<ImagePose>();
        for (int i = 0; i < 18; i++)
        {
            var (m, deg) = i < 10 ? (0.0, 0.0) : i < 15 ? (0.3, 1.0) : (2.0, 3.0);
            estimates.Add(new ImagePose("query/night/" + truth[i].Name, PosePerturbation.Perturb(truth[i].Pose, m, deg * Math.PI / 180, rng)));
        }
        estimates.Add(new ImagePose("unknown.jpg", truth[0].Pose));
        var poses = Path.Combine(dir, "run", "poses.txt");
        var gt = Path.Combine(dir, "gt.txt");
        Submission.Write(poses, estimates);
        Submission.Write(gt, truth);
        return (poses, gt);
    }

    /// <summary>The cells of data row <paramref name="row"/> of the table whose header starts with <paramref name="title"/>.</summary>
    private static string[] Row(string output, string title, int row = 0)
    {
        var lines = output.Split('\n');
        int header = Array.FindIndex(lines, l => l.StartsWith(title));
        Assert.True(header >= 0, output);
        return lines[header + 2 + row].Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The evaluate stage in the library: the runs scored, a CSV per run and the plot
    /// written where named (or beside the first poses file); a threshold given twice, a poses file
    /// given twice, or an output over an input refused before anything is written.</summary>
    [Fact]
    public void TheEvaluationRunnerScoresWritesAndRefusesBeforeWriting()
    {
        var dir = TempDir.Create();
        var (poses, gt) = WriteRun(dir);
        var options = new PoseEvaluationOptions { TruthPath = gt, PosePaths = new[] { poses } };
        var fine = PoseThreshold.FromDegrees(0.05, 0.5);
        Assert.Throws<UsageException>(() => PoseEvaluationRunner.Run(options with { Extra = new[] { fine, fine } }));
        Assert.Throws<UsageException>(() => PoseEvaluationRunner.Run(options with { PosePaths = new[] { poses, poses } }));
        var overTruth = Path.ChangeExtension(gt, ".png");
        File.Copy(gt, overTruth);
        Assert.Contains("would overwrite the ground truth", Assert.ThrowsAny<R2D2Exception>(() => PoseEvaluationRunner.Run(options with { TruthPath = overTruth, PlotPath = overTruth })).Message);
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(poses)!, "*.errors.*"));
        var x = PoseEvaluationRunner.Run(options with { Extra = new[] { fine } });
        Assert.Equal(0.5, Assert.Single(x.Runs).Result.ShareWithin(ThresholdSet.Aachen.Thresholds[0]));
        Assert.Equal(Path.Combine(dir, "run", "poses.errors.png"), x.PlotPath);
        Assert.True(File.Exists(x.PlotPath));
        Assert.True(File.Exists(Assert.Single(x.CsvPaths)));
        var none = PoseEvaluationRunner.Run(options with { NoPlot = true, NoCsv = true });
        Assert.Null(none.PlotPath);
        Assert.Empty(none.CsvPaths);
    }

    [Fact]
    public void PrintsBothThresholdTablesMediansAndMissingAndWritesThePlot()
    {
        var dir = TempDir.Create();
        var (poses, gt) = WriteRun(dir);
        var (code, stdout, stderr) = CliTests.Localize("evaluate", "--poses", poses, "--ground-truth", gt, "--extra-threshold", "0.05,0.5");
        Assert.True(code == 0, stderr);
        Assert.Equal(new[] { "poses", "50.0%", "75.0%", "90.0%" }, Row(stdout, "Aachen (current)"));
        Assert.Equal(new[] { "poses", "75.0%", "75.0%", "90.0%" }, Row(stdout, "Aachen v1.0"));
        Assert.Equal(new[] { "poses", "50.0%" }, Row(stdout, "extra"));
        // 20 queries, 18 localized, 2 missing; medians of 10 × 0 m and 5 × 0.3 m (missing as ∞): 0.15 m, 0.5°.
        Assert.Equal(new[] { "poses", "20", "18", "2", "0.150", "m", "0.500°" }, Row(stdout, "run"));
        Assert.Contains("missing queries count as failures", stdout);
        Assert.Contains("1 pose for images not in the ground truth", stderr);
        Assert.Contains("unknown.jpg", stderr);
        // The plot goes beside the poses by default.
        var plot = Path.Combine(dir, "run", "poses.errors.png");
        Assert.True(File.Exists(plot), stdout);
        Assert.Contains($"plot: {plot}", stdout);
    }

    /// <summary>An empty submission scores 0 %, as it should, and says why (it said nothing).</summary>
    [Fact]
    public void AnEmptySubmissionIsSaid()
    {
        var dir = TempDir.Create();
        var (_, gt) = WriteRun(dir);
        var empty = Path.Combine(dir, "empty.txt");
        File.WriteAllText(empty, "");
        var (code, stdout, stderr) = CliTests.Localize("evaluate", "--poses", empty, "--ground-truth", gt, "--no-plot", "--no-csv");
        Assert.True(code == 0, stderr);
        Assert.Equal(new[] { "empty", "0.0%", "0.0%", "0.0%" }, Row(stdout, "Aachen (current)"));
        Assert.Contains($"{empty}: holds no poses, so every query counts as a failure", stderr);
    }

    [Fact]
    public void SeveralRunsAndAChosenPlotPath()
    {
        var dir = TempDir.Create();
        var (poses, gt) = WriteRun(dir);
        var plot = Path.Combine(dir, "plots", "cmp.png");
        var (code, stdout, stderr) = CliTests.Localize("evaluate", "--poses", poses, gt, "--ground-truth", gt, "--plot", plot, "--linear");
        Assert.True(code == 0, stderr);
        // One row per run; the ground truth against itself is all correct.
        Assert.Equal(new[] { "poses", "50.0%", "75.0%", "90.0%" }, Row(stdout, "Aachen (current)", 0));
        Assert.Equal(new[] { "gt", "100.0%", "100.0%", "100.0%" }, Row(stdout, "Aachen (current)", 1));
        Assert.True(File.Exists(plot));
        Assert.False(File.Exists(Path.Combine(dir, "run", "poses.errors.png")));
    }

    [Fact]
    public void BadInputsGiveOneLineErrorsNamingFileAndLine()
    {
        var dir = TempDir.Create();
        var (poses, gt) = WriteRun(dir);
        var broken = Path.Combine(dir, "broken.txt");
        File.WriteAllLines(broken, new[] { File.ReadLines(poses).First(), "IMG_001.jpg 1 0 0 0 0 0" });
        // A bad file exits 1, options that do not go together 2 (as the parser's own errors).
        foreach (var (args, expected, exit) in new[]
        {
            (new[] { "--poses", broken, "--ground-truth", gt }, $"error: {broken}:2: expected 8 fields", 1),
            (new[] { "--poses", poses, "--ground-truth", Path.Combine(dir, "none.txt") }, $"error: {Path.Combine(dir, "none.txt")}: not found (expected poses", 1),
            (new[] { "--poses", poses, "--ground-truth", gt, "--extra-threshold", "0.05" }, "error: --extra-threshold '0.05': expected METRES,DEGREES", 2),
            (new[] { "--poses", poses, "--ground-truth", gt, "--extra-threshold", "1,361" }, "degrees in (0, 180]", 2),
            (new[] { "--poses", poses, "--ground-truth", gt, "--extra-threshold", "0.05,0.5", "--extra-threshold", "0.05,0.5" }, "0.05 m, 0.5° is given twice", 2),
            (new[] { "--poses", poses, broken, "--ground-truth", gt, "--label", "same", "--label", "same" }, "label 'same' is given 2 times", 2),
            // It said "the per-query CSV and the per-query CSV are the same file".
            (new[] { "--poses", poses, poses, "--ground-truth", gt }, $"error: --poses: {poses} is given 2 times", 2),
        })
        {
            var (code, _, stderr) = CliTests.Localize(new[] { "evaluate", "--no-plot" }.Concat(args).ToArray());
            Assert.Equal(exit, code);
            Assert.Contains(expected, stderr);
            Assert.Equal(exit == 2, stderr.Contains("(run with --help for usage)"));
            Assert.DoesNotContain("   at ", stderr);
        }
    }

    [Fact]
    public void LabelsNameTheRunsAndEachRunGetsItsPerQueryCsv()
    {
        var dir = TempDir.Create();
        var (poses, gt) = WriteRun(dir);
        var plot = Path.Combine(dir, "cmp.svg");
        var (code, stdout, stderr) = CliTests.Localize("evaluate", "--poses", poses, gt, "--label", "night, R2D2", "--label", "truth",
            "--ground-truth", gt, "--plot", plot, "--extra-threshold", "0.05,0.5");
        Assert.True(code == 0, stderr);
        Assert.Equal(new[] { "night,", "R2D2", "50.0%", "75.0%", "90.0%" }, Row(stdout, "Aachen (current)", 0));
        Assert.Equal("truth", Row(stdout, "Aachen (current)", 1)[0]);
        Assert.Contains("night, R2D2 (18/20 with a pose)", File.ReadAllText(plot));
        // One CSV per run beside its poses: a row per ground-truth query, errors in m and °, 0/1 per threshold.
        var csv = File.ReadAllLines(Path.Combine(dir, "run", "poses.errors.csv"));
        Assert.Equal("name,run,has_pose,position_error_m,rotation_error_deg,within_0.25m_2deg,within_0.5m_5deg,within_5m_10deg,"
            + "within_0.5m_2deg,within_1m_5deg,within_0.05m_0.5deg", csv[0]);
        Assert.Equal(21, csv.Length);
        var rows = csv.Skip(1).Select(l => Csv.Read(l, "x").Single().Fields).ToList();
        Assert.All(rows, r => Assert.Equal("night, R2D2", r[1]));
        var exact = rows[0];
        Assert.Equal(("IMG_000.jpg", "1", "1"), (exact[0], exact[2], exact[5]));
        Assert.True(double.Parse(exact[3], System.Globalization.CultureInfo.InvariantCulture) < 1e-6);
        var off = rows[12]; // 0.3 m and 1° off: outside (0.25 m, 2°), inside (0.5 m, 5°)
        Assert.InRange(double.Parse(off[3], System.Globalization.CultureInfo.InvariantCulture), 0.299, 0.301);
        Assert.InRange(double.Parse(off[4], System.Globalization.CultureInfo.InvariantCulture), 0.99, 1.01);
        Assert.Equal(new[] { "0", "1", "1", "1", "1", "0" }, off.Skip(5));
        Assert.Equal(new[] { "IMG_019.jpg", "night, R2D2", "0", "", "", "0", "0", "0", "0", "0", "0" }, rows[19]); // missing
        Assert.Contains($"per-query errors of truth: {Path.Combine(dir, "gt.errors.csv")}", stdout);

        // A label per poses file, or an error.
        (code, _, stderr) = CliTests.Localize("evaluate", "--poses", poses, gt, "--label", "one", "--ground-truth", gt, "--no-plot", "--no-csv");
        Assert.Equal(2, code);
        Assert.Contains("1 label for 2 poses files", stderr);
    }
}
