using System.Globalization;
using System.Text;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Formats;

/// <summary>One camera record of a kapture folder: its timestamp and sensor, the image path (relative
/// to sensors/records_data), the camera, and its pose when trajectories give one (rigs composed).</summary>
public sealed record KaptureImage(long Timestamp, string SensorId, string Name, Camera Camera, Pose? Pose);

/// <summary>
/// kapture's sensor files (format 1.1, NAVER's published description), comma-separated with
/// spaces trimmed, `#` lines skipped:
/// <list type="bullet">
/// <item>sensors/sensors.txt: `sensor_id, name, sensor_type, params...`; a camera's params are
/// `MODEL, width, height, model params...` (COLMAP's models and parameter order); other sensor
/// types are ignored;</item>
/// <item>sensors/rigs.txt: `rig_id, sensor_id, qw, qx, qy, qz, tx, ty, tz`, the sensor's pose
/// from the rig (rig → sensor);</item>
/// <item>sensors/records_camera.txt: `timestamp, sensor_id, image_path` (under sensors/records_data);</item>
/// <item>sensors/trajectories.txt: `timestamp, device_id, qw, qx, qy, qz, tx, ty, tz`, world →
/// device, the device a camera or a rig (a rig camera's pose is the rig's, then the camera's in
/// the rig).</item>
/// </list>
/// Pixel convention as COLMAP's (the first pixel's centre at (0.5, 0.5): kapture's samples put
/// cx at W/2): principal points are shifted by 0.5 on read and write. Errors name the file and line.
/// </summary>
public static class Kapture
{
    public const string Header = "# kapture format: 1.1";
    /// <summary>The comment line under the header of the sensors.txt this program writes: a folder
    /// holding it may be written again; another kapture folder is not replaced.</summary>
    public const string WrittenBy = "# written by R2D2.Localization";
    private const double Shift = ColmapConvention.PixelOffset;
    /// <summary>kapture's camera type for a size without intrinsics (`UNKNOWN_CAMERA, w, h`).</summary>
    private const string UnknownCamera = "UNKNOWN_CAMERA";

    /// <summary>Refuses <paramref name="root"/> as the output of a kapture writer when it holds a
    /// kapture folder this program did not write (a dataset's, whose images, records and
    /// reconstruction an export replaced or left beside foreign records), or images under
    /// sensors/records_data: nothing is replaced there.</summary>
    public static void RefuseForeignOutput(string root, string option)
    {
        if (File.Exists(root)) throw new FileFormatException(root, 0, $"is a file: {option} takes a folder");
        var sensors = Path.Combine(root, "sensors");
        var records = Path.Combine(sensors, "records_data");
        if (Directory.Exists(records) && Directory.EnumerateFileSystemEntries(records).Any())
            throw new FileFormatException(root, 0, $"holds images (sensors/records_data): {option} does not write into a dataset's kapture folder; give a new folder");
        var ours = Path.Combine(sensors, "sensors.txt");
        if (File.Exists(ours) && TextInput.ReadLines(ours).Take(3).Contains(WrittenBy)) return;
        if (new[] { "sensors.txt", "records_camera.txt", "trajectories.txt", "rigs.txt" }.Select(f => Path.Combine(sensors, f)).FirstOrDefault(File.Exists) is { } file)
            throw new FileFormatException(root, 0, $"holds a kapture folder this program did not write ({file}): {option} does not replace it; give a new folder");
    }

    /// <summary>The sensors folder of a kapture root (ROOT/sensors) or of the sensors folder itself.</summary>
    public static string? SensorsFolder(string path)
    {
        if (!Directory.Exists(path)) return null;
        if (File.Exists(Path.Combine(path, "sensors", "sensors.txt"))) return Path.Combine(path, "sensors");
        if (File.Exists(Path.Combine(path, "sensors.txt")) && File.Exists(Path.Combine(path, "records_camera.txt"))) return path;
        return null;
    }

    public static bool IsKapture(string path) => SensorsFolder(path) != null;

    /// <summary>The kapture root of <paramref name="path"/> (the root or its sensors folder): the folder of sensors/ and reconstruction/.</summary>
    public static string Root(string path) => Path.GetDirectoryName(Path.GetFullPath(SensorsFolder(path) ?? throw NotKapture(path)))!;

    /// <summary>Where the images of a kapture folder are: sensors/records_data.</summary>
    public static string ImageRoot(string path) =>
        Path.Combine(SensorsFolder(path) ?? throw NotKapture(path), "records_data");

    private static FileFormatException NotKapture(string path) =>
        new(path, 0, "not a kapture folder (sensors/sensors.txt and sensors/records_camera.txt)");

    /// <summary>The fields of kapture's data lines, with their line numbers.</summary>
    internal static IEnumerable<(int Line, string[] Fields)> Lines(string file)
    {
        int n = 0;
        foreach (var raw in TextInput.ReadLines(file))
        {
            n++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            yield return (n, line.Split(',').Select(f => f.Trim()).ToArray());
        }
    }

    /// <summary>Every camera record of the folder, with its camera and its pose (null when the
    /// trajectories give none). <paramref name="supportedModelsOnly"/> refuses cameras the map and
    /// query pipeline cannot project.</summary>
    /// <param name="poses">read trajectories.txt and rigs.txt (queries' poses are not needed, and
    /// ground truth there may hold lines kapture allows that a pose cannot come from)</param>
    /// <param name="sizesOnly">the cameras' sizes are all the caller needs: kapture's UNKNOWN_CAMERA
    /// (a size without intrinsics, what kapture's image-folder import writes) is taken, as COLMAP's guess.</param>
    public static List<KaptureImage> Read(string path, bool supportedModelsOnly = false, bool poses = true, bool sizesOnly = false)
    {
        var sensors = SensorsFolder(path) ?? throw NotKapture(path);
        var cameras = ReadCameras(Path.Combine(sensors, "sensors.txt"), supportedModelsOnly, sizesOnly);
        var rigsFile = Path.Combine(sensors, "rigs.txt");
        var sensorIds = Lines(Path.Combine(sensors, "sensors.txt")).Select(l => l.Fields[0]).ToHashSet(StringComparer.Ordinal);
        var rigs = poses && File.Exists(rigsFile) ? ReadRigs(rigsFile, sensorIds) : new Dictionary<string, Dictionary<string, Pose>>();
        var trajFile = Path.Combine(sensors, "trajectories.txt");
        var devices = sensorIds.Concat(rigs.Keys).ToHashSet(StringComparer.Ordinal);
        var traj = poses && File.Exists(trajFile) ? ReadTrajectories(trajFile, devices) : new Dictionary<(long, string), Pose>();
        var recordsFile = Path.Combine(sensors, "records_camera.txt");
        if (!File.Exists(recordsFile)) throw new FileFormatException(recordsFile, 0, "not found (a kapture folder lists its images there)");
        var result = new List<KaptureImage>();
        // One record per (timestamp, camera) and per image: a second would take the first's pose.
        var recordLine = new Dictionary<(long, string), int>();
        var pathLine = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (n, f) in Lines(recordsFile))
        {
            if (f.Length != 3) throw new FileFormatException(recordsFile, n, $"expected `timestamp, device_id, image_path`, found {Counted.Of(f.Length, "field")}");
            long ts = PosedImages.Integer<long>(f[0], recordsFile, n, "timestamp");
            if (!recordLine.TryAdd((ts, f[1]), n)) throw new FileFormatException(recordsFile, n, $"timestamp {ts}, camera '{f[1]}' is also on line {recordLine[(ts, f[1])]}: one image per camera and timestamp");
            if (!pathLine.TryAdd(f[2], n)) throw new FileFormatException(recordsFile, n, $"image '{f[2]}' is also on line {pathLine[f[2]]}");
            if (!cameras.TryGetValue(f[1], out var cam)) throw new FileFormatException(recordsFile, n, $"sensor '{f[1]}' is not a camera of sensors.txt");
            if (f[2].Length == 0) throw new FileFormatException(recordsFile, n, "empty image path");
            Pose? pose = traj.TryGetValue((ts, f[1]), out var p) ? p : null;
            if (pose == null)
                foreach (var (rigId, members) in rigs)
                    if (members.TryGetValue(f[1], out var camFromRig) && traj.TryGetValue((ts, rigId), out var rigFromWorld))
                    {
                        pose = rigFromWorld.Then(camFromRig);
                        break;
                    }
            result.Add(new KaptureImage(ts, f[1], f[2], cam, pose));
        }
        return result;
    }

    /// <summary>The posed images of a kapture folder (mapping); a record without a pose is an error naming its line.</summary>
    public static List<PosedImage> ReadPosed(string path, bool supportedModelsOnly = true)
    {
        var images = Read(path, supportedModelsOnly);
        var missing = images.FindIndex(i => i.Pose == null);
        if (missing >= 0)
        {
            var file = Path.Combine(SensorsFolder(path)!, "records_camera.txt");
            bool noFile = !File.Exists(Path.Combine(SensorsFolder(path)!, "trajectories.txt"));
            throw new FileFormatException(file, LineOfRecord(file, missing), $"'{images[missing].Name}' has no pose in trajectories.txt (nor through rigs.txt)"
                + (noFile ? ": there is no sensors/trajectories.txt" : ""));
        }
        return images.Select(i => new PosedImage(i.Name, i.Camera, i.Pose!)).ToList();
    }

    /// <summary>The query images of a kapture folder with their cameras (poses, if any, are ignored).</summary>
    public static List<QueryImage> ReadQueries(string path) =>
        Read(path, supportedModelsOnly: true, poses: false).Select(i => new QueryImage(i.Name, i.Camera)).ToList();

    private static int LineOfRecord(string file, int index) => Lines(file).Skip(index).First().Line;

    /// <summary>The records_camera.txt line of an image of a kapture folder; null when
    /// <paramref name="path"/> is no kapture folder or does not record it.</summary>
    public static (string File, int Line)? RecordLine(string path, string imageName)
    {
        if (SensorsFolder(path) is not { } sensors) return null;
        var file = Path.Combine(sensors, "records_camera.txt");
        if (!File.Exists(file)) return null;
        foreach (var (n, f) in Lines(file))
            if (f.Length == 3 && f[2] == imageName) return (file, n);
        return null;
    }

    /// <summary>Cameras of sensors.txt by sensor id; ids are 1, 2, … in the file's order.</summary>
    public static Dictionary<string, Camera> ReadCameras(string file, bool supportedModelsOnly = false, bool sizesOnly = false)
    {
        if (!File.Exists(file)) throw new FileFormatException(file, 0, "not found");
        var result = new Dictionary<string, Camera>(StringComparer.Ordinal);
        foreach (var (n, f) in Lines(file))
        {
            if (f.Length < 3) throw new FileFormatException(file, n, $"expected `sensor_id, name, sensor_type, params...`, found {Counted.Of(f.Length, "field")}");
            if (f[2] != "camera") continue;
            if (f.Length < 6) throw new FileFormatException(file, n, "a camera needs `MODEL, width, height, params...`");
            if (f[3] == UnknownCamera)
            {
                if (!sizesOnly)
                    throw new FileFormatException(file, n, $"sensor '{f[0]}' is an {UnknownCamera} (a size without intrinsics), and this needs its camera's intrinsics: "
                        + "calibrate it (or give the images' intrinsics another way, e.g. convert --intrinsics)");
                var guess = ColmapGuess.For(PosedImages.Integer(f[4], file, n, "width"), PosedImages.Integer(f[5], file, n, "height")) with { Id = result.Count + 1 };
                if (!result.TryAdd(f[0], guess)) throw new FileFormatException(file, n, $"sensor '{f[0]}' appears twice");
                continue;
            }
            CameraModel model;
            try { model = CameraModel.FromName(f[3]); }
            catch (ArgumentException e) { throw new FileFormatException(file, n, e.Message); }
            var prm = f.Skip(6).Select(s => PosedImages.Number(s, file, n, "parameter")).ToArray();
            var cam = new Camera(result.Count + 1, model, PosedImages.Integer(f[4], file, n, "width"), PosedImages.Integer(f[5], file, n, "height"), prm);
            if (!result.TryAdd(f[0], PosedImages.Checked(cam, file, n, supportedModelsOnly).WithPrincipalPointShift(-Shift)))
                throw new FileFormatException(file, n, $"sensor '{f[0]}' appears twice");
        }
        return result;
    }

    /// <summary>rig id → sensor id → the sensor's pose from the rig.</summary>
    /// <param name="sensors">the ids of sensors.txt: a rig's member must be one (a rig of rigs is
    /// not supported), and no rig may take a sensor's id (kapture refuses the collision)</param>
    public static Dictionary<string, Dictionary<string, Pose>> ReadRigs(string file, IReadOnlySet<string>? sensors = null)
    {
        var result = new Dictionary<string, Dictionary<string, Pose>>(StringComparer.Ordinal);
        var rigIds = sensors == null ? null : Lines(file).Select(l => l.Fields[0]).ToHashSet(StringComparer.Ordinal);
        foreach (var (n, f) in Lines(file))
        {
            if (f.Length != 9) throw new FileFormatException(file, n, $"expected `rig_id, sensor_id, qw, qx, qy, qz, tx, ty, tz`, found {Counted.Of(f.Length, "field")}");
            if (sensors != null)
            {
                if (sensors.Contains(f[0])) throw new FileFormatException(file, n, $"rig id '{f[0]}' is also a sensor's id in sensors.txt");
                if (rigIds!.Contains(f[1])) throw new FileFormatException(file, n, $"rig '{f[0]}' holds the rig '{f[1]}': rigs of rigs are not supported");
                if (!sensors.Contains(f[1])) throw new FileFormatException(file, n, $"rig '{f[0]}' names sensor '{f[1]}', which sensors.txt lacks");
            }
            if (!result.TryGetValue(f[0], out var members)) result[f[0]] = members = new(StringComparer.Ordinal);
            members[f[1]] = ReadPose(f, 2, file, n);
        }
        return result;
    }

    /// <summary>(timestamp, device id) → world → device.</summary>
    /// <param name="devices">the sensors and rigs a pose may be of (null: any); a pose of another
    /// device is an error naming its line (it was dropped, and its image said to have no pose)</param>
    public static Dictionary<(long, string), Pose> ReadTrajectories(string file, IReadOnlySet<string>? devices = null)
    {
        var result = new Dictionary<(long, string), Pose>();
        foreach (var (n, f) in Lines(file))
        {
            if (f.Length != 9) throw new FileFormatException(file, n, $"expected `timestamp, device_id, qw, qx, qy, qz, tx, ty, tz`, found {Counted.Of(f.Length, "field")}");
            if (devices != null && !devices.Contains(f[1])) throw new FileFormatException(file, n, $"device '{f[1]}' is neither a sensor of sensors.txt nor a rig of rigs.txt");
            var key = (PosedImages.Integer<long>(f[0], file, n, "timestamp"), f[1]);
            if (!result.TryAdd(key, ReadPose(f, 2, file, n))) throw new FileFormatException(file, n, $"a second pose for timestamp {key.Item1}, device '{f[1]}'");
        }
        return result;
    }

    private static Pose ReadPose(string[] f, int at, string file, int n)
    {
        var q = f.Skip(at).Take(4).Select(s => PosedImages.Number(s, file, n, "quaternion")).ToArray();
        var t = f.Skip(at + 4).Take(3).Select(s => PosedImages.Number(s, file, n, "translation")).ToArray();
        return new Pose(PosedImages.Rotation(q, file, n), t);
    }

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>
    /// Writes ROOT/sensors/{sensors.txt, records_camera.txt, trajectories.txt} (each atomically):
    /// one camera sensor per distinct camera (its id <c>cam{Id}</c> unless the records name one),
    /// trajectories for the records with a pose. A name or sensor id with a comma or a line break
    /// cannot be written and is refused before anything is.
    /// </summary>
    public static void Write(string root, IReadOnlyList<KaptureImage> images)
    {
        var sensors = new Dictionary<string, Camera>(StringComparer.Ordinal);
        foreach (var im in images)
        {
            foreach (var s in new[] { im.Name, im.SensorId })
                if (s.Length == 0 || s.IndexOfAny(new[] { ',', '\n', '\r' }) >= 0 || s.Trim() != s)
                    throw new R2D2Exception($"'{s}' cannot be written in a kapture file (empty, a comma, a line break or spaces around it)");
            if (im.Camera.Model.Id > CameraModel.ThinPrismFisheye.Id)
                throw new R2D2Exception($"'{im.Name}': kapture has no camera model {im.Camera.Model.Name} (its models are COLMAP's up to THIN_PRISM_FISHEYE); nothing was written");
            if (sensors.TryGetValue(im.SensorId, out var known) && !known.SameIntrinsics(im.Camera))
                throw new R2D2Exception($"sensor '{im.SensorId}' is given two different cameras");
            sensors[im.SensorId] = im.Camera;
        }
        var dir = Path.Combine(root, "sensors");
        var sb = new StringBuilder(Header + "\n" + WrittenBy + "\n# sensor_id, name, sensor_type, [sensor_params]+\n");
        foreach (var (id, c) in sensors)
        {
            var cc = c.WithPrincipalPointShift(Shift);
            sb.Append($"{id}, , camera, {cc.Model.Name}, {cc.Width}, {cc.Height}, {string.Join(", ", cc.Params.Select(Num))}\n");
        }
        var records = new StringBuilder(Header + "\n# timestamp, device_id, image_path\n");
        var traj = new StringBuilder(Header + "\n# timestamp, device_id, qw, qx, qy, qz, tx, ty, tz\n");
        foreach (var im in images)
        {
            records.Append($"{im.Timestamp}, {im.SensorId}, {im.Name}\n");
            if (im.Pose is { } p) traj.Append($"{im.Timestamp}, {im.SensorId}, {string.Join(", ", p.Quaternion.Concat(p.Translation).Select(Num))}\n");
        }
        OutputFile.WriteAllText(Path.Combine(dir, "sensors.txt"), sb.ToString());
        OutputFile.WriteAllText(Path.Combine(dir, "records_camera.txt"), records.ToString());
        // An earlier write's poses must not stay beside records without any (they were read as theirs).
        if (images.Any(i => i.Pose != null)) OutputFile.WriteAllText(Path.Combine(dir, "trajectories.txt"), traj.ToString());
        else File.Delete(Path.Combine(dir, "trajectories.txt"));
    }

    /// <summary>The records for images given by name, camera and pose: timestamps 0, 1, … and one sensor per camera id.</summary>
    public static List<KaptureImage> FromImages(IEnumerable<(string Name, Camera Camera, Pose? Pose)> images) =>
        images.Select((im, i) => new KaptureImage(i, $"cam{im.Camera.Id}", im.Name, im.Camera, im.Pose)).ToList();
}
