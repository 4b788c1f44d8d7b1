using System.Globalization;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Formats;

/// <summary>The pose of one image, by the name the image goes by in a submission or query list.</summary>
public sealed record ImagePose(string Name, Pose Pose);

/// <summary>
/// The visuallocalization.net submission format (Aachen Day-Night and the other benchmarks of
/// that site): one line per image, <c>name qw qx qy qz tx ty tz</c>, the pose world→camera
/// (x_cam = R·X + t, the project's convention), the quaternion Hamilton (w, x, y, z). The name is
/// the image's base name (<c>IMG_20140520_182846.jpg</c>, no folders): the site matches on it.
/// </summary>
public static class Submission
{
    /// <summary>"R" writes the shortest text that parses back to the same double (up to 17
    /// significant digits), so a pose survives a write and a read bit for bit; the site reads
    /// these with ordinary float parsers, which accept it.</summary>
    private static string Number(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>The line of one image: its base name (with its last <paramref name="folders"/>
    /// folders, see <see cref="NameFor"/>), the quaternion of R (w ≥ 0), then t.</summary>
    public static string FormatLine(ImagePose image, int folders = 0)
    {
        var q = image.Pose.Quaternion;
        var t = image.Pose.Translation;
        return string.Join(' ', new[] { NameFor(image.Name, folders) }.Concat(q.Concat(t).Select(Number)));
    }

    /// <summary>
    /// The submission's name of an image: its base name, with its last <paramref name="folders"/>
    /// folders in front. Multi-camera benchmarks name a query by its camera folder and file
    /// (RobotCar Seasons: <c>rear/1417176586978230.jpg</c>), so their submissions need 1; Aachen's
    /// and the single-camera ones need 0.
    /// </summary>
    public static string NameFor(string name, int folders)
    {
        if (folders < 0) throw new UsageException($"folders must be ≥ 0 (got {folders})");
        var parts = name.Replace('\\', '/').Split('/');
        return string.Join('/', parts.Skip(Math.Max(0, parts.Length - 1 - folders)));
    }

    internal static bool EndsAtFolder(string name, string end) =>
        name.EndsWith(end, StringComparison.Ordinal) && (name.Length == end.Length || name[name.Length - end.Length - 1] is '/' or '\\');

    /// <summary>The names an image may have in a submission, base name first (<see cref="NameFor"/> with 0, 1, … folders).</summary>
    public static IEnumerable<string> CandidateNames(string name)
    {
        int depth = name.Count(c => c is '/' or '\\');
        for (int k = 0; k <= depth; k++) yield return NameFor(name, k);
    }

    /// <summary>Writes one line per image, in the order given. Names are reduced to base names;
    /// two images with the same base name would be indistinguishable to the site, so they are
    /// refused.</summary>
    public static void Write(string path, IEnumerable<ImagePose> images, int folders = 0)
    {
        var lines = new List<string>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var image in images)
        {
            var name = NameFor(image.Name, folders);
            // A name starting with '#' would be read back as a comment line.
            if (name.Length == 0 || name.Any(char.IsWhiteSpace) || name[0] == '#')
                throw new R2D2Exception($"{path}: image name '{image.Name}' cannot be written (empty, contains white space, or starts with '#')");
            if (!seen.TryAdd(name, image.Name))
                throw new R2D2Exception($"{path}: '{image.Name}' and '{seen[name]}' have the same {(folders == 0 ? "base" : "submission")} name '{name}'");
            lines.Add(FormatLine(image, folders) + "\n");
        }
        OutputFile.WriteAllText(path, string.Concat(lines));
    }

    /// <summary>Reads a submission (or a ground-truth file in the same format). Blank lines and
    /// lines starting with `#` are skipped; quaternions are normalized. Errors name the file and line.</summary>
    public static List<ImagePose> Read(string path) => ReadLines(path).Select(l => l.Image).ToList();

    /// <summary>As <see cref="Read(string)"/>; <paramref name="warning"/> gets one line when quaternions
    /// are off unit length by more than <see cref="UnitTolerance"/> (a scaled quaternion, or columns
    /// in another order, e.g. `name tx ty tz qw qx qy qz`): they are normalized all the same.</summary>
    public static List<ImagePose> Read(string path, Action<string>? warning)
    {
        var lines = Parse(path);
        var off = lines.Where(l => Math.Abs(l.QuaternionNorm - 1) > UnitTolerance).ToList();
        if (off.Count > 0)
            warning?.Invoke($"{path}:{off[0].Number}: {Counted.Of(off.Count, "quaternion")} of {lines.Count} not of unit length (first: '{off[0].Image.Name}', "
                + $"norm {off[0].QuaternionNorm.ToString("G4", CultureInfo.InvariantCulture)}), normalized; a submission line is `name qw qx qy qz tx ty tz`, the quaternion first");
        return lines.Select(l => l.Image).ToList();
    }

    /// <summary>How far from 1 a quaternion's norm may be without a warning: six decimals round
    /// it by ~1e-6, three significant digits by ~1e-3.</summary>
    public const double UnitTolerance = 0.01;

    /// <summary>Reads from <paramref name="reader"/>; <paramref name="source"/> names it in errors.</summary>
    public static List<ImagePose> Read(TextReader reader, string source) => Parse(reader, source).Select(l => l.Image).ToList();

    /// <summary>As <see cref="Read(string)"/>, with each pose's line as it stands in the file
    /// (a resumed run copies the lines it keeps unchanged).</summary>
    public static List<(ImagePose Image, string Line)> ReadLines(string path) => Parse(path).Select(l => (l.Image, l.Line)).ToList();

    private static List<PoseLine> Parse(string path)
    {
        if (Directory.Exists(path))
            throw new FileFormatException(path, 0, "is a folder, not a file of poses (`name qw qx qy qz tx ty tz` per line); "
                + "a kapture folder's or a COLMAP model's poses: localize convert --from FOLDER --to poses.txt --format submission");
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: not found (expected poses, `name qw qx qy qz tx ty tz` per line)", path);
        TextInput.RefuseBinary(path, "a file of poses (`name qw qx qy qz tx ty tz` per line)");
        using var reader = TextInput.OpenText(path);
        return Parse(reader, path);
    }

    private readonly record struct PoseLine(ImagePose Image, string Line, int Number, double QuaternionNorm);

    private static List<PoseLine> Parse(TextReader reader, string source)
    {
        var images = new List<PoseLine>();
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        int lineNo = 0;
        for (string? raw; (raw = reader.ReadLine()) != null;)
        {
            lineNo++;
            var fields = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            // Blank lines and `#` comments (as COLMAP's text files have them) carry no pose.
            if (fields.Length == 0 || fields[0].StartsWith('#')) continue;
            if (fields.Length != 8)
                throw new FileFormatException(source, lineNo, $"expected 8 fields 'name qw qx qy qz tx ty tz', found {fields.Length}");
            var v = new double[7];
            for (int i = 0; i < 7; i++)
                if (!double.TryParse(fields[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out v[i]) || !double.IsFinite(v[i]))
                    throw new FileFormatException(source, lineNo, $"field {i + 2} ('{fields[i + 1]}') is not a finite number");
            // The norm of the quaternion scaled by its largest component (squares of 1e-170 underflowed
            // to a "zero" quaternion, of 1e200 overflowed to a norm of ∞).
            double norm = Rotations.QuaternionNorm(v.AsSpan(0, 4));
            if (!(norm > 0))
                throw new FileFormatException(source, lineNo, $"the quaternion of '{fields[0]}' is zero, which is no rotation");
            if (!firstLine.TryAdd(fields[0], lineNo))
                throw new FileFormatException(source, lineNo, $"'{fields[0]}' appears again (first on line {firstLine[fields[0]]})");
            var pose = Pose.FromQuaternion(v.AsSpan(0, 4), v.AsSpan(4, 3));
            // t near the double range gives a centre −Rᵀt that overflows: an error of ∞ or NaN, not a pose.
            if (!pose.CameraCenter.All(double.IsFinite))
                throw new FileFormatException(source, lineNo, $"the camera centre of '{fields[0]}' (−Rᵀt) overflows: the translation is too large");
            images.Add(new PoseLine(new ImagePose(fields[0], pose), raw, lineNo, norm));
        }
        return images;
    }

    /// <summary>The submission's name of an image: its file name without folders.</summary>
    public static string BaseName(string name) => name[(name.LastIndexOfAny(new[] { '/', '\\' }) + 1)..];
}
