using System.Globalization;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Formats;

/// <summary>An image of a COLMAP model with its 2D points (x, y in the project's pixel convention; point id or −1).</summary>
public sealed record ColmapImage(int Id, PosedImage Posed, double[] Points2D, long[] Point3DIds);

/// <summary>A 3D point of a COLMAP model with its colour, error and track of (image id, point2D index).</summary>
public sealed record ColmapPoint(long Id, double X, double Y, double Z, byte R, byte G, byte B, double Error, int[] Track);

public sealed record ColmapModel(List<Camera> Cameras, List<ColmapImage> Images, List<ColmapPoint> Points);

/// <summary>
/// COLMAP's text model (cameras.txt, images.txt, points3D.txt), as documented by COLMAP: cameras
/// `ID MODEL WIDTH HEIGHT PARAMS...`; images two lines each, `ID QW QX QY QZ TX TY TZ CAMERA_ID NAME`
/// (world→camera) then `X Y POINT3D_ID` triples; points `ID X Y Z R G B ERROR (IMAGE_ID POINT2D_IDX)...`.
/// COLMAP's pixel convention puts the first pixel's centre at (0.5, 0.5): principal points and 2D
/// points are shifted by 0.5 here, on read and write, and nowhere else.
/// </summary>
public static class ColmapText
{
    private const double Shift = ColmapConvention.PixelOffset;

    /// <param name="supportedModelsOnly">Refuse cameras the map and query pipeline cannot project
    /// (fisheye…); a model read for other uses may hold any COLMAP model.</param>
    public static ColmapModel ReadModel(string folder, bool supportedModelsOnly = false)
    {
        var cameras = ReadCameras(Path.Combine(folder, "cameras.txt"), supportedModelsOnly);
        var byId = cameras.ToDictionary(c => c.Id);
        var images = ReadImages(Path.Combine(folder, "images.txt"), byId);
        var pointsFile = Path.Combine(folder, "points3D.txt");
        var points = File.Exists(pointsFile) ? ReadPoints(pointsFile, images) : new List<ColmapPoint>();
        return new ColmapModel(cameras, images, points);
    }

    /// <summary>Why a point's track cannot be: an id given before, an image the model lacks, a 2D point
    /// its image lacks (COLMAP itself cannot load such a model); null when it can.</summary>
    internal static string? TrackProblem(ColmapPoint p, IReadOnlyDictionary<int, ColmapImage> images, HashSet<long> ids)
    {
        if (!ids.Add(p.Id)) return $"point3D id {p.Id} is given twice";
        for (int k = 0; k + 1 < p.Track.Length; k += 2)
        {
            if (!images.TryGetValue(p.Track[k], out var image)) return $"point {p.Id}: its track names image {p.Track[k]}, which the model does not have";
            if (p.Track[k + 1] >= image.Point3DIds.Length)
                return $"point {p.Id}: its track names 2D point {p.Track[k + 1]} of image {p.Track[k]}, which has {image.Point3DIds.Length}";
        }
        return null;
    }

    public static List<Camera> ReadCameras(string file, bool supportedModelsOnly = false)
    {
        var result = new List<Camera>();
        var lineOf = new Dictionary<int, int>();
        foreach (var (n, f) in PosedImages.DataLines(file))
        {
            if (f.Length < 4) throw new FileFormatException(file, n, "expected CAMERA_ID MODEL WIDTH HEIGHT PARAMS...");
            int cameraId = PosedImages.Integer(f[0], file, n, "camera id");
            if (!lineOf.TryAdd(cameraId, n)) throw new FileFormatException(file, n, $"camera {cameraId} is also on line {lineOf[cameraId]}");
            CameraModel model;
            try { model = CameraModel.FromName(f[1]); }
            catch (ArgumentException e) { throw new FileFormatException(file, n, e.Message); }
            var prm = f.Skip(4).Select(s => PosedImages.Number(s, file, n, "parameter")).ToArray();
            var cam = new Camera(cameraId, model,
                PosedImages.Integer(f[2], file, n, "width"), PosedImages.Integer(f[3], file, n, "height"), prm);
            result.Add(PosedImages.Checked(cam, file, n, supportedModelsOnly).WithPrincipalPointShift(-Shift));
        }
        return result;
    }

    public static List<ColmapImage> ReadImages(string file, IReadOnlyDictionary<int, Camera> cameras)
    {
        var result = new List<ColmapImage>();
        var lines = TextInput.ReadLines(file).ToArray();
        var idLine = new Dictionary<int, int>();
        var nameLine = new Dictionary<string, int>(StringComparer.Ordinal);
        int i = 0;
        while (i < lines.Length)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#') { i++; continue; }
            int n = i + 1;
            var f = PosedImages.Fields(line);
            if (f.Length < 10) throw new FileFormatException(file, n, "expected IMAGE_ID QW QX QY QZ TX TY TZ CAMERA_ID NAME");
            var q = f.Skip(1).Take(4).Select(s => PosedImages.Number(s, file, n, "quaternion")).ToArray();
            var t = f.Skip(5).Take(3).Select(s => PosedImages.Number(s, file, n, "translation")).ToArray();
            int camId = PosedImages.Integer(f[8], file, n, "camera id");
            if (!cameras.TryGetValue(camId, out var cam)) throw new FileFormatException(file, n, $"camera {camId} is not in cameras.txt");
            // The name as it is written: the rest of the line after the nine fields (names may hold
            // spaces, commas, tabs; they were split at commas too and joined with single spaces).
            var rest = System.Text.RegularExpressions.Regex.Match(line, @"^((?:\S+\s+){9})(.+)$");
            string name = rest.Success && !rest.Groups[1].Value.Contains(',') ? rest.Groups[2].Value.TrimEnd() : string.Join(" ", f.Skip(9));
            int id = PosedImages.Integer(f[0], file, n, "image id");
            if (!idLine.TryAdd(id, n)) throw new FileFormatException(file, n, $"image id {id} is also on line {idLine[id]}");
            if (!nameLine.TryAdd(name, n)) throw new FileFormatException(file, n, $"image '{name}' is also on line {nameLine[name]}: one pose per image");
            // The POINTS2D line (may be empty or missing at the end of the file).
            var pts = i + 1 < lines.Length ? PosedImages.Fields(lines[i + 1]) : Array.Empty<string>();
            if (pts.Length % 3 != 0) throw new FileFormatException(file, n + 1, "POINTS2D must be (X, Y, POINT3D_ID) triples");
            var xy = new double[pts.Length / 3 * 2];
            var ids = new long[pts.Length / 3];
            for (int k = 0; k < ids.Length; k++)
            {
                xy[2 * k] = PosedImages.Number(pts[3 * k], file, n + 1, "x") - Shift;
                xy[2 * k + 1] = PosedImages.Number(pts[3 * k + 1], file, n + 1, "y") - Shift;
                ids[k] = PosedImages.Integer<long>(pts[3 * k + 2], file, n + 1, "point3D id");
            }
            var pose = new Pose(PosedImages.Rotation(q, file, n), t);
            result.Add(new ColmapImage(id, new PosedImage(name, cam, pose), xy, ids));
            i += 2;
        }
        return result;
    }

    /// <summary>The points, each track checked against <paramref name="images"/> (<see cref="TrackProblem"/>).</summary>
    public static List<ColmapPoint> ReadPoints(string file, IReadOnlyList<ColmapImage> images)
    {
        var result = new List<ColmapPoint>();
        var byId = images.ToDictionary(i => i.Id);
        var ids = new HashSet<long>();
        foreach (var (n, f) in PosedImages.DataLines(file))
        {
            if (f.Length < 8 || (f.Length - 8) % 2 != 0) throw new FileFormatException(file, n, "expected POINT3D_ID X Y Z R G B ERROR (IMAGE_ID POINT2D_IDX)...");
            result.Add(new ColmapPoint(PosedImages.Integer<long>(f[0], file, n, "point3D id"),
                PosedImages.Number(f[1], file, n, "X"), PosedImages.Number(f[2], file, n, "Y"), PosedImages.Number(f[3], file, n, "Z"),
                PosedImages.Integer<byte>(f[4], file, n, "R"), PosedImages.Integer<byte>(f[5], file, n, "G"), PosedImages.Integer<byte>(f[6], file, n, "B"),
                PosedImages.Number(f[7], file, n, "error"), f.Skip(8).Select(s => PosedImages.Integer(s, file, n, "track")).ToArray()));
            if (TrackProblem(result[^1], byId, ids) is { } problem) throw new FileFormatException(file, n, problem);
        }
        return result;
    }

    public static void WriteModel(string folder, ColmapModel model)
    {
        // COLMAP and hloc read a name up to its first space: such a name would come back as another.
        if (model.Images.FirstOrDefault(i => i.Posed.Name.Length == 0 || i.Posed.Name.Any(char.IsWhiteSpace)) is { } bad)
            throw new R2D2Exception(Path.Combine(folder, "images.txt"), 0, $"image name '{bad.Posed.Name}' cannot be written (empty or white space; COLMAP reads a name up to its first space)");
        var inv = CultureInfo.InvariantCulture;
        string R(double v) => v.ToString("R", inv);
        void Cameras(TextWriter w)
        {
            w.Write("# Camera list with one line of data per camera:\n#   CAMERA_ID, MODEL, WIDTH, HEIGHT, PARAMS[]\n");
            w.Write($"# Number of cameras: {model.Cameras.Count}\n");
            foreach (var c in model.Cameras)
            {
                var cc = c.WithPrincipalPointShift(Shift);
                w.Write($"{cc.Id} {cc.Model.Name} {cc.Width} {cc.Height} {string.Join(" ", cc.Params.Select(R))}\n");
            }
        }
        // Streamed line by line: at Aachen's size images.txt is gigabytes, past the longest string .NET can hold.
        void Images(TextWriter w)
        {
            double meanObs = model.Images.Count == 0 ? 0 : model.Images.Average(i => i.Point3DIds.Count(id => id >= 0));
            w.Write("# Image list with two lines of data per image:\n#   IMAGE_ID, QW, QX, QY, QZ, TX, TY, TZ, CAMERA_ID, NAME\n#   POINTS2D[] as (X, Y, POINT3D_ID)\n");
            w.Write($"# Number of images: {model.Images.Count}, mean observations per image: {meanObs.ToString("R", inv)}\n");
            foreach (var im in model.Images)
            {
                var q = im.Posed.Pose.Quaternion; var t = im.Posed.Pose.Translation;
                w.Write($"{im.Id} {R(q[0])} {R(q[1])} {R(q[2])} {R(q[3])} {R(t[0])} {R(t[1])} {R(t[2])} {im.Posed.Camera.Id} {im.Posed.Name}\n");
                for (int k = 0; k < im.Point3DIds.Length; k++)
                {
                    if (k > 0) w.Write(' ');
                    w.Write($"{R(im.Points2D[2 * k] + Shift)} {R(im.Points2D[2 * k + 1] + Shift)} {im.Point3DIds[k]}");
                }
                w.Write('\n');
            }
        }
        void Points(TextWriter w)
        {
            double meanTrack = model.Points.Count == 0 ? 0 : model.Points.Average(p => p.Track.Length / 2.0);
            w.Write("# 3D point list with one line of data per point:\n#   POINT3D_ID, X, Y, Z, R, G, B, ERROR, TRACK[] as (IMAGE_ID, POINT2D_IDX)\n");
            w.Write($"# Number of points: {model.Points.Count}, mean track length: {meanTrack.ToString("R", inv)}\n");
            foreach (var p in model.Points)
                w.Write($"{p.Id} {R(p.X)} {R(p.Y)} {R(p.Z)} {p.R} {p.G} {p.B} {R(p.Error)} {string.Join(" ", p.Track)}\n");
        }
        // The three files together (renamed at the end): a model is never half old, half new.
        OutputFile.WriteTogether(new[]
        {
            (Path.Combine(folder, "cameras.txt"), OutputFile.Text(Cameras)), (Path.Combine(folder, "images.txt"), OutputFile.Text(Images)),
            (Path.Combine(folder, "points3D.txt"), OutputFile.Text(Points)),
        });
    }
}
