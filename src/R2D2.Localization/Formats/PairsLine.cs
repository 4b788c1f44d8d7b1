using System.Globalization;

namespace R2D2.Localization.Formats;

/// <summary>
/// One line of a pairs file, in either form users have: hloc's and the Aachen evaluation's
/// `name1 name2` (white space), or kapture's `name1, name2[, score]` (commas; the score, when
/// there, is a number and is not used). Blank and `#` lines are skipped by the callers.
/// </summary>
public static class PairsLine
{
    /// <summary>The two names of <paramref name="line"/> (trimmed, not blank), or an error naming the file and line.</summary>
    public static (string Name1, string Name2) Parse(string line, string file, int lineNo)
    {
        if (line.Contains(','))
        {
            var f = line.Split(',').Select(s => s.Trim()).ToArray();
            if (f.Length is < 2 or > 3 || f[0].Length == 0 || f[1].Length == 0)
                throw new FileFormatException(file, lineNo, $"expected `name1, name2[, score]` (kapture), found {f.Length} field(s): '{line}'");
            if (f.Length == 3 && !double.TryParse(f[2], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                throw new FileFormatException(file, lineNo, $"score '{f[2]}' is not a number");
            return (f[0], f[1]);
        }
        var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2)
            throw new FileFormatException(file, lineNo, $"expected two image names (`name1 name2`, or kapture's `name1, name2, score`), found {parts.Length} field(s): '{line}'");
        return (parts[0], parts[1]);
    }
}
