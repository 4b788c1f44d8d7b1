namespace R2D2.Localization.Formats;

/// <summary>An image to process: its path on disk and its name relative to the input it came from
/// (the name output files and databases use).</summary>
public sealed record ImageInput(string Path, string Name)
{
    /// <summary>
    /// Where the image's outputs go, relative to an output folder: <see cref="Name"/> with its
    /// folders mirrored, except that `..` segments become `__` and `.` and empty segments are dropped,
    /// so a list entry such as <c>../day/a.jpg</c> writes <c>OUT/__/day/a.jpg…</c>, never outside OUT.
    /// </summary>
    public string OutputName => ImageList.SafeRelativePath(Name);
}

public sealed class InputListException : R2D2Exception
{
    public InputListException(string message) : base(message) { }
    public InputListException(string file, int line, string message) : base(file, line, message) { }
}

/// <summary>
/// Expands what users pass as images: image files, folders (every image below, recursively,
/// sorted by name) and text lists (.txt, one image path per line, relative to the list's folder,
/// further columns ignored unless the whole line names an image, as a path with spaces does;
/// blank lines and lines starting with # are skipped). Folder walks follow symbolic links to
/// folders but enter each real folder once, so a link loop ends and no image comes twice.
/// </summary>
public static class ImageList
{
    public static List<ImageInput> Resolve(IEnumerable<string> inputs)
    {
        var inputList = inputs.ToList();
        var result = new List<ImageInput>();
        int folders = inputList.Count(Directory.Exists);
        foreach (var input in inputList)
        {
            if (Directory.Exists(input))
            {
                var root = Path.GetFullPath(input);
                // With several folders, names keep the folder's own name (1/adam.png, 2/adam.png) so they cannot collide.
                var prefix = folders > 1 ? Path.GetFileName(root.TrimEnd('/')) + "/" : "";
                var files = new List<ImageInput>();
                Walk(root, prefix, new HashSet<string>(StringComparer.Ordinal), files);
                result.AddRange(files.OrderBy(i => i.Name, StringComparer.Ordinal));
            }
            else if (Path.GetExtension(input).Equals(".txt", StringComparison.OrdinalIgnoreCase))
            {
                if (!File.Exists(input)) throw new InputListException(input, 0, "list file not found");
                var dir = Path.GetDirectoryName(Path.GetFullPath(input))!;
                int lineNo = 0;
                foreach (var raw in TextInput.ReadLines(input))
                {
                    lineNo++;
                    var line = raw.Trim();
                    if (line.Length == 0 || line.StartsWith('#')) continue;
                    // Lists such as Aachen's query files carry more columns: the first is the image;
                    // unless the whole line names an image (a path with spaces).
                    var name = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0];
                    if (name != line && ImageFile.IsImagePath(line) && (!ImageFile.IsImagePath(name) || File.Exists(Path.Combine(dir, line))))
                        name = line;
                    var path = Path.IsPathRooted(name) ? name : Path.Combine(dir, name);
                    if (!ImageFile.IsImagePath(path))
                        throw new InputListException(input, lineNo, $"'{name}' is not an image file name");
                    result.Add(new ImageInput(path, Path.IsPathRooted(name) ? Path.GetFileName(name) : name.Replace('\\', '/')));
                }
            }
            else if (input.EndsWith('/') || input.EndsWith(Path.DirectorySeparatorChar))
                throw new InputListException(input, 0, "folder not found");
            else
            {
                // A single file; a missing one is reported per image so the others still run.
                result.Add(new ImageInput(input, Path.GetFileName(input)));
            }
        }
        var clash = result.GroupBy(i => i.Name).FirstOrDefault(g => g.Count() > 1)
            ?? result.GroupBy(i => i.OutputName).FirstOrDefault(g => g.Count() > 1);
        if (clash != null)
            throw new InputListException($"two inputs are both named '{clash.Key}' ({string.Join(", ", clash.Select(i => i.Path))}); outputs would collide");
        return result;
    }

    /// <summary>A relative path that stays below the folder it is combined with (see <see cref="ImageInput.OutputName"/>).</summary>
    public static string SafeRelativePath(string name)
    {
        var parts = name.Replace('\\', '/').Split('/')
            .Where(p => p.Length > 0 && p != ".")
            .Select(p => p == ".." ? "__" : p);
        return string.Join('/', parts);
    }

    /// <summary>Adds the images below <paramref name="dir"/>, entering each real folder once.</summary>
    private static void Walk(string dir, string prefix, HashSet<string> visited, List<ImageInput> into)
    {
        if (!visited.Add(OutputFile.RealPath(dir))) return;
        IEnumerable<string> entries;
        try
        {
            // Hidden files count (AttributesToSkip 0), as they did before.
            entries = Directory.EnumerateFileSystemEntries(dir, "*", new EnumerationOptions { AttributesToSkip = 0 })
                .Order(StringComparer.Ordinal).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InputListException(dir, 0, $"cannot list the folder: {e.Message}");
        }
        foreach (var entry in entries)
        {
            // .NET decodes names as UTF-8; other bytes become U+FFFD, and the decoded name opens
            // nothing (each such image was "not found").
            if (entry.Contains('\uFFFD'))
                throw new InputListException(dir, 0, $"'{Path.GetFileName(entry)}' is not a UTF-8 file name (the marks stand for bytes of another encoding): "
                    + "rename it (e.g. convmv -f latin1 -t utf8 --notest)");
            var name = prefix + Path.GetFileName(entry);
            // Directory.Exists follows links; a dangling link or a link loop is not a folder and, with an
            // image extension, is listed so that its extraction reports it.
            if (Directory.Exists(entry)) Walk(entry, name + "/", visited, into);
            else if (ImageFile.IsImagePath(entry)) into.Add(new ImageInput(entry, name));
        }
    }
}
