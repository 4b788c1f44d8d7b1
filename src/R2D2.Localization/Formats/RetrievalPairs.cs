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
        if (!File.Exists(path)) throw new FileFormatException(path, 0, Directory.Exists(path) ? "is a folder, not a pairs file" : "pairs file not found");
        TextInput.RefuseBinary(path, "a pairs file");
        var scored = new Dictionary<string, List<(string Db, double Score, int Order)>>(StringComparer.Ordinal);
        int n = 0;
        foreach (var raw in TextInput.ReadLines(path))
        {
            n++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var (query, db, score) = PairsLine.Parse(line, path, n);
            (scored.TryGetValue(query, out var l) ? l : scored[query] = new()).Add((db, score ?? 0, n));
        }
        return scored.ToDictionary(kv => kv.Key,
            kv => kv.Value.OrderByDescending(x => x.Score).ThenBy(x => x.Order).Select(x => x.Db).Distinct().ToList(), StringComparer.Ordinal);
    }

    /// <summary>The first line of the file naming <paramref name="db"/> as a pair's database image (0: none), for errors.</summary>
    public static int LineOf(string path, string db)
    {
        int n = 0;
        foreach (var raw in TextInput.ReadLines(path))
        {
            n++;
            var line = raw.Trim();
            if (line.Length > 0 && line[0] != '#' && PairsLine.Parse(line, path, n).Name2 == db) return n;
        }
        return 0;
    }

    /// <summary>Writes `query db` lines (hloc's layout), or `query, db, score` when scores are given.</summary>
    public static void Write(string path, IEnumerable<(string Query, string Db, double? Score)> pairs) =>
        OutputFile.WriteAllText(path, string.Concat(pairs.Select(p => p.Score is { } s
            ? $"{p.Query}, {p.Db}, {s.ToString("R", CultureInfo.InvariantCulture)}\n" : $"{p.Query} {p.Db}\n")));
}
