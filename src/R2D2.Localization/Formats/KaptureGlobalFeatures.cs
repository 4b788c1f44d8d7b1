namespace R2D2.Localization.Formats;

/// <summary>
/// kapture's global features (e.g. AP-GeM): a folder of `IMAGE_NAME.gfeat` files, each the raw
/// little-endian values of one image's descriptor, described by `global_features.txt` in that
/// folder or the one above it (kapture 1.1 puts the files in `global_features/NAME/global_features/`
/// and the description beside that folder): a data line `name, dtype, dsize, metric_type`
/// (dtype float32, float64 or float16). Returned as stored, by image name (the path below the
/// folder, '/'-separated, without `.gfeat`).
/// </summary>
public static class KaptureGlobalFeatures
{
    private const int MaxSize = 1 << 20;

    public static Dictionary<string, float[]> Read(string folder)
    {
        if (!Directory.Exists(folder)) throw new FileFormatException(folder, 0, "not found (global features: an hloc .h5 file or a kapture global_features folder)");
        var header = new[] { Path.Combine(folder, "global_features.txt"), Path.Combine(Path.GetDirectoryName(Path.GetFullPath(folder).TrimEnd('/'))!, "global_features.txt") }
            .FirstOrDefault(File.Exists) ?? throw new FileFormatException(folder, 0, "no global_features.txt in the folder or above it");
        var (dtype, dsize) = ReadHeader(header);
        int bytes = dtype switch { "float32" => 4, "float64" => 8, "float16" => 2, _ => throw new FileFormatException(header, 0, $"dtype '{dtype}' is not float16, float32 or float64") };
        var result = new Dictionary<string, float[]>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder, "*.gfeat", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var data = File.ReadAllBytes(file);
            if (data.Length != (long)dsize * bytes) throw new FileFormatException(file, 0, $"{data.Length} bytes, expected {dsize} {dtype} values ({(long)dsize * bytes} bytes, {header})");
            var v = new float[dsize];
            for (int i = 0; i < dsize; i++)
                v[i] = dtype switch
                {
                    "float32" => BitConverter.ToSingle(data, 4 * i),
                    "float64" => (float)BitConverter.ToDouble(data, 8 * i),
                    _ => (float)BitConverter.ToHalf(data, 2 * i),
                };
            if (v.Any(x => !float.IsFinite(x))) throw new FileFormatException(file, 0, "holds a value that is not finite");
            var name = Path.GetRelativePath(folder, file).Replace('\\', '/');
            result[name[..^".gfeat".Length]] = v;
        }
        return result;
    }

    private static (string Dtype, int Dsize) ReadHeader(string path)
    {
        int n = 0;
        foreach (var raw in TextInput.ReadLines(path))
        {
            n++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var f = line.Split(',').Select(s => s.Trim()).ToArray();
            if (f.Length < 3 || !int.TryParse(f[2], out int dsize) || dsize <= 0)
                throw new FileFormatException(path, n, "expected `name, dtype, dsize, metric_type`");
            // A global descriptor has hundreds to thousands of values (NetVLAD's 4,096 × 8 at most in use).
            if (dsize > MaxSize) throw new FileFormatException(path, n, $"dsize {dsize}: a global descriptor of more than {MaxSize:N0} values is not one");
            return (KaptureFeatures.Dtype(f[1]), dsize);
        }
        throw new FileFormatException(path, 0, "no `name, dtype, dsize, metric_type` line");
    }
}
