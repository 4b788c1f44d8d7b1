using System.Text;

namespace R2D2.Localization.Formats;

/// <summary>One record of a CSV file: its fields, its text as it stands in the file (without the
/// line break, for copying it unchanged) and the line it starts on.</summary>
public sealed record CsvRecord(IReadOnlyList<string> Fields, string Raw, int Line);

/// <summary>
/// CSV as RFC 4180 writes it: a field with a comma, a quote or a line break is quoted, its quotes
/// doubled. Text fields that a spreadsheet would run as a formula (a leading = + - @, tab or
/// carriage return) are prefixed with a single quote, as are those already starting with one, so
/// <see cref="Text"/> reverses the prefix exactly.
/// </summary>
public static class Csv
{
    private const string FormulaStarts = "=+-@\t\r'";

    /// <summary>A text field, quoted when it needs to be (or always, with <paramref name="quote"/>).</summary>
    public static string Field(string text, bool quote = false)
    {
        if (text.Length > 0 && FormulaStarts.Contains(text[0]))
        {
            text = "'" + text;
            quote = true;
        }
        if (quote || text.AsSpan().IndexOfAny(",\"\r\n") >= 0)
            return "\"" + text.Replace("\"", "\"\"") + "\"";
        return text;
    }

    /// <summary>The text a field written by <see cref="Field"/> holds.</summary>
    public static string Text(string field) =>
        field.Length >= 2 && field[0] == '\'' && FormulaStarts.Contains(field[1]) ? field[1..] : field;

    /// <summary>The records of a CSV text (quoted fields may span lines). Errors name the file and line.</summary>
    public static IEnumerable<CsvRecord> Read(string text, string path)
    {
        int i = 0, line = 1;
        while (i < text.Length)
        {
            int start = i, startLine = line;
            var fields = new List<string>();
            var field = new StringBuilder();
            while (true)
            {
                if (i < text.Length && text[i] == '"')
                {
                    // A quoted field: runs to the closing quote; "" is a quote.
                    i++;
                    while (true)
                    {
                        if (i >= text.Length) throw new FileFormatException(path, startLine, "a quoted field is not closed");
                        char c = text[i++];
                        if (c == '"')
                        {
                            if (i < text.Length && text[i] == '"') { field.Append('"'); i++; }
                            else break;
                        }
                        else
                        {
                            if (c == '\n') line++;
                            field.Append(c);
                        }
                    }
                    if (i < text.Length && text[i] is not (',' or '\n' or '\r'))
                        throw new FileFormatException(path, line, "text after a quoted field's closing quote");
                }
                else
                {
                    while (i < text.Length && text[i] is not (',' or '\n' or '\r')) field.Append(text[i++]);
                }
                fields.Add(field.ToString());
                field.Clear();
                if (i < text.Length && text[i] == ',') { i++; continue; }
                break;
            }
            int end = i;
            if (i < text.Length && text[i] == '\r') i++;
            if (i < text.Length && text[i] == '\n') i++;
            line++;
            yield return new CsvRecord(fields, text[start..end], startLine);
        }
    }
}
