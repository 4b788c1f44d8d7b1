using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>The WxBS scoring (<see cref="WxbsEvaluation"/>) against F of known cameras, the
/// dataset's own reference errors, and `localize eval-wxbs` on one real pair.</summary>
public class WxbsEvaluationTests
{
    private static (double X, double Y) Project(Pose p, PinholeIntrinsics k, double[] X)
    {
        var c = p.ToCamera(X[0], X[1], X[2]);
        return (k.Fx * c[0] / c[2] + k.Cx, k.Fy * c[1] / c[2] + k.Cy);
    }

    /// <summary>Points 6–14 m in front of two cameras, seen by both.</summary>
    private static List<Correspondence> Observe(Pose p1, PinholeIntrinsics k1, Pose p2, PinholeIntrinsics k2, int n, int seed)
    {
        var rng = new Random(seed);
        var list = new List<Correspondence>();
        for (int i = 0; i < n; i++)
        {
            var X = new[] { rng.NextDouble() * 4 - 2, rng.NextDouble() * 3 - 1.5, 6 + rng.NextDouble() * 8 };
            var (x1, y1) = Project(p1, k1, X);
            var (x2, y2) = Project(p2, k2, X);
            list.Add(new Correspondence(x1, y1, x2, y2));
        }
        return list;
    }

    [Fact]
    public void ExactCorrespondencesHaveNoErrorUnderTheTrueF()
    {
        var rng = new Random(3);
        var k1 = new PinholeIntrinsics(700, 720, 320, 240);
        var k2 = new PinholeIntrinsics(900, 880, 400, 300);
        var p1 = Pose.Identity;
        var p2 = RandomGeometry.LookAt(new[] { 2.5, 0.3, 1.0 }, new[] { 0.0, 0.0, 10.0 }, rng);
        var corrs = Observe(p1, k1, p2, k2, 40, 1);
        var f = EpipolarVerification.FundamentalFromPoses(p1, k1, p2, k2);
        var errors = WxbsEvaluation.Errors(f, corrs);
        Assert.All(errors, e => Assert.True(e < 1e-6, $"error {e}"));
        Assert.Equal(0, WxbsEvaluation.PairError(errors), 6);
        Assert.Equal(1.0, WxbsEvaluation.Recall(errors), 12);
        // F is defined up to scale: the distance is not.
        Assert.Equal(errors, WxbsEvaluation.Errors(f.Select(v => -1e-3 * v).ToArray(), corrs), (a, b) => Math.Abs(a - b) < 1e-9);
    }

    [Fact]
    public void AShiftAcrossTheEpipolarLinesCostsItsKnownDistance()
    {
        // Rectified cameras (same intrinsics, second camera 0.5 m to the right): epipolar lines are
        // the rows. Moving x₂ along its row keeps the error 0; moving y₂ by δ puts each point δ
        // from the other's line, so the symmetric distance is √(δ² + δ²) = δ√2.
        var k = new PinholeIntrinsics(800, 800, 400, 300);
        var p1 = Pose.Identity;
        var p2 = new Pose(Pose.Identity.Rotation, new[] { -0.5, 0, 0 });
        var f = EpipolarVerification.FundamentalFromPoses(p1, k, p2, k);
        var exact = Observe(p1, k, p2, k, 10, 2);
        var along = exact.Select(c => c with { X2 = c.X2 + 7 }).ToList();
        var across = exact.Select(c => c with { Y2 = c.Y2 + 3 }).ToList();
        Assert.All(WxbsEvaluation.Errors(f, along), e => Assert.True(e < 1e-9, $"error {e}"));
        Assert.All(WxbsEvaluation.Errors(f, across), e => Assert.Equal(3 * Math.Sqrt(2), e, 9));
        Assert.Equal(3 * Math.Sqrt(2), WxbsEvaluation.PairError(WxbsEvaluation.Errors(f, across)), 9);
        // Recall: 0 of 10 within 1…4 px, all within 5…20 px: 16/20.
        Assert.Equal(0.8, WxbsEvaluation.Recall(WxbsEvaluation.Errors(f, across)), 12);
        // No F: every error is +∞.
        Assert.All(WxbsEvaluation.Errors(null, across), e => Assert.True(double.IsPositiveInfinity(e)));
    }

    [Fact]
    public void APairIsSolvedWhenItsMeanErrorIsBelowTheThreshold()
    {
        var pairs = new List<IReadOnlyList<double>>
        {
            new[] { 0.5, 0.5, 0.5 },            // mean 0.5
            new[] { 1.0, 2.0, 9.0 },            // mean 4 (median 2: the mean, not the median, decides)
            new[] { 0.1, 0.1, 60.0 },           // one far label: mean 20.07
            new[] { double.PositiveInfinity },  // no F
        };
        var s = WxbsEvaluation.Summarize("m", pairs, new[] { 1, 3, 5, 20, 21 });
        Assert.Equal(new[] { 0.25, 0.25, 0.5, 0.5, 0.75 }, s.Solved);
        Assert.Equal(4, s.Pairs);
        Assert.Equal((4 + 20.0666666666667) / 2, s.MedianError, 9);
        Assert.False(WxbsEvaluation.Solved(3.0, 3));
        Assert.True(double.IsPositiveInfinity(Statistics.Median(new[] { 1.0, double.PositiveInfinity, double.PositiveInfinity })));
    }

    private static string WgalbsPair(string name) => SharedData.Path_("datasets", "wxbs", "WGALBS", name);

    /// <summary>crossval_errors.txt is the distance of <see cref="WxbsEvaluation.Errors"/>: each
    /// correspondence under the 8-point F of all the others (the dataset README's recipe) gives the
    /// number the file holds, so the labelling row and the methods' rows are in the same units.</summary>
    [Fact]
    public void TheLabellingErrorsAreLeaveOneOutEightPointDistances()
    {
        foreach (var name in new[] { "tyn", "bridge" })
        {
            var pair = WxbsPairs.Read(WgalbsPair(name));
            var c = pair.Correspondences;
            for (int i = 0; i < c.Count; i++)
            {
                var rest = c.Where((_, j) => j != i).ToList();
                var x1 = rest.Select(r => (float)r.X1).ToArray(); var y1 = rest.Select(r => (float)r.Y1).ToArray();
                var x2 = rest.Select(r => (float)r.X2).ToArray(); var y2 = rest.Select(r => (float)r.Y2).ToArray();
                var all = Enumerable.Range(0, rest.Count).Select(j => new Match(j, j, 1f)).ToList();
                var fit = EpipolarVerification.EstimateFundamental(x1, y1, x2, y2, all, FundamentalMethod.EightPoint);
                Assert.Equal(rest.Count, fit.Inliers.Count);
                var e = WxbsEvaluation.Errors(fit.F, new[] { c[i] })[0];
                var expected = pair.LabellingErrors![i];
                Assert.True(Math.Abs(e - expected) <= 1e-3 * expected + 1e-4, $"{name} #{i + 1}: {e} px, the file says {expected}");
            }
        }
    }

    [Fact]
    public void EvalWxbsScoresARealPairWithRootSift()
    {
        var (code, stdout, stderr) = CliTests.Localize("eval-wxbs", "--model", "rootsift", "--pairs", WgalbsPair("tyn"), "--per-pair", "--device", "cpu");
        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n');
        var row = lines.First(l => l.StartsWith("rootsift"));
        var v = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // 7 solved shares, recall, median error "N px", median inliers, matches, keypoints.
        var solved = v.Skip(1).Take(7).Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.All(solved, s => Assert.True(s is 0 or 1, row));
        Assert.True(solved.Zip(solved.Skip(1)).All(p => p.First <= p.Second), row);
        double recall = double.Parse(v[8], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(recall, 0, 1);
        int inliers = int.Parse(v[11], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(inliers >= 8, row);
        Assert.Contains(lines, l => l.StartsWith(R2D2.Localization.Pipeline.WxbsRunner.LabellingLabel));
        Assert.Contains(lines, l => l.StartsWith("tyn") && l.Contains("rootsift"));
        Assert.Contains("[1/1] rootsift: tyn", stderr);
    }

    /// <summary>A labelled point far outside its image is an error naming the line (it was scored);
    /// a pair whose photo cannot be decoded fails alone, scored as unsolved, the table printed and
    /// the exit code 1 (it stopped the run and lost the pairs done).</summary>
    [Fact]
    public void PointsOutsideTheImageAreRefusedAndABrokenPairFailsAlone()
    {
        var dir = TempDir.Create();
        string good = Path.Combine(dir, "good"), broken = Path.Combine(dir, "broken"), outside = Path.Combine(dir, "outside");
        foreach (var d in new[] { good, broken, outside }) TempDir.CopyTree(WgalbsPair("flood"), d);
        var corrs = Path.Combine(outside, "corrs.txt");
        var lines = File.ReadAllLines(corrs);
        lines[2] = "99999 " + string.Join(' ', lines[2].Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1));
        File.WriteAllLines(corrs, lines);
        var (code, _, err) = CliTests.Localize("eval-wxbs", "--model", "rootsift", "--sift-max-size", "256", "--sift-features", "500", "--pairs", outside);
        Assert.Equal(1, code);
        Assert.Contains($"{corrs}:3: point (99999,", err);
        // A file, or a folder without pairs, named as such ("folder not found"; "no pairs found in --pairs").
        (code, _, err) = CliTests.Localize("eval-wxbs", "--model", "rootsift", "--pairs", corrs);
        Assert.Contains($"{corrs}: is a file", err);
        var empty = Path.Combine(dir, "empty");
        Directory.CreateDirectory(empty);
        (code, _, err) = CliTests.Localize("eval-wxbs", "--model", "rootsift", "--pairs", good, empty);
        Assert.Equal(1, code);
        Assert.Contains($"{empty}: no WxBS pair", err);
        var png = Path.Combine(broken, "02.png");
        File.WriteAllBytes(png, File.ReadAllBytes(png).Take(300).ToArray()); // the header whole, the pixels cut
        string stdout;
        (code, stdout, err) = CliTests.Localize("eval-wxbs", "--model", "rootsift", "--sift-max-size", "256", "--sift-features", "500", "--pairs", good, broken, "--device", "cpu");
        Assert.Equal(1, code);
        Assert.Contains(stdout.Split('\n'), l => l.StartsWith("rootsift"));
        Assert.Contains("broken: ", err);
        Assert.Contains("1 pair run failed", err);
    }
}
