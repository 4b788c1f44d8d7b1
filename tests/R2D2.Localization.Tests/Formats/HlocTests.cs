using System.Globalization;
using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

/// <summary>hloc's HDF5 files: written by h5py in the layout hloc's extract_features,
/// match_features and global extraction produce (float16 and int16, as hloc's defaults; the
/// float32 / float64 / int64 / unsigned / big-endian / compressed datasets of other tools), read by
/// us; written by us, read by h5py; and refused with the file and dataset when malformed.
/// Skipped without python3-h5py (the files are written by /usr/bin/python3), except on CI.</summary>
public class HlocTests
{
    /// <summary>Matches as hloc's matches0 and matching_scores0 of name0's <paramref name="count0"/> keypoints.</summary>
    internal static (int[] Matches0, float[] Scores0) Matches0(List<Match> matches, int count0)
    {
        var m = Enumerable.Repeat(-1, count0).ToArray();
        var s = new float[count0];
        foreach (var x in matches) { m[x.I] = x.J; s[x.I] = x.Similarity; }
        return (m, s);
    }

    internal static bool SkipWithoutH5py()
    {
        if (PythonTools.HasModule("h5py")) return false;
        Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "CI must have python3-h5py (see tools/setup)");
        return true;
    }

    /// <summary>The deterministic arrays both sides build: keypoint i at (i + 0.25, 2i + 0.5), descriptor value (d − i)/8, score i/16.</summary>
    private const string Arrays = @"
import h5py, numpy as np
def names_to_pair(a, b): return '/'.join((a.replace('/', '-'), b.replace('/', '-')))
N, D = 5, 4
kp = np.stack([np.arange(N) + 0.25, 2 * np.arange(N) + 0.5], 1).astype(np.float32)
desc = ((np.arange(D)[:, None] - np.arange(N)[None, :]) / 8).astype(np.float32)   # D x N
scores = (np.arange(N) / 16).astype(np.float32)
m0 = np.array([2, -1, 0, 4, -1], dtype=np.int16)
ms0 = np.array([0.5, 0, 0.25, 0.75, 0], dtype=np.float16)
";

    private static HlocFeatures Expected()
    {
        const int n = 5, dim = 4;
        var kp = new float[2 * n]; var desc = new float[n * dim]; var sc = new float[n];
        for (int i = 0; i < n; i++)
        {
            kp[2 * i] = i + 0.25f; kp[2 * i + 1] = 2 * i + 0.5f; sc[i] = i / 16f;
            for (int d = 0; d < dim; d++) desc[i * dim + d] = (d - i) / 8f;
        }
        return new HlocFeatures(kp, desc, dim, sc, 640, 480);
    }

    [Fact]
    public void ReadsFilesInHlocsLayoutWrittenByH5py()
    {
        if (SkipWithoutH5py()) return;
        var dir = TempDir.Create();
        PythonTools.Run(Arrays + $@"
with h5py.File('{dir}/features.h5', 'w') as fd:
    grp = fd.create_group('db/1045.jpg')            # hloc: one group per image name, folders nested
    grp.create_dataset('keypoints', data=kp.astype(np.float16))
    grp['keypoints'].attrs['uncertainty'] = 0.5
    grp.create_dataset('descriptors', data=desc.astype(np.float16))
    grp.create_dataset('scores', data=scores.astype(np.float16))
    grp.create_dataset('image_size', data=np.array([640, 480]))
with h5py.File('{dir}/matches.h5', 'w') as fd:
    grp = fd.create_group(names_to_pair('query/night/a.jpg', 'db/1045.jpg'))
    grp.create_dataset('matches0', data=m0)
    grp.create_dataset('matching_scores0', data=ms0)
with h5py.File('{dir}/global.h5', 'w') as fd:
    fd.create_group('db/1045.jpg').create_dataset('global_descriptor', data=np.arange(8, dtype=np.float32) / 8)
");
        var f = Hloc.ReadFeatures(Path.Combine(dir, "features.h5"), "db/1045.jpg");
        var e = Expected();
        Assert.Equal(e.Keypoints, f.Keypoints); // exact in float16
        Assert.Equal(e.Descriptors, f.Descriptors);
        Assert.Equal(e.Scores, f.Scores);
        Assert.Equal((4, 640, 480), (f.Dim, f.Width, f.Height));
        Assert.Equal(new[] { "db/1045.jpg" }, Hloc.ListImages(Path.Combine(dir, "features.h5")));
        var (m, s) = Matches0(Hloc.ReadMatches(Path.Combine(dir, "matches.h5"), "query/night/a.jpg", "db/1045.jpg", 5, 5), 5);
        Assert.Equal(new[] { 2, -1, 0, 4, -1 }, m);
        Assert.Equal(new[] { 0.5f, 0, 0.25f, 0.75f, 0 }, s);
        // Asked the other way round, as hloc's find_pair: turned around.
        var (r, rs) = Matches0(Hloc.ReadMatches(Path.Combine(dir, "matches.h5"), "db/1045.jpg", "query/night/a.jpg", 5, 5), 5);
        Assert.Equal(new[] { 2, -1, 0, -1, 3 }, r);
        Assert.Equal(0.75f, rs[4]);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => i / 8f), Hloc.ReadGlobal(Path.Combine(dir, "global.h5"), "db/1045.jpg"));
        // Several keypoints matched to one (nearest neighbours without a mutual check): asked the
        // other way round, every match is kept (the last one alone was, whatever its score).
        var many = Path.Combine(dir, "many.h5");
        Hloc.WriteMatches(many, new[] { ("a.jpg", "b.jpg", new[] { 1, 1, -1, 0 }, new[] { 0.9f, 0.1f, 0, 0.5f }) });
        Assert.Equal(new[] { new Match(0, 3, 0.5f), new Match(1, 0, 0.9f), new Match(1, 1, 0.1f) }, Hloc.ReadMatches(many, "b.jpg", "a.jpg", 2, 4));
        Assert.Contains("'a.jpg/b.jpg/matches0' has 4 values, and 'a.jpg' 3 keypoints",
            Assert.Throws<FileFormatException>(() => Hloc.ReadMatches(many, "b.jpg", "a.jpg", 2, 3)).Message);
        Assert.Contains("= 1, beyond the 1 keypoints of 'b.jpg'", Assert.Throws<FileFormatException>(() => Hloc.ReadMatches(many, "b.jpg", "a.jpg", 1, 4)).Message);
        var all = Hloc.ReadAllGlobal(Path.Combine(dir, "global.h5"));
        Assert.Equal(new[] { "db/1045.jpg" }, all.Keys);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => i / 8f), all["db/1045.jpg"]);
    }

    /// <summary>The dtypes hloc writes (float16 / float32 with as_half off, int16 / int32 matches)
    /// and those other tools write (float64 keypoints, int64 matches, unsigned or 32-bit image
    /// sizes, big-endian, gzip-compressed chunks): read to the same values.</summary>
    [Theory]
    [InlineData("float32", "float32", "float32", "int32", "float32", "int64")]
    [InlineData("float64", "float64", "float64", "int64", "float64", "int32")]
    [InlineData("float64", "float16", "float16", "int8", "float16", "uint16")]
    [InlineData(">f8", ">f4", ">f2", ">i8", ">f8", ">u8")]
    [InlineData("float32", "float32", "float64", "int64 gzip", "float32", "uint32")]
    public void ReadsEveryNumericDtypeOtherToolsWrite(string keypoints, string descriptors, string scores, string matches, string matchScores, string imageSize)
    {
        if (SkipWithoutH5py()) return;
        var dir = TempDir.Create();
        static string Create(string name, string data, string dtype) =>
            $"grp.create_dataset('{name}', data={data}.astype('{dtype.Split(' ')[0]}'){(dtype.EndsWith(" gzip") ? ", compression='gzip', chunks=True" : "")})\n";
        PythonTools.Run(Arrays + $@"
with h5py.File('{dir}/features.h5', 'w') as fd:
    grp = fd.create_group('db/1045.jpg')
    {Create("keypoints", "kp", keypoints)}    {Create("descriptors", "desc", descriptors)}    {Create("scores", "scores", scores)}    {Create("image_size", "np.array([640, 480])", imageSize)}
with h5py.File('{dir}/matches.h5', 'w') as fd:
    grp = fd.create_group(names_to_pair('query/night/a.jpg', 'db/1045.jpg'))
    {Create("matches0", "m0", matches)}    {Create("matching_scores0", "ms0", matchScores)}
with h5py.File('{dir}/global.h5', 'w') as fd:
    grp = fd.create_group('db/1045.jpg')
    {Create("global_descriptor", "(np.arange(8) / 8)", descriptors)}
");
        var f = Hloc.ReadFeatures(Path.Combine(dir, "features.h5"), "db/1045.jpg");
        var e = Expected();
        Assert.Equal(e.Keypoints, f.Keypoints); // every value exact in float16
        Assert.Equal(e.Descriptors, f.Descriptors);
        Assert.Equal(e.Scores, f.Scores);
        Assert.Equal((4, 640, 480), (f.Dim, f.Width, f.Height));
        var (m, s) = Matches0(Hloc.ReadMatches(Path.Combine(dir, "matches.h5"), "query/night/a.jpg", "db/1045.jpg", 5, 5), 5);
        Assert.Equal(new[] { 2, -1, 0, 4, -1 }, m);
        Assert.Equal(new[] { 0.5f, 0, 0.25f, 0.75f, 0 }, s);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => i / 8f), Hloc.ReadGlobal(Path.Combine(dir, "global.h5"), "db/1045.jpg"));
    }

    /// <summary>Datasets no reader can turn into numbers (strings, booleans, complex numbers), and
    /// match indices an int cannot hold or below −1, stop the read naming the file and the dataset.</summary>
    [Fact]
    public void DtypesThatAreNoNumbersAndImpossibleIndicesNameTheFileAndDataset()
    {
        if (SkipWithoutH5py()) return;
        var dir = TempDir.Create();
        PythonTools.Run(Arrays + $@"
with h5py.File('{dir}/features.h5', 'w') as fd:
    fd.create_group('s').create_dataset('keypoints', data=np.array([[b'a', b'b']]))
    fd.create_group('b').create_dataset('keypoints', data=np.zeros((2, 2), dtype=bool))
    fd.create_group('c').create_dataset('keypoints', data=np.zeros((2, 2), dtype=np.complex64))
    g = fd.create_group('i'); g.create_dataset('keypoints', data=kp); g.create_dataset('descriptors', data=desc); g.create_dataset('image_size', data=np.array([6.5, 4]))
with h5py.File('{dir}/matches.h5', 'w') as fd:
    fd.create_group('a.jpg').create_dataset('b.jpg/matches0', data=np.array([0, 2**40, -1], dtype=np.int64))
    fd.create_group('c.jpg').create_dataset('d.jpg/matches0', data=np.array([0, -2, -1], dtype=np.int32))
    fd.create_group('e.jpg').create_dataset('f.jpg/matches0', data=np.array([0.0, 1.0], dtype=np.float32))
");
        var features = Path.Combine(dir, "features.h5");
        var matches = Path.Combine(dir, "matches.h5");
        var before = new[] { File.ReadAllBytes(features), File.ReadAllBytes(matches) };
        void Refused(Action read, string path, string dataset, string why)
        {
            var ex = Assert.Throws<FileFormatException>(read);
            Assert.Equal(path, ex.File);
            Assert.Contains($"'{dataset}'", ex.Message);
            Assert.Contains(why, ex.Message);
        }
        Refused(() => Hloc.ReadFeatures(features, "s"), features, "s/keypoints", "not numbers");
        Refused(() => Hloc.ReadFeatures(features, "b"), features, "b/keypoints", "not numbers");
        Refused(() => Hloc.ReadFeatures(features, "c"), features, "c/keypoints", "not numbers");
        Refused(() => Hloc.ReadFeatures(features, "i"), features, "i/image_size", "not integers");
        Refused(() => Hloc.ReadMatches(matches, "a.jpg", "b.jpg", 3, 3), matches, "a.jpg/b.jpg/matches0", "1099511627776");
        Refused(() => Hloc.ReadMatches(matches, "d.jpg", "c.jpg", 3, 3), matches, "c.jpg/d.jpg/matches0", "-2");
        Refused(() => Hloc.ReadMatches(matches, "e.jpg", "f.jpg", 2, 2), matches, "e.jpg/f.jpg/matches0", "not integers");
        Assert.Equal(before, new[] { File.ReadAllBytes(features), File.ReadAllBytes(matches) });
    }

    [Fact]
    public void H5pyReadsOurFilesAsHlocWould()
    {
        if (SkipWithoutH5py()) return;
        var dir = TempDir.Create();
        var e = Expected();
        Hloc.WriteFeatures(Path.Combine(dir, "features.h5"), new[] { ("db/1045.jpg", e), ("q.jpg", e with { Width = 1, Height = 2 }) });
        Hloc.WriteMatches(Path.Combine(dir, "matches.h5"), new[] { ("query/night/a.jpg", "db/1045.jpg", new[] { 2, -1, 0, 4, -1 }, new[] { 0.5f, 0, 0.25f, 0.75f, 0 }) });
        Hloc.WriteGlobal(Path.Combine(dir, "global.h5"), new[] { ("db/1045.jpg", new[] { 1f, 2, 3 }) });
        var output = PythonTools.Run(Arrays + $@"
with h5py.File('{dir}/features.h5', 'r') as fd:
    g = fd['db/1045.jpg']
    assert np.array_equal(g['keypoints'][()], kp), g['keypoints'][()]
    assert np.array_equal(g['descriptors'][()], desc)
    assert np.array_equal(g['scores'][()], scores)
    assert list(g['image_size'][()]) == [640, 480]
    assert list(fd['q.jpg']['image_size'][()]) == [1, 2]
with h5py.File('{dir}/matches.h5', 'r') as fd:
    g = fd[names_to_pair('query/night/a.jpg', 'db/1045.jpg')]
    assert np.array_equal(g['matches0'][()], m0)
    assert np.array_equal(g['matching_scores0'][()], ms0.astype(np.float32))
with h5py.File('{dir}/global.h5', 'r') as fd:
    assert list(fd['db/1045.jpg']['global_descriptor'][()]) == [1, 2, 3]
print('ok')
");
        Assert.Equal("ok", output.Trim());
        // And our reader reads our writer.
        var back = Hloc.ReadFeatures(Path.Combine(dir, "features.h5"), "db/1045.jpg");
        Assert.Equal(e.Descriptors, back.Descriptors);
        Assert.Equal(new[] { "db/1045.jpg", "q.jpg" }, Hloc.ListImages(Path.Combine(dir, "features.h5")));
    }

    [Fact]
    public void MissingDatasetsAndOtherFilesNameTheFileAndDataset()
    {
        var dir = TempDir.Create();
        var path = Path.Combine(dir, "features.h5");
        Hloc.WriteGlobal(path, new[] { ("a.jpg", new[] { 1f }) });
        var before = File.ReadAllBytes(path);
        var ex = Assert.Throws<FileFormatException>(() => Hloc.ReadFeatures(path, "a.jpg"));
        Assert.Equal(path, ex.File);
        Assert.Contains("no dataset 'a.jpg/keypoints'", ex.Message);
        Assert.Contains("no pair", Assert.Throws<FileFormatException>(() => Hloc.ReadMatches(path, "a.jpg", "b.jpg", 1, 1)).Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        var text = Path.Combine(dir, "notes.h5");
        File.WriteAllText(text, "not hdf5");
        Assert.Contains("not an HDF5 file", Assert.Throws<FileFormatException>(() => Hloc.ReadGlobal(text, "a.jpg")).Message);
    }
}
