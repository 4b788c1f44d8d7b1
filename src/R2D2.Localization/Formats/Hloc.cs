using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using PureHDF;

namespace R2D2.Localization.Formats;

/// <summary>One image's local features as hloc stores them: keypoints N × 2 (x, y), descriptors
/// (here N × <see cref="Dim"/>, row-major; hloc's file holds D × N), scores N, and the image size.</summary>
public sealed record HlocFeatures(float[] Keypoints, float[] Descriptors, int Dim, float[] Scores, int Width, int Height)
{
    public int Count => Keypoints.Length / 2;
}

/// <summary>An image's entry in features.h5 before its data: its name and the sizes that fix the file's layout.</summary>
public sealed record HlocImageShape(string Name, int Count, int Dim);

/// <summary>A pair's entry in matches.h5 before its data: the names and the first image's keypoint count.</summary>
public sealed record HlocPairShape(string Name0, string Name1, int Count0);

/// <summary>
/// hloc's HDF5 files, read and written with PureHDF (a maintained HDF5 library):
/// <list type="bullet">
/// <item>features.h5: a group per image, named by the image's path (folders are nested groups),
/// with <c>keypoints</c> N × 2, <c>descriptors</c> D × N, <c>scores</c> N and <c>image_size</c>
/// (width, height). hloc's keypoints put the centre of the top-left pixel at (0, 0), as the
/// project does (hloc adds 0.5 only when it writes COLMAP's database), so they are not shifted;</item>
/// <item>matches.h5: a group per pair named as hloc's <c>names_to_pair</c> composes it (each name
/// with '/' replaced by '-', joined by '/'), with <c>matches0</c> (for each keypoint of the first
/// image, the index in the second or −1) and <c>matching_scores0</c>;</item>
/// <item>global descriptors: a group per image with <c>global_descriptor</c> D.</item>
/// </list>
/// hloc writes float16 and int16 by default (float32 and int32 with as_half off), other tools
/// float64 and int64: any float (16, 32, 64 bits) and integer (8 to 64 bits, signed or not)
/// dataset is read, in either byte order, compressed or not. Written: descriptors float16 (hloc's
/// default), other floats float32, match indices int32, image sizes int64. A missing group or dataset, a dataset of other values (strings, booleans, complex numbers, an integer
/// beyond 64-bit signed), a match index below −1 or beyond an int, or a file that is not HDF5, is a
/// <see cref="FileFormatException"/> naming the file and the dataset.
/// </summary>
public static class Hloc
{
    /// <summary>hloc's key of a pair in matches.h5.</summary>
    /// <summary>The root attribute this project's writer puts on features.h5 and matches.h5, so an
    /// export replaces its own earlier files and never hloc's (whose runs took hours).</summary>
    public const string ExportMark = "written_by";
    private const string ExportMarkValue = "localize convert --format hloc";

    /// <summary>True when <paramref name="path"/> is a features or matches file this project wrote.</summary>
    public static bool IsOurs(string path)
    {
        try
        {
            using var file = H5File.OpenRead(path);
            return file.AttributeExists(ExportMark) && file.Attribute(ExportMark).Read<string>() == ExportMarkValue;
        }
        catch (Exception) { return false; } // not HDF5, truncated, unreadable: not ours
    }

    public static string PairKey(string name0, string name1) => name0.Replace('/', '-') + "/" + name1.Replace('/', '-');

    public static void WriteFeatures(string path, IEnumerable<(string Name, HlocFeatures Features)> images)
    {
        var list = images.ToList();
        OutputFile.Write(path, s => WriteFeatures(s, list.Select(i => new HlocImageShape(i.Name, i.Features.Count, i.Features.Dim)).ToList(), k => list[k].Features));
    }

    /// <summary>features.h5 (to a stream that reads, writes and seeks) written one image at a time:
    /// the file's layout (groups, dataset sizes) is laid down from <paramref name="shapes"/> first,
    /// then each image's data is written as
    /// <paramref name="read"/> gives it, so memory holds one image however many the file holds.
    /// Descriptors are float16, as hloc's extract_features writes them by default (R2D2's stored
    /// descriptors are float16 already); keypoints and scores float32 (hloc's float16 keypoints lose
    /// a quarter pixel beyond 512). <paramref name="written"/> is told each image written.</summary>
    public static void WriteFeatures(Stream stream, IReadOnlyList<HlocImageShape> shapes, Func<int, HlocFeatures> read, Action<int>? written = null)
    {
        var file = new H5File();
        var sets = new List<(H5Dataset<float[]> Keypoints, H5Dataset<Half[]> Descriptors, H5Dataset<float[]> Scores, H5Dataset<long[]> Size)>();
        foreach (var s in shapes)
        {
            var g = GroupAt(file, s.Name);
            if (g.Count > 0) throw new R2D2Exception($"image '{s.Name}' is listed twice, or is a folder of another image");
            var set = (new H5Dataset<float[]>(fileDims: new[] { (ulong)s.Count, 2UL }), new H5Dataset<Half[]>(fileDims: new[] { (ulong)s.Dim, (ulong)s.Count }),
                new H5Dataset<float[]>(fileDims: new[] { (ulong)s.Count }), new H5Dataset<long[]>(fileDims: new[] { 2UL }));
            (g["keypoints"], g["descriptors"], g["scores"], g["image_size"]) = set;
            sets.Add(set);
        }
        Fill(stream, file, writer =>
        {
            for (int k = 0; k < shapes.Count; k++)
            {
                var (name, n, dim) = shapes[k];
                var f = read(k);
                if (f.Count != n || f.Dim != dim || f.Descriptors.Length != (long)n * dim || f.Scores.Length != n)
                    throw new ArgumentException($"{name}: {f.Count} keypoints, {f.Descriptors.Length} descriptor values of dimension {f.Dim}, {f.Scores.Length} scores, where {n} keypoints of dimension {dim} were laid down");
                var desc = new Half[f.Descriptors.Length]; // hloc's layout: D × N
                for (int i = 0; i < n; i++)
                    for (int d = 0; d < dim; d++) desc[d * n + i] = (Half)f.Descriptors[i * dim + d];
                writer.Write(sets[k].Keypoints, f.Keypoints);
                writer.Write(sets[k].Descriptors, desc);
                writer.Write(sets[k].Scores, f.Scores);
                writer.Write(sets[k].Size, new long[] { f.Width, f.Height });
                written?.Invoke(k);
            }
        });
    }

    public static HlocFeatures ReadFeatures(string path, string name) => Reading(path, file =>
    {
        var kp = Floats(file, path, name + "/keypoints", out var kd);
        if (kd.Length != 2 || kd[1] != 2) throw new FileFormatException(path, 0, $"dataset '{name}/keypoints' is {string.Join("×", kd)}, not N × 2");
        int n = (int)kd[0];
        var raw = Floats(file, path, name + "/descriptors", out var dd);
        if (dd.Length != 2 || (int)dd[1] != n) throw new FileFormatException(path, 0, $"dataset '{name}/descriptors' is {string.Join("×", dd)}, not D × {n}");
        int dim = (int)dd[0];
        var desc = new float[raw.Length];
        for (int d = 0; d < dim; d++)
            for (int i = 0; i < n; i++) desc[i * dim + d] = raw[d * n + i];
        var scores = Has(file, name + "/scores") ? Floats(file, path, name + "/scores", out _) : new float[n];
        if (scores.Length != n) throw new FileFormatException(path, 0, $"dataset '{name}/scores' has {scores.Length} values for {n} keypoints");
        var size = Has(file, name + "/image_size") ? Longs(file, path, name + "/image_size", out _) : new long[] { 0, 0 };
        if (size.Length != 2 || size.Any(v => v < 0 || v > int.MaxValue))
            throw new FileFormatException(path, 0, $"dataset '{name}/image_size' is [{string.Join(", ", size)}], not 2 sizes (width, height)");
        return new HlocFeatures(kp, desc, dim, scores, (int)size[0], (int)size[1]);
    });

    /// <summary>The image names of a features or global-descriptors file: the groups holding
    /// <paramref name="dataset"/>, as paths.</summary>
    public static List<string> ListImages(string path, string dataset = "keypoints") => Reading(path, file => ListImages(file, dataset));

    private static List<string> ListImages(IH5Group file, string dataset)
    {
        var names = new List<string>();
        void Walk(IH5Group g, string prefix)
        {
            foreach (var child in g.Children())
                if (child is IH5Group sub)
                {
                    var name = prefix.Length == 0 ? sub.Name : prefix + "/" + sub.Name;
                    if (sub.LinkExists(dataset)) names.Add(name);
                    else Walk(sub, name);
                }
        }
        Walk(file, "");
        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>Matches of each pair: for each keypoint of the first image, its match in the second or −1, with a score.</summary>
    public static void WriteMatches(string path, IEnumerable<(string Name0, string Name1, int[] Matches0, float[] Scores0)> pairs)
    {
        var list = pairs.ToList();
        OutputFile.Write(path, s => WriteMatches(s, list.Select(p => new HlocPairShape(p.Name0, p.Name1, p.Matches0.Length)).ToList(), k => (list[k].Matches0, list[k].Scores0)));
    }

    /// <summary>matches.h5 written one pair at a time, as <see cref="WriteFeatures(Stream, IReadOnlyList{HlocImageShape}, Func{int, HlocFeatures}, Action{int})"/>
    /// writes features: <c>matches0</c> int32 (hloc's int16 cannot index past 32,767 keypoints) and
    /// <c>matching_scores0</c> float32. Two pairs with one key (hloc's '/' → '-' makes "a/b.jpg" and
    /// "a-b.jpg" one name) are refused before anything is written.</summary>
    public static void WriteMatches(Stream stream, IReadOnlyList<HlocPairShape> pairs, Func<int, (int[] Matches0, float[] Scores0)> read, Action<int>? written = null)
    {
        var file = new H5File();
        var sets = new List<(H5Dataset<int[]> Matches, H5Dataset<float[]> Scores)>();
        foreach (var p in pairs)
        {
            var g = GroupAt(file, PairKey(p.Name0, p.Name1));
            if (g.Count > 0) throw new R2D2Exception($"pair '{p.Name0}' '{p.Name1}': its key '{PairKey(p.Name0, p.Name1)}' is another pair's too");
            var set = (new H5Dataset<int[]>(fileDims: new[] { (ulong)p.Count0 }), new H5Dataset<float[]>(fileDims: new[] { (ulong)p.Count0 }));
            (g["matches0"], g["matching_scores0"]) = set;
            sets.Add(set);
        }
        Fill(stream, file, writer =>
        {
            for (int k = 0; k < pairs.Count; k++)
            {
                var (m, s) = read(k);
                if (m.Length != pairs[k].Count0 || s.Length != m.Length)
                    throw new ArgumentException($"{pairs[k].Name0} {pairs[k].Name1}: {m.Length} matches, {s.Length} scores, where {pairs[k].Count0} were laid down");
                writer.Write(sets[k].Matches, m);
                writer.Write(sets[k].Scores, s);
                written?.Invoke(k);
            }
        });
    }

    /// <summary>The matches of (name0, name1), found under either order as hloc's find_pair does:
    /// (keypoint of name0, keypoint of name1, score), for <paramref name="count0"/> and
    /// <paramref name="count1"/> keypoints. The reverse order's are turned around whole: several
    /// keypoints of name1 may match one of name0 (hloc's nearest neighbours without a mutual
    /// check), and each is kept, as hloc's flip keeps them.</summary>
    public static List<Match> ReadMatches(string path, string name0, string name1, int count0, int count1) =>
        Reading(path, file => PairOf(file, path, name0, name1, count0, count1));

    /// <summary>hloc's older key of a pair (names_to_pair_old: one group at the root), which its find_pair still reads.</summary>
    private static string OldPairKey(string name0, string name1) => name0.Replace('/', '-') + "_" + name1.Replace('/', '-');

    /// <summary>The key a file holds the pair under, as hloc's find_pair looks: this order, the other,
    /// then the old keys in both orders; null when none.</summary>
    private static (string Key, bool Reversed)? FindPair(IH5Group file, string name0, string name1)
    {
        foreach (var (key, reversed) in new[] { (PairKey(name0, name1), false), (PairKey(name1, name0), true), (OldPairKey(name0, name1), false), (OldPairKey(name1, name0), true) })
            if (Has(file, key + "/matches0")) return (key, reversed);
        return null;
    }

    private static List<Match> PairOf(IH5Group file, string path, string name0, string name1, int count0, int count1)
    {
        var found = FindPair(file, name0, name1)
            ?? throw new FileFormatException(path, 0, $"no pair '{PairKey(name0, name1)}' (nor '{PairKey(name1, name0)}', nor hloc's older '{OldPairKey(name0, name1)}') with a 'matches0' dataset");
        var (key, reversed) = found;
        var (m, sc) = ReadPair(file, path, key);
        // matches0 indexes the keypoints of the key's first image with those of its second.
        var (first, second, countFirst, countSecond) = reversed ? (name1, name0, count1, count0) : (name0, name1, count0, count1);
        if (m.Length != countFirst) throw new FileFormatException(path, 0, $"'{key}/matches0' has {m.Length} values, and '{first}' {countFirst} keypoints");
        var list = new List<Match>();
        for (int k = 0; k < m.Length; k++)
        {
            if (m[k] < 0) continue;
            if (m[k] >= countSecond)
                throw new FileFormatException(path, 0, $"'{key}/matches0'[{k}] = {m[k]}, beyond the {countSecond} keypoints of '{second}'");
            list.Add(reversed ? new Match(m[k], k, sc[k]) : new Match(k, m[k], sc[k]));
        }
        if (reversed) list.Sort((a, b) => a.I != b.I ? a.I.CompareTo(b.I) : a.J.CompareTo(b.J));
        return list;
    }

    /// <summary>The matches of many pairs from one open file, each as <see cref="ReadMatches"/> gives
    /// it (either order), handed to <paramref name="each"/> in turn; a pair the file lacks is an error
    /// naming it (check first with <see cref="MissingPairs"/>).</summary>
    public static void ReadManyMatches(string path, IReadOnlyList<(string Name0, string Name1, int Count0, int Count1)> pairs, Action<int, List<Match>> each) => Reading(path, file =>
    {
        for (int k = 0; k < pairs.Count; k++)
        {
            var (a, b, count0, count1) = pairs[k];
            each(k, PairOf(file, path, a, b, count0, count1));
        }
        return 0;
    });

    /// <summary>The pairs (by index) that the file holds in neither order.</summary>
    public static List<int> MissingPairs(string path, IReadOnlyList<(string Name0, string Name1)> pairs) => Reading(path, file =>
        Enumerable.Range(0, pairs.Count).Where(k => FindPair(file, pairs[k].Name0, pairs[k].Name1) == null).ToList());

    private static (int[], float[]) ReadPair(IH5Group file, string path, string key)
    {
        var raw = Longs(file, path, key + "/matches0", out _);
        if (Array.FindIndex(raw, v => v < -1 || v > int.MaxValue) is var bad and >= 0)
            throw new FileFormatException(path, 0, $"'{key}/matches0'[{bad}] = {raw[bad]}: neither a keypoint index nor -1");
        var m = raw.Select(v => (int)v).ToArray();
        var s = Has(file, key + "/matching_scores0") ? Floats(file, path, key + "/matching_scores0", out _) : new float[m.Length];
        if (s.Length != m.Length) throw new FileFormatException(path, 0, $"'{key}': {m.Length} matches, {s.Length} scores");
        return (m, s);
    }

    public static void WriteGlobal(string path, IEnumerable<(string Name, float[] Descriptor)> images)
    {
        var file = new H5File();
        foreach (var (name, d) in images) GroupAt(file, name)["global_descriptor"] = new H5Dataset((float[])d.Clone());
        Write(path, file);
    }

    public static float[] ReadGlobal(string path, string name) => Reading(path, file => Floats(file, path, name + "/global_descriptor", out _));

    /// <summary>Every image's global descriptor of a file (hloc's global-feats-*.h5), by image
    /// name, as stored (not normalized); a value that is not finite names the file and dataset.</summary>
    public static Dictionary<string, float[]> ReadAllGlobal(string path) => Reading(path, file =>
    {
        var names = ListImages(file, "global_descriptor");
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var v = Floats(file, path, name + "/global_descriptor", out _);
            if (v.Any(x => !float.IsFinite(x))) throw new FileFormatException(path, 0, $"dataset '{name}/global_descriptor' holds a value that is not finite");
            result[name] = v;
        }
        return result;
    });

    private static H5Group GroupAt(H5Group root, string path)
    {
        var g = root;
        foreach (var part in path.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            if (!g.TryGetValue(part, out var child)) g[part] = child = new H5Group();
            g = child as H5Group ?? throw new R2D2Exception($"'{path}': '{part}' is a dataset and a group");
        }
        return g;
    }

    private static void Write(string path, H5File file) => OutputFile.Write(path, s => file.Write(s));

    /// <summary>Lays the file's structure down, then lets <paramref name="write"/> fill its datasets
    /// (the stream must read and seek as well as write: PureHDF goes back to its headers).</summary>
    private static void Fill(Stream stream, H5File file, Action<H5NativeWriter> write)
    {
        file.Attributes[ExportMark] = ExportMarkValue;
        using var writer = file.BeginWrite(stream);
        write(writer);
    }

    /// <summary>Opens the file for <paramref name="read"/>; what PureHDF throws on a truncated or
    /// damaged file ("The file is too small") becomes an error naming the file.</summary>
    private static T Reading<T>(string path, Func<PureHDF.VOL.Native.NativeFile, T> read)
    {
        using var file = Open(path);
        try { return read(file); }
        catch (Exception e) when (e is not FileFormatException) { throw new FileFormatException(path, 0, $"cannot be read: a truncated or damaged HDF5 file? ({e.Message})"); }
    }

    private static PureHDF.VOL.Native.NativeFile Open(string path)
    {
        if (!File.Exists(path)) throw new FileFormatException(path, 0, "not found");
        try { return H5File.OpenRead(path); }
        catch (Exception e) when (e is not FileFormatException) { throw new FileFormatException(path, 0, $"not an HDF5 file ({e.Message})"); }
    }

    private static bool Has(IH5Group file, string path)
    {
        // LinkExists walks one level at a time; a missing parent group is "no".
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        IH5Group g = file;
        for (int i = 0; i < parts.Length; i++)
        {
            if (!g.LinkExists(parts[i])) return false;
            if (i < parts.Length - 1)
            {
                if (g.Get(parts[i]) is not IH5Group sub) return false;
                g = sub;
            }
        }
        return true;
    }

    private static IH5Dataset Dataset(IH5Group file, string path, string name)
    {
        if (!Has(file, name)) throw new FileFormatException(path, 0, $"no dataset '{name}'");
        return file.Get(name) as IH5Dataset ?? throw new FileFormatException(path, 0, $"'{name}' is not a dataset");
    }

    private static float[] Floats(IH5Group file, string path, string name, out ulong[] dims)
    {
        var ds = Dataset(file, path, name);
        dims = ds.Space.Dimensions;
        try
        {
            return (ds.Type.Class, ds.Type.Size) switch
            {
                (H5DataTypeClass.FloatingPoint, 2) => Read<Half>(ds).Select(v => (float)v).ToArray(),
                (H5DataTypeClass.FloatingPoint, 4) => Read<float>(ds),
                (H5DataTypeClass.FloatingPoint, 8) => Read<double>(ds).Select(v => (float)v).ToArray(),
                (H5DataTypeClass.FixedPoint, _) => Longs(file, path, name, out dims).Select(v => (float)v).ToArray(),
                var t => throw new FileFormatException(path, 0, $"dataset '{name}' holds {t.Class} of {t.Size} bytes, not numbers"),
            };
        }
        catch (Exception e) when (e is not FileFormatException) { throw new FileFormatException(path, 0, $"dataset '{name}' cannot be read ({e.Message})"); }
    }

    private static long[] Longs(IH5Group file, string path, string name, out ulong[] dims)
    {
        var ds = Dataset(file, path, name);
        dims = ds.Space.Dimensions;
        if (ds.Type.Class != H5DataTypeClass.FixedPoint) throw new FileFormatException(path, 0, $"dataset '{name}' holds {ds.Type.Class}, not integers");
        bool signed = ds.Type.FixedPoint.IsSigned;
        try
        {
            return (ds.Type.Size, signed) switch
            {
                (1, true) => Read<sbyte>(ds).Select(v => (long)v).ToArray(),
                (1, false) => Read<byte>(ds).Select(v => (long)v).ToArray(),
                (2, true) => Read<short>(ds).Select(v => (long)v).ToArray(),
                (2, false) => Read<ushort>(ds).Select(v => (long)v).ToArray(),
                (4, true) => Read<int>(ds).Select(v => (long)v).ToArray(),
                (4, false) => Read<uint>(ds).Select(v => (long)v).ToArray(),
                (8, true) => Read<long>(ds),
                (8, false) => Read<ulong>(ds).Select(v => v <= long.MaxValue ? (long)v
                    : throw new FileFormatException(path, 0, $"dataset '{name}' holds {v}, beyond a 64-bit signed integer")).ToArray(),
                var t => throw new FileFormatException(path, 0, $"dataset '{name}' holds integers of {t.Size} bytes, not 1 to 8"),
            };
        }
        catch (Exception e) when (e is not FileFormatException) { throw new FileFormatException(path, 0, $"dataset '{name}' cannot be read ({e.Message})"); }
    }

    /// <summary>The dataset's values as <typeparamref name="T"/> (of the dataset's size). PureHDF
    /// reads only the machine's byte order: big-endian data (h5py's '&gt;f8', files from big-endian
    /// machines) is read as bytes and each value's bytes reversed here.</summary>
    private static T[] Read<T>(IH5Dataset ds) where T : unmanaged
    {
        try { return ds.Read<T[]>(); }
        catch (Exception e) when (e.Message.Contains("byte order", StringComparison.OrdinalIgnoreCase))
        {
            var raw = ds.Read<byte[]>();
            int size = Unsafe.SizeOf<T>();
            if (raw.Length % size != 0) throw new InvalidDataException($"{raw.Length} bytes are no whole number of {size}-byte values");
            for (int i = 0; i < raw.Length; i += size) raw.AsSpan(i, size).Reverse();
            return MemoryMarshal.Cast<byte, T>(raw).ToArray();
        }
    }
}
