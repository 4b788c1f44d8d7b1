using Microsoft.Data.Sqlite;
using R2D2.Localization.Features;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;
using Xunit;
using static R2D2.Localization.Tests.Storage.StorageTestData;

namespace R2D2.Localization.Tests.Storage;

/// <summary>Damaged and foreign files, features of another extractor, and interrupted writes.</summary>
public class FeatureDatabaseSafetyTests
{
    private static string Maupertuis => SharedData.Path_("datasets", "formats", "maupertuis", "colmap", "colmap.db");

    /// <summary>Opens the file both ways; each must fail naming the file, and leave it byte for byte.</summary>
    private static void AssertRefused(string path, string expectedWords)
    {
        string before = Sha(path);
        foreach (bool readOnly in new[] { true, false })
        {
            var e = Assert.Throws<FeatureDatabaseException>(() => FeatureDatabase.Open(path, readOnly).Dispose());
            Assert.Contains(path, e.Message);
            Assert.Contains(expectedWords, e.Message);
            Assert.Equal(path, e.DatabasePath);
        }
        Assert.Equal(before, Sha(path));
    }

    /// <summary>Two connections (two extract processes) registering the same images at once: each
    /// name once, one camera, no error (one failed with "already holds an image named").</summary>
    [Fact]
    public void TwoWritersRegisteringTheSameImagesGetOneIdEach()
    {
        var path = Path.Combine(TempDir.Create(), "shared.db");
        using (FeatureDatabase.Open(path)) { }
        var camera = new Camera(0, CameraModel.SimplePinhole, 640, 480, new[] { 500.0, 320, 240 });
        var names = Enumerable.Range(0, 40).Select(i => $"img_{i:D2}.jpg").ToList();
        var ids = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            using var db = FeatureDatabase.Open(path);
            return names.Select(n => db.FindOrAddImage(n, camera)).ToList();
        })).ToArray();
        Task.WaitAll(ids);
        Assert.Equal(ids[0].Result, ids[1].Result);
        using var check = FeatureDatabase.OpenReadOnly(path);
        Assert.Equal(names, check.ReadImages().OrderBy(i => i.Id).Select(i => i.Name));
        Assert.Single(check.ReadCameras());
    }

    [Fact]
    public void AFileWhereAFolderOfThePathGoesIsNamed()
    {
        var dir = TempDir.Create();
        var file = Path.Combine(dir, "notes");
        File.WriteAllText(file, "keep");
        var e = Assert.Throws<FeatureDatabaseException>(() => FeatureDatabase.Open(Path.Combine(file, "sub", "x.db")));
        Assert.Contains($"{file} is a file, where a folder of its path goes", e.Message);
        Assert.Equal("keep", File.ReadAllText(file));
    }

    [Fact]
    public void RandomBytesAreNotADatabase()
    {
        var path = Path.Combine(TempDir.Create(), "random.db");
        var bytes = new byte[20000];
        new Random(1).NextBytes(bytes);
        File.WriteAllBytes(path, bytes);
        AssertRefused(path, "not an SQLite database");
        Assert.False(File.Exists(path + "-wal"));
        Assert.False(File.Exists(path + "-shm"));
    }

    [Fact]
    public void ATruncatedCopyIsRefused()
    {
        var path = Path.Combine(TempDir.Create(), "truncated.db");
        var bytes = File.ReadAllBytes(Maupertuis);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        AssertRefused(path, "truncated");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2 + 100)]);
        AssertRefused(path, "truncated");
        File.WriteAllBytes(path, bytes[..60]);
        AssertRefused(path, "not an SQLite database");
    }

    [Fact]
    public void DamagedPagesAreRefused()
    {
        var path = Path.Combine(TempDir.Create(), "damaged.db");
        var bytes = File.ReadAllBytes(Maupertuis);
        new Random(2).NextBytes(bytes.AsSpan(100, 8000)); // keep the header, ruin the schema page and the next
        File.WriteAllBytes(path, bytes);
        AssertRefused(path, "damaged");
    }

    [Fact]
    public void AForeignSchemaIsRefused()
    {
        var path = Path.Combine(TempDir.Create(), "foreign.db");
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE images (id INTEGER, path TEXT); CREATE TABLE cameras (x INTEGER); INSERT INTO images VALUES (1, 'a');";
            cmd.ExecuteNonQuery();
        }
        AssertRefused(path, "lacks the table(s) keypoints");
        using (var c = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = "CREATE TABLE keypoints (image_id INTEGER); CREATE TABLE descriptors (image_id INTEGER); " +
                              "CREATE TABLE matches (pair_id INTEGER); CREATE TABLE two_view_geometries (pair_id INTEGER);";
            cmd.ExecuteNonQuery();
        }
        AssertRefused(path, "foreign schema");
    }

    [Fact]
    public void WriteProtectedFilesOpenOnlyReadOnlyAndStayUntouched()
    {
        // A write-protected database (a copy: ../shared itself is never opened for writing, whatever
        // its permissions): read-only opens use SQLite's immutable mode and create nothing beside
        // the file; a write open is refused even for root.
        var dir = Path.Combine(TempDir.Create(), "ro");
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, "colmap.db");
        File.Copy(Maupertuis, path);
        var before = File.ReadAllBytes(path);
        if (OperatingSystem.IsWindows()) File.SetAttributes(path, FileAttributes.ReadOnly);
        else File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var e = Assert.Throws<FeatureDatabaseException>(() => FeatureDatabase.Open(path).Dispose());
        Assert.Contains("write-protected", e.Message);
        using (var db = FeatureDatabase.OpenReadOnly(path)) Assert.Equal(4, db.ReadImages().Count);
        Assert.Equal(new[] { "colmap.db" }, Directory.GetFiles(dir).Select(Path.GetFileName));
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void AnEmptyOrMissingFileBecomesANewDatabase()
    {
        var dir = TempDir.Create();
        var empty = Path.Combine(dir, "empty.db");
        File.WriteAllBytes(empty, System.Array.Empty<byte>());
        Assert.Throws<FeatureDatabaseException>(() => FeatureDatabase.OpenReadOnly(empty));
        Assert.Throws<FeatureDatabaseException>(() => FeatureDatabase.OpenReadOnly(Path.Combine(dir, "missing.db")));
        using (var db = FeatureDatabase.Open(empty)) Assert.Equal(0, db.Summary().Images);
        using (var db = FeatureDatabase.Open(Path.Combine(dir, "sub", "new.db"))) Assert.Equal(FeatureDatabase.SchemaVersion, db.Summary().SchemaVersion);
        Assert.Equal("wal", RawScalar(Path.Combine(dir, "sub", "new.db"), "PRAGMA journal_mode"));
    }

    [Fact]
    public void FeaturesOfAnotherModelOrOtherSettingsAreRefused()
    {
        var (db, path, ids) = NewDatabase(2);
        var f = RandomFeatures(new Random(7), 50);
        using (db)
        {
            db.WriteFeatures(ids[0], f, R2D2Extractor);
            var otherWeights = R2D2Extractor with { WeightsHash = "weights-b" };
            var e = Assert.Throws<FeatureDatabaseException>(() => db.WriteFeatures(ids[1], f, otherWeights));
            Assert.Contains(path, e.Message);
            Assert.Contains("weights", e.Message);
            Assert.False(db.HasFeatures(ids[1]));
            // A renamed or converted checkpoint with the same weights is the same extractor.
            db.WriteFeatures(ids[1], f, R2D2Extractor with { Model = "r2d2_WASF_N16.safetensors" });
        }
        using (var again = FeatureDatabase.Open(path))
        {
            var otherSettings = ExtractorIdentity.ForR2D2("r2d2_WASF_N16", "Quad_L2Net_ConfCFS()", "weights-a", new ExtractionSettings { TopK = 1000 });
            var e = Assert.Throws<FeatureDatabaseException>(() => again.UseExtractor(otherSettings));
            Assert.Contains(path, e.Message);
            Assert.Contains("settings", e.Message);
            Assert.Throws<FeatureDatabaseException>(() => again.WriteFeatures(ids[0], f, otherSettings));
            Assert.Throws<FeatureDatabaseException>(() => again.WriteFeatures(ids[0], f, ExtractorIdentity.ForRootSift("{}")));
            Assert.Equal(R2D2Extractor, again.Extractor);
            Assert.Equal(f.Score, again.ReadFeatures(ids[0])!.Score); // untouched by the refusals
        }
    }

    /// <summary>A first run that recorded its extractor and stopped before any image (sizes that fit
    /// no pyramid level) does not lock the database to those settings: nothing would be mixed.</summary>
    [Fact]
    public void AnExtractorRecordedWithoutFeaturesIsReplaced()
    {
        var (db, _, ids) = NewDatabase(2);
        using (db)
        {
            db.UseExtractor(R2D2Extractor);
            var otherSettings = R2D2Extractor with { Settings = new ExtractionSettings { MaxSize = 640 }.ToJson() };
            db.UseExtractor(otherSettings);
            Assert.Equal(otherSettings, db.Extractor);
            db.WriteFeatures(ids[0], RandomFeatures(new Random(3), 20), otherSettings);
            Assert.Throws<FeatureDatabaseException>(() => db.UseExtractor(R2D2Extractor));
        }
    }

    [Fact]
    public void AColmapDatabaseOpenedForWritingGainsOurTablesAndRefusesMixingFeatures()
    {
        var path = Path.Combine(TempDir.Create(), "colmap.db");
        File.Copy(Maupertuis, path);
        if (OperatingSystem.IsWindows()) File.SetAttributes(path, FileAttributes.Normal);
        else File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // the shared copy is write-protected
        string before = Sha(path);
        using (var db = FeatureDatabase.Open(path))
        {
            // Our tables come with the first write: a command that reads the file and refuses it leaves it as it was.
            Assert.Equal(0, db.Summary().SchemaVersion);
            var e = Assert.Throws<FeatureDatabaseException>(() => db.WriteFeatures(1, RandomFeatures(new Random(8), 10), R2D2Extractor));
            Assert.Contains("keypoints of an unrecorded extractor", e.Message);
            Assert.Equal(before, Sha(path));
            // COLMAP ≥ 3.7's relative pose columns were added, as COLMAP adds them; old rows read as before.
            db.WriteTwoViewGeometry(1, 2, db.ReadTwoViewGeometry(1, 2)! with { Rotation = new[] { 1.0, 0, 0, 0 }, Translation = new[] { 1.0, 0, 0 } });
            Assert.Equal(new[] { 1.0, 0, 0, 0 }, db.ReadTwoViewGeometry(1, 2)!.Rotation);
            Assert.Equal(2516, db.ReadMatches(1, 2)!.Count);
            Assert.Equal(FeatureDatabase.SchemaVersion, db.Summary().SchemaVersion);
        }
        Assert.Equal(2L, RawCount(path, "SELECT count(*) FROM pragma_table_info('two_view_geometries') WHERE name IN ('qvec', 'tvec')"));
    }

    /// <summary>
    /// kill -9 at random moments of a writing run in a child process (big images: transactions
    /// of about a megabyte, WAL checkpoints on the way). After each kill the database must open,
    /// pass SQLite's full check, and hold whole images and whole pairs only, exactly as written;
    /// the next run resumes from there.
    /// </summary>
    [Fact]
    public async Task KillingAWriterAtAnyMomentLeavesOnlyWholeImagesAndPairs()
    {
        var path = Path.Combine(TempDir.Create(), "killed.db");
        int[] ids;
        using (var db = FeatureDatabase.Open(path))
        {
            int cam = db.AddCamera(new R2D2.Localization.Geometry.Camera(0, R2D2.Localization.Geometry.CameraModel.SimplePinhole, 1600, 1067, new[] { 1200.0, 799.5, 533.0 }));
            ids = Enumerable.Range(0, CrashWriter.Images).Select(k => db.AddImage(CrashWriter.ImageName(k), cam)).ToArray();
        }
        var rng = new Random(11);
        int kills = 0;
        for (int run = 0; run < 8 && ImagesWritten(path) < ids.Length; run++)
        {
            var psi = new System.Diagnostics.ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                RedirectStandardError = true, UseShellExecute = false,
            };
            foreach (var a in new[] { "exec", typeof(TestProgram).Assembly.Location, CrashWriter.Mode, path }) psi.ArgumentList.Add(a);
            int before = ImagesWritten(path);
            using var child = System.Diagnostics.Process.Start(psi)!;
            var stderr = child.StandardError.ReadToEndAsync();
            // Once the run has written its first image, let it go on a random while, then SIGKILL
            // it (Process.Kill on Linux): no cleanup of any kind.
            while (!child.HasExited && ImagesWritten(path) == before) Thread.Sleep(5);
            Thread.Sleep(rng.Next(0, 150));
            if (!child.HasExited) { child.Kill(); kills++; }
            child.WaitForExit();
            string errors = await stderr;
            Assert.True(child.ExitCode == 0 || child.ExitCode == 137, "the writer failed: " + errors);
            CheckWholeImagesAndPairs(path, ids);
        }
        Assert.True(kills >= 3, $"only {kills} runs were killed");
    }

    private static int ImagesWritten(string path)
    {
        using var db = FeatureDatabase.OpenReadOnly(path);
        return db.ImagesWithFeatures().Count;
    }

    private static void CheckWholeImagesAndPairs(string path, int[] ids)
    {
        using var db = FeatureDatabase.Open(path);
        db.CheckIntegrity();
        var withFeatures = db.ImagesWithFeatures();
        Assert.Equal(withFeatures.Count, db.Summary().ImagesWithKeypoints);
        for (int k = 0; k < ids.Length; k++)
        {
            if (!withFeatures.Contains(ids[k])) continue;
            var expected = CrashWriter.Features(k);
            var f = db.ReadFeatures(ids[k])!;
            Assert.Equal(expected.Count, f.Count);
            Assert.Equal(expected.Score, f.Score);
            Assert.Equal(expected.Scale, f.Scale);
        }
        foreach (var p in db.ListMatchedPairs())
        {
            int k = System.Array.IndexOf(ids, p.ImageId2);
            Assert.Equal(ids[k - 1], p.ImageId1);
            Assert.Equal(CrashWriter.Matches(k), db.ReadMatches(p.ImageId2, p.ImageId1));
        }
    }
}
