using System.Globalization;

namespace R2D2.Localization.Formats;

/// <summary>
/// Retrieval results from elsewhere: the database images to match each query against, best first.
/// Two layouts, told apart line by line: hloc's and Aachen's `query db` (white space, file order is
/// the rank) and kapture's `query, db, score` (commas; ranked by score, highest first; kapture
/// files may omit the score). Blank lines and lines starting with '#' are skipped.
/// </summary>
public static class RetrievalPairs
{
    /// <summary>Query name → database names, best first; a malformed line is an error naming the file and line.</summary>
    public static Dictionary<string, List<string>> Read(string path)
    {
        if (!File.Exists(path)) throw new FileFormatException(path, 0, "pairs file not found");
        var scored = new Dictionary<string, List<(string Db, double Score, int Order)>>(StringComparer.Ordinal);
        int n = 0;
        foreach (var raw in File.ReadLines(path))
        {
            n++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            string[] f = line.Contains(',')
                ? line.Split(',').Select(s => s.Trim()).ToArray()
                : line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (f.Length is < 2 or > 3 || f[0].Length == 0 || f[1].Length == 0)
                throw new FileFormatException(path, n, $"expected `query db` or `query, db, score`, found {f.Length} field(s)");
            double score = 0;
            if (f.Length == 3 && !double.TryParse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture, out score))
                throw new FileFormatException(path, n, $"score '{f[2]}' is not a number");
            if (!double.IsFinite(score)) throw new FileFormatException(path, n, $"score '{f[2]}' is not finite");
            (scored.TryGetValue(f[0], out var l) ? l : scored[f[0]] = new()).Add((f[1], score, n));
        }
        return scored.ToDictionary(kv => kv.Key,
            kv => kv.Value.OrderByDescending(x => x.Score).ThenBy(x => x.Order).Select(x => x.Db).Distinct().ToList(), StringComparer.Ordinal);
    }

    /// <summary>Writes `query db` lines (hloc's layout), or `query, db, score` when scores are given.</summary>
    public static void Write(string path, IEnumerable<(string Query, string Db, double? Score)> pairs) =>
        OutputFile.WriteAllText(path, string.Concat(pairs.Select(p => p.Score is { } s
            ? $"{p.Query}, {p.Db}, {s.ToString("R", CultureInfo.InvariantCulture)}\n" : $"{p.Query} {p.Db}\n")));
}
