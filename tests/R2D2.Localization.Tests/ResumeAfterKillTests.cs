using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Data.Sqlite;
using OpenCvSharp;
using R2D2.Localization.Formats;
using R2D2.Localization.Storage;
using Xunit;

namespace R2D2.Localization.Tests;

/// <summary>`localize extract --database` and `localize match`, killed with SIGKILL half-way and
/// rerun, end with the same database content as an uninterrupted run.</summary>
public class ResumeAfterKillTests
{
    private static readonly string[] Small = { "--min-size", "100", "--max-size", "200" };

    private static string MakeImages(string dir, int count)
    {
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        var boat = ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png"));
        for (int i = 0; i < count; i++)
        {
            using var m = ImageFile.ToBgrMat(boat.Crop(20 * i, 15 * i, 200, 150));
            Cv2.ImWrite(Path.Combine(images, $"img{i:D2}.png"), m);
        }
        return images;
    }

    /// <summary>Starts `localize` with its output drained (so it never blocks on a full pipe), to be killed.</summary>
    internal static Process Start(params string[] args) => Start(null, args);

    private static Process Start(StringBuilder? stderr, params string[] args) => Start(stderr, null, args);

    /// <summary>Starts `localize` with <paramref name="args"/>; <paramref name="stdout"/> gets its output lines as they come.</summary>
    internal static Process Start(StringBuilder? stderr, Action<string>? stdout, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "localize.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.OutputDataReceived += (_, e) => { if (e.Data != null) stdout?.Invoke(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (p) stderr?.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }

    private static long Count(string db, string sql)
    {
        if (!File.Exists(db)) return 0;
        try
        {
            using var c = new SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False");
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = sql;
            return Convert.ToInt64(cmd.ExecuteScalar());
        }
        catch (SqliteException) { return 0; } // schema not there yet
    }

    /// <summary>Kills the process (SIGKILL) once the condition holds, or fails if it ends first.</summary>
    private static void KillWhen(Process p, Func<bool> condition) =>
        SignalWhen(p, condition, () => p.Kill(entireProcessTree: true));

    private static void SignalWhen(Process p, Func<bool> condition, Action signal)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.False(p.HasExited, "the run finished before it could be killed: make it longer");
            Assert.True(sw.Elapsed < TimeSpan.FromMinutes(3), "timed out waiting to kill");
            Thread.Sleep(20);
        }
        signal();
        p.WaitForExit();
    }

    private static void RunToEnd(params string[] args)
    {
        var (code, _, err) = CliTests.Localize(args);
        Assert.True(code == 0, err);
    }

    /// <summary>A digest of what a database holds: images, cameras, features, matches.</summary>
    internal static string Content(string path)
    {
        using var db = FeatureDatabase.OpenReadOnly(path);
        var sb = new StringBuilder();
        foreach (var im in db.ReadImages().OrderBy(i => i.Name))
        {
            var cam = db.ReadCamera(im.CameraId)!;
            sb.Append($"{im.Name} {cam.Model.Name} {string.Join(",", cam.Params)}\n");
            var f = db.ReadFeatures(im.Id);
            if (f == null) { sb.Append("no features\n"); continue; }
            sb.Append($"{f.Count} {string.Join(",", f.X.Take(50))} {Hash(f.Descriptors)}\n");
        }
        var byId = db.ReadImages().ToDictionary(i => i.Id, i => i.Name);
        foreach (var p in db.ListMatchedPairs().OrderBy(p => byId[p.ImageId1]).ThenBy(p => byId[p.ImageId2]))
        {
            var m = db.ReadMatches(p.ImageId1, p.ImageId2)!;
            sb.Append($"{byId[p.ImageId1]}-{byId[p.ImageId2]}: {string.Join(",", m.Select(x => $"{x.I}:{x.J}"))}\n");
        }
        return sb.ToString();
    }

    private static string Hash(float[] v)
    {
        var b = new byte[v.Length * 4];
        Buffer.BlockCopy(v, 0, b, 0, b.Length);
        return Convert.ToHexString(SHA256.HashData(b))[..16];
    }

    [Fact]
    public void ExtractionKilledHalfWayResumesToTheSameDatabase()
    {
        var dir = TempDir.Create();
        var images = MakeImages(dir, 10);
        var model = SharedData.Model("r2d2_WASF_N16");
        string[] Args(string db) => new[] { "extract", "--model", model, "--images", images, "--database", db, "--threads", "1" }.Concat(Small).ToArray();

        var reference = Path.Combine(dir, "reference.db");
        RunToEnd(Args(reference));

        var killed = Path.Combine(dir, "killed.db");
        var p = Start(Args(killed));
        KillWhen(p, () => Count(killed, "SELECT count(*) FROM r2d2_features") >= 3);
        long partial = Count(killed, "SELECT count(*) FROM r2d2_features");
        Assert.InRange(partial, 3, 9);
        RunToEnd(Args(killed));
        Assert.Equal(Content(reference), Content(killed));
    }

    /// <summary>Ctrl-C (SIGINT) still ends a run at once, its work kept, and says how to go on.</summary>
    [Fact]
    public void ExtractionStoppedWithCtrlCSaysHowToGoOn()
    {
        var dir = TempDir.Create();
        var images = MakeImages(dir, 10);
        var db = Path.Combine(dir, "features.db");
        var stderr = new StringBuilder();
        var p = Start(stderr, new[] { "extract", "--images", images, "--database", db, "--threads", "1" }.Concat(Small).ToArray());
        SignalWhen(p, () => Count(db, "SELECT count(*) FROM r2d2_features") >= 1, () =>
        {
            using var kill = Process.Start("kill", new[] { "-INT", p.Id.ToString() })!;
            kill.WaitForExit();
        });
        Assert.NotEqual(0, p.ExitCode);
        lock (p) Assert.Contains("interrupted: run the same command again to continue: images already extracted are kept", stderr.ToString());
        Assert.InRange(Count(db, "SELECT count(*) FROM r2d2_features"), 1, 9);
    }

    /// <summary>train stops at the end of its step on Ctrl-C, saves, says so, and exits 130 (it exited
    /// 0, so a script took a stopped run for a finished one).</summary>
    [Fact]
    public void TrainingStoppedWithCtrlCSavesAndSaysItIsNotFinished()
    {
        var dir = TempDir.Create();
        var stderr = new StringBuilder();
        var p = Start(stderr, "train", "--out", dir, "--pairs", "generated", "--steps", "100000", "--batch", "1", "--crop", "64", "--threads", "1");
        SignalWhen(p, () => File.Exists(Path.Combine(dir, "train-log.tsv")) && File.ReadAllLines(Path.Combine(dir, "train-log.tsv")).Length > 2, () =>
        {
            using var kill = Process.Start("kill", new[] { "-INT", p.Id.ToString() })!;
            kill.WaitForExit();
        });
        Assert.Equal(130, p.ExitCode);
        lock (p) Assert.Matches(@"interrupted at step \d+ of 100000: run the same command again to continue", stderr.ToString());
        Assert.True(File.Exists(Path.Combine(dir, "state.safetensors")));
    }

    [Fact]
    public void MatchingKilledHalfWayResumesToTheSameDatabase()
    {
        var dir = TempDir.Create();
        var images = MakeImages(dir, 24);
        var db = Path.Combine(dir, "features.db");
        RunToEnd(new[] { "extract", "--model", "rootsift", "--images", images, "--database", db });
        var reference = Path.Combine(dir, "reference.db");
        File.Copy(db, reference);
        RunToEnd("match", "--database", reference, "--pairs", "exhaustive", "--threads", "1");

        var killed = Path.Combine(dir, "killed.db");
        File.Copy(db, killed);
        var p = Start("match", "--database", killed, "--pairs", "exhaustive", "--threads", "1");
        KillWhen(p, () => Count(killed, "SELECT count(*) FROM matches") >= 20);
        Assert.InRange(Count(killed, "SELECT count(*) FROM matches"), 20, 24 * 23 / 2 - 1);
        RunToEnd("match", "--database", killed, "--pairs", "exhaustive", "--threads", "1");
        Assert.Equal(Content(reference), Content(killed));
    }
}
