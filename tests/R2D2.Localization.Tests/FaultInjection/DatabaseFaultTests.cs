using Microsoft.Data.Sqlite;
using R2D2.Localization.Features;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Mapping;
using R2D2.Localization.Matching;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Storage;
using Xunit;
using static R2D2.Localization.Tests.Storage.StorageTestData;

namespace R2D2.Localization.Tests.FaultInjection;

/// <summary>A small map built once for the class (3 Fountain images, a 128–256 px pyramid); tests work on copies.</summary>
public sealed class SmallMap
{
    public static string Scene => SharedData.Path_("datasets", "strecha", "fountain-P11");
    public static string Model => SharedData.Model("r2d2_WASF_N16");
    public static readonly string[] Images = { "0002.jpg", "0004.jpg", "0006.jpg" };

    public string Path { get; }
    public string Queries { get; }

    public SmallMap()
    {
        var dir = TempDir.Create();
        Path = System.IO.Path.Combine(dir, "map.db");
        var (code, stdout, err) = CliTests.Localize(BuildArgs(Path, System.IO.Path.Combine(Scene, "cameras")));
        Assert.True(code == 0, err + stdout);
        Queries = System.IO.Path.Combine(dir, "queries.txt");
        File.WriteAllText(Queries, "0003.jpg PINHOLE 3072 2048 2759.48 2764.16 1521.19 1007.31\n");
    }

    public static string[] BuildArgs(string map, string cameras, params string[] extra) =>
        new[] { "build-map", "--images", System.IO.Path.Combine(Scene, "images"), "--poses", cameras, "--only" }.Concat(Images)
            .Concat(new[] { "--map", map, "--model", Model, "--min-size", "128", "--max-size", "256", "--export", "none" }).Concat(extra).ToArray();

    /// <summary>A copy of the map in a folder of its own.</summary>
    public string Copy()
    {
        var path = System.IO.Path.Combine(TempDir.Create(), "map.db");
        File.Copy(Path, path);
        return path;
    }
}

/// <summary>
/// Faults around the feature database and the map (issues 12.4, 13.6–13.8): read-only storage, a
/// map without its retrieval index, builds that end empty or resume with other inputs, names
/// COLMAP's text export cannot hold. Each case checks the exit code and message, that a database
/// given as input is byte-identical afterwards, and that no -wal/-shm is left beside it.
/// </summary>
public class DatabaseFaultTests : IClassFixture<SmallMap>
{
    private readonly SmallMap _map;

    public DatabaseFaultTests(SmallMap map) => _map = map;

    /// <summary>A map, or a killed build, of images since replaced under their names holds the earlier
    /// images' features: a rerun is refused naming the image (strecha-loc reused such a map without
    /// a word); the same images again resume as before.</summary>
    [Fact]
    public void ARebuildOverImagesReplacedSinceIsRefused()
    {
        var dir = TempDir.Create();
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        foreach (var name in SmallMap.Images) File.Copy(Path.Combine(SmallMap.Scene, "images", name), Path.Combine(images, name));
        var db = Path.Combine(dir, "map.db");
        string[] Args() => new[] { "build-map", "--images", images, "--poses", Path.Combine(SmallMap.Scene, "cameras"), "--only" }.Concat(SmallMap.Images)
            .Concat(new[] { "--map", db, "--model", "rootsift", "--export", "none" }).ToArray();
        var (code, _, err) = CliTests.Localize(Args());
        Assert.True(code == 0, err);
        (code, _, err) = CliTests.Localize(Args());
        Assert.True(code == 0, err);
        var before = File.ReadAllBytes(db);
        File.Copy(Path.Combine(SmallMap.Scene, "images", "0003.jpg"), Path.Combine(images, "0004.jpg"), overwrite: true);
        (code, _, err) = CliTests.Localize(Args());
        Assert.Equal(1, code);
        Assert.Contains($"{Path.Combine(images, "0004.jpg")}: is not the image {db} was built from", err);
        Assert.Equal(before, File.ReadAllBytes(db));
        (code, _, err) = CliTests.Localize(Args().Append("--check").ToArray()); // the pre-flight says it too
        Assert.Equal(1, code);
        Assert.Contains("is not the image", err);
        // Images the extraction would refuse (over --max-pixels) are the pre-flight's too: it passed them.
        var fresh = Path.Combine(dir, "fresh.db");
        (code, _, err) = CliTests.Localize(Args().Select(a => a == db ? fresh : a).Concat(new[] { "--max-pixels", "10", "--check" }).ToArray());
        Assert.Equal(1, code);
        Assert.Contains($"{SmallMap.Images.Length} map images of {SmallMap.Images.Length} would not be extracted; first: {Path.Combine(images, SmallMap.Images[0])}: image is", err);
        Assert.Contains("over the limit of 10 pixels (--max-pixels)", err);
        Assert.False(File.Exists(fresh));
    }

    private static void AssertNoWalFiles(string db)
    {
        Assert.False(File.Exists(db + "-wal"), db + "-wal left behind");
        Assert.False(File.Exists(db + "-shm"), db + "-shm left behind");
    }

    private static void WriteProtect(string path)
    {
        if (OperatingSystem.IsWindows()) File.SetAttributes(path, FileAttributes.ReadOnly);
        else File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    private static void AssertCleanError((int Code, string Out, string Err) r, params string[] words)
    {
        Assert.True(r.Code == 1, $"exit {r.Code}: {r.Err}{r.Out}");
        foreach (var w in words) Assert.True(r.Err.Contains(w), $"'{w}' not in: {r.Err}");
        Assert.DoesNotContain("   at ", r.Err);
        Assert.DoesNotContain("Exception", r.Err);
    }

    private (int Code, string Out, string Err) Query(string db, string output, params string[] extra) =>
        CliTests.Localize(new[] { "query", "--map", db, "--queries", _map.Queries, "--images", Path.Combine(SmallMap.Scene, "images"), "--output", output }
            .Concat(extra).ToArray());

    // ---- 13.6: read-only storage ---------------------------------------------------------------

    // A read-only bind mount in a private mount namespace (nothing changes outside the child):
    // root ignores permission bits, not a read-only mount.
    private const string ReadOnlyMount = "mount --bind \"$0\" \"$0\" && mount -o remount,bind,ro \"$0\" \"$0\"";

    private static readonly Lazy<bool> CanMountReadOnly = new(() =>
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            var dir = TempDir.Create();
            var (code, _, _) = CliTests.Run("unshare", "-m", "--", "sh", "-c", ReadOnlyMount + " && ! touch \"$0/probe\" 2>/dev/null", dir);
            return code == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no unshare
        }
    });

    /// <summary>`localize ARGS` with <paramref name="folder"/> on read-only storage.</summary>
    private static (int Code, string Out, string Err) LocalizeReadOnly(string folder, params string[] args) =>
        CliTests.Run("unshare", new[] { "-m", "--", "sh", "-c", ReadOnlyMount + " && exec dotnet \"$@\"", folder, Path.Combine(AppContext.BaseDirectory, "localize.dll") }
            .Concat(args).ToArray());

    /// <summary>An output on read-only storage names the output and its folder (.NET's message named
    /// the hidden temporary file: "Access to the path '…/.features.h5.123.….tmp' is denied").</summary>
    [Fact]
    public void AnOutputOnReadOnlyStorageNamesTheOutput()
    {
        if (!CanMountReadOnly.Value) return;
        var db = _map.Copy();
        var folder = TempDir.Create();
        var (code, stdout, err) = LocalizeReadOnly(folder, "convert", "--from", db, "--to", folder, "--format", "hloc");
        Assert.True(code == 1, stdout + err);
        Assert.Contains($"{Path.Combine(folder, "features.h5")}: cannot be written: its folder {folder} is not writable", err);
        Assert.DoesNotContain(".tmp", err);
    }

    [Fact]
    public void QueryAndReportReadAMapOnReadOnlyStorageAndWritesSayReadOnly()
    {
        var db = _map.Copy();
        var folder = Path.GetDirectoryName(db)!;
        var outDir = TempDir.Create();
        var poses = Path.Combine(outDir, "poses.txt");
        string before = Sha(db);
        if (!CanMountReadOnly.Value)
        {
            // Without mount namespaces: the write-protected file takes the same (immutable) path.
            WriteProtect(db);
            Assert.Equal(0, Query(db, poses).Code);
            AssertCleanError(CliTests.Localize(SmallMap.BuildArgs(db, Path.Combine(SmallMap.Scene, "cameras"))), db, "read-only");
        }
        else
        {
            var q = LocalizeReadOnly(folder, "query", "--map", db, "--queries", _map.Queries, "--images", Path.Combine(SmallMap.Scene, "images"),
                "--output", poses, "--retrieval", "2");
            Assert.True(q.Code == 0, q.Err + q.Out);
            Assert.Contains("query: 1 query, 1 localized", q.Out);
            var report = LocalizeReadOnly(folder, "report", "--map", db, "--poses", poses, "--query-images", Path.Combine(SmallMap.Scene, "images"),
                "--output", Path.Combine(outDir, "report.html"));
            Assert.True(report.Code == 0, report.Err + report.Out);
            Assert.True(File.Exists(Path.Combine(outDir, "report.html")));
            // Commands that write say so, instead of SQLite's "unable to open" (error 14) or "readonly database" (8).
            var build = LocalizeReadOnly(folder, SmallMap.BuildArgs(db, Path.Combine(SmallMap.Scene, "cameras")));
            AssertCleanError(build, db, "read-only storage", "copy it to writable storage");
            Assert.DoesNotContain("SQLite error", build.Err);
        }
        Assert.Equal(before, Sha(db));
        AssertNoWalFiles(db);
        Assert.Single(Directory.GetFiles(folder));
    }

    [Fact]
    public void AReadOnlyOpenLeavesNoWalOrShmAndLeavesAWritersOwnAlone()
    {
        var db = _map.Copy();
        string before = Sha(db);
        // A WAL database (header bytes 18–19 = 2), where a plain read-only open creates -wal/-shm and leaves them.
        Assert.Equal(new byte[] { 2, 2 }, File.ReadAllBytes(db)[18..20]);

        using (var d = FeatureDatabase.OpenReadOnly(db)) Assert.True(d.ReadMap().Count > 50);
        AssertNoWalFiles(db);
        Assert.Equal(before, Sha(db));

        // While a writer has the file open, the -wal/-shm are its own: a reader closing leaves them.
        using (var writer = FeatureDatabase.Open(db))
        {
            using (var reader = FeatureDatabase.OpenReadOnly(db)) Assert.True(reader.HasMap);
            Assert.True(File.Exists(db + "-wal"));
            writer.WriteNote("after_reader", "1");
            using (var reader = FeatureDatabase.OpenReadOnly(db)) Assert.Equal("1", reader.ReadNote("after_reader"));
        }
        AssertNoWalFiles(db);

        // The query command too: the map is byte for byte as it was, nothing beside it.
        var db2 = _map.Copy();
        before = Sha(db2);
        var q = Query(db2, Path.Combine(TempDir.Create(), "poses.txt"));
        Assert.True(q.Code == 0, q.Err);
        Assert.Equal(before, Sha(db2));
        AssertNoWalFiles(db2);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(db2)!));
        // 2D–2D matching reads the images' features through a second connection: closed too.
        q = Query(db2, Path.Combine(TempDir.Create(), "poses.txt"), "--matching", "2d2d");
        Assert.True(q.Code == 0, q.Err);
        AssertNoWalFiles(db2);

        // Through a symbolic link: SQLite's -wal/-shm go beside the link's target, and stay away there too.
        var link = Path.Combine(TempDir.Create(), "link.db");
        File.CreateSymbolicLink(link, db2);
        using (var d = FeatureDatabase.OpenReadOnly(link)) Assert.True(d.HasMap);
        q = Query(link, Path.Combine(TempDir.Create(), "poses.txt"));
        Assert.True(q.Code == 0, q.Err);
        Assert.Equal(before, Sha(db2));
        AssertNoWalFiles(db2);
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(db2)!));
    }

    /// <summary>A reader killed before it closed leaves an empty -wal and its -shm; they used to stay
    /// for good, as every later reader took them for another connection's.</summary>
    [Fact]
    public void EmptyWalFilesLeftByAKilledReaderAreRemovedByTheNextReader()
    {
        var db = _map.Copy();
        string before = Sha(db);
        // What a killed reader leaves: a plain read-only SQLite open that never gets to remove them.
        using (var raw = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={db};Mode=ReadOnly;Pooling=False"))
        {
            raw.Open();
            using var cmd = raw.CreateCommand();
            cmd.CommandText = "SELECT count(*) FROM sqlite_master";
            cmd.ExecuteScalar();
        }
        Assert.Equal(0, new FileInfo(db + "-wal").Length);
        Assert.True(File.Exists(db + "-shm"));

        using (var d = FeatureDatabase.OpenReadOnly(db)) Assert.True(d.HasMap);
        AssertNoWalFiles(db);
        Assert.Equal(before, Sha(db));
    }

    [Fact]
    public void OnlyFilesSqliteCannotOrMustNotWriteAreReadImmutably()
    {
        var db = _map.Copy();
        var writable = FeatureDatabase.ConnectionKind.ReaderOf(db);
        Assert.Equal(new FeatureDatabase.ConnectionKind(ReadOnly: true, Immutable: false, RemovesWalFiles: true), writable);
        WriteProtect(db);
        Assert.Equal(new FeatureDatabase.ConnectionKind(true, true, false), FeatureDatabase.ConnectionKind.ReaderOf(db));
        // A write-protected file with a live WAL: immutable would miss its last commits.
        File.WriteAllBytes(db + "-wal", new byte[] { 1 });
        Assert.False(FeatureDatabase.ConnectionKind.ReaderOf(db).Immutable);
        File.Delete(db + "-wal");
        // The shared datasets are write-protected: immutable, so nothing is ever created beside them.
        Assert.True(FeatureDatabase.ConnectionKind.ReaderOf(SharedData.Path_("datasets", "formats", "maupertuis", "colmap", "colmap.db")).Immutable);
    }

    // ---- 13.7: the map and its retrieval index -------------------------------------------------

    [Fact]
    public void AMapWithoutItsRetrievalIndexIsRefusedAsIncompleteUntilRebuilt()
    {
        // The state a build killed between storing the map and its index left before both were one
        // transaction: a map, no index, nothing saying why.
        var db = _map.Copy();
        using (var c = new SqliteConnection($"Data Source={db};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DELETE FROM r2d2_retrieval; DELETE FROM r2d2_meta WHERE key IN ('retrieval_codebook', 'retrieval_images');";
            cmd.ExecuteNonQuery();
        }
        AssertNoWalFiles(db);
        string before = Sha(db);
        var output = Path.Combine(TempDir.Create(), "poses.txt");
        // VLAD named: with the default (auto) the map's ASMK index would serve the query.
        AssertCleanError(Query(db, output, "--retrieval", "2", "--retrieval-method", "vlad"), db, "map incomplete", "rerun build-map");
        Assert.Equal(before, Sha(db));
        AssertNoWalFiles(db);

        // Rerunning build-map completes it (everything else is stored, only the map is redone).
        var build = CliTests.Localize(SmallMap.BuildArgs(db, Path.Combine(SmallMap.Scene, "cameras")));
        Assert.True(build.Code == 0, build.Err);
        var q = Query(db, output, "--retrieval", "2", "--retrieval-method", "vlad");
        Assert.True(q.Code == 0, q.Err);
        AssertNoWalFiles(db);
    }

    /// <summary>A map that lost one of its tables (damage, or another tool's hands) is a one-line
    /// error naming the map and the table: it was an unhandled exception with a stack trace (exit 134).</summary>
    [Fact]
    public void AMapMissingATableIsAnErrorNamingItNotAStackTrace()
    {
        var db = _map.Copy();
        using (var c = new SqliteConnection($"Data Source={db};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "DROP TABLE r2d2_points3d;";
            cmd.ExecuteNonQuery();
        }
        string before = Sha(db);
        var output = Path.Combine(TempDir.Create(), "poses.txt");
        AssertCleanError(Query(db, output), db, "no such table: r2d2_points3d");
        Assert.Equal(before, Sha(db));
        AssertNoWalFiles(db);
    }

    [Fact]
    public void AMapStoredWithoutAnIndexSaysToQueryWithoutRetrieval()
    {
        var (fdb, path, ids) = NewDatabase(2);
        using (fdb)
        {
            fdb.UseExtractor(R2D2Extractor);
            fdb.WriteMap(new List<MapPoint>(), "{}", retrieval: null);
            Assert.Equal(0, fdb.RetrievalImages);
        }
        using var db = FeatureDatabase.OpenReadOnly(path);
        var map = MapIndex.Load(db);
        var e = Assert.Throws<FeatureDatabaseException>(() => map.RetrieveVlad(RandomFeatures(new Random(1), 10), 2));
        Assert.Contains(path, e.Message);
        Assert.Contains("--retrieval all", e.Message);
    }

    /// <summary>A retrieval index whose enumeration fails half-way, as a build killed while storing it.</summary>
    private sealed class FailingDescriptors(Dictionary<int, float[]> inner) : IReadOnlyDictionary<int, float[]>
    {
        public IEnumerator<KeyValuePair<int, float[]>> GetEnumerator()
        {
            yield return inner.First();
            throw new IOException("killed while storing the retrieval index");
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
        public int Count => inner.Count;
        public bool ContainsKey(int key) => inner.ContainsKey(key);
        public bool TryGetValue(int key, out float[] value) => inner.TryGetValue(key, out value!);
        public float[] this[int key] => inner[key];
        public IEnumerable<int> Keys => inner.Keys;
        public IEnumerable<float[]> Values => inner.Values;
    }

    [Fact]
    public void TheMapAndItsRetrievalIndexAreStoredInOneTransaction()
    {
        var (db, path, ids) = NewDatabase(2);
        var point = new MapPoint(1, 1, 2, 3, 10, 20, 30, 0.5, new[] { new TrackElement(ids[0], 0), new TrackElement(ids[1], 0) }, null);
        var index = new Dictionary<int, float[]> { [ids[0]] = new float[] { 1, 0 }, [ids[1]] = new float[] { 0, 1 } };
        using (db)
        {
            db.WriteMap(new[] { point }, "{\"map\": \"a\"}", new RetrievalIndex(index, new float[] { 1, 0, 0, 1 }, 2));
            var e = Assert.Throws<IOException>(() => db.WriteMap(new[] { point, point with { Id = 2 } }, "{\"map\": \"b\"}",
                new RetrievalIndex(new FailingDescriptors(index), new float[] { 0, 1, 1, 0 }, 2)));
            Assert.Contains("killed", e.Message);
        }
        using var again = FeatureDatabase.OpenReadOnly(path);
        again.CheckIntegrity();
        Assert.Equal("{\"map\": \"a\"}", again.MapSummary);
        Assert.Single(again.ReadMap());
        var r = again.ReadRetrieval()!;
        Assert.Equal(new float[] { 1, 0, 0, 1 }, r.Codebook);
        Assert.Equal(2, r.Descriptors.Count);
        Assert.Equal(2, again.RetrievalImages);
    }

    // ---- 12.4: build-map ---------------------------------------------------------------------

    [Fact]
    public void ABuildWithoutPointsFailsWithItsReasonUnlessAllowed()
    {
        var db = Path.Combine(TempDir.Create(), "empty.db");
        // No two of the images look within 0.001° of the same direction: no pairs.
        var args = SmallMap.BuildArgs(db, Path.Combine(SmallMap.Scene, "cameras"), "--pairs", "poses:2:0.001");
        AssertCleanError(CliTests.Localize(args), db, "no 3D point", "no overlapping pairs", "--allow-empty");
        using (var d = FeatureDatabase.OpenReadOnly(db))
        {
            Assert.False(d.HasMap); // nothing stored as the map; the features are kept for a rerun
            Assert.Equal(3, d.ImagesWithFeatures().Count);
        }
        AssertNoWalFiles(db);
        var allowed = CliTests.Localize(args.Append("--allow-empty").ToArray());
        Assert.True(allowed.Code == 0, allowed.Err);
        using (var d = FeatureDatabase.OpenReadOnly(db))
        {
            Assert.True(d.HasMap);
            Assert.Empty(d.ReadMap());
        }
        AssertNoWalFiles(db);
    }

    [Fact]
    public void TheEmptyMapReasonSaysWhichStageLostEverything()
    {
        var (db, _, ids) = NewDatabase(3);
        using (db)
        {
            var o = new MapBuildOptions();
            var stats = new TriangulationStats(0, 0, 0, 0, 0, 0, 0);
            var f = RandomFeatures(new Random(3), 20);
            foreach (var id in ids) db.WriteFeatures(id, f, R2D2Extractor);
            var pairs = new List<ImagePair> { new("img1.jpg", "img2.jpg"), new("img2.jpg", "img3.jpg") };
            Assert.Contains("no overlapping pairs", MapBuildRunner.WhyEmpty(db, new List<ImagePair>(), stats, o));
            db.WriteMatches(ids[0], ids[1], new List<Match>());
            Assert.Contains("no matches (in 2 pairs", MapBuildRunner.WhyEmpty(db, pairs, stats, o));
            db.WriteMatches(ids[1], ids[2], Enumerable.Range(0, 7).Select(i => new Match(i, i, 1)).ToList());
            db.WriteTwoViewGeometry(ids[1], ids[2], new TwoViewGeometry(TwoViewConfiguration.Degenerate, new List<Match>()));
            Assert.Contains("no verified matches (none of the 7 matches", MapBuildRunner.WhyEmpty(db, pairs, stats, o));
            db.WriteTwoViewGeometry(ids[1], ids[2], new TwoViewGeometry(TwoViewConfiguration.Calibrated, new List<Match> { new(1, 1, 1) }));
            var why = MapBuildRunner.WhyEmpty(db, pairs, stats with { Tracks = 5, RejectedNoConsensus = 3, RejectedAngle = 2 }, o);
            Assert.Contains("all 5 tracks were filtered (3 without a triangulation", why);
            Assert.Contains("2 with a triangulation angle", why);
        }
    }

    private static string CamerasWith(string image, Func<string[], string[]> change)
    {
        var dir = TempDir.Create();
        foreach (var name in SmallMap.Images)
        {
            var lines = File.ReadAllLines(Path.Combine(SmallMap.Scene, "cameras", name + ".camera"));
            File.WriteAllLines(Path.Combine(dir, name + ".camera"), name == image ? change(lines) : lines);
        }
        return dir;
    }

    [Fact]
    public void AResumedBuildRefusesChangedIntrinsicsOrPosesNamingThem()
    {
        var db = _map.Copy();
        string before = Sha(db);
        // 0004.jpg's focal length (first row of K) and 0006.jpg's camera centre (8th line) changed.
        var otherFocal = CamerasWith("0004.jpg", l => l.Select((s, i) => i == 0 ? "2900 0 1520.69" : s).ToArray());
        var r = CliTests.Localize(SmallMap.BuildArgs(db, otherFocal));
        AssertCleanError(r, db, "'0004.jpg': camera", "in the database", "now", "use a new database");
        Assert.Contains("2900", r.Err);
        Assert.DoesNotContain("0006.jpg", r.Err);
        var otherPose = CamerasWith("0006.jpg", l => l.Select((s, i) => i == 7 ? "-12 -3.8 0.5" : s).ToArray());
        AssertCleanError(CliTests.Localize(SmallMap.BuildArgs(db, otherPose)), db, "'0006.jpg': pose differs", "camera centre moved by");
        Assert.Equal(before, Sha(db));
        AssertNoWalFiles(db);
    }

    [Fact]
    public void ASettingsMismatchNamesOnlyTheKeysThatDiffer()
    {
        var db = _map.Copy();
        string before = Sha(db);
        var args = SmallMap.BuildArgs(db, Path.Combine(SmallMap.Scene, "cameras")).Select(a => a == "256" ? "512" : a).ToArray();
        var r = CliTests.Localize(args);
        AssertCleanError(r, db, "max_size: 256 in the database, 512 now");
        Assert.DoesNotContain("{", r.Err); // no settings JSON
        Assert.DoesNotContain("min_size", r.Err); // keys that agree are not listed
        Assert.True(r.Err.Length < 400, $"{r.Err.Length} characters: {r.Err}");
        Assert.Equal(before, Sha(db));
        AssertNoWalFiles(db);

        // The library's own comparison, both ways round and for a key only one side has.
        var a = ExtractorIdentity.ForR2D2("m", "net", "w", new ExtractionSettings { MaxSize = 512 });
        var b = a with { Settings = a.Settings.Replace("\"subpixel\":false", "\"subpixel\":false,\"extra\":1") };
        Assert.Equal(new[] { "max_size: 512 in the database, 1024 now" }, a.Differences(a with { Settings = new ExtractionSettings { MaxSize = 1024 }.ToJson() }));
        Assert.Equal(new[] { "extra: (none) in the map, 1 given" }, a.Differences(b, "in the map", "given"));
    }

    // ---- 12.4: the query's extractor -----------------------------------------------------------

    [Fact]
    public void QueryingAnR2D2MapWithRootSiftOrAGoneCheckpointSaysWhatToDo()
    {
        ExtractorIdentity extractor;
        string? recorded;
        using (var d = FeatureDatabase.OpenReadOnly(_map.Path)) (extractor, recorded) = (d.Extractor!, d.ReadNote("model_path"));
        var cpu = TorchSharp.torch.CPU;
        var e = Assert.Throws<R2D2Exception>(() => FeatureSource.ForMap(extractor, _map.Path, "rootsift", recorded, cpu, false));
        Assert.Contains("--model rootsift cannot query it", e.Message);
        Assert.Contains("give the map's checkpoint with --model", e.Message);
        Assert.Contains(SmallMap.Model, e.Message); // the recorded checkpoint, to use by leaving --model out
        Assert.Contains("build-map --model rootsift", e.Message);

        var gone = Path.Combine(TempDir.Create(), "moved.pt");
        e = Assert.Throws<R2D2Exception>(() => FeatureSource.ForMap(extractor, _map.Path, null, gone, cpu, false));
        Assert.Contains($"{_map.Path}: was built with the checkpoint {gone}, which is gone", e.Message);
        e = Assert.Throws<R2D2Exception>(() => FeatureSource.ForMap(extractor, _map.Path, gone, recorded, cpu, false));
        Assert.StartsWith($"{gone}: checkpoint not found", e.Message);

        e = Assert.Throws<R2D2Exception>(() => FeatureSource.ForMap(extractor, _map.Path, SharedData.Model("r2d2_WAF_N16"), recorded, cpu, false));
        Assert.Contains("is not the model", e.Message);
        Assert.Contains("weights: ", e.Message);
        Assert.Contains("in the map", e.Message);

        using var source = FeatureSource.ForMap(extractor, _map.Path, null, recorded, cpu, false);
        Assert.Equal(extractor with { Model = source.Identity.Model }, source.Identity);
    }

    // ---- 13.8: names COLMAP's images.txt cannot hold --------------------------------------------

    [Fact]
    public void ImageNamesWithLineBreaksTabsOrOuterSpacesAreRefused()
    {
        var (db, path, _) = NewDatabase(1);
        using (db)
        {
            foreach (var (name, what) in new[] { ("a\nb.jpg", "line break"), ("a\rb.jpg", "line break"), ("a\tb.jpg", "tab"), (" a.jpg", "leading or trailing space"), ("a.jpg ", "leading or trailing space") })
            {
                var e = Assert.Throws<FeatureDatabaseException>(() => db.AddImage(name, 1));
                Assert.Contains(what, e.Message);
                Assert.Contains("images.txt", e.Message);
                Assert.DoesNotContain("\n", e.Message); // shown escaped, on one line
            }
            Assert.Single(db.ReadImages());
            db.AddImage("with space.jpg", 1); // inner spaces are fine: the text model keeps the rest of the line
            Assert.Equal(2, db.ReadImages().Count);
        }

        // build-map refuses such a name from a Strecha folder (file names) before it writes anything.
        var dir = TempDir.Create();
        var cameras = Directory.CreateDirectory(Path.Combine(dir, "cameras")).FullName;
        var images = Directory.CreateDirectory(Path.Combine(dir, "images")).FullName;
        foreach (var (from, to) in new[] { ("0002.jpg", "0002.jpg"), ("0004.jpg", "bad\nname.jpg") })
        {
            File.Copy(Path.Combine(SmallMap.Scene, "cameras", from + ".camera"), Path.Combine(cameras, to + ".camera"));
            File.Copy(Path.Combine(SmallMap.Scene, "images", from), Path.Combine(images, to));
        }
        var map = Path.Combine(dir, "map.db");
        var r = CliTests.Localize("build-map", "--images", images, "--poses", cameras, "--map", map, "--model", SmallMap.Model);
        AssertCleanError(r, "bad\\nname.jpg", "line break");
        Assert.False(File.Exists(map));
    }
}
