namespace R2D2.Localization.Synthesis;

/// <summary>The lines of a scene file as the demo square's and the town's readers take them: `#`
/// starts a comment, blank lines are skipped, fields are separated by white space.</summary>
internal static class SceneFileLines
{
    public static IEnumerable<(int Line, string[] Fields)> Read(string path)
    {
        int lineNo = 0;
        foreach (var raw in Formats.TextInput.ReadLines(path))
        {
            lineNo++;
            int hash = raw.IndexOf('#');
            var line = (hash >= 0 ? raw[..hash] : raw).Trim();
            if (line.Length > 0) yield return (lineNo, line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        }
    }
}
