using System.Runtime.InteropServices;
using System.Text;
using OpenCvSharp;

namespace R2D2.Localization.Formats;

/// <summary>
/// How every output file is written: into a temporary file in the same folder, flushed to disk,
/// then renamed over the destination, so a reader (or a resumed run) sees the old file or the new
/// one, never a truncated one (a full disk, kill -9). A destination that is a symbolic link is
/// replaced by the file, never written through. <see cref="RefuseInputs"/> stops a command before
/// it overwrites one of its own inputs.
/// </summary>
public static class OutputFile
{
    public static void WriteAllText(string path, string text) => Write(path, Text(w => w.Write(text)));

    /// <summary>A writer of UTF-8 text (no BOM, "\n" lines) for <see cref="Write"/> and
    /// <see cref="WriteTogether"/>: text streamed, never one string of a whole large file.</summary>
    public static Action<Stream> Text(Action<TextWriter> write) => stream =>
    {
        using var w = new StreamWriter(stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true) { NewLine = "\n" };
        write(w);
    };

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy, 0, copy.Length));
    }

    /// <summary>Writes an image in the format its extension names (.png, .jpg, ...), encoded in memory
    /// first, so a path OpenCV cannot write is an error before anything is on disk.</summary>
    public static void WriteImage(string path, Mat image)
    {
        var ext = ImageExtension(path);
        if (!Cv2.ImEncode(ext, image, out var bytes)) throw new R2D2Exception(path, 0, $"cannot encode the image as {ext}");
        WriteAllBytes(path, bytes);
    }

    /// <summary>The extension of an image output path; throws unless it is one OpenCV writes.</summary>
    public static string ImageExtension(string path)
    {
        var ext = Path.GetExtension(path).ToLowerInvariant();
        string[] writable = { ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm" };
        return writable.Contains(ext) ? ext
            : throw new R2D2Exception(path, 0, $"an image is written here, so the name must end in one of {string.Join(", ", writable)} (e.g. .png)");
    }

    /// <summary>Writes <paramref name="path"/> atomically with <paramref name="write"/>; on any failure the
    /// destination is left as it was and the temporary file is removed.</summary>
    public static void Write(string path, Action<Stream> write) => WriteTogether(new[] { (path, write) });

    /// <summary>A file where an output folder goes: said as such (it was .NET's "could not find a
    /// part of the path" or "already exists" once the work was under way).</summary>
    public static void RefuseFileAsFolder(string folder, string option)
    {
        if (File.Exists(folder)) throw new R2D2Exception(folder, 0, $"is a file: {option} takes a folder (created if missing)");
    }

    /// <summary>Makes a folder and its parents; a file standing where one of them goes is named (it
    /// was .NET's "The file '…' already exists").</summary>
    public static void CreateFolder(string folder)
    {
        if (FolderPath.FileInTheWay(folder) is { } at)
            throw new R2D2Exception(at, 0, $"is a file, where the folder {folder} was to be made{(at == Path.GetFullPath(folder) ? "" : " below it")}");
        Directory.CreateDirectory(folder);
    }

    /// <summary>The lock file of <see cref="LockFolder"/>.</summary>
    public const string LockFile = ".lock";

    /// <summary>Holds <paramref name="folder"/>'s <see cref="LockFile"/> with an exclusive flock until
    /// disposed, so that a second run writing to the same folder is refused instead of mixing its
    /// files with the first's; the lock ends with its process (kill -9 too), and the file stays.</summary>
    /// <param name="what">the run, as the refusal names it (e.g. "`localize train`")</param>
    public static IDisposable LockFolder(string folder, string what)
    {
        var path = Path.Combine(folder, LockFile);
        try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException e) when (File.Exists(path))
        {
            throw new R2D2Exception(folder, 0, $"another {what} is writing to this folder (it holds {LockFile}): wait for it to end, or use another folder", e);
        }
    }

    /// <summary>Writes several files that belong together (a submission and the files beside it):
    /// every one to its temporary file first, then all renamed at the end, so that a kill leaves
    /// the old set or the new one, short of the instant of the renames (each file stays whole).</summary>
    public static void WriteAllTextsTogether(IReadOnlyList<(string Path, string Text)> files) =>
        WriteTogether(files.Select(f => (f.Path, Text(w => w.Write(f.Text)))).ToList());

    /// <summary>Writes several files that belong together, each with its writer (given a stream that
    /// also reads and seeks), renamed into place together at the end, as <see cref="WriteAllTextsTogether"/>.</summary>
    public static void WriteTogether(IReadOnlyList<(string Path, Action<Stream> Write)> files)
    {
        var open = new List<(FileStream Stream, string Tmp, string Full)>();
        // Folders this call made: a failed write takes them away again when they are still empty
        // (a failed conversion left an empty --to folder behind).
        var made = new List<string>();
        try
        {
            foreach (var (path, write) in files)
            {
                var full = Path.GetFullPath(path);
                var dir = Path.GetDirectoryName(full)!;
                for (var d = dir; d != null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) made.Add(d);
                CreateFolder(dir);
                if (Directory.Exists(full)) throw new R2D2Exception(path, 0, "is a folder; an output file was expected");
                RefuseSpecialFile(full, path);
                RemoveStaleTemporaries(dir, Path.GetFileName(full));
                var tmp = TemporaryFor(dir, Path.GetFileName(full));
                FileStream stream;
                try { stream = new FileStream(tmp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16); }
                // A folder the user may not write, or read-only storage: said with the output, not the temporary file (.NET named that).
                catch (Exception e) when (e is UnauthorizedAccessException or IOException)
                {
                    throw new R2D2Exception(path, 0, $"cannot be written: its folder {dir} is not writable ({e.GetType().Name}: {e.Message.Replace(tmp, "a temporary file")})");
                }
                open.Add((stream, tmp, full));
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            // Renamed while still open (and locked), so no other writer takes them for debris.
            // rename(2) replaces a link at the destination by the file, leaving the link's target alone.
            foreach (var (_, tmp, full) in open) File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            foreach (var (stream, tmp, _) in open)
            {
                stream.Dispose();
                try { File.Delete(tmp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
            // Deepest first; a folder another writer filled meanwhile is not empty and stays.
            foreach (var d in made.Distinct().OrderByDescending(d => d.Length))
                try { if (Directory.Exists(d) && !Directory.EnumerateFileSystemEntries(d).Any()) Directory.Delete(d); }
                catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        finally
        {
            foreach (var (stream, _, _) in open) stream.Dispose();
        }
    }

    /// <summary>A device, a pipe or a socket at the destination would be replaced by the renamed
    /// file (/dev/full became a regular file, as root): refused. A link to a regular file is fine.</summary>
    private static void RefuseSpecialFile(string full, string path)
    {
        if (!File.Exists(full) || !OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64) return;
        var st = new byte[256];
        try
        {
            if (stat(full, st) != 0) return;
        }
        catch (EntryPointNotFoundException) { return; } // a C library without a plain stat symbol: not checked
        const uint TypeMask = 0xF000, Regular = 0x8000;
        if ((BitConverter.ToUInt32(st, 24) & TypeMask) != Regular) // st_mode's offset in x86-64's struct stat
            throw new R2D2Exception(path, 0, "is not a regular file (a device, a pipe or a socket): an output written there would replace it");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int stat(string path, byte[] buf);

    /// <summary>The temporary file of an output: its name's first 100 characters, the process and a
    /// GUID (the whole name, plus 46, went past the 255-byte limit of a file name for long names).</summary>
    private static string TemporaryFor(string dir, string name) => Path.Combine(dir, $".{Stem(name)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");

    /// <summary>A name's first 100 bytes of UTF-8 (whole characters): a file name's limit is 255
    /// bytes, and 100 characters of '€' are 300.</summary>
    public static string Stem(string name)
    {
        int bytes = 0, chars = 0;
        foreach (var rune in name.EnumerateRunes())
        {
            if ((bytes += rune.Utf8SequenceLength) > 100) break;
            chars += rune.Utf16SequenceLength;
        }
        return name[..chars];
    }

    /// <summary>Temporary files of this output left by a writer that was killed: a writer holds its
    /// temporary file open with an exclusive lock (FileShare.None is an flock on Unix) until it is
    /// renamed, so one that opens exclusively is nobody's, and the next write of the output removes
    /// it. No process ids: they mean nothing across containers or hosts sharing the folder.</summary>
    private static void RemoveStaleTemporaries(string dir, string name) => RemoveUnheld(dir, $".{Stem(name)}.*.tmp", File.Delete);

    /// <summary>Removes (with <paramref name="remove"/>) the files of <paramref name="dir"/> matching
    /// <paramref name="pattern"/> that no live writer holds: a writer keeps its temporary file open
    /// with an flock (FileShare.None: exclusive; a read-only handle of another share: shared, also on
    /// NFS), so one that opens exclusively is a killed writer's.</summary>
    public static void RemoveUnheld(string dir, string pattern, Action<string> remove)
    {
        foreach (var f in Directory.EnumerateFiles(dir, pattern))
        {
            try
            {
                using (new FileStream(f, FileMode.Open, FileAccess.ReadWrite, FileShare.None)) { }
                remove(f);
            }
            catch (IOException) { } // in use by a live writer, or gone already
            catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>The path with every symbolic link resolved (of the file itself when it exists, else of
    /// its folder), for comparing outputs with inputs.</summary>
    public static string RealPath(string path)
    {
        var full = Path.GetFullPath(path);
        try
        {
            if (File.Exists(full) || Directory.Exists(full))
            {
                var info = new FileInfo(full);
                var target = info.LinkTarget != null ? info.ResolveLinkTarget(returnFinalTarget: true)?.FullName : null;
                if (target != null) return RealPath(target);
            }
            var dir = Path.GetDirectoryName(full);
            if (dir == null) return full;
            var realDir = RealDirectory(dir);
            return Path.Combine(realDir, Path.GetFileName(full));
        }
        catch (IOException) { return full; }
    }

    private static string RealDirectory(string dir)
    {
        if (!Directory.Exists(dir))
        {
            var parent = Path.GetDirectoryName(dir);
            return parent == null ? dir : Path.Combine(RealDirectory(parent), Path.GetFileName(dir));
        }
        var info = new DirectoryInfo(dir);
        if (info.LinkTarget != null && info.ResolveLinkTarget(returnFinalTarget: true) is { } t) return RealDirectory(t.FullName);
        var parentDir = info.Parent;
        return parentDir == null ? info.FullName : Path.Combine(RealDirectory(parentDir.FullName), info.Name);
    }

    /// <summary>An input as <see cref="RefuseInputs"/> sees it: a file as itself; a folder (a COLMAP
    /// model, Strecha .camera files) as the folder and its files; a kapture folder as its sensors/
    /// and the files there (its root may hold other outputs).</summary>
    public static IEnumerable<(string Role, string? Path)> InputsOf(string role, string? path)
    {
        if (path == null) yield break;
        var folder = Kapture.SensorsFolder(path) ?? (Directory.Exists(path) ? path : null);
        if (folder == null) { yield return (role, path); yield break; }
        yield return ($"{role} folder", folder);
        foreach (var f in Directory.EnumerateFiles(folder)) yield return (role, f);
    }

    /// <summary>
    /// Throws (naming both) when an output resolves to one of the command's inputs, or two outputs
    /// resolve to the same file. Inputs that are folders are refused as output files only when equal.
    /// An output folder (<paramref name="outputFolders"/>: a folder the command writes files into) is
    /// refused when it is an input, holds an input (a file or folder below it), or lies inside an
    /// input folder (a COLMAP model, kapture's sensors/). Nothing is written before this check, so
    /// the inputs stay as they were.
    /// </summary>
    public static void RefuseInputs(IEnumerable<(string Role, string? Path)> outputs, IEnumerable<(string Role, string? Path)> inputs,
        IEnumerable<(string Role, string? Path)>? outputFolders = null)
    {
        var ins = inputs.Where(i => !string.IsNullOrEmpty(i.Path)).Select(i => (i.Role, i.Path, Real: RealPath(i.Path!))).ToList();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (role, path) in outputs)
        {
            if (string.IsNullOrEmpty(path)) continue;
            var real = RealPath(path);
            foreach (var i in ins)
                if (i.Real == real)
                    throw new R2D2Exception(path, 0, $"the {role} would overwrite the {i.Role} ({i.Path}); choose another output path (nothing was written)");
            if (seen.TryGetValue(real, out var other))
                throw new R2D2Exception(path, 0, $"the {role} and the {other} are the same file; choose distinct output paths (nothing was written)");
            seen[real] = role;
        }
        foreach (var (role, path) in outputFolders ?? Array.Empty<(string, string?)>())
        {
            if (string.IsNullOrEmpty(path)) continue;
            var real = RealPath(path).TrimEnd(Path.DirectorySeparatorChar);
            foreach (var i in ins)
            {
                var input = i.Real.TrimEnd(Path.DirectorySeparatorChar);
                string? why = input == real ? $"is the {i.Role} ({i.Path})"
                    : IsBelow(input, real) ? $"holds the {i.Role} ({i.Path})"
                    : Directory.Exists(i.Path) && IsBelow(real, input) ? $"lies inside the {i.Role} ({i.Path})"
                    : null;
                if (why != null) throw new R2D2Exception(path, 0, $"the {role} {why}; choose a folder apart from the inputs (nothing was written)");
            }
        }
    }

    /// <summary>A text output that exists and is no text file (a map or a feature database given as
    /// the output) would be replaced: refused before anything is written.</summary>
    public static void RefuseBinaryOutputs(IEnumerable<(string Role, string? Path)> files)
    {
        foreach (var (role, path) in files)
        {
            if (path != null && File.Exists(path) && TextInput.BinaryKind(path) is { } kind)
                throw new R2D2Exception(path, 0, $"is {kind}, which the {role} would replace: give another output (nothing was written)");
        }
    }

    /// <summary>Output files checked before any work, so a run does not fail at its end: a folder at
    /// an output's path, a device or a pipe there, a file where its folder goes, and a path inside one of
    /// <paramref name="foldersKept"/> (folders the command reads or keeps, e.g. a features cache) are refused.</summary>
    public static void RefuseAsOutputFiles(IEnumerable<(string Role, string? Path)> outputs, IEnumerable<(string Role, string? Path)>? foldersKept = null)
    {
        var kept = (foldersKept ?? Array.Empty<(string, string?)>()).Where(f => !string.IsNullOrEmpty(f.Path))
            .Select(f => (f.Role, f.Path, Real: RealPath(f.Path!).TrimEnd(Path.DirectorySeparatorChar))).ToList();
        foreach (var (role, path) in outputs)
        {
            if (string.IsNullOrEmpty(path)) continue;
            if (Directory.Exists(path)) throw new R2D2Exception(path, 0, $"is a folder: the {role} is a file; give a file name (nothing was written)");
            RefuseSpecialFile(Path.GetFullPath(path), path);
            if (FolderPath.FileInTheWay(Path.GetDirectoryName(Path.GetFullPath(path))!) is { } dir)
                throw new R2D2Exception(path, 0, $"lies under {dir}, which is a file: the {role} cannot be written there (nothing was written)");
            var real = RealPath(path);
            foreach (var k in kept)
                if (IsBelow(real, k.Real)) throw new R2D2Exception(path, 0, $"lies inside the {k.Role} ({k.Path}); write the {role} elsewhere (nothing was written)");
        }
    }

    /// <summary>Whether the path <paramref name="inner"/> lies below the folder <paramref name="folder"/> (both real and full).</summary>
    private static bool IsBelow(string inner, string folder) =>
        inner.Length > folder.Length + 1 && inner.StartsWith(folder + Path.DirectorySeparatorChar, StringComparison.Ordinal);
}
