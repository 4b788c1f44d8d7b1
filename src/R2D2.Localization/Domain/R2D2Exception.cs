namespace R2D2.Localization;

/// <summary>
/// The base of every error the library raises about its inputs, outputs or runs. It carries the
/// file (and line, 0 when none) where there is one, so the command line reports all of them the
/// same way: one line, exit code 1, no stack trace.
/// </summary>
public class R2D2Exception : Exception
{
    public R2D2Exception(string message, Exception? inner = null) : base(message, inner) { }

    /// <summary>A message about <paramref name="file"/> (and <paramref name="line"/> when > 0), prefixed `file:line: `.</summary>
    public R2D2Exception(string? file, int line, string message, Exception? inner = null)
        : base(Prefix(file, line) + message, inner)
    {
        File = file;
        Line = line;
    }

    public string? File { get; }
    public int Line { get; }

    private static string Prefix(string? file, int line) =>
        file == null ? "" : line > 0 ? $"{file}:{line}: " : $"{file}: ";
}

/// <summary>Bytes that do not follow their format (a truncated or corrupt checkpoint, archive,
/// blob or image header), raised by the low-level readers that see a stream, not a file name;
/// the callers that know the file wrap it or name it.</summary>
public class DataFormatException : R2D2Exception
{
    public DataFormatException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>Options that do not go together or a value an option cannot take, found after parsing
/// (the parser's own checks cannot see across options): a usage error, exit code 2 like the
/// parser's, where a failed input or run exits 1.</summary>
public sealed class UsageException : R2D2Exception
{
    public UsageException(string message) : base(message) { }
}
