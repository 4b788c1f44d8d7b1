using System.Text;

namespace R2D2.Localization.Formats;

/// <summary>Checks on a text input before its lines are parsed.</summary>
public static class TextInput
{
    /// <summary>A database or another binary file given where a text file goes (two options
    /// swapped) is named as such, not reported as a malformed first line.</summary>
    public static void RefuseBinary(string path, string what)
    {
        if (BinaryKind(path) is { } kind) throw new FileFormatException(path, 0, $"is {kind}, not {what}");
    }

    /// <summary>What the file is when it is no text: "an SQLite database (…)" or "a binary file"; null for text.</summary>
    public static string? BinaryKind(string path)
    {
        var head = new byte[512];
        int n;
        using (var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            n = fs.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var bytes = head.AsSpan(0, n);
        if (bytes.StartsWith("SQLite format 3\0"u8)) return "an SQLite database (a map or a feature database?)";
        // UTF-16 and UTF-32 text (with its byte-order mark, as OpenText reads it) holds zero bytes.
        bool wide = bytes.StartsWith(new byte[] { 0xFF, 0xFE }) || bytes.StartsWith(new byte[] { 0xFE, 0xFF }) || bytes.StartsWith(new byte[] { 0, 0, 0xFE, 0xFF });
        return !wide && bytes.Contains((byte)0) ? "a binary file" : null;
    }

    /// <summary>The lines of a text file (see <see cref="OpenText"/>).</summary>
    public static IEnumerable<string> ReadLines(string path)
    {
        using var reader = OpenText(path);
        for (string? line; (line = reader.ReadLine()) != null;) yield return line;
    }

    /// <summary>
    /// A text file's lines, as File.ReadLines reads them (\n, \r\n or \r ends a line; a byte-order
    /// mark chooses UTF-16 or UTF-32), except that UTF-8 is decoded strictly: a byte that is not
    /// UTF-8 (a Latin-1 'é') is an error naming the file and the line, where it was read as U+FFFD,
    /// so that 'café' and 'cafè' became one name and a submission met another query's truth.
    /// </summary>
    public static TextReader OpenText(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        var head = new byte[4];
        int n = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
        bool utf16or32 = n >= 2 && (head[0], head[1]) is (0xFF, 0xFE) or (0xFE, 0xFF) || n >= 4 && head.AsSpan().SequenceEqual(new byte[] { 0, 0, 0xFE, 0xFF });
        stream.Position = utf16or32 || !(n >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) ? 0 : 3;
        return utf16or32 ? new StreamReader(stream, detectEncodingFromByteOrderMarks: true) : new StrictUtf8Reader(stream, path);
    }

    private sealed class StrictUtf8Reader(Stream stream, string path) : TextReader
    {
        private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _at, _length;
        private byte[] _line = new byte[256];
        private int _lineNo;
        private bool _afterCr;

        public override string? ReadLine()
        {
            int len = 0;
            while (true)
            {
                if (_at == _length)
                {
                    _length = stream.Read(_buffer, 0, _buffer.Length);
                    _at = 0;
                    if (_length == 0) return len > 0 ? Decode(len) : null;
                }
                byte b = _buffer[_at++];
                if (_afterCr && b == (byte)'\n') { _afterCr = false; continue; }
                _afterCr = b == (byte)'\r';
                if (b is (byte)'\n' or (byte)'\r') return Decode(len);
                if (len == _line.Length) Array.Resize(ref _line, 2 * len);
                _line[len++] = b;
            }
        }

        private string Decode(int len)
        {
            _lineNo++;
            try { return Strict.GetString(_line, 0, len); }
            catch (DecoderFallbackException e)
            {
                var bad = e.BytesUnknown is { Length: > 0 } u ? string.Join(" ", u.Select(x => $"0x{x:X2}")) : "a byte";
                throw new FileFormatException(path, _lineNo, $"is not UTF-8 text: {bad} is no UTF-8 character (a Latin-1 or Windows letter?): save the file as UTF-8");
            }
        }

        public override int Peek() => throw new NotSupportedException("read by lines");
        public override int Read() => throw new NotSupportedException("read by lines");

        protected override void Dispose(bool disposing)
        {
            if (disposing) stream.Dispose();
            base.Dispose(disposing);
        }
    }
}
