using System.Globalization;
using System.Text;

namespace R2D2.Localization.Formats;

/// <summary>All 2D–3D matches of one query: keypoint positions (project pixel convention), the map
/// database's point ids they matched, and whether PnP-RANSAC counted each as an inlier.</summary>
public sealed record QueryMatchSet(string Name, float[] XY, long[] PointIds, bool[] Inlier)
{
    public int Count => PointIds.Length;
    public int InlierCount => Inlier.Count(b => b);
    public static QueryMatchSet Empty(string name) => new(name, Array.Empty<float>(), Array.Empty<long>(), Array.Empty<bool>());
}

/// <summary>
/// `localize query`'s matches file (<c>&lt;output&gt;.matches.txt</c>), what reports draw as match
/// lines: one line per query, <c>name N x1 y1 id1 in1 ... xN yN idN inN</c> with <c>in</c> 1 for a
/// RANSAC inlier and 0 for an outlier. Unlike the inliers file it also holds the matches of a query
/// that was not localized (too few inliers, no model), which is what shows why it failed.
/// </summary>
public static class QueryMatches
{
    public static void Write(string path, IEnumerable<QueryMatchSet> sets) =>
        OutputFile.WriteAllText(path, string.Concat(sets.Select(s => FormatLine(s) + "\n")));

    /// <summary>The line of one query (without the line break).</summary>
    public static string FormatLine(QueryMatchSet s)
    {
        if (s.XY.Length != 2 * s.Count || s.Inlier.Length != s.Count)
            throw new ArgumentException($"{s.Name}: {s.XY.Length} coordinates and {s.Inlier.Length} flags for {s.Count} matches");
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(s.Name).Append(' ').Append(s.Count.ToString(inv));
        for (int i = 0; i < s.Count; i++)
            sb.Append(' ').Append(s.XY[2 * i].ToString("0.##", inv)).Append(' ').Append(s.XY[2 * i + 1].ToString("0.##", inv))
              .Append(' ').Append(s.PointIds[i].ToString(inv)).Append(s.Inlier[i] ? " 1" : " 0");
        return sb.ToString();
    }

    /// <summary>Reads the file; errors name the file and line.</summary>
    public static Dictionary<string, QueryMatchSet> Read(string path) => ReadLines(path).ToDictionary(kv => kv.Key, kv => kv.Value.Set, StringComparer.Ordinal);

    /// <summary>As <see cref="Read"/>, with each query's line as it stands in the file.</summary>
    public static Dictionary<string, (QueryMatchSet Set, string Line)> ReadLines(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: matches file not found", path);
        var result = new Dictionary<string, (QueryMatchSet, string)>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (var raw in TextInput.ReadLines(path))
        {
            lineNo++;
            var f = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length == 0 || f[0].StartsWith('#')) continue;
            if (f.Length < 2 || !int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || f.Length != 2 + 4 * (long)n)
                throw new FileFormatException(path, lineNo, "expected 'name N x1 y1 id1 inlier1 ... xN yN idN inlierN'");
            var xy = new float[2 * n];
            var ids = new long[n];
            var inlier = new bool[n];
            for (int i = 0; i < n; i++)
            {
                var flag = f[5 + 4 * i];
                if (!float.TryParse(f[2 + 4 * i], NumberStyles.Float, CultureInfo.InvariantCulture, out xy[2 * i])
                    || !float.TryParse(f[3 + 4 * i], NumberStyles.Float, CultureInfo.InvariantCulture, out xy[2 * i + 1])
                    || !long.TryParse(f[4 + 4 * i], NumberStyles.Integer, CultureInfo.InvariantCulture, out ids[i])
                    || !float.IsFinite(xy[2 * i]) || !float.IsFinite(xy[2 * i + 1]) // NaN parses, and a report drew it
                    || flag is not ("0" or "1"))
                    throw new FileFormatException(path, lineNo, $"match {i + 1} is not 'x y id inlier' (finite numbers, inlier 0 or 1)");
                inlier[i] = flag == "1";
            }
            if (!result.TryAdd(f[0], (new QueryMatchSet(f[0], xy, ids, inlier), raw)))
                throw new FileFormatException(path, lineNo, $"'{f[0]}' appears again");
        }
        return result;
    }

    /// <summary>The matches file that belongs to a submission file: <c>poses.txt</c> → <c>poses.matches.txt</c>.</summary>
    public static string PathFor(string posesPath) => Path.ChangeExtension(posesPath, ".matches.txt");
}
