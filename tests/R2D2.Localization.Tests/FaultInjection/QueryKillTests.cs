using System.Diagnostics;
using Xunit;

namespace R2D2.Localization.Tests.FaultInjection;

/// <summary>`localize query` killed with SIGKILL again and again: every file it leaves is whole
/// (written atomically after each query), and `--resume` ends with the bytes of an uninterrupted run.</summary>
[Collection("tiny map")]
public class QueryKillTests
{
    private readonly TinyMap _map;
    public QueryKillTests(TinyMap map) => _map = map;

    [Fact]
    public void AQueryRunKilledThreeTimesResumesToTheBytesOfAnUninterruptedRun()
    {
        var day = Directory.GetFiles(_map.DayImages).Select(Path.GetFileName).Order().ToArray();
        var dir = _map.Workspace(day!);
        // 200 queries: the day photos under other names, so that three runs killed after their third
        // query cannot use them up (a tiny query takes milliseconds, and the kill comes some queries
        // later: with 40, the third run found nothing left to do).
        const int count = 200;
        var lines = new List<string>();
        for (int k = 0; k < count; k++)
        {
            var name = $"q{k:00}_{day[k % day.Length]}";
            File.Copy(Path.Combine(dir, day[k % day.Length]!), Path.Combine(dir, name));
            lines.Add($"{name} {TinyMap.Camera}");
        }
        var list = Path.Combine(dir, "queries.txt");
        File.WriteAllLines(list, lines);
        string[] Args(string output, bool resume) =>
            new[] { "query", "--map", Path.Combine(dir, "map.db"), "--queries", list, "--images", dir, "--output", output, "--threads", "1" }
                .Concat(resume ? new[] { "--resume" } : Array.Empty<string>()).ToArray();

        var reference = Path.Combine(dir, "ref", "poses.txt");
        var (code, _, err) = CliTests.Localize(Args(reference, false));
        Assert.True(code == 0, err);

        var killed = Path.Combine(dir, "killed", "poses.txt");
        int kills = 0;
        for (int round = 0; round < 3; round++)
        {
            // Killed after 3 queries of this run (its output lines, not its files: the outputs are
            // rewritten less often where a write is slow, as on a loaded CI machine, and a run
            // waiting for the file to grow could end first).
            int localized = 0;
            using var p = ResumeAfterKillTests.Start(null, line => { if (line.Contains(": localized,")) Interlocked.Increment(ref localized); },
                Args(killed, resume: round > 0));
            var sw = Stopwatch.StartNew();
            while (!p.HasExited && Volatile.Read(ref localized) < 3)
            {
                Assert.True(sw.Elapsed < TimeSpan.FromMinutes(3), "timed out waiting to kill");
                Thread.Sleep(20);
            }
            Assert.False(p.HasExited, "the run finished before it could be killed");
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            kills++;
            // Whatever the moment of the kill, each file is whole: 8 fields on every line.
            if (File.Exists(killed)) Assert.All(File.ReadAllLines(killed), l => Assert.Equal(8, l.Split(' ').Length));
        }
        Assert.Equal(3, kills);
        int keptBefore = File.Exists(killed) ? File.ReadAllLines(killed).Length : 0;
        (code, _, err) = CliTests.Localize(Args(killed, resume: true));
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllBytes(reference), File.ReadAllBytes(killed));
        // Temporary files of the killed writers were removed by the later writes.
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(killed)!, ".*.tmp"));
        Assert.Equal(File.ReadAllBytes(Path.ChangeExtension(reference, ".inliers.txt")), File.ReadAllBytes(Path.ChangeExtension(killed, ".inliers.txt")));
        Assert.Equal(File.ReadAllBytes(Path.ChangeExtension(reference, ".matches.txt")), File.ReadAllBytes(Path.ChangeExtension(killed, ".matches.txt")));
        // The run description counts the queries of the four invocations, kept ones included.
        var run = R2D2.Localization.Localization.QueryRunInfo.Read(Path.ChangeExtension(killed, ".run.json"));
        Assert.Contains(("done", count.ToString()), run.Settings);
        // What the kills left was kept (not localized again); 3 queries a round where writes are quick.
        Assert.Contains(("kept_from_earlier_run", keptBefore.ToString()), run.Settings);
    }
}
