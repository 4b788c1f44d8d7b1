using System.Text;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Formats;

/// <summary>
/// COLMAP's binary model (cameras.bin, images.bin, points3D.bin), little-endian as COLMAP writes it:
/// cameras `u64 count`, then per camera `u32 id, i32 model id, u64 width, u64 height, f64 params[]`;
/// images `u64 count`, then `u32 id, f64 qw qx qy qz, f64 tx ty tz, u32 camera id, name\0,
/// u64 n, n × (f64 x, f64 y, u64 point3D id)` (no point: 2^64−1); points `u64 count`, then
/// `u64 id, f64 x y z, u8 r g b, f64 error, u64 n, n × (u32 image id, u32 point2D index)`.
/// Pixel conventions as <see cref="ColmapText"/> (0.5 shift on read and write). A truncated or
/// inconsistent file is a <see cref="FileFormatException"/> naming the file and record.
/// </summary>
public static class ColmapBinary
{
    private const double Shift = ColmapConvention.PixelOffset;

    public static ColmapModel ReadModel(string folder, bool supportedModelsOnly = false)
    {
        var cameras = ReadCameras(Path.Combine(folder, "cameras.bin"), supportedModelsOnly);
        var byId = cameras.ToDictionary(c => c.Id);
        var images = ReadImages(Path.Combine(folder, "images.bin"), byId);
        var pointsFile = Path.Combine(folder, "points3D.bin");
        var points = File.Exists(pointsFile) ? ReadPoints(pointsFile, images) : new List<ColmapPoint>();
        return new ColmapModel(cameras, images, points);
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Reads records from a file, turning a short read into an error naming the file and record.</summary>
    private sealed class Reader : IDisposable
    {
        private readonly BinaryReader _r;
        public readonly string File;
        public string Record = "header";
        public Reader(string file)
        {
            File = file;
            if (!System.IO.File.Exists(file)) throw new FileFormatException(file, 0, "not found");
            _r = new BinaryReader(new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16), Encoding.UTF8);
        }
        public long Remaining => _r.BaseStream.Length - _r.BaseStream.Position;
        private void Need(int bytes)
        {
            if (Remaining < bytes) throw Error($"the file ends in the middle of it (truncated?)");
        }
        public FileFormatException Error(string message) => new(File, 0, $"{Record}: {message}");
        public uint U32() { Need(4); return _r.ReadUInt32(); }
        public int I32() { Need(4); return _r.ReadInt32(); }
        public ulong U64() { Need(8); return _r.ReadUInt64(); }
        public double F64() { Need(8); return _r.ReadDouble(); }
        public byte U8() { Need(1); return _r.ReadByte(); }
        /// <summary>A count of records of at least <paramref name="minBytes"/> each: one larger than the rest of the file is refused before anything is allocated.</summary>
        public int Count(int minBytes, string what)
        {
            ulong n = U64();
            if (n > int.MaxValue || (long)n * minBytes > Remaining) throw Error($"{n} {what} cannot fit in the rest of the file (truncated or not a COLMAP binary model)");
            return (int)n;
        }
        public string Name()
        {
            var bytes = new List<byte>();
            for (byte b; (b = U8()) != 0;) bytes.Add(b);
            // Strictly: a byte that is not UTF-8 read as U+FFFD made 'caf\xe9' and 'caf\xe8' one name.
            try { return StrictUtf8.GetString(bytes.ToArray()); }
            catch (DecoderFallbackException) { throw Error($"an image name is not UTF-8 text (bytes {Convert.ToHexString(bytes.ToArray())})"); }
        }
        public void End()
        {
            if (Remaining != 0) throw new FileFormatException(File, 0, $"{Counted.Of(Remaining, "byte")} after the last record");
        }
        public void Dispose() => _r.Dispose();
    }

    public static List<Camera> ReadCameras(string file, bool supportedModelsOnly = false)
    {
        using var r = new Reader(file);
        int count = r.Count(24, "cameras");
        var result = new List<Camera>(count);
        for (int i = 0; i < count; i++)
        {
            r.Record = $"camera record {i + 1} of {count}";
            uint id = r.U32();
            int modelId = r.I32();
            if (!CameraModel.TryFromId(modelId, out var model)) throw r.Error($"unknown camera model id {modelId}");
            ulong w = r.U64(), h = r.U64();
            if (w > int.MaxValue || h > int.MaxValue || id > int.MaxValue) throw r.Error($"camera {id}: size {w}x{h} or id out of range");
            var p = new double[model.ParamCount];
            for (int k = 0; k < p.Length; k++) p[k] = r.F64();
            var cam = new Camera((int)id, model, (int)w, (int)h, p);
            if (result.Any(c => c.Id == cam.Id)) throw r.Error($"camera id {id} is given twice");
            if (cam.FindProblem() is { } problem) throw r.Error(problem);
            if (supportedModelsOnly && cam.UnsupportedModelProblem is { } unsupported) throw r.Error(unsupported);
            result.Add(cam.WithPrincipalPointShift(-Shift));
        }
        r.End();
        return result;
    }

    public static List<ColmapImage> ReadImages(string file, IReadOnlyDictionary<int, Camera> cameras)
    {
        using var r = new Reader(file);
        int count = r.Count(4 + 56 + 4 + 1 + 8, "images");
        var result = new List<ColmapImage>(count);
        var ids = new HashSet<uint>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            r.Record = $"image record {i + 1} of {count}";
            uint id = r.U32();
            var q = new[] { r.F64(), r.F64(), r.F64(), r.F64() };
            var t = new[] { r.F64(), r.F64(), r.F64() };
            uint camId = r.U32();
            string name = r.Name();
            r.Record = $"image record {i + 1} of {count} ({name})";
            if (id > int.MaxValue) throw r.Error($"image id {id} out of range");
            if (!ids.Add(id)) throw r.Error($"image id {id} is given twice");
            if (!names.Add(name)) throw r.Error($"image '{name}' is given twice: one pose per image");
            if (camId > int.MaxValue || !cameras.TryGetValue((int)camId, out var cam)) throw r.Error($"camera {camId} is not in cameras.bin");
            if (Rotations.FindQuaternionProblem(q) is { } qp) throw r.Error(qp);
            if (t.Any(v => !double.IsFinite(v))) throw r.Error("translation is not finite");
            int n = r.Count(24, "2D points");
            var xy = new double[2 * n];
            var pointIds = new long[n];
            for (int k = 0; k < n; k++)
            {
                xy[2 * k] = r.F64() - Shift;
                xy[2 * k + 1] = r.F64() - Shift;
                pointIds[k] = unchecked((long)r.U64()); // 2^64−1 (no point) reads as −1
            }
            result.Add(new ColmapImage((int)id, new PosedImage(name, cam, new Pose(Rotations.FromQuaternion(q), t)), xy, pointIds));
        }
        r.End();
        return result;
    }

    /// <summary>The points, each track checked against <paramref name="images"/> (<see cref="ColmapText.TrackProblem"/>).</summary>
    public static List<ColmapPoint> ReadPoints(string file, IReadOnlyList<ColmapImage> images)
    {
        var byId = images.ToDictionary(i => i.Id);
        var ids = new HashSet<long>();
        using var r = new Reader(file);
        int count = r.Count(8 + 24 + 3 + 8 + 8, "points");
        var result = new List<ColmapPoint>(count);
        for (int i = 0; i < count; i++)
        {
            r.Record = $"point record {i + 1} of {count}";
            long id = unchecked((long)r.U64());
            double x = r.F64(), y = r.F64(), z = r.F64();
            byte cr = r.U8(), cg = r.U8(), cb = r.U8();
            double error = r.F64();
            int n = r.Count(8, "track elements");
            var track = new int[2 * n];
            for (int k = 0; k < 2 * n; k++)
            {
                uint v = r.U32();
                if (v > int.MaxValue) throw r.Error($"track value {v} out of range");
                track[k] = (int)v;
            }
            result.Add(new ColmapPoint(id, x, y, z, cr, cg, cb, error, track));
            if (ColmapText.TrackProblem(result[^1], byId, ids) is { } problem) throw r.Error(problem);
        }
        r.End();
        return result;
    }

    /// <summary>Writes the three files (each atomically), in COLMAP's layout.</summary>
    public static void WriteModel(string folder, ColmapModel model)
    {
        // Checked before any file: a name refused half-way left a new cameras.bin beside the old images.bin.
        if (model.Images.FirstOrDefault(i => i.Posed.Name.Contains('\0')) is { } nul)
            throw new R2D2Exception(Path.Combine(folder, "images.bin"), 0, $"image name '{nul.Posed.Name.Replace('\0', ' ')}' holds a NUL character, which ends a name in images.bin");
        // The three files together (renamed at the end): a model is never half old, half new.
        OutputFile.WriteTogether(new (string, Action<Stream>)[]
        {
        (Path.Combine(folder, "cameras.bin"), Binary(w =>
        {
            w.Write((ulong)model.Cameras.Count);
            foreach (var c in model.Cameras)
            {
                var cc = c.WithPrincipalPointShift(Shift);
                w.Write((uint)cc.Id); w.Write(cc.Model.Id); w.Write((ulong)cc.Width); w.Write((ulong)cc.Height);
                foreach (var p in cc.Params) w.Write(p);
            }
        })),
        (Path.Combine(folder, "images.bin"), Binary(w =>
        {
            w.Write((ulong)model.Images.Count);
            foreach (var im in model.Images)
            {
                w.Write((uint)im.Id);
                foreach (var v in im.Posed.Pose.Quaternion) w.Write(v);
                foreach (var v in im.Posed.Pose.Translation) w.Write(v);
                w.Write((uint)im.Posed.Camera.Id);
                w.Write(Encoding.UTF8.GetBytes(im.Posed.Name)); w.Write((byte)0);
                w.Write((ulong)im.Point3DIds.Length);
                for (int k = 0; k < im.Point3DIds.Length; k++)
                {
                    w.Write(im.Points2D[2 * k] + Shift); w.Write(im.Points2D[2 * k + 1] + Shift);
                    w.Write(unchecked((ulong)im.Point3DIds[k]));
                }
            }
        })),
        (Path.Combine(folder, "points3D.bin"), Binary(w =>
        {
            w.Write((ulong)model.Points.Count);
            foreach (var p in model.Points)
            {
                w.Write((ulong)p.Id); w.Write(p.X); w.Write(p.Y); w.Write(p.Z);
                w.Write(p.R); w.Write(p.G); w.Write(p.B); w.Write(p.Error);
                w.Write((ulong)(p.Track.Length / 2));
                foreach (var v in p.Track) w.Write((uint)v);
            }
        })),
        });
    }

    private static Action<Stream> Binary(Action<BinaryWriter> write) => s =>
    {
        using var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
        write(w);
    };
}

/// <summary>A COLMAP model folder in either form, recognised by its files (binary first, as COLMAP does).</summary>
public static class ColmapModels
{
    public static bool IsBinary(string folder) =>
        File.Exists(Path.Combine(folder, "cameras.bin")) && File.Exists(Path.Combine(folder, "images.bin"));

    public static bool IsText(string folder) =>
        File.Exists(Path.Combine(folder, "cameras.txt")) && File.Exists(Path.Combine(folder, "images.txt"));

    public static bool IsModel(string folder) => Directory.Exists(folder) && (IsBinary(folder) || IsText(folder));

    public static ColmapModel Read(string folder, bool supportedModelsOnly = false) =>
        IsBinary(folder) ? ColmapBinary.ReadModel(folder, supportedModelsOnly)
        : IsText(folder) ? ColmapText.ReadModel(folder, supportedModelsOnly)
        : throw new FileFormatException(folder, 0, "not a COLMAP model folder (cameras.bin + images.bin, or cameras.txt + images.txt)");

    public static void Write(string folder, ColmapModel model, bool binary)
    {
        if (binary) ColmapBinary.WriteModel(folder, model);
        else ColmapText.WriteModel(folder, model);
    }
}
