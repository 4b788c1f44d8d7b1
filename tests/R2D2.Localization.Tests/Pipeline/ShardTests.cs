using R2D2.Localization.Formats;
using R2D2.Localization.Storage;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>Shards (--shard) and their merge: which items a shard takes, and a map and poses built
/// by shards and merged that equal one process's, on the demo scene at a small size with RootSIFT.</summary>
public class ShardTests
{
    private static string DatabaseSummaryOf(string path)
    {
        using var db = R2D2.Localization.Storage.FeatureDatabase.OpenReadOnly(path);
        return (db.Summary() with { Path = "" }).ToString();
    }

    [Fact]
    public void ParsesIndexOfCountAndSlurmsArrayVariables()
    {
        string? None(string _) => null;
        Assert.Equal(new Shard(2, 4), Shard.Parse("2/4", None));
        var env = new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "5", ["SLURM_ARRAY_TASK_MIN"] = "4", ["SLURM_ARRAY_TASK_COUNT"] = "4" };
        Assert.Equal(new Shard(1, 4), Shard.Parse("auto", k => env.GetValueOrDefault(k)));
        // A task resubmitted alone (sbatch --array=2): its count is 1, so auto/N takes the id itself.
        var alone = new Dictionary<string, string> { ["SLURM_ARRAY_TASK_ID"] = "2", ["SLURM_ARRAY_TASK_MIN"] = "2", ["SLURM_ARRAY_TASK_COUNT"] = "1" };
        Assert.Equal(new Shard(2, 4), Shard.Parse("auto/4", k => alone.GetValueOrDefault(k)));
        Assert.Contains("from 0 to 3", Assert.Throws<UsageException>(() => Shard.Parse("4/4", None)).Message);
        Assert.Contains("SLURM_ARRAY_TASK_ID is not set", Assert.Throws<UsageException>(() => Shard.Parse("auto", None)).Message);
        Assert.Contains("expected I/N", Assert.Throws<UsageException>(() => Shard.Parse("1-4", None)).Message);
    }

    [Fact]
    public void ShardsTakeEveryItemOnceInRunsOfAboutEqualCost()
    {
        var costs = new long[] { 40, 1, 1, 1, 10, 10, 10, 10, 1, 1, 1, 1, 1, 1, 1, 1 };
        for (int n = 1; n <= 5; n++)
        {
            var parts = Enumerable.Range(0, n).Select(i => new Shard(i, n).Select(costs, c => c)).ToList();
            Assert.Equal(Enumerable.Range(0, costs.Length), parts.SelectMany(p => p).OrderBy(i => i));
            // Consecutive runs, in shard order.
            Assert.Equal(Enumerable.Range(0, costs.Length), parts.SelectMany(p => p));
            long total = costs.Sum(), max = costs.Max();
            Assert.All(parts, p => Assert.InRange(p.Sum(i => costs[i]), 0, total / n + max));
        }
        Assert.Equal(new[] { 2, 3 }, new Shard(1, 2).Select(new long[] { 0, 0, 0, 0 }, c => c));
    }

    /// <summary>Demo images (6 day photos, 4 night queries, half size), their poses as a COLMAP model.</summary>
    private static (string Dir, string[] Build, string[] Query) Demo(int day = 6)
    {
        var dir = TempDir.Create();
        var (code, stdout, err) = CliTests.Localize("demo", "--render-only", "--max-day", day.ToString(), "--max-queries", "4", "--scale", "0.5", "--out", dir);
        Assert.True(code == 0, err + stdout);
        var images = Path.Combine(dir, "images");
        var build = new[] { "build-map", "--images", Path.Combine(images, "day"), "--poses", Path.Combine(images, "day-model"), "--model", "rootsift",
            "--pairs", "exhaustive", "--export", "none" };
        var query = new[] { "query", "--queries", Path.Combine(SharedData.RepoRoot, "queries", "demo-square-night.txt"), "--images", Path.Combine(images, "night") };
        return (dir, build, query);
    }

    private static string Ok((int Code, string Out, string Err) r)
    {
        Assert.True(r.Code == 0, r.Err + r.Out);
        return r.Out;
    }

    /// <summary>A query run: exit code 1 when a query failed (RootSIFT at night, at half size, may),
    /// which still writes its line; the outputs are compared.</summary>
    private static string Ran((int Code, string Out, string Err) r)
    {
        Assert.True(r.Code is 0 or 1 && r.Out.Contains("query: "), r.Err + r.Out);
        return r.Out;
    }

    [Fact]
    public void AMapAndPosesBuiltByShardsAndMergedEqualOneProcesss()
    {
        var (dir, build, query) = Demo();
        string P(string name) => Path.Combine(dir, name);
        var queries = query[2];
        // The list holds 10 queries; 4 were rendered: a shorter list of those 4.
        File.WriteAllLines(P("queries.txt"), File.ReadLines(queries).Where(l => l.Length > 0 && l[0] != '#').Take(4));
        query[2] = P("queries.txt");
        // The pre-flight of a cluster submission: options and inputs checked, nothing written.
        var check = CliTests.Localize(build.Concat(new[] { "--map", P("single.db"), "--check" }).ToArray());
        Assert.True(check.Code == 0, check.Err);
        Assert.Contains("build-map: check passed: 6 posed images", check.Out);
        Assert.False(File.Exists(P("single.db")));
        var refused = CliTests.Localize(build.Concat(new[] { "--map", P("single.db"), "--check", "--top-k", "100" }).ToArray());
        Assert.Equal(2, refused.Code);
        Assert.False(File.Exists(P("single.db")));
        Ok(CliTests.Localize(build.Concat(new[] { "--map", P("single.db") }).ToArray()));
        Ran(CliTests.Localize(query.Concat(new[] { "--map", P("single.db"), "--output", P("single.txt") }).ToArray()));

        const int n = 3; // 6 images, 15 pairs, 4 queries: shards of 2, 5 and 1–2
        for (int i = 0; i < n; i++)
            Ok(CliTests.Localize(build.Concat(new[] { "--stage", "extract", "--shard", $"{i}/{n}", "--map", P($"extract-{i}.db") }).ToArray()));
        var extracts = Enumerable.Range(0, n).Select(i => P($"extract-{i}.db")).ToArray();
        // A merge that lacks a shard is refused, and writes nothing.
        var partial = CliTests.Localize(new[] { "merge", "--databases" }.Concat(extracts.Take(2)).Concat(new[] { "--out", P("features.db") }).ToArray());
        Assert.Equal(1, partial.Code);
        Assert.Contains("lacks shard 2", partial.Err);
        Assert.False(File.Exists(P("features.db")));
        // A shard of another job (here: another shard count) is named as such (it said "lacks shard 2").
        Ok(CliTests.Localize(build.Concat(new[] { "--stage", "extract", "--shard", "1/2", "--map", P("other-job.db") }).ToArray()));
        var twoJobs = CliTests.Localize(new[] { "merge", "--databases" }.Concat(extracts.Take(2)).Concat(new[] { P("other-job.db"), "--out", P("features.db") }).ToArray());
        Assert.Equal(1, twoJobs.Code);
        Assert.Contains("shards given are of 2 different jobs", twoJobs.Err);
        Assert.False(File.Exists(P("features.db")));
        // Stale temporary files of killed merges (this version's and an older one's) are removed.
        File.WriteAllText(P(".features.db.merge.tmp"), "debris of a merge killed by kill -9");
        File.WriteAllText(P(".features.db.merge.123.0af.tmp"), "debris of a merge killed by kill -9");
        File.WriteAllText(P(".features.db.merge.123.0af.tmp-wal"), "its log");
        Ok(CliTests.Localize(new[] { "merge", "--databases" }.Concat(extracts).Concat(new[] { "--out", P("features.db") }).ToArray()));
        Assert.Empty(Directory.GetFiles(dir, ".features.db.merge*"));
        // Every shard's images carry the hash of the file their features came from, so the build
        // refuses a photo replaced after the extraction (the build recorded what was on disk then).
        using (var featuresDb = R2D2.Localization.Storage.FeatureDatabase.OpenReadOnly(P("features.db")))
            Assert.Equal(6, featuresDb.ReadNotes(R2D2.Localization.Pipeline.DatabaseExtraction.ImageHashNote).Count);
        // Two merges to one --out at once each write their own temporary database: both succeed
        // and the output is whole (they shared one and deleted each other's: an empty database, exit 0).
        var expected = DatabaseSummaryOf(P("features.db"));
        var together = Enumerable.Range(0, 2).Select(_ => Task.Run(() => R2D2.Localization.Pipeline.MergeRunner.Databases(extracts, P("together.db")))).ToArray();
        Task.WaitAll(together);
        Assert.All(together, t => Assert.Equal(expected, (t.Result.Merged with { Path = "" }).ToString()));
        Assert.Equal(expected, DatabaseSummaryOf(P("together.db")));
        Assert.Empty(Directory.GetFiles(dir, ".together.db.merge*"));
        // Into a folder not there yet, as the other outputs (it was .NET's "Could not find a part of the path").
        Assert.Equal(expected, (R2D2.Localization.Pipeline.MergeRunner.Databases(extracts, P("new dir/sub/x.db")).Merged with { Path = "" }).ToString());
        for (int i = 0; i < n; i++)
            Ok(CliTests.Localize(build.Concat(new[] { "--stage", "match", "--shard", $"{i}/{n}", "--features", P("features.db"), "--map", P($"match-{i}.db") }).ToArray()));
        var merge = new[] { "merge", "--databases", P("features.db") }.Concat(Enumerable.Range(0, n).Select(i => P($"match-{i}.db"))).Concat(new[] { "--out", P("sharded.db") }).ToArray();
        Ok(CliTests.Localize(merge));
        var firstMerge = Rows(P("sharded.db"));
        Ok(CliTests.Localize(merge)); // idempotent
        Assert.Equal(firstMerge, Rows(P("sharded.db")));
        Ok(CliTests.Localize(build.Concat(new[] { "--map", P("sharded.db") }).ToArray()));
        for (int i = 0; i < n; i++)
            Ran(CliTests.Localize(query.Concat(new[] { "--map", P("sharded.db"), "--shard", $"{i}/{n}", "--output", P($"poses-{i}.txt") }).ToArray()));
        var outputs = Enumerable.Range(0, n).Select(i => P($"poses-{i}.txt")).ToArray();
        Ok(CliTests.Localize(new[] { "merge", "--queries", query[2], "--outputs" }.Concat(outputs).Concat(new[] { "--out", P("sharded.txt") }).ToArray()));
        // The list without the shards' outputs is a usage error (exit 2, as the parser's), not a failed run.
        var noOutputs = CliTests.Localize("merge", "--queries", query[2], "--out", P("nothing.txt"));
        Assert.True(noOutputs.Code == 2, noOutputs.Err);
        Assert.Contains("--queries needs --outputs", noOutputs.Err);

        using (var single = FeatureDatabase.OpenReadOnly(P("single.db")))
        using (var sharded = FeatureDatabase.OpenReadOnly(P("sharded.db")))
        {
            Assert.Equal(single.ReadImages().Select(i => (i.Id, i.Name, i.CameraId)), sharded.ReadImages().Select(i => (i.Id, i.Name, i.CameraId)));
            var a = single.ReadMap();
            var b = sharded.ReadMap();
            Assert.True(a.Count > 100, $"{a.Count} points");
            Assert.Equal(a.Count, b.Count);
            for (int k = 0; k < a.Count; k++)
            {
                Assert.Equal(a[k].Track, b[k].Track);
                Assert.True(Math.Abs(a[k].X - b[k].X) + Math.Abs(a[k].Y - b[k].Y) + Math.Abs(a[k].Z - b[k].Z) < 1e-6, $"point {a[k].Id} moved");
            }
        }
        Assert.Equal(File.ReadAllText(P("single.txt")), File.ReadAllText(P("sharded.txt")));
        Assert.Equal(File.ReadLines(P("single.inliers.txt")), File.ReadLines(P("sharded.inliers.txt")));
        Assert.Equal(File.ReadLines(P("single.csv")).Select(Status), File.ReadLines(P("sharded.csv")).Select(Status));
        // The merged outputs have one run description (the shards' counts and seconds together), so a
        // resumed query takes them as one run's and keeps every query (it refused: no run description).
        var merged = R2D2.Localization.Localization.QueryRunInfo.Read(R2D2.Localization.Localization.QueryRunInfo.PathFor(P("sharded.txt")));
        Assert.Equal(File.ReadLines(P("single.csv")).Count() - 1, int.Parse(merged.Settings.Single(x => x.Key == "queries").Value));
        Assert.Contains(merged.Settings, x => x.Key.StartsWith("merged_from", StringComparison.Ordinal));
        var resumed = CliTests.Localize(query.Concat(new[] { "--map", P("sharded.db"), "--output", P("sharded.txt"), "--resume" }).ToArray());
        Assert.True(resumed.Code is 0 or 1, resumed.Err);
        Assert.DoesNotContain("run description", resumed.Err);
        Assert.Equal(File.ReadAllText(P("single.txt")), File.ReadAllText(P("sharded.txt")));
        // A shard given twice is refused.
        var twice = CliTests.Localize(new[] { "merge", "--queries", query[2], "--outputs" }.Concat(outputs).Append(outputs[0]).Concat(new[] { "--out", P("w.txt") }).ToArray());
        Assert.Equal(1, twice.Code);
        Assert.Contains("given twice in --outputs", twice.Err);

        // So is a copy of a shard under another name (its run description says which shard it is).
        foreach (var (role, path) in R2D2.Localization.Localization.QueryOutputs.Files(outputs[0]))
            File.Copy(path!, path!.Replace("poses-0", "copy-0"));
        var copied = CliTests.Localize(new[] { "merge", "--queries", query[2], "--outputs" }.Concat(outputs).Append(P("copy-0.txt")).Concat(new[] { "--out", P("w.txt") }).ToArray());
        Assert.True(copied.Code == 1, copied.Err);
        Assert.Contains($"this shard is 0/{n}, as {R2D2.Localization.Localization.QueryRunInfo.PathFor(outputs[0])}'s: the same shard twice", copied.Err);
        // Outputs of a shard missing: refused, naming the list.
        var missing = CliTests.Localize(new[] { "merge", "--queries", query[2], "--outputs" }.Concat(outputs.Take(2)).Concat(new[] { "--out", P("x.txt") }).ToArray());
        Assert.Equal(1, missing.Code);
        Assert.Contains("in none of the outputs", missing.Err);

        // A shard's matches file or run description as --out (the merge replaced them: it reads them)
        // is refused, and so is a map (replaced by text); each is left as it was.
        foreach (var (o, said) in new[] { (R2D2.Localization.Formats.QueryMatches.PathFor(outputs[0]), "would overwrite the shard matches file"),
                     (R2D2.Localization.Localization.QueryRunInfo.PathFor(outputs[1]), "would overwrite the shard run description"), (P("sharded.db"), "is an SQLite database") })
        {
            var bytes = File.ReadAllBytes(o);
            var over = CliTests.Localize(new[] { "merge", "--queries", query[2], "--outputs" }.Concat(outputs).Concat(new[] { "--out", o }).ToArray());
            Assert.True(over.Code == 1, over.Err);
            Assert.Contains(said, over.Err);
            Assert.Equal(bytes, File.ReadAllBytes(o));
        }
        // So is a database as query's own --output (a features database, here; the map was refused already).
        var featureBytes = File.ReadAllBytes(P("features.db"));
        var overDatabase = CliTests.Localize(query.Concat(new[] { "--map", P("sharded.db"), "--output", P("features.db") }).ToArray());
        Assert.True(overDatabase.Code == 1, overDatabase.Err);
        Assert.Contains($"{P("features.db")}: is an SQLite database (a map or a feature database?), which the submission would replace", overDatabase.Err);
        Assert.Equal(featureBytes, File.ReadAllBytes(P("features.db")));
        // A shard localized with a list of other cameras under the same names: refused (merged without a word).
        var otherCameras = P("other-cameras.txt");
        File.WriteAllLines(otherCameras, File.ReadAllLines(query[2]).Select(l => l.Split(' ') is { Length: >= 5 } f && double.TryParse(f[4], System.Globalization.CultureInfo.InvariantCulture, out var focal)
            ? string.Join(' ', f.Take(4).Append((focal * 1.1).ToString(System.Globalization.CultureInfo.InvariantCulture)).Concat(f.Skip(5))) : l));
        var otherQuery = (string[])query.Clone();
        otherQuery[2] = otherCameras;
        Ran(CliTests.Localize(otherQuery.Concat(new[] { "--map", P("sharded.db"), "--shard", $"1/{n}", "--output", P("poses-1b.txt") }).ToArray()));
        var otherList = CliTests.Localize("merge", "--queries", query[2], "--outputs", outputs[0], P("poses-1b.txt"), outputs[2], "--out", P("v.txt"));
        Assert.True(otherList.Code == 1, otherList.Err);
        Assert.Contains("this shard was localized with another query list", otherList.Err);
        Assert.False(File.Exists(P("v.txt")));
        // A shard run against another map (its run description says so): refused, nothing written.
        var runInfo = R2D2.Localization.Localization.QueryRunInfo.PathFor(outputs[1]);
        File.WriteAllText(runInfo, File.ReadAllText(runInfo).Replace(P("sharded.db"), P("other.db")));
        var mixed = CliTests.Localize(new[] { "merge", "--queries", query[2], "--outputs" }.Concat(outputs).Concat(new[] { "--out", P("y.txt") }).ToArray());
        Assert.Equal(1, mixed.Code);
        Assert.Contains($"map: {P("sharded.db")} → {P("other.db")}", mixed.Err);
        Assert.False(File.Exists(P("y.txt")));
        // Nor unchecked when that shard's description is missing (the merged one claimed its queries).
        File.Move(runInfo, runInfo + ".away");
        var undescribed = CliTests.Localize(new[] { "merge", "--queries", query[2], "--outputs" }.Concat(outputs).Concat(new[] { "--out", P("y.txt") }).ToArray());
        Assert.Equal(1, undescribed.Code);
        Assert.Contains($"{runInfo}: not found, while ", undescribed.Err);
        Assert.False(File.Exists(P("y.txt")));
        File.Move(runInfo + ".away", runInfo);

        // A database merge refused half-way (an input holds a map) leaves no temporary file; a folder as --out is named as such.
        var withMap = CliTests.Localize("merge", "--databases", P("features.db"), P("sharded.db"), "--out", P("z.db"));
        Assert.Equal(1, withMap.Code);
        Assert.Contains("holds a map", withMap.Err);
        Assert.Empty(Directory.GetFiles(dir, ".z.db.merge*"));
        Assert.False(File.Exists(P("z.db")));
        var folder = CliTests.Localize("merge", "--databases", P("features.db"), "--out", dir + "/");
        Assert.Equal(2, folder.Code); // a usage error
        Assert.Contains("is a folder", folder.Err);
        Assert.Empty(Directory.GetFiles(dir, ".merge*"));

        // A built map as --out is not replaced (it was, silently), nor a file that is no database;
        // match shards without the features database they were made on are refused.
        var mapBytes = File.ReadAllBytes(P("sharded.db"));
        var overMap = CliTests.Localize(merge);
        Assert.Equal(1, overMap.Code);
        Assert.Contains($"--out {P("sharded.db")} holds a map", overMap.Err);
        Assert.Equal(mapBytes, File.ReadAllBytes(P("sharded.db")));
        File.WriteAllText(P("notes.txt"), "not a database");
        var overText = CliTests.Localize("merge", "--databases", P("features.db"), "--out", P("notes.txt"));
        Assert.Equal(1, overText.Code);
        Assert.Contains("exists and is not a feature database", overText.Err);
        Assert.Equal("not a database", File.ReadAllText(P("notes.txt")));
        var matchesOnly = CliTests.Localize(new[] { "merge", "--databases" }.Concat(Enumerable.Range(0, n).Select(i => P($"match-{i}.db"))).Concat(new[] { "--out", P("m.db") }).ToArray());
        Assert.Equal(1, matchesOnly.Code);
        Assert.Contains("but no image's features", matchesOnly.Err);
        Assert.False(File.Exists(P("m.db")));
        Assert.Empty(Directory.GetFiles(dir, ".m.db.merge*"));

        // A database no merge wrote (here another job's shard; in a Slurm run, features of another
        // model given as --map) is not replaced (it was, silently), nor one a merge of other inputs
        // wrote; a rerun of the same merge replaces its own output.
        var shardBytes = File.ReadAllBytes(P("other-job.db"));
        var overShard = CliTests.Localize("merge", "--databases", P("features.db"), "--out", P("other-job.db"));
        Assert.Equal(1, overShard.Code);
        Assert.Contains($"--out {P("other-job.db")} holds ", overShard.Err);
        Assert.Contains("images that no merge wrote: not replaced", overShard.Err);
        Assert.Equal(shardBytes, File.ReadAllBytes(P("other-job.db")));
        Ok(CliTests.Localize("merge", "--databases", P("features.db"), "--out", P("f2.db")));
        Ok(CliTests.Localize("merge", "--databases", P("features.db"), "--out", P("f2.db")));
        var otherInputs = CliTests.Localize(new[] { "merge", "--databases" }.Concat(extracts).Concat(new[] { "--out", P("f2.db") }).ToArray());
        Assert.Equal(1, otherInputs.Code);
        Assert.Contains("that a merge of other inputs wrote", otherInputs.Err);
        var folderInput = CliTests.Localize("merge", "--databases", dir, "--out", P("f3.db"));
        Assert.Contains("is a folder, not a database", folderInput.Err);
    }

    [Fact]
    public void ExtractAndMatchShardsOutsideAMapBuildMergeIntoOneRunsDatabase()
    {
        var (dir, _, _) = Demo(day: 4);
        string P(string name) => Path.Combine(dir, name);
        var day = Path.Combine(dir, "images", "day");
        var extract = new[] { "extract", "--model", "rootsift", "--images", day };
        Ok(CliTests.Localize(extract.Concat(new[] { "--database", P("one.db") }).ToArray()));
        Ok(CliTests.Localize("match", "--database", P("one.db"), "--pairs", "exhaustive"));
        for (int i = 0; i < 2; i++)
            Ok(CliTests.Localize(extract.Concat(new[] { "--database", P($"e{i}.db"), "--shard", $"{i}/2" }).ToArray()));
        Ok(CliTests.Localize("merge", "--databases", P("e0.db"), P("e1.db"), "--out", P("features.db")));
        for (int i = 0; i < 2; i++)
            Ok(CliTests.Localize("match", "--database", P("features.db"), "--pairs", "exhaustive", "--shard", $"{i}/2", "--out", P($"m{i}.db")));
        Ok(CliTests.Localize("merge", "--databases", P("features.db"), P("m0.db"), P("m1.db"), "--out", P("merged.db")));
        Assert.Equal(Rows(P("one.db")), Rows(P("merged.db")));
    }

    [Fact]
    public void AMergeRefusesAnotherExtractorAndAnotherRegistration()
    {
        var dir = TempDir.Create();
        FeatureDatabase Db(string name, string settings, params string[] images)
        {
            var db = FeatureDatabase.Open(Path.Combine(dir, name));
            db.UseExtractor(ExtractorIdentity.ForRootSift(settings));
            int cam = db.AddCamera(SyntheticMap.Camera);
            foreach (var i in images) db.AddImage(i, cam);
            return db;
        }
        using var a = Db("a.db", "{\"max_features\":5000}", "x.jpg", "y.jpg");
        using var b = Db("b.db", "{\"max_features\":4000}", "x.jpg", "y.jpg");
        using var c = Db("c.db", "{\"max_features\":5000}", "y.jpg", "x.jpg");
        using var merged = FeatureDatabase.Open(Path.Combine(dir, "merged.db"));
        merged.MergeFrom(a, Array.Empty<string>());
        merged.MergeFrom(a, Array.Empty<string>()); // again: nothing changes
        Assert.Equal(2, merged.ReadImages().Count);
        Assert.Contains("another model or settings", Assert.Throws<FeatureDatabaseException>(() => merged.MergeFrom(b, Array.Empty<string>())).Message);
        Assert.Contains("image 1 ('y.jpg') differs", Assert.Throws<FeatureDatabaseException>(() => merged.MergeFrom(c, Array.Empty<string>())).Message);
    }

    /// <summary>A CSV line without its times (which differ between runs).</summary>
    private static string Status(string csvLine)
    {
        var f = csvLine.Split(',');
        return string.Join(",", f.Take(5).Concat(f.Skip(8)));
    }

    /// <summary>What a database holds, row by row (features, matches and their blobs), for comparing two merges.</summary>
    private static List<string> Rows(string path)
    {
        using var db = FeatureDatabase.OpenReadOnly(path);
        var rows = new List<string> { db.Summary().ToString().Replace(path, "") };
        foreach (var im in db.ReadImages())
        {
            var f = db.ReadFeatures(im.Id)!;
            rows.Add($"{im.Id} {im.Name} {im.CameraId} {f.Count} {Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Blobs(f.Descriptors)))}");
        }
        foreach (var p in db.ListMatchedPairs())
            rows.Add($"{p.ImageId1}-{p.ImageId2}: {string.Join(" ", db.ReadMatches(p.ImageId1, p.ImageId2)!.Select(m => $"{m.I}:{m.J}"))}");
        return rows;
    }

    private static byte[] Blobs(float[] v) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();
}
