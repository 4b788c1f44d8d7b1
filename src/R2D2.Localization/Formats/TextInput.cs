namespace R2D2.Localization.Formats;

/// <summary>Checks on a text input before its lines are parsed.</summary>
public static class TextInput
{
    /// <summary>A database or another binary file given where a text file goes (two options
    /// swapped) is named as such, not reported as a malformed first line.</summary>
    public static void RefuseBinary(string path, string what)
    {
        var head = new byte[512];
        int n;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            n = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var bytes = head.AsSpan(0, n);
        if (bytes.StartsWith("SQLite format 3\0"u8)) throw new FileFormatException(path, 0, $"is an SQLite database (a map or a feature database?), not {what}");
        if (bytes.Contains((byte)0)) throw new FileFormatException(path, 0, $"is a binary file, not {what}");
    }
}
