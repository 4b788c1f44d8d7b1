using System.Runtime.InteropServices;

namespace R2D2.Localization.Formats;

/// <summary>
/// What native decoders print on stderr ("libpng warning: tEXt: CRC error") names no file, and
/// among thousands of images the warning's image cannot be told. While an image is decoded, file
/// descriptor 2 is pointed at a temporary file, unlinked as soon as it is open (a killed process
/// leaves none behind); what it caught is then written back to stderr with the image's path in
/// front of each line. Any native output of the process in that window is caught, so callers use
/// it where images are decoded one at a time (extraction, queries), not where threads decode in
/// parallel. .NET's Console.Error writes to its own duplicate of descriptor 2, so the program's own
/// messages are never caught. Linux only; one decoding watched at a time (another runs unwatched).
/// This is the library's one direct write to the console: it re-emits what was headed there.
/// </summary>
internal static partial class NativeStderr
{
    private static readonly object Gate = new();
    private const int StderrFd = 2, FDupfdCloexec = 1030;

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
                // Close-on-exec: a child started meanwhile does not inherit the saved descriptor.
                int saved = Fcntl(StderrFd, FDupfdCloexec, 3);
                if (saved < 0) return decode();
                Fflush(IntPtr.Zero); // what native code buffered before is not this image's
                bool redirected = Dup2((int)catcher.SafeFileHandle.DangerousGetHandle(), StderrFd) >= 0;
                try { return decode(); }
                finally
                {
                    if (redirected)
                    {
                        Fflush(IntPtr.Zero);
                        Restore(saved);
                    }
                    Close(saved);
                    // A failed write-back must not replace the decoding's own exception.
                    try { if (redirected) WriteBack(path, catcher); } catch (IOException) { }
                }
            }
        }
        finally { Monitor.Exit(Gate); }
    }

    private static void Restore(int saved)
    {
        for (int attempt = 0; attempt < 3; attempt++)
            if (Dup2(saved, StderrFd) >= 0) return;
        // Later native messages would go to a deleted file: said through .NET's own copy of stderr.
        Console.Error.WriteLine($"warning: stderr could not be restored after an image was decoded (errno {Marshal.GetLastPInvokeError()}): later messages of native libraries are lost");
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

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(int fd, int command, int argument);

    [LibraryImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static partial int Dup2(int from, int to);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fflush")]
    private static partial int Fflush(IntPtr stream);
}
