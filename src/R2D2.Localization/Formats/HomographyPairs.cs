using System.Globalization;
using System.Text.RegularExpressions;

namespace R2D2.Localization.Formats;

/// <summary>Two images related by a ground-truth homography H (image 1 → image 2, row-major).</summary>
public sealed record HomographyPair(string Name, string Image1, string Image2, double[] H);

/// <summary>
/// Finds homography pairs in the common layouts: an HPatches sequence folder (1.ppm … 6.ppm with
/// H_1_2 … H_1_6), a folder of HPatches sequences, an Oxford (Mikolajczyk) folder (img1.png,
/// img3.png, H1to3p; the matrix as text or OpenCV XML, e.g. graf1.png / graf3.png /
/// H1to3p.xml), and the EVD layout (1/NAME.png, 2/NAME.png, h/NAME.txt).
/// </summary>
public static class HomographyPairs
{
    /// <summary>The pairs of every folder, in order; a folder without any is refused (it was left out
    /// of the average without a word).</summary>
    public static List<HomographyPair> FindAll(IEnumerable<string> folders) => PairFolders.FindAll(folders, Find,
        folder => new InputListException($"{folder}: no homography pairs (HPatches' 1.ppm … and H_1_k, or EVD's 1/, 2/, h/)"));

    public static List<HomographyPair> Find(string folder)
    {
        if (!Directory.Exists(folder)) throw new InputListException($"{folder}: {(File.Exists(folder) ? "is a file: --pairs takes folders of homography pairs" : "folder not found")}");
        var pairs = new List<HomographyPair>();
        var files = Directory.GetFiles(folder).Select(Path.GetFileName).ToHashSet()!;
        string name = Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/'));
        // A homography's name on a folder: the pair was skipped without a word (scores over fewer pairs).
        if (Directory.GetDirectories(folder).Select(Path.GetFileName).FirstOrDefault(d => Regex.IsMatch(d!, @"^H_1_\d+$|^H1to\d+p(\.xml|\.txt)?$")) is { } odd)
            throw new InputListException($"{Path.Combine(folder, odd)}: is a folder, not a homography file");

        // EVD: 1/, 2/, h/
        if (Directory.Exists(Path.Combine(folder, "1")) && Directory.Exists(Path.Combine(folder, "h")))
        {
            foreach (var h in Directory.GetFiles(Path.Combine(folder, "h"), "*.txt").OrderBy(p => p, StringComparer.Ordinal))
            {
                var stem = Path.GetFileNameWithoutExtension(h);
                var i1 = Needed(h, Path.Combine(folder, "1"), stem);
                var i2 = Needed(h, Path.Combine(folder, "2"), stem);
                pairs.Add(new HomographyPair($"{name}/{stem}", i1, i2, ReadMatrix(h)));
            }
            return pairs;
        }
        // HPatches: H_1_k
        foreach (var f in files.Where(f => Regex.IsMatch(f!, @"^H_1_\d+$")).OrderBy(f => f, StringComparer.Ordinal))
        {
            var k = f![4..];
            var h = Path.Combine(folder, f);
            pairs.Add(new HomographyPair($"{name}/1-{k}", Needed(h, folder, "1"), Needed(h, folder, k), ReadMatrix(h)));
        }
        // Oxford: H1toKp[.xml]
        foreach (var f in files.Where(f => Regex.IsMatch(f!, @"^H1to\d+p(\.xml|\.txt)?$")).OrderBy(f => f, StringComparer.Ordinal))
        {
            var k = Regex.Match(f!, @"^H1to(\d+)p").Groups[1].Value;
            var i1 = files.Where(x => ImageFile.IsImagePath(x!) && Regex.IsMatch(Path.GetFileNameWithoutExtension(x!), @"\D1$|^1$")).Select(x => Path.Combine(folder, x!)).FirstOrDefault();
            var i2 = files.Where(x => ImageFile.IsImagePath(x!) && Regex.IsMatch(Path.GetFileNameWithoutExtension(x!), $@"\D{k}$|^{k}$")).Select(x => Path.Combine(folder, x!)).FirstOrDefault();
            var h = Path.Combine(folder, f!);
            pairs.Add(new HomographyPair($"{name}/1-{k}", i1 ?? throw MissingImage(h, folder, "image 1"), i2 ?? throw MissingImage(h, folder, $"image {k}"), ReadMatrix(h)));
        }
        if (pairs.Count == 0)
        {
            // A root of several sequences.
            foreach (var sub in Directory.GetDirectories(folder).OrderBy(d => d, StringComparer.Ordinal))
                pairs.AddRange(Find(sub));
        }
        return pairs;
    }

    private static string? FindImage(string folder, string stem) =>
        ImageFile.Extensions.Select(e => Path.Combine(folder, stem + e)).FirstOrDefault(File.Exists);

    /// <summary>The image a homography file relates; a missing one is an error (the pair was
    /// skipped silently, and the scores were over fewer pairs than the dataset has).</summary>
    private static string Needed(string homography, string folder, string stem) =>
        FindImage(folder, stem) ?? throw MissingImage(homography, folder, $"{stem}.*");

    private static FileFormatException MissingImage(string homography, string folder, string what) =>
        new(homography, 0, $"relates {what}, which is not in {folder} (looked for {string.Join(", ", ImageFile.Extensions)})");

    /// <summary>Reads a 3×3 matrix: nine numbers as text, or the data of an OpenCV XML matrix.</summary>
    public static double[] ReadMatrix(string path)
    {
        var text = File.ReadAllText(path);
        var m = Regex.Match(text, @"<data>(.*?)</data>", RegexOptions.Singleline);
        if (m.Success) text = m.Groups[1].Value;
        var numbers = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (numbers.Length != 9) throw new FileFormatException(path, 0, $"expected 9 numbers of a 3×3 homography, found {numbers.Length}");
        var h = numbers.Select((s, i) => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) ? v
            : throw new FileFormatException(path, 0, $"value {i + 1} ('{s}') is not a finite number")).ToArray();
        // A singular H maps the image onto a line: no pair can be scored against it.
        double det = h[0] * (h[4] * h[8] - h[5] * h[7]) - h[1] * (h[3] * h[8] - h[5] * h[6]) + h[2] * (h[3] * h[7] - h[4] * h[6]);
        double scale = h.Max(Math.Abs);
        if (!(Math.Abs(det) > 1e-12 * scale * scale * scale))
            throw new FileFormatException(path, 0, $"the homography is singular (determinant {det:G3}): not a map between two images");
        return h;
    }
}
