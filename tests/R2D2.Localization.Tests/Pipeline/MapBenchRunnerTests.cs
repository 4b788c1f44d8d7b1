using System.Text.RegularExpressions;
using R2D2.Localization.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>bench-map's runner on a small street: every stage timed in order, a map of the true
/// facade points, the database written where asked (a rerun starts from a fresh one).</summary>
public class MapBenchRunnerTests
{
    [Fact]
    public void TheMapStagesRunOnTheSyntheticStreetAndBuildItsFacades()
    {
        var dir = TempDir.Create();
        var o = new MapBenchOptions { Database = Path.Combine(dir, "sub", "bench.db"), Street = MapBenchRunner.Street(8, 1500), PairsPerImage = 4 };
        var lines = new List<string>();
        var result = MapBenchRunner.Run(o, new Lines(lines));
        Assert.Equal(new[] { "write synthetic features", "match", "verify", "triangulate", "store" }, result.Seconds.Keys);
        Assert.Equal(result.Seconds.Keys, lines.Select(l => Regex.Match(l, @"^(.+) \d+\.\d s, peak RSS").Groups[1].Value));
        Assert.True(result.Pairs > 0);
        // Images facing the same facade 3 m apart share most of their points: tracks, and reprojection within the ±0.5 px noise.
        Assert.True(result.Stats.Points > 500, $"{result.Stats.Points} points");
        Assert.InRange(result.Stats.MeanReprojectionErrorPx, 0, 1);
        Assert.True(result.DatabaseBytes > 0 && File.Exists(o.Database));
        var again = MapBenchRunner.Run(o);
        Assert.Equal(result.Stats.Points, again.Stats.Points); // the same street, from a fresh database
    }

    private sealed class Lines(List<string> lines) : IProgressSink
    {
        public void Info(string message) => lines.Add(message);
    }
}
