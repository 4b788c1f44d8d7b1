using System.Text.Json;
using R2D2.Localization.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>The benchmarks' own arithmetic and their refusals: a wrong ratio or a crash on a bad
/// option costs a benchmark run, and a JSON written over an input costs the input.</summary>
public class BenchmarkTests
{
    /// <summary>The scale table's query row holds the median per query: its s/unit is that, not
    /// the median divided by the queries again (20× too small in the published table).</summary>
    [Fact]
    public void ScaleTableGivesTheQueryRowsSecondsPerQuery()
    {
        var dir = TempDir.Create();
        var tsv = Path.Combine(dir, "scale.tsv");
        File.WriteAllLines(tsv, new[]
        {
            ScaleStageResult.Header,
            new ScaleStageResult("features", 250, 250, "images", 30.8, 447, 1_442_000_000, "").ToTsv(),
            new ScaleStageResult("query", 250, 20, "queries", 0.344, 1381, 1_614_000_000, "median of 20 queries").ToTsv(),
        });
        var rows = ScaleBenchRunner.Report(tsv, null).Split('\n');
        Assert.Contains("0.1232", rows.Single(r => r.StartsWith("features")));
        Assert.Contains("  0.3440", rows.Single(r => r.StartsWith("query")));
    }

    [Fact]
    public void BenchmarksRefuseImpossibleOptionsAndTheirInputsAsOutputs()
    {
        var dir = TempDir.Create();
        var missing = Path.Combine(dir, "street.db");
        var (code, _, err) = CliTests.Localize("bench-scale", "--stage", "match", "--database", missing, "--images", "3", "--keypoints", "100");
        Assert.True(code != 0);
        Assert.Contains("not found: run --stage features first", err);
        Assert.False(File.Exists(missing)); // was created empty
        (code, _, err) = CliTests.Localize("bench-scale", "--stage", "query", "--database", missing, "--queries", "0");
        Assert.True(code == 2, err);
        (code, _, err) = CliTests.Localize("bench-pnp", "--queries", "0");
        Assert.True(code == 2, err);
        (code, _, err) = CliTests.Localize("bench-pnp", "--matches", "2");
        Assert.True(code == 2, err);
        Assert.Contains("--matches must be ≥ 4", err);
        var (ok, json, _) = CliTests.Localize("bench-pnp", "--queries", "3", "--matches", "100", "--outliers", "0.2");
        Assert.Equal(0, ok);
        var result = JsonDocument.Parse(json).RootElement;
        Assert.True(result.GetProperty("ours_median_position_error_m").GetDouble() < 0.05);
        // Mostly outliers and 4 matches: no pose for most queries; the JSON says null (an infinite median failed its writing).
        (ok, json, err) = CliTests.Localize("bench-pnp", "--queries", "5", "--matches", "4", "--outliers", "0.99");
        Assert.True(ok == 0, err);
        result = JsonDocument.Parse(json).RootElement;
        Assert.Equal(JsonValueKind.Null, result.GetProperty("ours_median_position_error_m").ValueKind);
        Assert.True(result.GetProperty("ours_no_pose").GetInt32() >= 3);

        var image = Path.Combine(dir, "copy.png");
        File.Copy(SharedData.Path_("datasets", "oxford-graf", "graf1.png"), image);
        var before = File.ReadAllBytes(image);
        (code, _, err) = CliTests.Localize("bench-net", "--images", image, "--sgemm", "0", "--profile-rounds", "0", "--json", image);
        Assert.True(code != 0);
        Assert.Contains("the --json would overwrite the --images", err);
        Assert.Equal(before, File.ReadAllBytes(image));
    }
}
