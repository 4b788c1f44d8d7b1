namespace R2D2.Localization.Formats;

/// <summary>A hand-labelled correspondence: (X1, Y1) in image 1 and (X2, Y2) in image 2, pixels
/// with pixel centres at integer coordinates (the labelling tool's convention, and the project's).</summary>
public readonly record struct Correspondence(double X1, double Y1, double X2, double Y2);

/// <summary>A WxBS image pair: its two images, its ground-truth correspondences and, when the
/// dataset has them, the labelling's own error of each (<c>crossval_errors.txt</c>, px; null when absent).</summary>
public sealed record WxbsPair(string Name, string Image1, string Image2, IReadOnlyList<Correspondence> Correspondences,
    IReadOnlyList<double>? LabellingErrors);

/// <summary>
/// Reads the WxBS dataset (Mishkin et al., BMVC 2015; v1.1): a pair is a folder with 01 and 02
/// (.png or .jpg), <c>corrs.txt</c> (one correspondence a line, <c>x1 y1 x2 y2</c>, numbers as
/// numpy's savetxt writes them, e.g. 2.538888800000000003e+02) and <c>crossval_errors.txt</c>
/// (one number a line, the same order: the symmetric epipolar distance of that correspondence
/// under the F the 8-point algorithm fits to all the others, the dataset's measure of how well
/// the labels agree). Errors name the file and line.
/// </summary>
public static class WxbsPairs
{
    public const string CorrespondencesFile = "corrs.txt";
    public const string LabellingErrorsFile = "crossval_errors.txt";

    /// <summary>The pairs under every folder, in order; a folder without any is refused.</summary>
    public static List<WxbsPair> FindAll(IEnumerable<string> folders) => PairFolders.FindAll(folders, Find,
        folder => new R2D2Exception($"{folder}: no WxBS pair (a folder with 01.png, 02.png and {CorrespondencesFile}) in it or below it"));

    /// <summary>The pairs under <paramref name="folder"/>: the folder itself when it holds
    /// <see cref="CorrespondencesFile"/>, else every folder below that does (e.g. the dataset root,
    /// or a category such as WGALBS), sorted by name; named by their path relative to
    /// <paramref name="folder"/> (a single pair by its folder's name).</summary>
    public static List<WxbsPair> Find(string folder)
    {
        if (File.Exists(folder)) throw new InputListException($"{folder}: is a file: --pairs takes WxBS pair folders (01.png, 02.png, {CorrespondencesFile}) or folders holding them");
        if (!Directory.Exists(folder)) throw new InputListException($"{folder}: folder not found");
        if (File.Exists(Path.Combine(folder, CorrespondencesFile)))
            return new List<WxbsPair> { Read(folder, Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'))) };
        return Directory.EnumerateFiles(folder, CorrespondencesFile, SearchOption.AllDirectories)
            .Select(Path.GetDirectoryName).OrderBy(d => d, StringComparer.Ordinal)
            .Select(d => Read(d!, Path.GetRelativePath(folder, d!).Replace('\\', '/'))).ToList();
    }

    /// <summary>One pair folder: both images must exist and the correspondences must parse.</summary>
    public static WxbsPair Read(string folder, string? name = null)
    {
        name ??= Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'));
        var corrsPath = Path.Combine(folder, CorrespondencesFile);
        var read = ReadWithLines(corrsPath);
        var corrs = read.Select(r => r.Correspondence).ToList();
        var errorsPath = Path.Combine(folder, LabellingErrorsFile);
        var errors = File.Exists(errorsPath) ? ReadLabellingErrors(errorsPath, corrs.Count) : null;
        string image1 = FindImage(folder, "01"), image2 = FindImage(folder, "02");
        // An unreadable photo is that pair's failure when it is extracted, not the listing's: its points go unchecked.
        if (Size(image1) is { } size1 && Size(image2) is { } size2) CheckInside(corrsPath, read, size1, size2);
        return new WxbsPair(name, image1, image2, corrs, errors);
    }

    private static (int Width, int Height)? Size(string image)
    {
        try { return ImageFile.ReadSize(image); }
        catch (ImageFileException) { return null; }
    }

    /// <summary>Every point within its image (a pixel of slack for the labels' rounding): a point
    /// far outside was scored as it was, into a meaningless error.</summary>
    private static void CheckInside(string path, List<(Correspondence Correspondence, int Line)> corrs, (int Width, int Height) size1, (int Width, int Height) size2)
    {
        foreach (var (c, line) in corrs)
            foreach (var (x, y, (w, h), which) in new[] { (c.X1, c.Y1, size1, "01"), (c.X2, c.Y2, size2, "02") })
                if (x < -1 || y < -1 || x > w || y > h)
                    throw new FileFormatException(path, line, $"point ({x}, {y}) lies outside image {which} ({w}×{h})");
    }

    /// <summary><c>x1 y1 x2 y2</c> per line (blank lines and # comments skipped); at least one.</summary>
    public static List<Correspondence> ReadCorrespondences(string path) => ReadWithLines(path).Select(r => r.Correspondence).ToList();

    private static List<(Correspondence Correspondence, int Line)> ReadWithLines(string path)
    {
        if (!File.Exists(path)) throw new FileFormatException(path, 0, "file not found");
        var list = new List<(Correspondence, int)>();
        foreach (var (line, f) in PosedImages.DataLines(path))
        {
            if (f.Length != 4) throw new FileFormatException(path, line, $"expected 4 numbers (x1 y1 x2 y2), found {f.Length} fields");
            list.Add((new Correspondence(PosedImages.Number(f[0], path, line, "x1"), PosedImages.Number(f[1], path, line, "y1"),
                PosedImages.Number(f[2], path, line, "x2"), PosedImages.Number(f[3], path, line, "y2")), line));
        }
        if (list.Count == 0) throw new FileFormatException(path, 0, "no correspondences");
        return list;
    }

    /// <summary>One non-negative number per line, <paramref name="expected"/> of them (one per correspondence).</summary>
    public static List<double> ReadLabellingErrors(string path, int expected)
    {
        var list = new List<double>();
        foreach (var (line, f) in PosedImages.DataLines(path))
        {
            if (f.Length != 1) throw new FileFormatException(path, line, $"expected one number, found {f.Length} fields");
            var v = PosedImages.Number(f[0], path, line, "error");
            if (v < 0) throw new FileFormatException(path, line, $"error {f[0]} is negative");
            list.Add(v);
        }
        if (list.Count != expected)
            throw new FileFormatException(path, 0, $"{list.Count} errors for {expected} correspondences in {CorrespondencesFile}");
        return list;
    }

    private static string FindImage(string folder, string stem) =>
        ImageFile.Extensions.Select(e => Path.Combine(folder, stem + e)).FirstOrDefault(File.Exists)
        ?? throw new ImageFileException(Path.Combine(folder, stem + ".png"), $"image not found (looked for {stem}.png, {stem}.jpg and the other image extensions)");
}
