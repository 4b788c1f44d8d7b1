using R2D2.Localization.Geometry;
using System.Globalization;

namespace R2D2.Localization.Formats;

/// <summary>A feature file's rows: <see cref="Rows"/> × <see cref="Columns"/> values, row-major.</summary>
public sealed record FeatureArray(float[] Values, int Columns)
{
    public int Rows => Columns == 0 ? 0 : Values.Length / Columns;
}

/// <summary>
/// kapture's feature files (format 1.1): under ROOT/reconstruction,
/// <c>keypoints/TYPE/keypoints.txt</c> (`name, dtype, dsize`) with one raw little-endian array per
/// image, <c>IMAGE.kpt</c> (N × dsize; x, y first); <c>descriptors/TYPE/descriptors.txt</c>
/// (`name, dtype, dsize, keypoints_type, metric_type`) with <c>IMAGE.desc</c>; and
/// <c>matches/KEYPOINTS_TYPE/IMAGE1.overlapping/IMAGE2.matches</c>, float64 N × 3 (index 1,
/// index 2, score). Keypoints are in COLMAP's pixel convention, as kapture's COLMAP import and
/// export copy them unchanged: x and y are shifted by 0.5 on read and write. dtypes read: float16,
/// float32, float64, uint8, int32; written: float32 (matches float64). A file whose size does not fit
/// its header, or a header line that is not the type's, names the file (and line).
/// </summary>
public static class KaptureFeatures
{
    private const float Shift = (float)ColmapConvention.PixelOffset;

    public static string KeypointsFolder(string root, string type) => Path.Combine(root, "reconstruction", "keypoints", type);
    public static string DescriptorsFolder(string root, string type) => Path.Combine(root, "reconstruction", "descriptors", type);
    public static string MatchesFolder(string root, string keypointsType) => Path.Combine(root, "reconstruction", "matches", keypointsType);

    public static void WriteKeypointsHeader(string root, string type, int dsize) =>
        OutputFile.WriteAllText(Path.Combine(KeypointsFolder(root, type), "keypoints.txt"),
            $"{Kapture.Header}\n# name, dtype, dsize\n{type}, float32, {dsize}\n");

    public static void WriteDescriptorsHeader(string root, string type, int dsize, string keypointsType, string metric = "L2") =>
        OutputFile.WriteAllText(Path.Combine(DescriptorsFolder(root, type), "descriptors.txt"),
            $"{Kapture.Header}\n# name, dtype, dsize, keypoints_type, metric_type\n{type}, float32, {dsize}, {keypointsType}, {metric}\n");

    /// <summary>Keypoints in the project's convention; x, y (the first two columns) are shifted to kapture's.</summary>
    public static void WriteKeypoints(string root, string type, string image, FeatureArray keypoints)
    {
        var v = (float[])keypoints.Values.Clone();
        for (int r = 0; r < keypoints.Rows; r++) { v[r * keypoints.Columns] += Shift; v[r * keypoints.Columns + 1] += Shift; }
        WriteRaw(Path.Combine(KeypointsFolder(root, type), image + ".kpt"), v);
    }

    public static void WriteDescriptors(string root, string type, string image, FeatureArray descriptors) =>
        WriteRaw(Path.Combine(DescriptorsFolder(root, type), image + ".desc"), descriptors.Values);

    /// <summary>Matches of image1's keypoint i1 with image2's i2, with a score.</summary>
    public static void WriteMatches(string root, string keypointsType, string image1, string image2, IReadOnlyList<(int I1, int I2, double Score)> matches)
    {
        // kapture keeps a pair under its lexically first name (kapture-localization looks pairs up
        // that way): the other order is written swapped, its columns with it.
        bool swap = string.CompareOrdinal(image1, image2) > 0;
        if (swap) (image1, image2) = (image2, image1);
        var bytes = new byte[matches.Count * 24];
        for (int k = 0; k < matches.Count; k++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(24 * k), (double)(swap ? matches[k].I2 : matches[k].I1));
            BitConverter.TryWriteBytes(bytes.AsSpan(24 * k + 8), (double)(swap ? matches[k].I1 : matches[k].I2));
            BitConverter.TryWriteBytes(bytes.AsSpan(24 * k + 16), matches[k].Score);
        }
        OutputFile.WriteAllBytes(MatchesPath(root, keypointsType, image1, image2), bytes);
    }

    public static string MatchesPath(string root, string keypointsType, string image1, string image2) =>
        Path.Combine(MatchesFolder(root, keypointsType), image1 + ".overlapping", image2 + ".matches");

    private static void WriteRaw(string path, float[] values)
    {
        var bytes = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, bytes, 0, bytes.Length);
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("kapture's files are little-endian");
        OutputFile.WriteAllBytes(path, bytes);
    }

    /// <summary>A dtype as numpy names it: kapture writes the type's name, which for Python's own
    /// float is "float" (numpy's float64); "double", "single" and "half" are numpy's aliases.</summary>
    public static string Dtype(string name) => name.Trim().ToLowerInvariant() switch
    {
        "float" or "double" => "float64",
        "single" => "float32",
        "half" => "float16",
        var d => d,
    };

    /// <summary>(dtype, dsize) from a keypoints.txt or descriptors.txt header, checking the name.</summary>
    public static (string Dtype, int Dsize) ReadHeader(string file, string type)
    {
        if (!File.Exists(file)) throw new FileFormatException(file, 0, "not found");
        foreach (var (n, f) in Kapture.Lines(file))
        {
            if (f.Length < 3) throw new FileFormatException(file, n, $"expected `name, dtype, dsize, ...`, found {Counted.Of(f.Length, "field")}");
            if (f[0] != type) throw new FileFormatException(file, n, $"names type '{f[0]}', the folder is '{type}'");
            var dtype = Dtype(f[1]);
            if (ElementSize(dtype) == 0) throw new FileFormatException(file, n, $"dtype '{f[1]}' is not one of float16, float32, float64, uint8, int32");
            if (!int.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out int d) || d < 1) throw new FileFormatException(file, n, $"dsize '{f[2]}' is not a positive whole number");
            return (dtype, d);
        }
        throw new FileFormatException(file, 0, "no header line (`name, dtype, dsize`)");
    }

    /// <summary>The keypoints types of a kapture root: the folders of reconstruction/keypoints that hold a keypoints.txt.</summary>
    public static List<string> KeypointsTypes(string root)
    {
        var folder = Path.Combine(root, "reconstruction", "keypoints");
        return Directory.Exists(folder)
            ? Directory.EnumerateDirectories(folder).Where(d => File.Exists(Path.Combine(d, "keypoints.txt"))).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToList()
            : new List<string>();
    }

    /// <summary>The descriptors type of <paramref name="keypointsType"/>'s keypoints: the folder of
    /// reconstruction/descriptors whose descriptors.txt names that keypoints type (kapture 1.1: the two
    /// may have other names, as berlin's HOG descriptors of HessianAffine keypoints); the one of the
    /// keypoints' own name when several do; null when none does.</summary>
    public static string? DescriptorsTypeOf(string root, string keypointsType, string? descriptorsType = null)
    {
        var folder = Path.Combine(root, "reconstruction", "descriptors");
        if (descriptorsType != null) return NamedDescriptorsType(folder, keypointsType, descriptorsType);
        if (!Directory.Exists(folder)) return null;
        var of = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal))
        {
            var file = Path.Combine(dir, "descriptors.txt");
            if (!File.Exists(file)) continue;
            if (KeypointsTypeOf(file, " (--descriptors-type names the folder to take and reads no other)") == keypointsType) of.Add(Path.GetFileName(dir)!);
        }
        return of.Contains(keypointsType) ? keypointsType : of.Count == 1 ? of[0] : of.Count == 0 ? null
            : throw new FileFormatException(folder, 0, $"{string.Join(", ", of)} are all descriptors of the keypoints '{keypointsType}': which one is meant? Keep one folder (or name one as the keypoints)");
    }

    /// <summary>The descriptors type the user named: its folder must hold a descriptors.txt of
    /// <paramref name="keypointsType"/>'s keypoints.</summary>
    private static string NamedDescriptorsType(string folder, string keypointsType, string descriptorsType)
    {
        // A folder's name as tab completion gives it ("r2d2/") names the type too.
        var type = descriptorsType.TrimEnd('/');
        var file = Path.Combine(folder, type, "descriptors.txt");
        var held = Directory.Exists(folder)
            ? Directory.EnumerateDirectories(folder).Where(d => File.Exists(Path.Combine(d, "descriptors.txt"))).Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal).ToList()
            : new List<string>();
        if (type.Length == 0 || type.Contains('/') || type is "." or ".." || !File.Exists(file))
            throw new UsageException($"--descriptors-type '{descriptorsType}': {folder} holds no such type ({(held.Count == 0 ? "it holds none" : $"it holds {string.Join(", ", held)}")})");
        var described = KeypointsTypeOf(file) ?? throw new FileFormatException(file, 0, "is empty: expected `name, dtype, dsize, keypoints_type, metric_type`");
        return described == keypointsType ? type
            : throw new UsageException($"--descriptors-type '{type}': {file} describes the keypoints '{described}', not '{keypointsType}'");
    }

    /// <summary>The keypoints type a descriptors.txt describes (its data line's fourth field); null
    /// when it holds no data line; a short line is an error naming the file and line.</summary>
    private static string? KeypointsTypeOf(string file, string hint = "")
    {
        foreach (var (n, f) in Kapture.Lines(file))
            return f.Length >= 4 ? f[3]
                : throw new FileFormatException(file, n, $"expected `name, dtype, dsize, keypoints_type, metric_type`, found {Counted.Of(f.Length, "field")}{hint}");
        return null;
    }

    /// <summary>The keypoints of one image, in the project's convention.</summary>
    public static FeatureArray ReadKeypoints(string root, string type, string image)
    {
        var folder = KeypointsFolder(root, type);
        var (dtype, dsize) = ReadHeader(Path.Combine(folder, "keypoints.txt"), type);
        if (dsize < 2) throw new FileFormatException(Path.Combine(folder, "keypoints.txt"), 0, $"dsize {dsize}: keypoints need x and y");
        var a = ReadRaw(Path.Combine(folder, image + ".kpt"), dtype, dsize);
        for (int r = 0; r < a.Rows; r++) { a.Values[r * dsize] -= Shift; a.Values[r * dsize + 1] -= Shift; }
        return a;
    }

    /// <summary>The number of keypoints of one image, from its file's size (nothing decoded).</summary>
    public static int CountKeypoints(string root, string type, string image)
    {
        var folder = KeypointsFolder(root, type);
        var (dtype, dsize) = ReadHeader(Path.Combine(folder, "keypoints.txt"), type);
        var file = Path.Combine(folder, image + ".kpt");
        if (!File.Exists(file)) throw new FileFormatException(file, 0, "not found");
        return Rows(file, new FileInfo(file).Length, dtype, dsize);
    }

    /// <summary>The rows a file of <paramref name="bytes"/> holds; a size that is not whole rows names the file.</summary>
    private static int Rows(string file, long bytes, string dtype, int dsize)
    {
        long row = (long)ElementSize(dtype) * dsize;
        if (bytes % row != 0)
            throw new FileFormatException(file, 0, $"{bytes} bytes is not a whole number of rows of {dsize} {dtype} ({row} bytes; truncated, or another dtype/dsize than the header's?)");
        return (int)(bytes / row);
    }

    /// <summary>The descriptors' dimension (dsize) of a descriptors type.</summary>
    public static int DescriptorSize(string root, string type) => ReadHeader(Path.Combine(DescriptorsFolder(root, type), "descriptors.txt"), type).Dsize;

    public static FeatureArray ReadDescriptors(string root, string type, string image)
    {
        var folder = DescriptorsFolder(root, type);
        var (dtype, dsize) = ReadHeader(Path.Combine(folder, "descriptors.txt"), type);
        return ReadRaw(Path.Combine(folder, image + ".desc"), dtype, dsize);
    }

    /// <summary>The matches of a pair, indices in the order the images are given: a pair is stored
    /// once, under either name (kapture's own writers use the lexically first).</summary>
    public static List<(int I1, int I2, double Score)> ReadMatches(string root, string keypointsType, string image1, string image2)
    {
        var file = MatchesPath(root, keypointsType, image1, image2);
        if (!File.Exists(file) && File.Exists(MatchesPath(root, keypointsType, image2, image1)))
            return ReadMatches(root, keypointsType, image2, image1).Select(m => (m.I2, m.I1, m.Score)).ToList();
        if (!File.Exists(file)) throw new FileFormatException(file, 0, "not found");
        var bytes = File.ReadAllBytes(file);
        if (bytes.Length % 24 != 0) throw new FileFormatException(file, 0, $"{bytes.Length} bytes is not a whole number of matches (float64 × 3 = 24 bytes each; truncated?)");
        var result = new List<(int, int, double)>(bytes.Length / 24);
        for (int k = 0; k < bytes.Length / 24; k++)
        {
            double a = BitConverter.ToDouble(bytes, 24 * k), b = BitConverter.ToDouble(bytes, 24 * k + 8);
            if (a < 0 || b < 0 || a != Math.Floor(a) || b != Math.Floor(b) || a > int.MaxValue || b > int.MaxValue)
                throw new FileFormatException(file, 0, $"match {k + 1}: indices {a}, {b} are not keypoint indices");
            result.Add(((int)a, (int)b, BitConverter.ToDouble(bytes, 24 * k + 16)));
        }
        return result;
    }

    /// <summary>The image pairs with a matches file, as (image1, image2) in the folder's layout.</summary>
    public static List<(string Image1, string Image2)> ListMatches(string root, string keypointsType)
    {
        var folder = MatchesFolder(root, keypointsType);
        var result = new List<(string, string)>();
        if (!Directory.Exists(folder)) return result;
        foreach (var dir in Directory.EnumerateDirectories(folder, "*.overlapping", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var image1 = Path.GetRelativePath(folder, dir)[..^".overlapping".Length].Replace('\\', '/');
            foreach (var f in Directory.EnumerateFiles(dir, "*.matches", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
                result.Add((image1, Path.GetRelativePath(dir, f)[..^".matches".Length].Replace('\\', '/')));
        }
        return result;
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "float16" => 2, "float32" => 4, "float64" => 8, "uint8" => 1, "int32" => 4, _ => 0,
    };

    private static FeatureArray ReadRaw(string file, string dtype, int dsize)
    {
        if (!File.Exists(file)) throw new FileFormatException(file, 0, "not found");
        var bytes = File.ReadAllBytes(file);
        int es = ElementSize(dtype);
        Rows(file, bytes.Length, dtype, dsize);
        var v = new float[bytes.Length / es];
        for (int i = 0; i < v.Length; i++)
            v[i] = dtype switch
            {
                "float16" => (float)BitConverter.ToHalf(bytes, 2 * i),
                "float32" => BitConverter.ToSingle(bytes, 4 * i),
                "float64" => (float)BitConverter.ToDouble(bytes, 8 * i),
                "uint8" => bytes[i],
                _ => BitConverter.ToInt32(bytes, 4 * i),
            };
        return new FeatureArray(v, dsize);
    }
}
