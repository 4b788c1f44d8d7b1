using System.Diagnostics;
using System.Globalization;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;
using Xunit;

namespace R2D2.Localization.Tests;

public class AachenTests
{
    [Fact]
    public void TheScriptTurnsTheSampleDatasetIntoAWellFormedSubmission()
    {
        var dataset = SharedData.Path_("datasets", "formats", "Aachen-Day-Night");
        var outDir = TempDir.Create();
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(SharedData.RepoRoot, "tools", "aachen", "run"), "--dataset", dataset,
                     "--model", SharedData.Model("r2d2_WASF_N16"), "--out", outDir, "--day", "--top-k=2000", "--max-size=384", "--min-size", "192", "--min-scale", "0",
                     "--allow-empty" }) // the sample's few database images may give no 3D point; --opt=value replaces a default (it went beside it)
            psi.ArgumentList.Add(a);
        // The localize next to the tests (same build), not a Release build that may be stale.
        psi.Environment["LOCALIZE"] = Path.Combine(AppContext.BaseDirectory, "localize");
        (int Code, string Err) RunScript()
        {
            using var run = Process.Start(psi)!;
            var err = run.StandardError.ReadToEndAsync();
            run.StandardOutput.ReadToEnd();
            run.WaitForExit();
            return (run.ExitCode, err.Result);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, stderr.Result + stdout.Result);
        var lines = File.ReadAllLines(Path.Combine(outDir, "submission.txt")).Where(l => l.Length > 0).ToList();
        var queries = File.ReadAllLines(Path.Combine(dataset, "queries", "day_time_queries_with_intrinsics.txt")).Where(l => l.Trim().Length > 0)
            .Select(l => Path.GetFileName(l.Split(' ')[0])).ToList();
        Assert.Equal(queries.OrderBy(x => x), lines.Select(l => l.Split(' ')[0]).OrderBy(x => x));
        foreach (var l in lines)
        {
            var f = l.Split(' ');
            Assert.Equal(8, f.Length);
            var q = f.Skip(1).Take(4).Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            Assert.Equal(1, Math.Sqrt(q.Sum(v => v * v)), 6);
            Assert.All(f.Skip(5), v => Assert.True(double.IsFinite(double.Parse(v, CultureInfo.InvariantCulture))));
        }
        // An option of query's goes to the queries (it was refused, being no build-map option); a
        // rerun with another value is refused, saying how to localize every query again (--requery).
        psi.ArgumentList.Add("--pnp-threshold");
        psi.ArgumentList.Add("12");
        var (code8, err8) = RunScript();
        Assert.Equal(1, code8);
        Assert.True(err8.Contains("localizer.pnp_threshold_px: 8 → 12") && err8.Contains("add --requery"), err8);
        psi.ArgumentList.Add("--requery");
        var (code9, err9) = RunScript();
        Assert.True(code9 == 0, err9);
        Assert.Contains("\"pnp_threshold_px\": 12", File.ReadAllText(Path.Combine(outDir, "day_time.run.json")));
        // The network's precision is part of the run (bf16 features are not fp32's).
        Assert.Contains(("extractor.precision", "fp32"), QueryRunInfo.Read(Path.Combine(outDir, "day_time.run.json")).Settings);
        foreach (var _ in new[] { "--requery", "12", "--pnp-threshold" }) psi.ArgumentList.RemoveAt(psi.ArgumentList.Count - 1);
        // The checks name the file and line of a missing image.
        var broken = TempDir.Create();
        TempDir.CopyTree(dataset, broken);
        File.Delete(Path.Combine(broken, "images_upright", "db", "4446.jpg"));
        psi.ArgumentList[2] = broken;
        var (code2, err2) = RunScript();
        Assert.Equal(1, code2);
        Assert.True(err2.Contains("aachen_cvpr2018_db.nvm:5: image db/4446.jpg not found"), err2);
        // An NVM without the blank line after its header (Aachen's has one; localize reads both): the
        // same check, one line up (the count was taken from line 3, and the script died on "db: unbound variable").
        var nvm = Path.Combine(broken, "3D-models", "aachen_cvpr2018_db.nvm");
        File.WriteAllLines(nvm, File.ReadAllLines(nvm).Where((l, i) => i != 1 || l.Trim().Length > 0));
        var (code4, err4) = RunScript();
        Assert.Equal(1, code4);
        Assert.True(err4.Contains("aachen_cvpr2018_db.nvm:4: image db/4446.jpg not found"), err4);
        // Every model of the NVM is checked, as localize reads them all: an image of the second one too
        // (only the first model's were checked, and counted for the disk estimate).
        File.Copy(SharedData.Path_("datasets", "formats", "Aachen-Day-Night", "3D-models", "aachen_two_parts.nvm"), nvm, overwrite: true);
        File.Delete(Path.Combine(broken, "images_upright", "db", "1135.jpg"));
        var (code6, err6) = RunScript();
        Assert.Equal(1, code6);
        Assert.True(err6.Contains("aachen_cvpr2018_db.nvm:5: image db/4446.jpg not found") && err6.Contains("aachen_cvpr2018_db.nvm:13: image db/1135.jpg not found"), err6);
        // A name is tested, never run: a query list line "$(id>X).jpg" ran the command (awk's system()).
        var witness = Path.Combine(TempDir.Create(), "ran");
        var injected = TempDir.Create();
        TempDir.CopyTree(dataset, injected);
        psi.ArgumentList[2] = injected;
        File.AppendAllText(Path.Combine(injected, "queries", "day_time_queries_with_intrinsics.txt"), $"\n$(id>{witness}).jpg SIMPLE_RADIAL 1600 1200 1469.2 800 600 -0.03\n");
        var (code7, err7) = RunScript();
        Assert.Equal(1, code7);
        Assert.True(err7.Contains($"image $(id>{witness}).jpg not found"), err7);
        Assert.False(File.Exists(witness));
        // A VLB pairs file without database pairs is said before the map (the script exited 1 without a word).
        var vlb = TempDir.Create();
        File.Copy(SharedData.Path_("datasets", "formats", "aachen-vlb", "database.db"), Path.Combine(vlb, "database.db"));
        File.WriteAllLines(Path.Combine(vlb, "image_pairs_to_match.txt"),
            File.ReadLines(SharedData.Path_("datasets", "formats", "aachen-vlb", "image_pairs_to_match.txt")).Where(l => l.StartsWith("query", StringComparison.Ordinal)));
        psi.ArgumentList[2] = dataset;
        psi.ArgumentList.Add("--vlb");
        psi.ArgumentList.Add(vlb);
        var (code5, err5) = RunScript();
        Assert.Equal(1, code5);
        Assert.True(err5.Contains("no database pairs"), err5);
        psi.ArgumentList.RemoveAt(psi.ArgumentList.Count - 1);
        psi.ArgumentList.RemoveAt(psi.ArgumentList.Count - 1);
        // An option neither the script's nor build-map's fails before the dataset is looked at (it
        // reached localize only after the checks); so does a --top-k that is not a number.
        foreach (var (extra, said) in new[] { ("--topk", "--topk: not an option of this script nor of localize build-map"), ("--top-k", "--top-k x: expected a number"),
                     ("--query-matches", "--query-matches needs --query-pairs"), ("--csv", "--csv: this script sets it for the queries") })
        {
            psi.ArgumentList[2] = "/nonexistent/aachen";
            psi.ArgumentList.Add(extra);
            psi.ArgumentList.Add("x");
            var (code3, err3) = RunScript();
            Assert.Equal(1, code3);
            Assert.True(err3.Contains(said), err3);
            psi.ArgumentList.RemoveAt(psi.ArgumentList.Count - 1);
            psi.ArgumentList.RemoveAt(psi.ArgumentList.Count - 1);
        }
    }

    /// <summary>`--model hloc:FILE`: hloc's features of the database and query images (here this
    /// project's, exported as hloc's features.h5) go through the script without extraction, and the
    /// R2D2 defaults (--top-k 20000…) are left out, which build-map would refuse with them.</summary>
    [Fact]
    public void TheScriptTakesHlocsFeatures()
    {
        var dataset = SharedData.Path_("datasets", "formats", "Aachen-Day-Night");
        var dir = TempDir.Create();
        var db = Path.Combine(dir, "all.db");
        var (code, stdout, err) = CliTests.Localize("extract", "--images", Path.Combine(dataset, "images_upright"), "--database", db,
            "--model", SharedData.Model("r2d2_WASF_N16"), "--top-k", "2000", "--max-size", "384", "--min-size", "192", "--min-scale", "0");
        Assert.True(code == 0, err + stdout);
        (code, stdout, err) = CliTests.Localize("convert", "--from", db, "--to", Path.Combine(dir, "hloc"), "--format", "hloc");
        Assert.True(code == 0, err + stdout);
        (int Code, string Out, string Err) Script(string features, string outDir, params string[] extra)
        {
            var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var a in new[] { Path.Combine(SharedData.RepoRoot, "tools", "aachen", "run"), "--dataset", dataset,
                         "--model", "hloc:" + features, "--out", outDir, "--day", "--allow-empty" }.Concat(extra))
                psi.ArgumentList.Add(a);
            psi.Environment["LOCALIZE"] = Path.Combine(AppContext.BaseDirectory, "localize");
            using var p = Process.Start(psi)!;
            var so = p.StandardOutput.ReadToEndAsync();
            var se = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            return (p.ExitCode, so.Result, se.Result);
        }
        // A features file of the database images alone: refused before the map (it was found only
        // at the query step, after the map's work).
        (code, stdout, err) = CliTests.Localize("extract", "--images", Path.Combine(dataset, "images_upright", "db"), "--database", Path.Combine(dir, "db.db"),
            "--model", SharedData.Model("r2d2_WASF_N16"), "--top-k", "2000", "--max-size", "384", "--min-size", "192", "--min-scale", "0");
        Assert.True(code == 0, err + stdout);
        (code, stdout, err) = CliTests.Localize("convert", "--from", Path.Combine(dir, "db.db"), "--to", Path.Combine(dir, "hloc-db"), "--format", "hloc");
        Assert.True(code == 0, err + stdout);
        var lacking = Script(Path.Combine(dir, "hloc-db", "features.h5"), Path.Combine(dir, "out-db"));
        Assert.Equal(1, lacking.Code);
        Assert.Contains("holds no features for", lacking.Err);
        Assert.False(File.Exists(Path.Combine(dir, "out-db", "aachen.db")));
        var run = Script(Path.Combine(dir, "hloc", "features.h5"), Path.Combine(dir, "out"));
        Assert.True(run.Code == 0, run.Err + run.Out);
        Assert.Equal(4, File.ReadAllLines(Path.Combine(dir, "out", "submission.txt")).Count(l => l.Length > 0));
        using var map = FeatureDatabase.OpenReadOnly(Path.Combine(dir, "out", "aachen.db"));
        Assert.Equal("hloc", map.Extractor!.FeatureType);
        Assert.Equal("hloc:" + Path.Combine(dir, "hloc", "features.h5"), map.ReadNote("model_path"));
        // hloc's query pairs and their matches (SuperGlue's, say; here every query keypoint matched to
        // nothing) go to the queries' run, which records them (the sample's map has no point, so what
        // is checked is the script's wiring; InteropCliTests checks that the matches are the file's).
        var features = Path.Combine(dir, "hloc", "features.h5");
        var names = Hloc.ListImages(features);
        var queryPairs = names.Where(n => !n.StartsWith("db/", StringComparison.Ordinal))
            .SelectMany(q => names.Where(n => n.StartsWith("db/", StringComparison.Ordinal)).Select(d => (Query: q, Db: d))).ToList();
        File.WriteAllLines(Path.Combine(dir, "pairs-query.txt"), queryPairs.Select(p => $"{p.Query} {p.Db}"));
        Hloc.WriteMatches(Path.Combine(dir, "matches-query.h5"), queryPairs.Select(p =>
        {
            int n = Hloc.ReadFeatures(features, p.Query).Count;
            return (p.Query, p.Db, Enumerable.Repeat(-1, n).ToArray(), new float[n]);
        }));
        var imported = Script(features, Path.Combine(dir, "out"), "--query-pairs", Path.Combine(dir, "pairs-query.txt"),
            "--query-matches", Path.Combine(dir, "matches-query.h5"), "--requery");
        Assert.True(imported.Code == 0, imported.Err + imported.Out);
        Assert.Contains("0 localized", imported.Out);
        Assert.Contains("\"query_matches_file\"", File.ReadAllText(Path.Combine(dir, "out", "day_time.run.json")));
    }

    [Theory]
    [InlineData("database.db", "image_pairs_to_match.txt", 14941, false)]
    [InlineData("database_v1_1.db", "image_pairs_to_match_v1_1.txt", 60424, true)]
    public void ReadsTheLocalFeatureEvaluationDatabasesAndPairsCompletely(string db, string pairs, int expected, bool calibrated)
    {
        var sw = Stopwatch.StartNew();
        var dir = SharedData.Path_("datasets", "formats", "aachen-vlb");
        using var d = FeatureDatabase.OpenReadOnly(Path.Combine(dir, db));
        var ids = d.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        // v1.1's cameras are calibrated (prior_focal_length 1); v1.0's are COLMAP's initial guesses
        // (prior_focal_length 0, f = 1.2 × 1600, no distortion), not intrinsics: refused as such.
        if (calibrated) Assert.Equal(ids.Count, R2D2.Localization.Pipeline.CameraFiles.Read(Path.Combine(dir, db)).Count);
        else
            Assert.Contains("has no prior focal length (prior_focal_length 0) and COLMAP's initial guess for intrinsics (f = 1.2 × 1600",
                Assert.Throws<FeatureDatabaseException>(() => R2D2.Localization.Pipeline.CameraFiles.Read(Path.Combine(dir, db))).Message);
        // convert --from the database: a guess is no camera there either (it was written as a calibration).
        var warnings = new List<string>();
        var converted = R2D2.Localization.Pipeline.ConvertRunner.Read(Path.Combine(dir, db), warn: warnings.Add);
        Assert.Equal(ids.Count, converted.Count);
        if (calibrated) Assert.All(converted, c => Assert.NotNull(c.Camera));
        else
        {
            Assert.Contains(converted, c => c.Camera == null);
            Assert.DoesNotContain(converted, c => c.Camera != null && R2D2.Localization.Geometry.ColmapGuess.Is(c.Camera));
            Assert.Contains(warnings, w => w.Contains("have no prior focal length (COLMAP's initial guess, not a calibration)"));
        }
        // A database of calibrated cameras without the prior flag (this project's maps store them so) is read.
        var own = Path.Combine(TempDir.Create(), "own.db");
        using (var w = FeatureDatabase.Open(own))
            w.AddImage("a.jpg", w.AddCamera(new R2D2.Localization.Geometry.Camera(0, R2D2.Localization.Geometry.CameraModel.SimpleRadial, 1600, 1067, new[] { 1084.59, 799.5, 533, -0.08 })));
        Assert.Equal(1084.59, R2D2.Localization.Pipeline.CameraFiles.Read(own)["a.jpg"].Params[0], 6);
        int lines = File.ReadLines(Path.Combine(dir, pairs)).Count(l => l.Trim().Length > 0);
        Assert.Equal(expected, lines);
        // Every pair's names resolve to image ids (PairSources throws with file:line otherwise).
        var list = PairSources.ReadFile(Path.Combine(dir, pairs), ids.Keys.ToHashSet());
        Assert.All(list, p => { Assert.True(ids.ContainsKey(p.Name1)); Assert.True(ids.ContainsKey(p.Name2)); });
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20), $"{sw.Elapsed.TotalSeconds:F1} s");
    }
}
