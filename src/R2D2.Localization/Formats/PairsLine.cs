using System.Globalization;

namespace R2D2.Localization.Formats;

/// <summary>
/// One line of a pairs file, in either form users have: hloc's and the Aachen evaluation's
/// `name1 name2` (white space), or kapture's `name1, name2[, score]` (commas); either may carry a
/// third field, a finite number (a retrieval score). Blank and `#` lines are skipped by the callers.
/// The one reader of such lines: matching pairs and retrieval pairs accept the same files.
/// </summary>
public static class PairsLine
{
    /// <summary>The two names of <paramref name="line"/> (trimmed, not blank) and the score if any, or an error naming the file and line.</summary>
    public static (string Name1, string Name2, double? Score) Parse(string line, string file, int lineNo)
    {
        // Control characters or undecodable bytes: a binary file given as pairs (its bytes were quoted back).
        if (line.Any(c => (char.IsControl(c) && c != '\t') || c == '\uFFFD'))
            throw new FileFormatException(file, lineNo, "holds binary bytes: not a pairs file (text, one pair per line)");
        bool commas = line.Contains(',');
        var f = commas
            ? line.Split(',').Select(s => s.Trim()).ToArray()
            : line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (f.Length is < 2 or > 3 || f[0].Length == 0 || f[1].Length == 0)
            throw new FileFormatException(file, lineNo, commas
                ? $"expected `name1, name2[, score]` (kapture), found {Counted.Of(f.Length, "field")}: '{Shown(line)}'"
                : $"expected two image names (`name1 name2`, or kapture's `name1, name2, score`), found {Counted.Of(f.Length, "field")}: '{Shown(line)}'");
        if (f.Length == 2) return (f[0], f[1], null);
        if (!double.TryParse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double score))
            throw new FileFormatException(file, lineNo, $"score '{f[2]}' is not a number");
        if (!double.IsFinite(score)) throw new FileFormatException(file, lineNo, $"score '{f[2]}' is not finite");
        return (f[0], f[1], score);
    }

    private static string Shown(string line) => line.Length <= 120 ? line : line[..120] + "…";
}
