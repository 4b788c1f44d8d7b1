namespace R2D2.Localization.Formats;

/// <summary>An image to process: its path on disk and its name relative to the input it came from
/// (the name output files and databases use).</summary>
public sealed record ImageInput(string Path, string Name);

public sealed class InputListException : R2D2Exception
{
    public InputListException(string message) : base(message) { }
}

/// <summary>
/// Expands what users pass as images: image files, folders (every image below, recursively,
/// sorted by name) and text lists (.txt, one image path per line, relative to the list's folder;
/// blank lines and lines starting with # are skipped).
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
                var files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                    .Where(ImageFile.IsImagePath)
                    .Select(p => new ImageInput(p, prefix + Path.GetRelativePath(root, p).Replace('\\', '/')))
                    .OrderBy(i => i.Name, StringComparer.Ordinal);
                result.AddRange(files);
            }
            else if (Path.GetExtension(input).Equals(".txt", StringComparison.OrdinalIgnoreCase))
            {
                if (!File.Exists(input)) throw new InputListException($"{input}: list file not found");
                var dir = Path.GetDirectoryName(Path.GetFullPath(input))!;
                int lineNo = 0;
                foreach (var raw in File.ReadLines(input))
                {
                    lineNo++;
                    var line = raw.Trim();
                    if (line.Length == 0 || line.StartsWith('#')) continue;
                    // Lists such as Aachen's query files carry more columns: the first is the image.
                    var name = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0];
                    var path = Path.IsPathRooted(name) ? name : Path.Combine(dir, name);
                    if (!ImageFile.IsImagePath(path))
                        throw new InputListException($"{input}:{lineNo}: '{name}' is not an image file name");
                    result.Add(new ImageInput(path, Path.IsPathRooted(name) ? Path.GetFileName(name) : name.Replace('\\', '/')));
                }
            }
            else
            {
                // A single file; a missing one is reported per image so the others still run.
                result.Add(new ImageInput(input, Path.GetFileName(input)));
            }
        }
        var clash = result.GroupBy(i => i.Name).FirstOrDefault(g => g.Count() > 1);
        if (clash != null)
            throw new InputListException($"two inputs are both named '{clash.Key}' ({string.Join(", ", clash.Select(i => i.Path))}); outputs would collide");
        return result;
    }
}
