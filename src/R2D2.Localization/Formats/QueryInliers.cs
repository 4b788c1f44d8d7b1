using System.Globalization;
using System.Text;

namespace R2D2.Localization.Formats;

/// <summary>The PnP inliers of one query: keypoint positions (project pixel convention) and the ids
/// of the map points (<c>point_id</c> of the map database) they matched.</summary>
public sealed record QueryInlierSet(string Name, float[] XY, long[] PointIds)
{
    public int Count => PointIds.Length;
}

/// <summary>
/// `localize query`'s inliers file (<c>&lt;output&gt;.inliers.txt</c>), what reports draw: one line per
/// query, <c>name N x1 y1 id1 ... xN yN idN</c> (pixels with the centre of the top-left pixel at
/// (0, 0); ids are the map database's point ids). A query without inliers has N = 0.
/// </summary>
public static class QueryInliers
{
    public static void Write(string path, IEnumerable<QueryInlierSet> sets) =>
        OutputFile.WriteAllText(path, string.Concat(sets.Select(s => FormatLine(s) + "\n")));

    /// <summary>The line of one query (without the line break).</summary>
    public static string FormatLine(QueryInlierSet s)
    {
        if (s.XY.Length != 2 * s.PointIds.Length) throw new ArgumentException($"{s.Name}: {s.XY.Length} coordinates for {s.PointIds.Length} points");
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(s.Name).Append(' ').Append(s.Count.ToString(inv));
        for (int i = 0; i < s.Count; i++)
            sb.Append(' ').Append(s.XY[2 * i].ToString("0.##", inv)).Append(' ').Append(s.XY[2 * i + 1].ToString("0.##", inv)).Append(' ').Append(s.PointIds[i].ToString(inv));
        return sb.ToString();
    }

    /// <summary>Reads the file; errors name the file and line.</summary>
    public static Dictionary<string, QueryInlierSet> Read(string path) => ReadLines(path).ToDictionary(kv => kv.Key, kv => kv.Value.Set, StringComparer.Ordinal);

    /// <summary>As <see cref="Read"/>, with each query's line as it stands in the file.</summary>
    public static Dictionary<string, (QueryInlierSet Set, string Line)> ReadLines(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: inliers file not found", path);
        var result = new Dictionary<string, (QueryInlierSet, string)>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (var raw in TextInput.ReadLines(path))
        {
            lineNo++;
            var f = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 0 || f[0].StartsWith('#')) continue;
            if (f.Length < 2 || !int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || f.Length != 2 + 3 * (long)n)
                throw new FileFormatException(path, lineNo, "expected 'name N x1 y1 id1 ... xN yN idN'");
            var xy = new float[2 * n];
            var ids = new long[n];
            for (int i = 0; i < n; i++)
            {
                if (!float.TryParse(f[2 + 3 * i], NumberStyles.Float, CultureInfo.InvariantCulture, out xy[2 * i])
                    || !float.TryParse(f[3 + 3 * i], NumberStyles.Float, CultureInfo.InvariantCulture, out xy[2 * i + 1])
                    || !long.TryParse(f[4 + 3 * i], NumberStyles.Integer, CultureInfo.InvariantCulture, out ids[i])
                    || !float.IsFinite(xy[2 * i]) || !float.IsFinite(xy[2 * i + 1])) // NaN parses, and a report drew it
                    throw new FileFormatException(path, lineNo, $"inlier {i + 1} is not 'x y id' numbers (finite)");
            }
            if (!result.TryAdd(f[0], (new QueryInlierSet(f[0], xy, ids), raw)))
                throw new FileFormatException(path, lineNo, $"'{f[0]}' appears again");
        }
        return result;
    }

    /// <summary>The inliers file that belongs to a submission file: <c>poses.txt</c> → <c>poses.inliers.txt</c>.</summary>
    public static string PathFor(string posesPath) => Path.ChangeExtension(posesPath, ".inliers.txt");
}
