using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Pipeline;

/// <summary>The formats `localize convert` reads and writes.</summary>
public enum PoseFormat { ColmapText, ColmapBinary, Kapture, Nvm, Strecha, Submission, QueryList, Hloc }

/// <summary>An image as a converter sees it: a camera and a pose when the source gives them.</summary>
public sealed record ConvertedImage(string Name, Camera? Camera, Pose? Pose)
{
    /// <summary>The kapture record it was read from (timestamp, sensor id): kapture → kapture keeps
    /// them, so the output joins back to the source's other records.</summary>
    public (long Timestamp, string SensorId)? KaptureRecord { get; init; }
}

/// <summary>
/// Poses and cameras from one format to another (`localize convert`): the source is recognised by
/// what it is (a COLMAP model folder, binary or text; a kapture folder; an .nvm file; a folder of
/// Strecha .camera files; a feature database's cameras and pose priors; a submission; a query list with intrinsics, or names only with
/// <c>--intrinsics</c>), the target named. Cameras given as intrinsics replace or supply the
/// source's, by image name. A target that needs what the source lacks (a COLMAP model from a
/// submission without intrinsics) is refused before anything is written.
/// </summary>
public static class ConvertRunner
{
    public static PoseFormat ParseFormat(string s) => s.ToLowerInvariant() switch
    {
        "colmap" or "colmap-text" => PoseFormat.ColmapText,
        "colmap-bin" or "colmap-binary" => PoseFormat.ColmapBinary,
        "kapture" => PoseFormat.Kapture,
        "nvm" => PoseFormat.Nvm,
        "strecha" => PoseFormat.Strecha,
        "submission" => PoseFormat.Submission,
        "query-list" or "queries" => PoseFormat.QueryList,
        "hloc" => PoseFormat.Hloc,
        _ => throw new UsageException($"--format: unknown format '{s}' (colmap-text, colmap-binary, kapture, nvm, strecha, submission, query-list, hloc)"),
    };

    /// <summary>The format's name on the command line (messages name it so).</summary>
    public static string Name(PoseFormat f) => f switch
    {
        PoseFormat.ColmapText => "colmap-text",
        PoseFormat.ColmapBinary => "colmap-binary",
        PoseFormat.QueryList => "query-list",
        _ => f.ToString().ToLowerInvariant(),
    };

    /// <summary>Reads <paramref name="from"/>; <paramref name="intrinsics"/> (a `name MODEL w h
    /// params...` list or a COLMAP database) gives cameras by name; <paramref name="imageRoot"/> the
    /// images an NVM without intrinsics needs for their size.</summary>
    public static List<ConvertedImage> Read(string from, IReadOnlyList<string>? intrinsics = null, string? imageRoot = null, Action<string>? warn = null)
    {
        if (intrinsics is { Count: 0 }) intrinsics = null;
        var cams = intrinsics != null ? CameraFiles.Read(intrinsics) : null;
        string? named = intrinsics == null ? null : string.Join(" and ", intrinsics); // as messages name them
        List<ConvertedImage> images;
        if (Directory.Exists(from))
        {
            if (ColmapModels.IsModel(from))
                images = ColmapModels.Read(from).Images.Select(i => new ConvertedImage(i.Posed.Name, i.Posed.Camera, i.Posed.Pose)).ToList();
            else if (Kapture.IsKapture(from))
                images = Kapture.Read(from).Select(i => new ConvertedImage(i.Name, i.Camera, i.Pose) { KaptureRecord = (i.Timestamp, i.SensorId) }).ToList();
            else if (Directory.EnumerateFiles(from, "*.camera").Any())
                images = StrechaCameras.ReadFolder(from).Select(p => new ConvertedImage(p.Name, p.Camera, p.Pose)).ToList();
            else if (new[] { "txt", "bin" }.FirstOrDefault(e => File.Exists(Path.Combine(from, "images." + e))) is { } ext)
                throw new FileFormatException(from, 0, $"holds images.{ext} but no cameras.{ext}: a COLMAP model needs both (and points3D.{ext})");
            else throw new FileFormatException(from, 0, "not a COLMAP model, a kapture folder or a folder of .camera files");
        }
        else if (!File.Exists(from)) throw new FileFormatException(from, 0, "not found");
        else if (from.EndsWith(".db", StringComparison.OrdinalIgnoreCase))
        {
            using var db = Storage.FeatureDatabase.OpenReadOnly(from);
            var dbCams = db.ReadCameras().ToDictionary(c => c.Id);
            // COLMAP's initial guesses are no calibration (query --intrinsics refuses them): written
            // out they would be read back as one. Taken as unknown, as an NVM's missing cameras are.
            int guessed = dbCams.Values.Count(Geometry.ColmapGuess.Is);
            if (guessed > 0 && cams == null)
                warn?.Invoke($"{from}: {guessed} of {Counted.Of(dbCams.Count, "camera")} have no prior focal length (COLMAP's initial guess, not a calibration): their images are taken without a camera (give --intrinsics)");
            images = db.ReadImages().Select(i => new ConvertedImage(i.Name, dbCams.GetValueOrDefault(i.CameraId) is { } c && !Geometry.ColmapGuess.Is(c) ? c : null, i.PriorPose)).ToList();
        }
        else if (from.EndsWith(".nvm", StringComparison.OrdinalIgnoreCase))
            // Without intrinsics or images an NVM gives poses without cameras: enough for a submission
            // (a target that needs cameras says to give --intrinsics).
            images = cams == null && imageRoot == null
                ? Nvm.ReadPoses(from).Select(p => new ConvertedImage(p.Name, null, p.Pose)).ToList()
                : Nvm.Read(from, cams, named, imageRoot).Select(p => new ConvertedImage(p.Name, p.Camera, p.Pose)).ToList();
        else if (from.EndsWith(".out", StringComparison.OrdinalIgnoreCase) && File.ReadLines(from).FirstOrDefault()?.StartsWith("# Bundle file", StringComparison.Ordinal) == true)
            throw new FileFormatException(from, 1, "a Bundler .out file, which convert does not read (it names no image): give the NVM beside it (Aachen's 3D-models/*.nvm) or a COLMAP model");
        else images = ReadList(from, warn);
        if (cams != null)
        {
            // Matched by name, or by the end a submission's base name and an Aachen list's path share.
            var byName = new NameIndex<Camera>(cams);
            Camera? CameraOf(string name) => byName.Find(name);
            int matched = images.Count(i => CameraOf(i.Name) != null);
            if (matched < images.Count)
            {
                var first = images.First(i => CameraOf(i.Name) == null).Name;
                warn?.Invoke($"{named}: no camera for {images.Count - matched} of the {images.Count} images (first: '{first}'{byName.Ambiguity(first)}): "
                    + (matched == 0 ? "none of its names is one of the source's" : "those keep the source's camera, if any"));
            }
            images = images.Select(i => CameraOf(i.Name) is { } c ? i with { Camera = c } : i).ToList();
        }
        if (images.Count == 0) throw new FileFormatException(from, 0, "no images");
        return images;
    }

    /// <summary>A text list: a submission (8 fields, numbers after the name), a query list with
    /// intrinsics, or names only, told apart by the first data line.</summary>
    private static List<ConvertedImage> ReadList(string file, Action<string>? warn)
    {
        var f = QueryList.FirstDataFields(file);
        if (f.Length == 8 && double.TryParse(f[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))
            // With its warnings (a quaternion far off unit length: columns in another order, `name tx ty tz qw qx qy qz`).
            return Submission.Read(file, warn ?? (_ => { })).Select(p => new ConvertedImage(p.Name, null, p.Pose)).ToList();
        if (f.Length == 1) return QueryList.ReadNames(file).Select(q => new ConvertedImage(q.Name, null, null)).ToList();
        return QueryList.ReadWithIntrinsics(file).Select(q => new ConvertedImage(q.Name, q.Camera, null)).ToList();
    }

    /// <summary>Writes <paramref name="images"/> to <paramref name="to"/> in <paramref name="format"/>:
    /// a folder for COLMAP, kapture and Strecha; a file for NVM (its intrinsics list beside it,
    /// NAME.intrinsics.txt), a submission and a query list. Returns the paths written.</summary>
    public static List<string> Write(IReadOnlyList<ConvertedImage> images, string to, PoseFormat format, string source, Action<string>? warn = null)
    {
        bool needPose = format is not (PoseFormat.QueryList or PoseFormat.Kapture);
        bool needCamera = format != PoseFormat.Submission;
        var lackPose = images.FirstOrDefault(i => i.Pose == null);
        if (needPose && lackPose != null) throw new R2D2Exception(source, 0, $"'{lackPose.Name}' has no pose, which {Name(format)} needs");
        var lackCamera = images.FirstOrDefault(i => i.Camera == null);
        if (needCamera && lackCamera != null)
            throw new R2D2Exception(source, 0, $"'{lackCamera.Name}' has no camera, which {Name(format)} needs (give --intrinsics with a line for each image, named as in the source"
                + (source.EndsWith(".nvm", StringComparison.OrdinalIgnoreCase) ? "; or --images: the NVM's focal lengths with the images' sizes, as build-map takes it)" : ")"));
        var withCameras = needCamera ? Renumbered(images) : images.ToList();
        var posed = needPose && needCamera ? withCameras.Select(i => new PosedImage(i.Name, i.Camera!, i.Pose!)).ToList() : new();
        // NVM and .camera files store the camera centre −Rᵀt: one that overflows was written as -Infinity, which no reader takes.
        if (format is PoseFormat.Nvm or PoseFormat.Strecha && posed.FirstOrDefault(p => !p.Pose.CameraCenter.All(double.IsFinite)) is { } far)
            throw new R2D2Exception(source, 0, $"'{far.Name}': its camera centre (−Rᵀt) overflows, which {Name(format)} cannot store: the translation is too large");
        switch (format)
        {
            case PoseFormat.ColmapText:
            case PoseFormat.ColmapBinary:
            {
                var model = new ColmapModel(posed.Select(p => p.Camera).DistinctBy(c => c.Id).OrderBy(c => c.Id).ToList(),
                    posed.Select((p, k) => new ColmapImage(k + 1, p, Array.Empty<double>(), Array.Empty<long>())).ToList(), new List<ColmapPoint>());
                ColmapModels.Write(to, model, format == PoseFormat.ColmapBinary);
                var ext = format == PoseFormat.ColmapBinary ? ".bin" : ".txt";
                return new[] { "cameras", "images", "points3D" }.Select(f => Path.Combine(to, f + ext)).ToList();
            }
            case PoseFormat.Kapture:
                Kapture.RefuseForeignOutput(to, "--to");
                Kapture.Write(to, withCameras.All(i => i.KaptureRecord != null)
                    ? withCameras.Select(i => new KaptureImage(i.KaptureRecord!.Value.Timestamp, i.KaptureRecord.Value.SensorId, i.Name, i.Camera!, i.Pose)).ToList()
                    : Kapture.FromImages(withCameras.Select(i => (i.Name, i.Camera!, i.Pose))));
                return new() { Path.Combine(to, "sensors") };
            case PoseFormat.Nvm:
            {
                var intr = Path.ChangeExtension(to, ".intrinsics.txt");
                Nvm.Write(to, posed, intr);
                return new() { to, intr };
            }
            case PoseFormat.Strecha:
                // Every camera is checked before the first file is written.
                foreach (var p in posed)
                    if (p.Camera.Model != CameraModel.Pinhole && p.Camera.Model != CameraModel.SimplePinhole)
                        throw new R2D2Exception(source, 0, $"'{p.Name}': a .camera file holds a pinhole camera without distortion, not {p.Camera.Model.Name}");
            {
                // One file per base name: a/x.jpg and b/x.jpg were both written as x.jpg.camera, the second kept.
                var files = posed.Select(p => (Image: p.Name, File: StrechaCameras.Format(p))).ToList();
                if (files.GroupBy(f => f.File.FileName).FirstOrDefault(g => g.Count() > 1) is { } same)
                    throw new R2D2Exception(source, 0, $"{string.Join(" and ", same.Select(f => $"'{f.Image}'"))} have the same base name: one .camera file ({same.Key}) cannot hold both; rename one");
                // The folder is the set of cameras (a reader takes every .camera file): others there
                // would join this conversion's (5 images read back from 1 converted). Not removed,
                // being perhaps no conversion's (a scene's own cameras/): refused.
                var kept = files.Select(f => f.File.FileName).ToHashSet(StringComparer.Ordinal);
                var others = Directory.Exists(to) ? Directory.GetFiles(to, "*.camera").Where(f => !kept.Contains(Path.GetFileName(f))).Order(StringComparer.Ordinal).ToList() : new();
                if (others.Count > 0)
                    throw new R2D2Exception(to, 0, $"holds {Counted.Of(others.Count, "other .camera file")} (first: {Path.GetFileName(others[0])}), which a reader would take with this "
                        + "conversion's: give an empty folder, or remove them (nothing was written)");
                OutputFile.WriteAllTextsTogether(files.Select(f => (Path.Combine(to, f.File.FileName), f.File.Text)).ToList());
                return new() { to };
            }
            case PoseFormat.Submission:
                Submission.Write(to, images.Select(i => new ImagePose(i.Name, i.Pose!)));
                return new() { to };
            default:
                QueryList.WriteWithIntrinsics(to, withCameras.Select(i => (i.Name, i.Camera!)));
                // Written (other tools read fisheye lists), but `localize query` will refuse those lines.
                if (withCameras.FirstOrDefault(i => i.Camera!.UnsupportedModelProblem != null) is { } odd)
                    warn?.Invoke($"{to}: {Counted.Of(withCameras.Count(i => !i.Camera!.IsSupported), "image")} (first: '{odd.Name}') with {odd.Camera!.Model.Name} cameras, "
                        + "which `localize query` refuses: undistort them to a supported model first");
                return new() { to };
        }
    }

    /// <summary>Cameras numbered 1, 2, … with equal cameras (model, size, parameters) sharing an id.</summary>
    private static List<ConvertedImage> Renumbered(IReadOnlyList<ConvertedImage> images)
    {
        var ids = new List<Camera>();
        return images.Select(i =>
        {
            var c = i.Camera!;
            int k = ids.FindIndex(o => o.SameIntrinsics(c));
            if (k < 0) { ids.Add(c); k = ids.Count - 1; }
            return i with { Camera = c with { Id = k + 1 } };
        }).ToList();
    }

    /// <summary>The output is refused when it would overwrite the source or the intrinsics (a file of
    /// the source's folder, the intrinsics list as an NVM's side file), and an output folder when it
    /// is an input folder, holds an input or lies inside one: checked before anything is read or written.</summary>
    private static void RefuseOverwritingInputs(string from, string to, PoseFormat format, IReadOnlyList<string>? intrinsics)
    {
        var ins = OutputFile.InputsOf("input", from).Concat((intrinsics ?? Array.Empty<string>()).SelectMany(i => OutputFile.InputsOf("intrinsics", i))).ToList();
        if (format == PoseFormat.Hloc) ins.AddRange(HlocExportRunner.InputsOf(from, to));
        bool folder = format is PoseFormat.ColmapText or PoseFormat.ColmapBinary or PoseFormat.Kapture or PoseFormat.Strecha;
        var outputs = new List<(string, string?)>();
        if (format == PoseFormat.Hloc)
            // hloc's three files, each named: they may go beside the database or a model (hloc's outputs/ holds both).
            outputs.AddRange(HlocExportRunner.Files.Select(f => ($"exported {f}", (string?)Path.Combine(to, f))));
        else outputs.Add(($"{Name(format)} output", to));
        if (format == PoseFormat.Nvm) outputs.Add(("NVM's intrinsics list", Path.ChangeExtension(to, ".intrinsics.txt")));
        OutputFile.RefuseInputs(outputs, ins, folder ? new[] { ("output folder", (string?)to) } : null);
        // A kapture source's sensors/ and reconstruction/ hold its images and features below its
        // top files: an output there replaced a photo or the 3D points.
        // (Folder outputs there are refused above, lying inside an input folder; hloc's by its export.)
        if (!folder && format != PoseFormat.Hloc && Kapture.SensorsFolder(from) is { } sensors)
            OutputFile.RefuseAsOutputFiles(outputs, new[] { ("kapture source's sensors/ folder", (string?)sensors), ("kapture source's reconstruction/ folder", Path.Combine(Path.GetDirectoryName(sensors)!, "reconstruction")) });
        if (folder || format == PoseFormat.Hloc) OutputFile.RefuseFileAsFolder(to, $"--to (a {Name(format)} output)");
        // A folder where an output file goes is said before any file is written (the NVM's
        // intrinsics list was written beside it first).
        foreach (var (_, path) in folder ? new() : outputs)
            if (Directory.Exists(path)) throw new R2D2Exception(path!, 0, format == PoseFormat.Hloc
                ? "is a folder, where the export writes a file (nothing was written)"
                : $"is a folder: --to takes a file for {Name(format)} (nothing was written)");
        if (folder && OtherModelIn(to, format) is { } other)
            throw new R2D2Exception(to, 0, $"holds {other} already: {Name(format)} beside it would leave two sets of poses, and readers take one of them "
                + "(COLMAP binary before text, kapture before Strecha). Give an empty folder, or remove the other model (nothing was written)");
    }

    /// <summary>The other model an output folder holds, which the write would not replace.</summary>
    private static string? OtherModelIn(string folder, PoseFormat format)
    {
        if (!Directory.Exists(folder)) return null;
        if (format != PoseFormat.ColmapBinary && ColmapModels.IsBinary(folder)) return "a COLMAP binary model (cameras.bin, images.bin)";
        if (format != PoseFormat.ColmapText && ColmapModels.IsText(folder)) return "a COLMAP text model (cameras.txt, images.txt)";
        if (format != PoseFormat.Kapture && Kapture.IsKapture(folder)) return "a kapture folder (sensors/)";
        if (format != PoseFormat.Strecha && Directory.EnumerateFiles(folder, "*.camera").Any()) return "Strecha .camera files";
        return null;
    }

    /// <summary>Reads and writes; refuses a target that would overwrite an input. A feature database written as
    /// kapture with <paramref name="features"/> takes its keypoints, descriptors and matches along
    /// (<see cref="KaptureExportRunner"/>); as hloc, it is its features and matches
    /// (<see cref="HlocExportRunner"/>).</summary>
    /// <param name="keypointsType">from a kapture folder to hloc: the keypoints to take (null: the folder's only type)</param>
    /// <param name="descriptorsType">and their descriptors (null: the folder whose descriptors.txt names those keypoints)</param>
    /// <param name="intrinsics">cameras by image name: one file or several (Aachen's day and night lists)</param>
    public static (int Images, List<string> Written) Run(string from, string to, PoseFormat format, IReadOnlyList<string>? intrinsics = null, string? imageRoot = null,
        bool features = false, IProgressSink? progress = null, string? keypointsType = null, string? descriptorsType = null)
    {
        if (string.IsNullOrWhiteSpace(to)) throw new UsageException("--to is empty: give the output file or folder");
        if (intrinsics is { Count: 0 }) intrinsics = null;
        if (intrinsics?.FirstOrDefault(i => !File.Exists(i)) is { } absent)
            throw new FileFormatException(absent, 0, Directory.Exists(absent) ? "is a folder: --intrinsics takes lists of intrinsics or COLMAP databases" : "intrinsics file (--intrinsics) not found");
        if (keypointsType != null && format != PoseFormat.Hloc) throw new UsageException("--keypoints-type: from a kapture folder to hloc only (--format hloc)");
        if (descriptorsType != null && format != PoseFormat.Hloc) throw new UsageException("--descriptors-type: from a kapture folder to hloc only (--format hloc)");
        RefuseOverwritingInputs(from, to, format, intrinsics);
        if (!File.Exists(from) && !Directory.Exists(from)) throw new FileFormatException(from, 0, "not found");
        bool fromDatabase = from.EndsWith(".db", StringComparison.OrdinalIgnoreCase) && File.Exists(from);
        if (features && !(fromDatabase && format == PoseFormat.Kapture))
            throw new UsageException("--features: only from a feature database (.db) to kapture");
        if (format == PoseFormat.Hloc)
        {
            bool fromKapture = !fromDatabase && Kapture.IsKapture(from);
            // Not into the kapture folder's own sensors/ or reconstruction/ (other exports refuse its sensors/).
            if (fromKapture)
                OutputFile.RefuseAsOutputFiles(HlocExportRunner.Files.Select(f => ($"exported {f}", (string?)Path.Combine(to, f))),
                    new[] { "sensors", "reconstruction" }.Select(f => ($"kapture folder's {f}/", (string?)Path.Combine(Kapture.Root(from), f))));
            if (!fromDatabase && !fromKapture)
                throw new UsageException("--format hloc: from a feature database (.db) or a kapture folder with features only: hloc's files hold features and matches, which the other sources lack");
            if (intrinsics != null || imageRoot != null) throw new UsageException($"--format hloc takes neither --intrinsics nor --images: the {(fromDatabase ? "database" : "kapture folder")} has its images' sizes");
            if (keypointsType != null && !fromKapture) throw new UsageException("--keypoints-type: from a kapture folder only (a database holds one extractor's features)");
            if (descriptorsType != null && !fromKapture) throw new UsageException("--descriptors-type: from a kapture folder only (a database holds one extractor's features)");
            var export = fromKapture ? HlocExportRunner.FromKapture(from, keypointsType, to, progress, descriptorsType) : HlocExportRunner.Run(from, to, progress);
            if (export.WithoutFeatures > 0)
                progress?.Warning($"{Counted.Of(export.WithoutFeatures, "image")} of the {(fromDatabase ? "database" : "kapture folder")} without features, not in {HlocExportRunner.FeaturesFile}");
            return (export.Images, export.Written);
        }
        if (fromDatabase && format == PoseFormat.Kapture && intrinsics == null)
        {
            var (n, _) = KaptureExportRunner.Run(from, to, features);
            return (n, new[] { Path.Combine(to, "sensors") }.Concat(features ? new[] { Path.Combine(to, "reconstruction") } : Array.Empty<string>()).ToList());
        }
        if (fromDatabase && format is PoseFormat.ColmapText or PoseFormat.ColmapBinary && intrinsics == null && imageRoot == null && MapModel(from, to, format) is { } mapped)
            return mapped;
        // COLMAP to COLMAP is a change of format only, as COLMAP's model_converter: ids, 3D points and
        // 2D points kept (they were dropped, and the ids renumbered, without a word).
        if (format is PoseFormat.ColmapText or PoseFormat.ColmapBinary && intrinsics == null && imageRoot == null && ColmapModels.IsModel(from))
        {
            var model = ColmapModels.Read(from);
            if (model.Images.Count == 0) throw new FileFormatException(from, 0, "no images"); // as every other source
            bool binary = format == PoseFormat.ColmapBinary;
            ColmapModels.Write(to, model, binary);
            return (model.Images.Count, new[] { "cameras", "images", "points3D" }.Select(f => Path.Combine(to, f + (binary ? ".bin" : ".txt"))).ToList());
        }
        var images = Read(from, intrinsics, imageRoot, progress == null ? null : progress.Warning);
        var written = Write(images, to, format, from, progress == null ? null : progress.Warning);
        if (fromDatabase && MapPointCount(from) is > 0 and var points)
            progress?.Warning($"{from}: its map's {Counted.Of(points, "3D point")} are not in the output: only colmap-text and colmap-binary (without --intrinsics or --images) hold them");
        return (images.Count, written);
    }

    /// <summary>A map database as COLMAP: its posed images, every keypoint as a 2D point, and the map's
    /// 3D points with their tracks (what `build-map --export` writes); null when it holds no map. Only
    /// the poses were written before, the points dropped without a word.</summary>
    private static (int Images, List<string> Written)? MapModel(string from, string to, PoseFormat format)
    {
        using var db = Storage.FeatureDatabase.OpenReadOnly(from);
        if (!db.HasMap) return null;
        var cameras = db.ReadCameras().ToDictionary(c => c.Id);
        var posed = db.ReadImages().Where(i => i.PriorPose != null && cameras.ContainsKey(i.CameraId))
            .ToDictionary(i => i.Name, i => new PosedImage(i.Name, cameras[i.CameraId], i.PriorPose!));
        if (posed.Count == 0) throw new FileFormatException(from, 0, "no posed images");
        bool binary = format == PoseFormat.ColmapBinary;
        if (!binary && posed.Keys.FirstOrDefault(n => n.Any(char.IsWhiteSpace)) is { } spaced)
            throw new R2D2Exception(from, 0, $"image name '{spaced}' holds white space, which a COLMAP text model cannot hold: convert to colmap-binary");
        Mapping.MapExport.Export(db, db.ReadMap(), posed, to, plyPath: null, binary);
        return (posed.Count, new[] { "cameras", "images", "points3D" }.Select(f => Path.Combine(to, f + (binary ? ".bin" : ".txt"))).ToList());
    }

    private static int MapPointCount(string database)
    {
        using var db = Storage.FeatureDatabase.OpenReadOnly(database);
        return db.HasMap ? db.CountMapPoints() : 0;
    }
}
