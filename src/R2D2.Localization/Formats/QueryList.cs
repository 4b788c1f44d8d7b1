using System.Globalization;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Formats;

/// <summary>A query image as a query list names it (a path relative to the dataset's images,
/// e.g. <c>query/night/nexus5x/IMG_20161227_172616.jpg</c>) and its camera when the list gives
/// one.</summary>
public sealed record QueryImage(string Name, Camera? Camera)
{
    /// <summary>The name the submission uses: the file name without folders.</summary>
    public string SubmissionName => Submission.BaseName(Name);

    /// <summary>The name the submission uses with the last <paramref name="folders"/> folders kept (<see cref="Submission.NameFor"/>).</summary>
    public string SubmissionNameWith(int folders) => Submission.NameFor(Name, folders);
}

/// <summary>
/// Query lists as Aachen Day-Night (and the other visuallocalization.net datasets) ship them:
/// <list type="bullet">
/// <item>with intrinsics (<c>night_time_queries_with_intrinsics.txt</c>): one line per image,
/// <c>name MODEL width height params...</c>, MODEL any COLMAP camera model by name with its
/// parameters in COLMAP's order (Aachen's lines are <c>name SIMPLE_RADIAL w h f cx cy k</c>);</item>
/// <item>without intrinsics: one name per line.</item>
/// </list>
/// The principal points in these files are in COLMAP's pixel convention (the centre of the
/// top-left pixel at (0.5, 0.5): a 1600×1200 image has cx, cy = 800, 600). The reader moves them
/// to the project's (centre of the top-left pixel at (0, 0): 799.5, 599.5) with
/// <see cref="Camera.WithPrincipalPointShift"/>(−0.5), so the cameras it returns project like
/// every other camera of the project. Blank lines and lines starting with # are skipped. Cameras
/// that cannot be right (<see cref="Camera.FindProblem"/>) or that the pipeline cannot project
/// (fisheye models…) are refused. Errors (<see cref="FileFormatException"/>) name the file and line.
/// </summary>
public static class QueryList
{
    /// <summary>Reads a list with intrinsics. Each camera's id is its query's position in the list
    /// (1, 2, …): the file has no ids, and this keeps them distinct.</summary>
    public static List<QueryImage> ReadWithIntrinsics(string path)
    {
        var queries = new List<QueryImage>();
        foreach (var (lineNo, fields) in DataLines(path))
        {
            if (fields.Length < 4)
                throw new FileFormatException(path, lineNo, $"expected 'name MODEL width height params...', found {Counted.Of(fields.Length, "field")}"
                    + (fields.Length == 1 ? " (a list of names only? then give the cameras with --intrinsics)" : ""));
            CameraModel model;
            try { model = CameraModel.FromName(fields[1]); }
            catch (ArgumentException e)
            {
                // A name with a space shifts every field: say that, not "unknown model 'copy.jpg'".
                int at = Array.FindIndex(fields, 2, f => CameraModel.All.Any(m => m.Name == f));
                throw new FileFormatException(path, lineNo, at > 0
                    ? $"image name '{string.Join(" ", fields.Take(at))}' holds white space, which separates the fields: rename the image"
                    : e.Message);
            }
            int width = PositiveInt(fields[2], "width", path, lineNo), height = PositiveInt(fields[3], "height", path, lineNo);
            int given = fields.Length - 4;
            if (given != model.ParamCount)
                throw new FileFormatException(path, lineNo, $"{model.Name} needs {Counted.Of(model.ParamCount, "parameter")} ({string.Join(", ", model.ParamNames)}), found {given}");
            var p = new double[given];
            for (int i = 0; i < given; i++)
                if (!double.TryParse(fields[4 + i], NumberStyles.Float, CultureInfo.InvariantCulture, out p[i]) || !double.IsFinite(p[i]))
                    throw new FileFormatException(path, lineNo, $"parameter {model.ParamNames[i]} ('{fields[4 + i]}') is not a finite number");
            // Named by its query: its id (the line's rank) means nothing to the reader.
            var camera = PosedImages.Checked(new Camera(queries.Count + 1, model, width, height, p), path, lineNo, subject: $"query '{fields[0]}'");
            queries.Add(new QueryImage(fields[0], ColmapConvention.CameraFromColmap(camera)));
        }
        return queries;
    }

    /// <summary>Writes a list with intrinsics (`name MODEL w h params...`, principal points in COLMAP's
    /// convention), which <see cref="ReadWithIntrinsics"/> reads back; names with white space cannot be written.</summary>
    public static void WriteWithIntrinsics(string path, IEnumerable<(string Name, Camera Camera)> images)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var (name, camera) in images)
        {
            if (name.Length == 0 || name.Any(char.IsWhiteSpace)) throw new R2D2Exception($"{path}: image name '{name}' cannot be written (empty or white space)");
            // A list's line starting with '#' is a comment: the image would be lost on reading.
            if (name[0] == '#') throw new R2D2Exception($"{path}: image name '{name}' cannot be written: a line starting with '#' is a comment");
            var c = ColmapConvention.CameraToColmap(camera);
            sb.Append($"{name} {c.Model.Name} {c.Width} {c.Height} {string.Join(' ', c.Params.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}\n");
        }
        OutputFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>The fields of a text list's first data line (not blank, not a `#` comment); none
    /// for a list without one: what tells a names-only list (one field), a list with intrinsics and
    /// a submission (8, numbers after the name) apart.</summary>
    public static string[] FirstDataFields(string path) =>
        TextInput.ReadLines(path).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && l[0] != '#')?
            .Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) ?? Array.Empty<string>();

    /// <summary>Reads a list without intrinsics: one image name per line.</summary>
    public static List<QueryImage> ReadNames(string path)
    {
        var queries = new List<QueryImage>();
        foreach (var (lineNo, fields) in DataLines(path))
        {
            if (fields.Length != 1)
                throw new FileFormatException(path, lineNo, $"expected one image name, found {fields.Length} fields"
                    + " (a list with intrinsics? names cannot contain white space)");
            queries.Add(new QueryImage(fields[0], null));
        }
        return queries;
    }

    /// <summary>The non-blank, non-comment lines split on white space, with their line numbers;
    /// refuses a name that comes twice, which would give one image two answers.</summary>
    private static IEnumerable<(int LineNo, string[] Fields)> DataLines(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException(Directory.Exists(path)
            ? $"{path}: is a folder, not a query list (a kapture query folder has sensors/records_camera.txt)" : $"{path}: query list not found", path);
        TextInput.RefuseBinary(path, "a query list");
        var firstLine = new Dictionary<string, int>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (var raw in TextInput.ReadLines(path))
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (!firstLine.TryAdd(fields[0], lineNo))
                throw new FileFormatException(path, lineNo, $"'{fields[0]}' appears again (first on line {firstLine[fields[0]]})");
            yield return (lineNo, fields);
        }
    }

    private static int PositiveInt(string text, string what, string path, int lineNo) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v
            : throw new FileFormatException(path, lineNo, $"{what} '{text}' is not a positive whole number");
}
