using System.Security.Cryptography;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Storage;
using R2D2.Localization.Tests.Storage;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>`localize convert --format hloc`: a feature database as hloc's features.h5, matches.h5
/// and pairs.txt, read back by our reader and by h5py as hloc's code reads them.</summary>
public class HlocExportTests
{
    /// <summary>Three images with features in folders, one without; matches stored with the second
    /// image first for one pair, so the export's orientation is the database's.</summary>
    private static (string Path, Dictionary<string, int> Ids) Database(string dir)
    {
        var path = Path.Combine(dir, "map.db");
        using var db = FeatureDatabase.Open(path);
        int cam = db.AddCamera(new Camera(0, CameraModel.SimpleRadial, 1600, 1067, new[] { 1200.0, 799.5, 533.0, -0.1 }));
        var ids = new[] { "db/a.jpg", "db/b.jpg", "q/night/c.jpg", "d.jpg" }.ToDictionary(n => n, n => db.AddImage(n, cam));
        var rng = new Random(5);
        foreach (var (name, n) in new[] { ("db/a.jpg", 50), ("db/b.jpg", 60), ("q/night/c.jpg", 70) })
            db.WriteFeatures(ids[name], StorageTestData.RandomFeatures(rng, n), StorageTestData.R2D2Extractor);
        db.WriteMatches(ids["db/b.jpg"], ids["db/a.jpg"], Enumerable.Range(0, 20).Select(i => new Match(2 * i, 49 - i, i / 32f)).ToList());
        db.WriteMatches(ids["db/a.jpg"], ids["q/night/c.jpg"], Enumerable.Range(0, 10).Select(i => new Match(i, 3 * i, 0.5f)).ToList());
        return (path, ids);
    }

    private static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    [Fact]
    public void ADatabaseBecomesHlocsFeaturesMatchesAndPairs()
    {
        var dir = TempDir.Create();
        var (db, ids) = Database(dir);
        var before = Hash(db);
        var hloc = Path.Combine(dir, "hloc");
        var (code, stdout, err) = CliTests.Localize("convert", "--from", db, "--to", hloc, "--format", "hloc");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("convert: 3 images", stdout);
        Assert.Contains("1 image of the database without features", err);
        Assert.Equal(before, Hash(db));
        Assert.Empty(Directory.GetFiles(dir, "map.db-*"));

        var features = Path.Combine(hloc, "features.h5");
        var matches = Path.Combine(hloc, "matches.h5");
        Assert.Equal(new[] { "db/a.jpg", "db/b.jpg", "q/night/c.jpg" }, Hloc.ListImages(features));
        using (var fdb = FeatureDatabase.OpenReadOnly(db))
        {
            foreach (var name in new[] { "db/a.jpg", "q/night/c.jpg" })
            {
                var stored = fdb.ReadFeatures(ids[name])!;
                var h = Hloc.ReadFeatures(features, name);
                Assert.Equal(stored.X, Enumerable.Range(0, h.Count).Select(i => h.Keypoints[2 * i]));
                Assert.Equal(stored.Y, Enumerable.Range(0, h.Count).Select(i => h.Keypoints[2 * i + 1]));
                Assert.Equal(stored.Descriptors, h.Descriptors); // stored as float16: exact
                Assert.Equal(stored.Score, h.Scores);
                Assert.Equal((1600, 1067, 128), (h.Width, h.Height, h.Dim));
            }
            // Each pair as the database orients it (smaller id first), and asked the other way round.
            var (m0, s0) = Formats.HlocTests.Matches0(Hloc.ReadMatches(matches, "db/a.jpg", "db/b.jpg", 50, 60), 50);
            var stored01 = fdb.ReadMatches(ids["db/a.jpg"], ids["db/b.jpg"])!;
            Assert.Equal(stored01.Count, m0.Count(m => m >= 0));
            Assert.All(stored01, m => Assert.Equal((m.J, m.Similarity), (m0[m.I], s0[m.I])));
            var (m1, _) = Formats.HlocTests.Matches0(Hloc.ReadMatches(matches, "db/b.jpg", "db/a.jpg", 60, 50), 60);
            Assert.All(Enumerable.Range(0, 20), i => Assert.Equal(49 - i, m1[2 * i]));
        }
        Assert.Equal(new[] { "db/a.jpg db/b.jpg", "db/a.jpg q/night/c.jpg" }, File.ReadAllLines(Path.Combine(hloc, "pairs.txt")));

        if (Formats.HlocTests.SkipWithoutH5py()) return;
        // As hloc reads them: io.get_keypoints / list_h5_names / find_pair / get_matches, and parse_retrieval's pairs.
        var output = PythonTools.Run($@"
import h5py, numpy as np
def names_to_pair(a, b): return '/'.join((a.replace('/', '-'), b.replace('/', '-')))
names = []
with h5py.File('{features}', 'r') as fd:
    fd.visititems(lambda _, obj: names.append(obj.parent.name.strip('/')) if isinstance(obj, h5py.Dataset) else None)
    names = sorted(set(names))
    assert names == ['db/a.jpg', 'db/b.jpg', 'q/night/c.jpg'], names
    g = fd['q/night/c.jpg']
    assert g['keypoints'].shape == (70, 2) and g['descriptors'].shape == (128, 70), (g['keypoints'].shape, g['descriptors'].shape)
    assert g['descriptors'].dtype == np.float16 and g['scores'].shape == (70,)
    assert list(g['image_size'][()]) == [1600, 1067]
    d = g['descriptors'].__array__().astype(np.float32)
    assert np.allclose(np.linalg.norm(d, axis=0), 1, atol=2e-3)
pairs = [p.split() for p in open('{hloc}/pairs.txt').read().splitlines()]
with h5py.File('{matches}', 'r') as fd:
    for a, b in pairs:
        m = fd[names_to_pair(a, b)]['matches0'].__array__()
        s = fd[names_to_pair(a, b)]['matching_scores0'].__array__()
        with h5py.File('{features}', 'r') as ff:
            assert len(m) == ff[a]['keypoints'].shape[0] and m.max() < ff[b]['keypoints'].shape[0]
        idx = np.where(m != -1)[0]
        print(a, b, len(idx), float(s[idx].max()))
");
        Assert.Equal(new[] { "db/a.jpg db/b.jpg 20 0.59375", "db/a.jpg q/night/c.jpg 10 0.5" }, output.Trim().Split('\n'));
    }

    [Fact]
    public void WhatCannotBecomeHlocsFilesIsRefusedAndNothingIsWritten()
    {
        var dir = TempDir.Create();
        var (db, _) = Database(dir);
        var before = Hash(db);
        string Refused(params string[] args)
        {
            var (code, stdout, err) = CliTests.Localize(new[] { "convert", "--format", "hloc" }.Concat(args).ToArray());
            Assert.True(code != 0, stdout);
            return err;
        }
        // Poses alone have no features.
        var nvm = Path.Combine(dir, "m.nvm");
        File.WriteAllText(nvm, "NVM_V3\n\n1\na.jpg 100 0 0 0 0 0 0 0 0 0\n\n0\n");
        Assert.Contains("from a feature database (.db) or a kapture folder with features only", Refused("--from", nvm, "--to", Path.Combine(dir, "x")));
        // A file where the folder goes.
        var file = Path.Combine(dir, "file");
        File.WriteAllText(file, "keep");
        Assert.Contains("is a file", Refused("--from", db, "--to", file));
        Assert.Equal("keep", File.ReadAllText(file));
        // A database without this project's features.
        var empty = Path.Combine(dir, "empty.db");
        using (var e = FeatureDatabase.Open(empty)) e.AddImage("a.jpg", e.AddCamera(new Camera(0, CameraModel.SimplePinhole, 10, 10, new[] { 10.0, 5, 5 })));
        Assert.Contains("no image has features", Refused("--from", empty, "--to", Path.Combine(dir, "y")));
        Assert.False(Directory.Exists(Path.Combine(dir, "x")) || Directory.Exists(Path.Combine(dir, "y")));
        Assert.Equal(before, Hash(db));

        // Files of hloc's own in the folder are not replaced (only an earlier export of this command's is).
        var foreign = Path.Combine(dir, "foreign");
        Directory.CreateDirectory(foreign);
        Hloc.WriteGlobal(Path.Combine(foreign, "features.h5"), new[] { ("a.jpg", new[] { 1f }) });
        var theirs = File.ReadAllBytes(Path.Combine(foreign, "features.h5"));
        Assert.Contains("is not from an earlier export of this command", Refused("--from", db, "--to", foreign));
        Assert.Equal(theirs, File.ReadAllBytes(Path.Combine(foreign, "features.h5")));
        File.WriteAllText(Path.Combine(dir, "pairs.txt"), "a.jpg b.jpg\n");
        Assert.Contains("pairs.txt: is not from an earlier export", Refused("--from", db, "--to", dir));
        File.Delete(Path.Combine(dir, "pairs.txt"));

        // Beside the database is fine: the three files are named, the database is not among them.
        var (code, _, err) = CliTests.Localize("convert", "--from", db, "--to", dir, "--format", "hloc");
        Assert.True(code == 0, err);
        Assert.True(File.Exists(Path.Combine(dir, "features.h5")) && File.Exists(Path.Combine(dir, "matches.h5")));
        Assert.Equal(before, Hash(db));
        // And again over that earlier export, which it replaces.
        (code, _, err) = CliTests.Localize("convert", "--from", db, "--to", dir, "--format", "hloc");
        Assert.True(code == 0, err);
        // A database without matches over it: the earlier matches.h5 and pairs.txt, which index
        // other keypoints, go (they stayed beside the new features.h5).
        var bare = Path.Combine(dir, "bare.db");
        using (var b = FeatureDatabase.Open(bare))
            b.WriteFeatures(b.AddImage("db/a.jpg", b.AddCamera(new Camera(0, CameraModel.SimplePinhole, 1600, 1067, new[] { 1000.0, 800, 533 }))),
                StorageTestData.RandomFeatures(new Random(1), 30), StorageTestData.R2D2Extractor);
        (code, _, err) = CliTests.Localize("convert", "--from", bare, "--to", dir, "--format", "hloc");
        Assert.True(code == 0, err);
        Assert.Contains("an earlier export's, removed", err);
        Assert.False(File.Exists(Path.Combine(dir, "matches.h5")) || File.Exists(Path.Combine(dir, "pairs.txt")));
        Assert.Equal(new[] { "db/a.jpg" }, Hloc.ListImages(Path.Combine(dir, "features.h5")));

        // Two pairs under one hloc key are refused before features.h5 is written (it was written whole first).
        var clash = Path.Combine(dir, "clash.db");
        using (var c = FeatureDatabase.Open(clash))
        {
            int cam = c.AddCamera(new Camera(0, CameraModel.SimplePinhole, 1600, 1067, new[] { 1000.0, 800, 533 }));
            var ids = new[] { "x/a.jpg", "x-a.jpg", "b.jpg" }.Select(n => c.AddImage(n, cam)).ToArray();
            foreach (var id in ids) c.WriteFeatures(id, StorageTestData.RandomFeatures(new Random(id), 10), StorageTestData.R2D2Extractor);
            c.WriteMatches(ids[0], ids[2], new List<Match> { new(0, 0, 1) });
            c.WriteMatches(ids[1], ids[2], new List<Match> { new(1, 1, 1) });
        }
        var clashOut = Path.Combine(dir, "clash");
        Assert.Contains("have one key in hloc's matches.h5", Refused("--from", clash, "--to", clashOut));
        Assert.False(Directory.Exists(clashOut) && Directory.EnumerateFileSystemEntries(clashOut).Any());
    }

    /// <summary>A streamed file: the shapes laid down first, data given one image at a time (an image
    /// of no keypoints too), read back equal; a reader that gives other sizes than laid down is
    /// refused and leaves no file.</summary>
    [Fact]
    public void StreamedFeaturesAreCheckedAgainstTheirLaidDownShapes()
    {
        var dir = TempDir.Create();
        var path = Path.Combine(dir, "features.h5");
        var f = new HlocFeatures(new float[] { 1, 2, 3, 4 }, new float[] { 0.5f, -0.5f, 0.25f, 0.75f }, 2, new float[] { 0.1f, 0.2f }, 8, 6);
        var shapes = new[] { new HlocImageShape("a/b.jpg", 2, 2), new HlocImageShape("c.jpg", 0, 2) };
        var empty = new HlocFeatures(Array.Empty<float>(), Array.Empty<float>(), 2, Array.Empty<float>(), 8, 6);
        var written = new List<int>();
        OutputFile.Write(path, s => Hloc.WriteFeatures(s, shapes, k => k == 0 ? f : empty, written.Add));
        Assert.Equal(new[] { 0, 1 }, written);
        var back = Hloc.ReadFeatures(path, "a/b.jpg");
        Assert.Equal(f.Keypoints, back.Keypoints);
        Assert.Equal(f.Descriptors, back.Descriptors);
        Assert.Equal(f.Scores, back.Scores);
        Assert.Equal((8, 6), (back.Width, back.Height));
        Assert.Equal(0, Hloc.ReadFeatures(path, "c.jpg").Count);

        var other = Path.Combine(dir, "other.h5");
        var ex = Assert.Throws<ArgumentException>(() => OutputFile.Write(other, s => Hloc.WriteFeatures(s, shapes, _ => f)));
        Assert.Contains("c.jpg: 2 keypoints", ex.Message);
        Assert.False(File.Exists(other));
        Assert.Empty(Directory.GetFiles(dir, ".other.h5*"));
        Assert.Contains("listed twice", Assert.Throws<R2D2Exception>(() =>
            Hloc.WriteFeatures(new MemoryStream(), new[] { shapes[0], shapes[0] }, _ => f)).Message);
        Assert.Contains("another pair's too", Assert.Throws<R2D2Exception>(() =>
            Hloc.WriteMatches(new MemoryStream(), new[] { new HlocPairShape("a/b.jpg", "c.jpg", 1), new HlocPairShape("a-b.jpg", "c.jpg", 1) }, _ => (new[] { 0 }, new[] { 1f }))).Message);
    }
}

/// <summary>`--model hloc:FILE`: another extractor's features in hloc's features.h5 (written by
/// h5py as hloc's extract_features writes them: float16, 256-d as SuperPoint's, scores in no
/// order) read as the features of image files, by the longest trailing part of their path, in the
/// file's order.</summary>
public class HlocFeatureSourceTests
{
    [Fact]
    public void HlocsFeaturesAreReadByImageFileBestScoreFirstAndNormalised()
    {
        if (Formats.HlocTests.SkipWithoutH5py()) return;
        var dir = TempDir.Create();
        var images = Path.Combine(dir, "datasets", "images_upright");
        Directory.CreateDirectory(Path.Combine(images, "db"));
        var a = FaultInjection.TestImages.WriteBoat(Path.Combine(images, "db"), "a.png", 160, 120);
        var b = FaultInjection.TestImages.WriteBoat(Path.Combine(images, "db"), "b.png", 100, 80);
        var c = FaultInjection.TestImages.WriteBoat(images, "c.png", 160, 120);
        var file = Path.Combine(dir, "feats-superpoint.h5");
        PythonTools.Run($@"
import h5py, numpy as np
with h5py.File('{file}', 'w') as fd:
    for name, size, kp0, d00 in (('db/a.png', (160, 120), 1.5, 3), ('db/b.png', (160, 120), 1.5, 3),
                                 ('nan/a.png', (160, 120), 1.5, np.nan), ('out/a.png', (160, 120), 170, 3), ('nankp/a.png', (160, 120), np.nan, 3)):
        g = fd.create_group(name)
        g.create_dataset('keypoints', data=np.array([[kp0, 2.5], [10, 20], [30.25, 40.75]], dtype=np.float16))
        d = np.zeros((256, 3), dtype=np.float32); d[0, 0] = d00; d[1, 1] = 0.5; d[2, 2] = -2
        g.create_dataset('descriptors', data=d.astype(np.float16))
        g.create_dataset('scores', data=np.array([0.2, 0.9, 0.5], dtype=np.float16))
        g.create_dataset('image_size', data=np.array(size))
");
        var nan = FaultInjection.TestImages.WriteBoat(Directory.CreateDirectory(Path.Combine(dir, "nan")).FullName, "a.png", 160, 120);
        var outside = FaultInjection.TestImages.WriteBoat(Directory.CreateDirectory(Path.Combine(dir, "out")).FullName, "a.png", 160, 120);
        var nanKeypoint = FaultInjection.TestImages.WriteBoat(Directory.CreateDirectory(Path.Combine(dir, "nankp")).FullName, "a.png", 160, 120);
        using var source = R2D2.Localization.Features.FeatureSource.ForHloc("hloc:" + file);
        Assert.Equal(("hloc", 256), (source.Identity.FeatureType, source.Identity.DescriptorDim));
        var (f, reduction, decodedHash) = source.ExtractFile(a);
        Assert.Equal(1, reduction);
        Assert.Null(decodedHash); // no image was decoded: the extraction hashes the file itself
        Assert.Equal(new[] { 1.5f, 10f, 30.25f }, f.X); // the file's order: its indices are the map's
        Assert.Equal(new[] { 2.5f, 20f, 40.75f }, f.Y);
        Assert.Equal(new[] { 0.2f, 0.9f, 0.5f }, f.Score.Select(v => (float)Math.Round(v, 2)));
        Assert.Equal((160, 120), (f.ImageWidth, f.ImageHeight));
        Assert.Equal(new[] { 1f, 1f, -1f }, new[] { f.Descriptor(0)[0], f.Descriptor(1)[1], f.Descriptor(2)[2] }); // L2-normalised
        // The same image's pixels with its file, as a query is read.
        Assert.Equal(f.X, source.Extract(R2D2.Localization.Formats.ImageFile.ReadRgb(a), a).X);
        // Another size than the file records, and an image the file does not hold: that image's error, naming both.
        var wrong = Assert.Throws<R2D2.Localization.Formats.ImageFileException>(() => source.ExtractFile(b));
        Assert.Contains("160×120", wrong.Message);
        Assert.Contains("not the same image", wrong.Message);
        var missing = Assert.Throws<R2D2.Localization.Formats.ImageFileException>(() => source.ExtractFile(c));
        Assert.Contains(file, missing.Message);
        Assert.Contains("'db/a.png'", missing.Message);
        Assert.Contains("by image file", Assert.Throws<NotSupportedException>(() => source.Extract(R2D2.Localization.Formats.ImageFile.ReadRgb(a))).Message);
        // A value that is not finite, a keypoint outside the image: that image's error (a NaN crashed the map's VLAD).
        Assert.Contains("'nan/a.png/descriptors' of keypoint 0", Assert.Throws<R2D2.Localization.Formats.ImageFileException>(() => source.ExtractFile(nan)).Message);
        Assert.Contains("keypoint 0 ('out/a.png/keypoints') at (170, 2.5), outside the 160×120 image",
            Assert.Throws<R2D2.Localization.Formats.ImageFileException>(() => source.ExtractFile(outside)).Message);
        Assert.Contains("not finite: 'nankp/a.png/keypoints' of keypoint 0 (NaN, 2.5)",
            Assert.Throws<R2D2.Localization.Formats.ImageFileException>(() => source.ExtractFile(nanKeypoint)).Message);
        Assert.Equal(new[] { c }, source.Lacking(new[] { a, c }));
        // A truncated file and a folder are said as such (a truncated one crashed with "The file is too small").
        var truncated = Path.Combine(dir, "truncated.h5");
        File.WriteAllBytes(truncated, File.ReadAllBytes(file).Take(3000).ToArray());
        Assert.Contains(truncated, Assert.ThrowsAny<R2D2Exception>(() => R2D2.Localization.Features.FeatureSource.ForHloc("hloc:" + truncated)).Message);
        Assert.Contains("is a folder", Assert.ThrowsAny<R2D2Exception>(() => R2D2.Localization.Features.FeatureSource.ForHloc("hloc:" + images)).Message);

        // extract --database takes them; a map's queries then need an hloc file of 256-d features.
        var db = Path.Combine(dir, "feats.db");
        var (code, stdout, err) = CliTests.Localize("extract", "--images", Path.Combine(images, "db"), "--database", db, "--model", "hloc:" + file);
        Assert.True(code == 1, stdout + err); // b.png is refused, a.png stored
        Assert.Contains("not the same image", stdout + err);
        using (var fdb = FeatureDatabase.OpenReadOnly(db))
        {
            Assert.Equal("hloc", fdb.Extractor!.FeatureType);
            Assert.Equal(f.X, fdb.ReadFeatures(fdb.FindImage("a.png")!.Id)!.X);
            // No image was decoded for them: the image file's own hash is recorded.
            Assert.Equal(R2D2.Localization.Formats.ImageFile.ContentHash(a), fdb.ReadNotes(R2D2.Localization.Pipeline.DatabaseExtraction.ImageHashNote)["a.png"]);
        }
        (code, _, err) = CliTests.Localize("extract", "--images", Path.Combine(images, "db"), "--database", db, "--model", "hloc:" + file, "--top-k", "100");
        Assert.True(code != 0);
        Assert.Contains("--top-k applies to R2D2 models", err);
        (code, _, err) = CliTests.Localize("extract", "--images", Path.Combine(images, "db"), "--database", db, "--model", "hloc:" + file, "--precision", "bf16");
        Assert.True(code != 0);
        Assert.Contains("--precision applies to R2D2 models", err);
    }
}
