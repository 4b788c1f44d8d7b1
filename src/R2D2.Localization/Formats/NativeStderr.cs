using System.Runtime.InteropServices;

namespace R2D2.Localization.Formats;

/// <summary>
/// What native decoders print on stderr ("libpng warning: tEXt: CRC error") names no file, and
/// among thousands of images the warning's image cannot be told. While an image is decoded, file
/// descriptor 2 is pointed at a temporary file, unlinked as soon as it is open (a killed process
/// leaves none behind); what it caught is then written back to stderr with the image's path in
/// front of each line. .NET's Console.Error writes to its own duplicate of descriptor 2, so the
/// program's own messages are not caught. One decoding at a time is watched: one on another thread
/// meanwhile (training's parallel loading) is not held up and goes unannotated, though native
/// output it writes while the first is watched gets the first's path. Linux only.
/// </summary>
internal static partial class NativeStderr
{
    private static readonly object Gate = new();

    public static T Annotate<T>(string path, Func<T> decode)
    {
        if (!OperatingSystem.IsLinux() || !Monitor.TryEnter(Gate)) return decode();
        try
        {
            FileStream? catcher = null;
            try
            {
                var tmp = Path.Combine(Path.GetTempPath(), $"r2d2-stderr-{Environment.ProcessId}-{Guid.NewGuid():N}");
                catcher = new FileStream(tmp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete, 1);
                File.Delete(tmp);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                catcher?.Dispose();
                return decode(); // no usable temporary folder: unannotated
            }
            using (catcher)
            {
                int saved = Dup(2);
                if (saved < 0) return decode();
                Console.Error.Flush();
                bool redirected = Dup2((int)catcher.SafeFileHandle.DangerousGetHandle(), 2) >= 0;
                try { return decode(); }
                finally
                {
                    if (redirected)
                    {
                        Fflush(IntPtr.Zero);
                        Console.Error.Flush();
                        Dup2(saved, 2);
                    }
                    Close(saved);
                    if (redirected) WriteBack(path, catcher);
                }
            }
        }
        finally { Monitor.Exit(Gate); }
    }

    private static void WriteBack(string path, FileStream catcher)
    {
        long length = RandomAccess.GetLength(catcher.SafeFileHandle);
        if (length == 0) return;
        var bytes = new byte[Math.Min(length, 64 * 1024)]; // a decoder that wrote more said it in its first 64 kB
        int n = RandomAccess.Read(catcher.SafeFileHandle, bytes, 0);
        var text = System.Text.Encoding.UTF8.GetString(bytes, 0, n);
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            Console.Error.WriteLine($"{path}: {line.TrimEnd('\r')}");
        if (length > bytes.Length) Console.Error.WriteLine($"{path}: ({length - bytes.Length} more bytes of decoder messages left out)");
    }

    [LibraryImport("libc", EntryPoint = "dup", SetLastError = true)]
    private static partial int Dup(int fd);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int from, int to);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fflush")]
    private static partial int Fflush(IntPtr stream);
}
