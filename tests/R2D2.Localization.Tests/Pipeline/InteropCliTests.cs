using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>`localize convert` between every format, and a kapture folder mapped and localized end to end.</summary>
public class InteropCliTests
{
    private static string Fountain => SharedData.Path_("datasets", "strecha", "fountain-P11", "cameras");
    private static string Aachen => SharedData.Path_("datasets", "formats", "Aachen-Day-Night");
    private static string Berlin => SharedData.Path_("datasets", "formats", "kapture", "berlin", "kapture");

    /// <summary>A pair's matches as hloc's matches0 and scores, the keypoint counts read from <paramref name="features"/>.</summary>
    private static (int[] Matches0, float[] Scores0) ReadMatches0(string matches, string features, string name0, string name1)
    {
        int count0 = Hloc.ReadFeatures(features, name0).Count;
        return Formats.HlocTests.Matches0(Hloc.ReadMatches(matches, name0, name1, count0, Hloc.ReadFeatures(features, name1).Count), count0);
    }

    private static void SamePosed(IReadOnlyList<PosedImage> a, IReadOnlyList<PosedImage> b)
    {
        var bb = b.ToDictionary(p => Submission.BaseName(p.Name));
        Assert.Equal(a.Count, b.Count);
        foreach (var p in a)
        {
            var q = bb[Submission.BaseName(p.Name)];
            Assert.Equal(p.Camera.Model, q.Camera.Model);
            Assert.Equal((p.Camera.Width, p.Camera.Height), (q.Camera.Width, q.Camera.Height));
            for (int k = 0; k < p.Camera.Params.Length; k++) Assert.Equal(p.Camera.Params[k], q.Camera.Params[k], 9);
            // Strecha's rotations have 6 digits; a quaternion makes them orthonormal.
            for (int k = 0; k < 9; k++) Assert.Equal(p.Pose.Rotation[k], q.Pose.Rotation[k], 1e-5);
            for (int k = 0; k < 3; k++) Assert.Equal(p.Pose.CameraCenter[k], q.Pose.CameraCenter[k], 1e-5);
        }
    }

    [Fact]
    public void StrechaCamerasGoThroughEveryFormatAndBack()
    {
        var dir = TempDir.Create();
        var original = StrechaCameras.ReadFolder(Fountain);
        string from = Fountain;
        foreach (var (format, to) in new[] { ("colmap-binary", "bin"), ("colmap-text", "txt"), ("kapture", "kapture"), ("nvm", "model.nvm"), ("strecha", "strecha") })
        {
            var target = Path.Combine(dir, to);
            var args = new[] { "convert", "--from", from, "--to", target, "--format", format }.ToList();
            if (from.EndsWith(".nvm")) args.AddRange(new[] { "--intrinsics", Path.ChangeExtension(from, ".intrinsics.txt") });
            var (code, stdout, err) = CliTests.Localize(args.ToArray());
            Assert.True(code == 0, format + ": " + err);
            Assert.Contains("convert: 11 images", stdout);
            var intr = from.EndsWith(".nvm") ? Intrinsics.Read(Path.ChangeExtension(from, ".intrinsics.txt")) : null;
            SamePosed(original, format == "nvm" ? Nvm.Read(target, Intrinsics.Read(Path.ChangeExtension(target, ".intrinsics.txt")), null, null) : PosedImages.Read(target));
            from = target;
        }
        // Submission and query list: poses and cameras apart, then together again.
        var sub = Path.Combine(dir, "poses.txt");
        var list = Path.Combine(dir, "list.txt");
        Assert.Equal(0, CliTests.Localize("convert", "--from", from, "--to", sub, "--format", "submission").Code);
        Assert.Equal(0, CliTests.Localize("convert", "--from", from, "--to", list, "--format", "query-list").Code);
        var back = Path.Combine(dir, "back");
        Assert.Equal(0, CliTests.Localize("convert", "--from", sub, "--intrinsics", list, "--to", back, "--format", "colmap-text").Code);
        SamePosed(original, PosedImages.Read(back));
        // A submission alone has no cameras: refused, nothing written.
        var none = Path.Combine(dir, "none");
        var (c, _, e) = CliTests.Localize("convert", "--from", sub, "--to", none, "--format", "kapture");
        Assert.Equal(1, c);
        Assert.Contains("no camera", e);
        Assert.False(Directory.Exists(none));
    }

    /// <summary>COLMAP to COLMAP changes the format only, as model_converter does: the ids, 3D points
    /// and 2D points are kept (they were dropped, the ids renumbered by file order).</summary>
    [Fact]
    public void ConvertBetweenColmapFormatsKeepsTheWholeModel()
    {
        var dir = TempDir.Create();
        var source = SharedData.Path_("datasets", "formats", "maupertuis", "colmap", "reconstruction");
        var bin = Path.Combine(dir, "bin");
        var (code, stdout, err) = CliTests.Localize("convert", "--from", source, "--to", bin, "--format", "colmap-binary");
        Assert.True(code == 0, err + stdout);
        var a = ColmapText.ReadModel(source);
        var b = ColmapBinary.ReadModel(bin);
        Assert.Equal(a.Images.Select(i => (i.Id, i.Posed.Name, i.Posed.Camera.Id)), b.Images.Select(i => (i.Id, i.Posed.Name, i.Posed.Camera.Id)));
        Assert.Equal(a.Points.Count, b.Points.Count);
        Assert.True(a.Points.Count > 1000);
        Assert.Equal(a.Images.Sum(i => i.Point3DIds.Count(p => p >= 0)), b.Images.Sum(i => i.Point3DIds.Count(p => p >= 0)));
        Assert.Equal(a.Images.Select(i => i.Points2D.Length), b.Images.Select(i => i.Points2D.Length));

        // A model without images converts to nothing, and says so as every other source does (it exited 0).
        var empty = Path.Combine(dir, "empty");
        Directory.CreateDirectory(empty);
        foreach (var f in new[] { "cameras.txt", "images.txt", "points3D.txt" }) File.WriteAllText(Path.Combine(empty, f), "# empty\n");
        var emptyOut = Path.Combine(dir, "empty-bin");
        (code, _, err) = CliTests.Localize("convert", "--from", empty, "--to", emptyOut, "--format", "colmap-binary");
        Assert.True(code == 1, err);
        Assert.Contains($"{empty}: no images", err);
        Assert.False(Directory.Exists(emptyOut));
    }

    /// <summary>What a target cannot hold is refused before any file is written (two images of one
    /// base name as .camera files, a NUL in a binary model's name, a camera centre that overflows);
    /// a Strecha folder holds the converted set only; intrinsics that match none of the images are
    /// said; a submission's base names meet an Aachen list's paths (the README's workflow failed).</summary>
    [Fact]
    public void ConvertWritesWholeSetsOrNothing()
    {
        var dir = TempDir.Create();
        var cam = new Camera(1, CameraModel.Pinhole, 640, 480, new[] { 500.0, 500, 320, 240 });
        ConvertedImage Image(string name, double x = 0) => new(name, cam, Pose.FromCameraCenter(Rotations.FromQuaternion(new[] { 1.0, 0, 0, 0 }), new[] { x, 0, 0 }));
        var strecha = Path.Combine(dir, "strecha");
        var e = Assert.Throws<R2D2Exception>(() => ConvertRunner.Write(new[] { Image("a/x.jpg"), Image("b/x.jpg", 1) }, strecha, PoseFormat.Strecha, "src"));
        Assert.Contains("'a/x.jpg' and 'b/x.jpg' have the same base name", e.Message);
        Assert.False(Directory.Exists(strecha));
        ConvertRunner.Write(new[] { Image("1.jpg"), Image("2.jpg", 1) }, strecha, PoseFormat.Strecha, "src");
        var warnings = new List<string>();
        e = Assert.Throws<R2D2Exception>(() => ConvertRunner.Write(new[] { Image("3.jpg", 2) }, strecha, PoseFormat.Strecha, "src"));
        Assert.Contains("holds 2 other .camera files (first: 1.jpg.camera)", e.Message);
        Assert.Equal(new[] { "1.jpg.camera", "2.jpg.camera" }, Directory.GetFiles(strecha).Select(Path.GetFileName).Order());
        ConvertRunner.Write(new[] { Image("1.jpg", 5), Image("2.jpg", 1) }, strecha, PoseFormat.Strecha, "src"); // the same set again: replaced

        var model = Path.Combine(dir, "model");
        ConvertRunner.Write(new[] { Image("1.jpg") }, model, PoseFormat.ColmapBinary, "src");
        var before = Directory.GetFiles(model).Order().Select(File.ReadAllBytes).ToList();
        e = Assert.Throws<R2D2Exception>(() => ConvertRunner.Write(new[] { Image("2.jpg"), Image("a\0b.jpg") }, model, PoseFormat.ColmapBinary, "src"));
        Assert.Contains("holds a NUL character", e.Message);
        Assert.Equal(before, Directory.GetFiles(model).Order().Select(File.ReadAllBytes).ToList()); // cameras.bin was replaced alone
        var far = new ConvertedImage("far.jpg", cam, new Pose(Rotations.FromQuaternion(new[] { 0.9238795, 0, 0, 0.3826834 }), new[] { 1.5e308, 1.5e308, 0 }));
        e = Assert.Throws<R2D2Exception>(() => ConvertRunner.Write(new[] { far }, Path.Combine(dir, "far.nvm"), PoseFormat.Nvm, "src"));
        Assert.Contains("camera centre (−Rᵀt) overflows", e.Message);

        // A submission of base names with an Aachen list's intrinsics (folders in its names).
        var sub = Path.Combine(dir, "poses.txt");
        File.WriteAllText(sub, "IMG_1.jpg 1 0 0 0 0 0 0\n");
        var list = Path.Combine(dir, "list.txt");
        File.WriteAllText(list, "query/night/nexus5x/IMG_1.jpg SIMPLE_RADIAL 1600 1200 1469.2 800 600 -0.03\n");
        var images = ConvertRunner.Read(sub, new[] { list }, null, warnings.Add);
        Assert.Equal(CameraModel.SimpleRadial, images.Single().Camera!.Model);
        File.WriteAllText(list, "other/IMG_2.jpg SIMPLE_RADIAL 1600 1200 1469.2 800 600 -0.03\n");
        warnings.Clear();
        ConvertRunner.Read(sub, new[] { list }, null, warnings.Add);
        Assert.Contains(warnings, w => w.Contains("no camera for 1 of the 1 images (first: 'IMG_1.jpg'): none of its names is one of the source's"));
        // Several lists (Aachen's night and day) give their cameras together; one image with two cameras is refused naming both files.
        var day = Path.Combine(dir, "day.txt");
        File.WriteAllText(day, "query/day/IMG_3.jpg SIMPLE_RADIAL 1600 1200 1400 800 600 0\nother/IMG_2.jpg SIMPLE_RADIAL 1600 1200 1469.2 800 600 -0.03\n");
        File.WriteAllText(sub, "IMG_2.jpg 1 0 0 0 0 0 0\nIMG_3.jpg 1 0 0 0 0 0 1\n");
        var both = ConvertRunner.Read(sub, new[] { list, day }, null, warnings.Add);
        Assert.Equal(new[] { 1469.2, 1400 }, both.Select(i => i.Camera!.Params[0]));
        File.WriteAllText(day, "other/IMG_2.jpg SIMPLE_RADIAL 1600 1200 1400 800 600 0\n");
        Assert.Contains($"{day}:1: gives 'other/IMG_2.jpg' another camera than {list}:1 does", Assert.Throws<FileFormatException>(() => ConvertRunner.Read(sub, new[] { list, day }, null, warnings.Add)).Message);
        var (code, _, err) = CliTests.Localize("convert", "--from", sub, "--to", Path.Combine(dir, "x"), "--format", "foo");
        Assert.True(code == 2, err);
        Assert.Contains("--format: unknown format 'foo'", err);
        // A name a query list would read as a comment is refused; a model without its cameras is said so.
        Assert.Contains("a line starting with '#' is a comment",
            Assert.Throws<R2D2Exception>(() => ConvertRunner.Write(new[] { Image("#a.jpg") }, Path.Combine(dir, "q.txt"), PoseFormat.QueryList, "src")).Message);
        // A fisheye camera is written (other tools read it) and said to be one query refuses.
        var fish = new ConvertedImage("f.jpg", new Camera(1, CameraModel.OpenCVFisheye, 640, 480, new[] { 300.0, 300, 320, 240, 0.1, 0, 0, 0 }), null);
        warnings.Clear();
        ConvertRunner.Write(new[] { fish }, Path.Combine(dir, "fish.txt"), PoseFormat.QueryList, "src", warnings.Add);
        Assert.Contains(warnings, w => w.Contains("1 image (first: 'f.jpg') with OPENCV_FISHEYE cameras, which `localize query` refuses"));
        Assert.Contains("OPENCV_FISHEYE", File.ReadAllText(Path.Combine(dir, "fish.txt")));
        var half = Path.Combine(dir, "half");
        Directory.CreateDirectory(half);
        File.WriteAllText(Path.Combine(half, "images.txt"), "");
        Assert.Contains("holds images.txt but no cameras.txt", Assert.Throws<FileFormatException>(() => ConvertRunner.Read(half)).Message);
    }

    /// <summary>A map database converted to COLMAP is the map's model: its points with their tracks
    /// and every keypoint as a 2D point (only the poses were written, the points dropped without a
    /// word); another format says that it leaves the points out.</summary>
    [Fact]
    public void AMapDatabaseConvertsToCOLMAPWithItsPoints()
    {
        var (s, map) = SyntheticMap.Built(23);
        foreach (var format in new[] { PoseFormat.ColmapText, PoseFormat.ColmapBinary })
        {
            var to = Path.Combine(s.Folder, ConvertRunner.Name(format));
            var (n, _) = ConvertRunner.Run(s.DbPath, to, format);
            var model = ColmapModels.Read(to);
            Assert.Equal((6, 6), (n, model.Images.Count));
            Assert.Equal(map.Points.Count, model.Points.Count);
            var first = map.Points[0];
            var read = model.Points.Single(p => p.Id == first.Id);
            Assert.Equal((first.X, first.Y, first.Z, 2 * first.Track.Length), (read.X, read.Y, read.Z, read.Track.Length));
            // Each observation is the image's keypoint that names the point.
            foreach (var image in model.Images)
                Assert.Equal(map.Points.Sum(p => p.Track.Count(t => t.ImageId == image.Id)), image.Point3DIds.Count(id => id >= 0));
        }
        var progress = new RecordingProgress();
        ConvertRunner.Run(s.DbPath, Path.Combine(s.Folder, "poses.txt"), PoseFormat.Submission, progress: progress);
        Assert.Contains(progress.Warnings, w => w.Contains($"its map's {map.Points.Count} 3D points are not in the output"));
        Assert.Equal(6, File.ReadAllLines(Path.Combine(s.Folder, "poses.txt")).Length);
    }

    /// <summary>An output that would overwrite an input is refused before anything is written: a
    /// file of the source model's folder, the intrinsics list (as the output or as an NVM's side
    /// file), a folder holding the inputs. Each of these was overwritten before.</summary>
    [Fact]
    public void ConvertRefusesOutputsThatWouldOverwriteItsInputs()
    {
        var dir = TempDir.Create();
        var model = Path.Combine(dir, "model");
        ConvertRunner.Run(Fountain, model, PoseFormat.ColmapText);
        var sub = Path.Combine(dir, "sub.txt");
        var list = Path.Combine(dir, "list.txt");
        ConvertRunner.Run(Fountain, sub, PoseFormat.Submission);
        ConvertRunner.Run(Fountain, list, PoseFormat.QueryList);
        var side = Path.Combine(dir, "a.intrinsics.txt");
        File.Copy(list, side);
        var both = Path.Combine(dir, "both");
        Directory.CreateDirectory(both);
        File.Copy(sub, Path.Combine(both, "images.txt"));
        File.Copy(list, Path.Combine(both, "cameras.txt"));
        string Hashes() => string.Join(" ", Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order()
            .Select(f => f + ":" + Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(File.ReadAllBytes(f)))));
        var before = Hashes();
        foreach (var (from, to, format, intrinsics, words) in new (string, string, PoseFormat, string?, string)[]
        {
            (model, Path.Combine(model, "images.txt"), PoseFormat.Submission, null, "would overwrite the input"),
            (sub, list, PoseFormat.QueryList, list, "would overwrite the intrinsics"),
            (sub, Path.Combine(dir, "a.nvm"), PoseFormat.Nvm, side, "NVM's intrinsics list would overwrite the intrinsics"),
            (Path.Combine(both, "images.txt"), both, PoseFormat.ColmapText, Path.Combine(both, "cameras.txt"), "output folder holds the input"),
            (model, Path.Combine(model, "sub"), PoseFormat.Kapture, null, "lies inside the input folder"),
            // Another model in the output folder: two would be left, and readers took the binary one.
            (sub, model, PoseFormat.ColmapBinary, list, "holds a COLMAP text model (cameras.txt, images.txt) already"),
        })
        {
            var e = Assert.Throws<R2D2Exception>(() => ConvertRunner.Run(from, to, format, intrinsics == null ? null : new[] { intrinsics }));
            Assert.Contains(words, e.Message);
            Assert.Contains("nothing was written", e.Message);
        }
        Assert.Equal(before, Hashes());
        Assert.False(File.Exists(Path.Combine(dir, "a.nvm")));
    }

    [Fact]
    public void KaptureQueriesBecomeTheQueryListTheyWereMadeFrom()
    {
        var dir = TempDir.Create();
        var list = Path.Combine(dir, "queries.txt");
        var (code, _, err) = CliTests.Localize("convert", "--from", SharedData.Path_("datasets", "formats", "kapture", "Aachen-Day-Night", "kapture", "query"),
            "--to", list, "--format", "query-list");
        Assert.True(code == 0, err);
        var ours = QueryList.ReadWithIntrinsics(list);
        var theirs = QueryList.ReadWithIntrinsics(Path.Combine(Aachen, "queries", "day_time_queries_with_intrinsics.txt")).ToDictionary(q => q.Name);
        Assert.All(ours.Where(q => theirs.ContainsKey(q.Name)), q => Assert.Equal(theirs[q.Name].Camera!.Params, q.Camera!.Params));
        Assert.Equal(theirs.Count, ours.Count(q => theirs.ContainsKey(q.Name)));

        // kapture to kapture keeps the records' timestamps and sensor ids (they were renumbered
        // 0, 1, … and cam1, cam2…, so the output no longer joined the source's other records).
        var copy = Path.Combine(dir, "berlin");
        (code, _, err) = CliTests.Localize("convert", "--from", Berlin, "--to", copy, "--format", "kapture");
        Assert.True(code == 0, err);
        Assert.Equal(Kapture.Read(Berlin).Select(i => (i.Timestamp, i.SensorId, i.Name)), Kapture.Read(copy).Select(i => (i.Timestamp, i.SensorId, i.Name)));
        // An output inside the source's sensors/ or reconstruction/ (a photo, the 3D points) was written over them.
        Directory.CreateDirectory(Path.Combine(copy, "reconstruction"));
        foreach (var target in new[] { Path.Combine(copy, "sensors", "records_data", "x.jpg"), Path.Combine(copy, "reconstruction", "points3d.txt") })
        {
            (code, _, err) = CliTests.Localize("convert", "--from", copy, "--to", target, "--format", "submission");
            Assert.Equal(1, code);
            Assert.Contains("lies inside the kapture source's", err);
            Assert.False(File.Exists(target));
        }
    }

    /// <summary>kapture's berlin sample: its three photos mapped with their kapture poses, then
    /// localized as queries from the same folder; the poses written back as kapture trajectories.</summary>
    [Fact]
    public void BerlinKaptureIsMappedAndLocalizedEndToEnd()
    {
        var dir = TempDir.Create();
        var db = Path.Combine(dir, "berlin.db");
        var (code, stdout, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", db, "--model", SharedData.Model("r2d2_WASF_N16"),
            "--min-size", "192", "--max-size", "384", "--pairs", "exhaustive", "--export-format", "binary");
        Assert.True(code == 0, err + stdout);
        var model = ColmapBinary.ReadModel(Path.Combine(dir, "berlin_model"));
        Assert.Equal(3, model.Images.Count);
        var poses = Path.Combine(dir, "poses.txt");
        var kout = Path.Combine(dir, "result");
        (code, stdout, err) = CliTests.Localize("query", "--map", db, "--queries", Berlin, "--output", poses, "--kapture-output", kout);
        Assert.True(code == 0, $"exit {code}: " + err + stdout);
        Assert.Contains("3 localized", stdout);
        var truth = Kapture.ReadPosed(Berlin).ToDictionary(p => p.Name);
        var est = Kapture.Read(kout);
        Assert.Equal(3, est.Count);
        foreach (var e in est)
        {
            var t = truth[e.Name];
            double d = Math.Sqrt(e.Pose!.CameraCenter.Zip(t.Pose.CameraCenter, (a, b) => (a - b) * (a - b)).Sum());
            Assert.True(d < 0.5, $"{e.Name}: position error {d:F3}");
            Assert.True(Rotations.AngleBetweenRotations(e.Pose.Rotation, t.Pose.Rotation) < 2 * Math.PI / 180, e.Name);
            Assert.Equal(t.Camera.Params, e.Camera.Params);
        }
        Assert.Equal(est.Select(e => e.Name), Submission.Read(poses).Select(p => p.Name));

        // The map database as kapture, with its R2D2 keypoints, descriptors and matches.
        var export = Path.Combine(dir, "export");
        (code, stdout, err) = CliTests.Localize("convert", "--from", db, "--to", export, "--format", "kapture", "--features");
        Assert.True(code == 0, err);
        SamePosedNames(Kapture.ReadPosed(export), truth.Values.ToList());
        using var fdb = R2D2.Localization.Storage.FeatureDatabase.OpenReadOnly(db);
        var kp = fdb.ReadKeypoints(fdb.FindImage("02.jpg")!.Id)!;
        var read = KaptureFeatures.ReadKeypoints(export, "r2d2", "02.jpg");
        Assert.Equal((kp.X.Length, 3), (read.Rows, read.Columns));
        Assert.Equal(kp.X[7], read.Values[21], 1e-4f);
        Assert.Equal(128, KaptureFeatures.ReadDescriptors(export, "r2d2", "02.jpg").Columns);
        Assert.Equal(3, KaptureFeatures.ListMatches(export, "r2d2").Count);
        // Its own export is written again; a dataset's kapture folder is not replaced (its images,
        // records and reconstruction were deleted, exit 0), nor a kapture folder without images
        // that this program did not write (its poses stayed beside new records).
        (code, stdout, err) = CliTests.Localize("convert", "--from", db, "--to", export, "--format", "kapture", "--features");
        Assert.True(code == 0, err);
        var berlinCopy = Path.Combine(dir, "berlin-copy");
        TempDir.CopyTree(Berlin, berlinCopy);
        var before = Directory.EnumerateFiles(berlinCopy, "*", SearchOption.AllDirectories).ToDictionary(f => f, File.ReadAllBytes);
        (code, _, err) = CliTests.Localize("convert", "--from", db, "--to", berlinCopy, "--format", "kapture", "--features");
        Assert.Equal(1, code);
        Assert.Contains("holds images (sensors/records_data)", err);
        (code, _, err) = CliTests.Localize("query", "--map", db, "--queries", Berlin, "--output", Path.Combine(dir, "p2.txt"), "--kapture-output", berlinCopy);
        Assert.Equal(1, code);
        Assert.Contains("holds images (sensors/records_data)", err);
        Directory.Delete(Path.Combine(berlinCopy, "sensors", "records_data"), recursive: true);
        (code, _, err) = CliTests.Localize("convert", "--from", Berlin, "--to", berlinCopy, "--format", "kapture");
        Assert.Equal(1, code);
        Assert.Contains("holds a kapture folder this program did not write", err);
        Assert.All(before.Where(kv => File.Exists(kv.Key)), kv => Assert.Equal(kv.Value, File.ReadAllBytes(kv.Key)));
        // Nor is a file of the query kapture folder a query output (its trajectories became a submission).
        var queryCopy = Path.Combine(dir, "queries-copy");
        TempDir.CopyTree(Berlin, queryCopy);
        var trajectories = Path.Combine(queryCopy, "sensors", "trajectories.txt");
        var trajectoryBytes = File.ReadAllBytes(trajectories);
        (code, _, err) = CliTests.Localize("query", "--map", db, "--queries", queryCopy, "--output", trajectories);
        Assert.Equal(1, code);
        Assert.Contains("query kapture file", err);
        Assert.Equal(trajectoryBytes, File.ReadAllBytes(trajectories));

        // As hloc's files: the COLMAP model build-map exported lists every keypoint in features.h5's
        // order, so hloc's localize_sfm can take it as its reference model with these features.
        var hloc = Path.Combine(dir, "hloc");
        (code, stdout, err) = CliTests.Localize("convert", "--from", db, "--to", hloc, "--format", "hloc");
        Assert.True(code == 0, err);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(hloc, "pairs.txt")).Length);
        foreach (var im in model.Images)
        {
            var h = Hloc.ReadFeatures(Path.Combine(hloc, "features.h5"), im.Posed.Name);
            Assert.Equal(im.Points2D.Length, h.Keypoints.Length);
            Assert.All(Enumerable.Range(0, h.Keypoints.Length), k => Assert.Equal(im.Points2D[k], h.Keypoints[k], 1e-3));
            Assert.Contains(im.Point3DIds, id => id >= 0);
        }
        // And back: a map built from that features.h5 (`--model hloc:FILE`) is the same map, and
        // its queries read their features from the file the map records.
        var fromHloc = Path.Combine(dir, "berlin-hloc.db");
        (code, stdout, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", fromHloc, "--model", "hloc:" + Path.Combine(hloc, "features.h5"), "--pairs", "exhaustive");
        Assert.True(code == 0, err + stdout);
        var hlocModel = ColmapText.ReadModel(Path.Combine(dir, "berlin-hloc_model"));
        static IEnumerable<(double, double, double)> Rounded(ColmapModel m) => m.Points.Select(p => (Math.Round(p.X, 4), Math.Round(p.Y, 4), Math.Round(p.Z, 4))).Order();
        Assert.Equal(Rounded(model), Rounded(hlocModel)); // the text model holds fewer digits than the binary one
        (code, stdout, err) = CliTests.Localize("query", "--map", fromHloc, "--queries", Berlin, "--output", Path.Combine(dir, "hloc-poses.txt"));
        Assert.True(code == 0, err + stdout);
        Assert.Contains("3 localized", stdout);
        (code, _, err) = CliTests.Localize("query", "--map", fromHloc, "--queries", Berlin, "--output", Path.Combine(dir, "x.txt"), "--model", "default");
        Assert.True(code != 0);
        Assert.Contains("give --model hloc:FILE", err);
        // --precision is the network's: refused with hloc's features (it was taken and ignored).
        (code, _, err) = CliTests.Localize("query", "--map", fromHloc, "--queries", Berlin, "--output", Path.Combine(dir, "x.txt"), "--precision", "bf16");
        Assert.True(code != 0);
        Assert.Contains("--precision applies to R2D2 models", err);
        // Queries with hloc's matches (`query --matches`: SuperGlue's, say; here the map's own pairs,
        // which are query–database pairs too, the queries being the map's images) on a pairs file,
        // lifted to 3D through each image's observations instead of matched here (hloc's localize_sfm).
        var hlocPairs = File.ReadAllLines(Path.Combine(hloc, "pairs.txt")).Select(l => l.Split(' ')).ToList();
        var names = hlocPairs.SelectMany(p => p).Distinct().Order().ToList();
        var queryPairs = Path.Combine(dir, "query-pairs.txt");
        File.WriteAllLines(queryPairs, names.SelectMany(q => names.Where(d => d != q).Select(d => $"{q} {d}")));
        (code, stdout, err) = CliTests.Localize("query", "--map", fromHloc, "--queries", Berlin, "--output", Path.Combine(dir, "imported.txt"),
            "--pairs", queryPairs, "--matches", Path.Combine(hloc, "matches.h5"));
        Assert.True(code == 0, err + stdout);
        Assert.Contains("3 localized", stdout);
        var importedRun = File.ReadAllText(Path.Combine(dir, "imported.run.json"));
        Assert.Contains("\"matching\": \"2d2d\"", importedRun);
        Assert.Contains("\"query_matches_file\"", importedRun);
        // A verification round asks for images around the pose that the pairs do not give the query
        // (here the query's own image): they have no imported matches (the file's lack failed the query).
        (code, stdout, err) = CliTests.Localize("query", "--map", fromHloc, "--queries", Berlin, "--output", Path.Combine(dir, "verified.txt"),
            "--pairs", queryPairs, "--matches", Path.Combine(hloc, "matches.h5"), "--verify-candidates", "2");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("3 localized", stdout);
        // The matches are the file's: a file whose pairs hold no match localizes no query.
        var noMatches = Path.Combine(dir, "no-matches.h5");
        Hloc.WriteMatches(noMatches, hlocPairs.Select(p =>
        {
            var (m, sc) = ReadMatches0(Path.Combine(hloc, "matches.h5"), Path.Combine(hloc, "features.h5"), p[0], p[1]);
            return (p[0], p[1], Enumerable.Repeat(-1, m.Length).ToArray(), sc);
        }));
        (code, stdout, err) = CliTests.Localize("query", "--map", fromHloc, "--queries", Berlin, "--output", Path.Combine(dir, "no-matches.txt"),
            "--pairs", queryPairs, "--matches", noMatches);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("0 localized", stdout);
        // Resumed with another matches file, or without one, the kept poses would mix two matchings: refused.
        foreach (var extra in new[] { new[] { "--matches", noMatches }, new[] { "--matching", "2d2d" } })
        {
            (code, _, err) = CliTests.Localize(new[] { "query", "--map", fromHloc, "--queries", Berlin, "--output", Path.Combine(dir, "imported.txt"), "--pairs", queryPairs, "--resume" }
                .Concat(extra).ToArray());
            Assert.True(code == 1, err);
            Assert.Contains("query_matches_file: ", err);
        }
        // A pair the file lacks is said before any query; --matches needs the pairs, and a map of hloc's features.
        var onePair = Path.Combine(dir, "one-pair.h5");
        Hloc.WriteMatches(onePair, hlocPairs.Take(1).Select(p =>
        {
            var (m, sc) = ReadMatches0(Path.Combine(hloc, "matches.h5"), Path.Combine(hloc, "features.h5"), p[0], p[1]);
            return (p[0], p[1], m, sc);
        }));
        foreach (var (map, extra, said) in new[]
        {
            (fromHloc, new[] { "--pairs", queryPairs, "--matches", onePair }, $"{onePair}: holds no matches for 4 of the 6 query pairs"),
            (fromHloc, new[] { "--matches", onePair }, "--matches needs --pairs"),
            (fromHloc, new[] { "--pairs", queryPairs, "--matches", onePair, "--matching", "2d3d" }, "--matches gives 2D–2D matches with the database images: --matching 2d2d (or leave --matching out)"),
            (db, new[] { "--pairs", queryPairs, "--matches", onePair }, "--matches takes hloc's matches of hloc's features"),
        })
        {
            (code, _, err) = CliTests.Localize(new[] { "query", "--map", map, "--queries", Berlin, "--output", Path.Combine(dir, "refused.txt") }.Concat(extra).ToArray());
            Assert.True(code != 0, err);
            Assert.Contains(said, err);
            Assert.False(File.Exists(Path.Combine(dir, "refused.txt")));
        }
        // With hloc's matches too (`--matches`: SuperGlue's, say; here the map's own, exported), on
        // hloc's pairs given the other way round: the same map again.
        var reversed = Path.Combine(dir, "reversed-pairs.txt");
        File.WriteAllLines(reversed, File.ReadAllLines(Path.Combine(hloc, "pairs.txt")).Select(l => string.Join(' ', l.Split(' ').Reverse())));
        var withMatches = Path.Combine(dir, "berlin-hloc-matches.db");
        (code, stdout, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", withMatches, "--model", "hloc:" + Path.Combine(hloc, "features.h5"),
            "--matches", Path.Combine(hloc, "matches.h5"), "--pairs", reversed);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("match (imported)", stdout);
        Assert.Equal(Rounded(model), Rounded(ColmapText.ReadModel(Path.Combine(dir, "berlin-hloc-matches_model"))));
        // kapture's features as hloc's (what kapture-localization extracted and matched, mapped through
        // --model hloc:FILE --matches): the kapture export of the map gives the files of its direct
        // export, so the same map once more.
        var fromKapture = Path.Combine(dir, "hloc-from-kapture");
        (code, stdout, err) = CliTests.Localize("convert", "--from", export, "--to", fromKapture, "--format", "hloc");
        Assert.True(code == 0, err + stdout);
        Assert.Equal(File.ReadAllLines(Path.Combine(hloc, "pairs.txt")).Order(), File.ReadAllLines(Path.Combine(fromKapture, "pairs.txt")).Order());
        foreach (var im in model.Images)
        {
            var (a, b) = (Hloc.ReadFeatures(Path.Combine(hloc, "features.h5"), im.Posed.Name), Hloc.ReadFeatures(Path.Combine(fromKapture, "features.h5"), im.Posed.Name));
            Assert.Equal((a.Width, a.Height, a.Dim), (b.Width, b.Height, b.Dim));
            Assert.Equal(a.Descriptors, b.Descriptors);
            Assert.All(Enumerable.Range(0, a.Keypoints.Length), k => Assert.Equal(a.Keypoints[k], b.Keypoints[k], 1e-4));
        }
        foreach (var p in File.ReadAllLines(Path.Combine(hloc, "pairs.txt")).Select(l => l.Split(' ')))
        {
            int count0 = Hloc.ReadFeatures(Path.Combine(hloc, "features.h5"), p[0]).Count;
            int count1 = Hloc.ReadFeatures(Path.Combine(hloc, "features.h5"), p[1]).Count;
            Assert.Equal(Hloc.ReadMatches(Path.Combine(hloc, "matches.h5"), p[0], p[1], count0, count1).Select(m => (m.I, m.J)),
                Hloc.ReadMatches(Path.Combine(fromKapture, "matches.h5"), p[0], p[1], count0, count1).Select(m => (m.I, m.J)));
        }
        (code, stdout, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", Path.Combine(dir, "berlin-kapture.db"), "--model", "hloc:" + Path.Combine(fromKapture, "features.h5"),
            "--matches", Path.Combine(fromKapture, "matches.h5"), "--pairs", Path.Combine(fromKapture, "pairs.txt"));
        Assert.True(code == 0, err + stdout);
        Assert.Equal(Rounded(model), Rounded(ColmapText.ReadModel(Path.Combine(dir, "berlin-kapture_model"))));
        // berlin's own features are normalized to the image (within ±0.5), not pixels: said, not refused.
        (code, stdout, err) = CliTests.Localize("convert", "--from", Berlin, "--to", Path.Combine(dir, "berlin-features"), "--format", "hloc");
        Assert.True(code == 0, err + stdout);
        Assert.Contains("the keypoints of 3 images lie within 2 px of each other (first: '01.jpg')", err);
        Assert.Equal(4670, Hloc.ReadFeatures(Path.Combine(dir, "berlin-features", "features.h5"), "01.jpg").Count);
        Assert.Equal(1241, Hloc.ReadMatches(Path.Combine(dir, "berlin-features", "matches.h5"), "01.jpg", "02.jpg", 4670,
            Hloc.ReadFeatures(Path.Combine(dir, "berlin-features", "features.h5"), "02.jpg").Count).Count);
        // kapture's UNKNOWN_CAMERA (a size without intrinsics: its image-folder import writes it) is
        // enough for hloc's files, which hold sizes only; where intrinsics are needed it is said.
        var unknown = Path.Combine(dir, "berlin-unknown");
        TempDir.CopyTree(Berlin, unknown);
        var sensorsTxt = Path.Combine(unknown, "sensors", "sensors.txt");
        File.WriteAllLines(sensorsTxt, File.ReadAllLines(sensorsTxt).Select(l => System.Text.RegularExpressions.Regex.Replace(l, @"camera, RADIAL, 3264, 2448, .*$", "camera, UNKNOWN_CAMERA, 3264, 2448")));
        (code, stdout, err) = CliTests.Localize("convert", "--from", unknown, "--to", Path.Combine(dir, "unknown-features"), "--format", "hloc");
        Assert.True(code == 0, err + stdout);
        Assert.Equal((3264, 2448), (Hloc.ReadFeatures(Path.Combine(dir, "unknown-features", "features.h5"), "01.jpg").Width, Hloc.ReadFeatures(Path.Combine(dir, "unknown-features", "features.h5"), "01.jpg").Height));
        (code, _, err) = CliTests.Localize("convert", "--from", unknown, "--to", Path.Combine(dir, "unknown.txt"), "--format", "query-list");
        Assert.Equal(1, code);
        Assert.Contains("is an UNKNOWN_CAMERA (a size without intrinsics)", err);
        (code, _, err) = CliTests.Localize("convert", "--from", Berlin, "--to", Path.Combine(dir, "x"), "--format", "hloc", "--keypoints-type", "SIFT");
        Assert.True(code == 2, err);
        Assert.Contains("--keypoints-type 'SIFT': ", err);
        Assert.Contains("holds no such type (it holds HessianAffine)", err);
        // What hloc's file cannot hold, or would read otherwise, is refused at the kapture file: a
        // descriptor beyond float16 (∞ in features.h5), a NaN score (it won over every real one);
        // the output inside the kapture folder, and --features (taken and ignored), are refused too.
        var broken = Path.Combine(dir, "bad-kapture");
        TempDir.CopyTree(export, broken);
        var desc = Path.Combine(KaptureFeatures.DescriptorsFolder(broken, "r2d2"), "02.jpg.desc");
        var values = File.ReadAllBytes(desc);
        BitConverter.TryWriteBytes(values.AsSpan(4 * 130), 1e6f);
        File.WriteAllBytes(desc, values);
        (code, _, err) = CliTests.Localize("convert", "--from", broken, "--to", Path.Combine(dir, "bad-hloc"), "--format", "hloc");
        Assert.True(code == 1, err);
        Assert.Contains($"{desc}: descriptor 1 holds 1000000, beyond the float16 range", err);
        File.Copy(Path.Combine(KaptureFeatures.DescriptorsFolder(export, "r2d2"), "02.jpg.desc"), desc, overwrite: true);
        var (m1, m2) = KaptureFeatures.ListMatches(broken, "r2d2")[0];
        var matchFile = KaptureFeatures.MatchesPath(broken, "r2d2", m1, m2);
        var matchBytes = File.ReadAllBytes(matchFile);
        BitConverter.TryWriteBytes(matchBytes.AsSpan(16), double.NaN);
        File.WriteAllBytes(matchFile, matchBytes);
        (code, _, err) = CliTests.Localize("convert", "--from", broken, "--to", Path.Combine(dir, "bad-hloc"), "--format", "hloc");
        Assert.True(code == 1, err);
        Assert.Contains($"{matchFile}: match 1: its score NaN is not a finite number", err);
        (code, _, err) = CliTests.Localize("convert", "--from", export, "--to", Path.Combine(export, "sensors", "h"), "--format", "hloc");
        Assert.True(code == 1, err);
        Assert.Contains("lies inside the kapture folder's sensors/", err);
        (code, _, err) = CliTests.Localize("convert", "--from", export, "--to", Path.Combine(dir, "y"), "--format", "hloc", "--features");
        Assert.True(code == 2, err);
        Assert.Contains("--features: only from a feature database (.db) to kapture", err);
        Assert.False(Directory.Exists(Path.Combine(dir, "bad-hloc"))); // a failed conversion leaves no empty folder either
        // Descriptors are found by the keypoints their descriptors.txt names, or named: another type's
        // malformed descriptors.txt stops the search and points to --descriptors-type, which reads only its folder.
        File.Copy(KaptureFeatures.MatchesPath(export, "r2d2", m1, m2), matchFile, overwrite: true);
        var other = Path.Combine(broken, "reconstruction", "descriptors", "aaa-other");
        Directory.CreateDirectory(other);
        File.WriteAllText(Path.Combine(other, "descriptors.txt"), "float32, 128\n");
        (code, _, err) = CliTests.Localize("convert", "--from", broken, "--to", Path.Combine(dir, "typed"), "--format", "hloc");
        Assert.True(code == 1, err);
        Assert.Contains("--descriptors-type names the folder", err);
        (code, _, err) = CliTests.Localize("convert", "--from", broken, "--to", Path.Combine(dir, "typed"), "--format", "hloc", "--descriptors-type", "r2d2/");
        Assert.True(code == 0, err);
        Assert.Equal(File.ReadAllLines(Path.Combine(fromKapture, "pairs.txt")).Order(), File.ReadAllLines(Path.Combine(dir, "typed", "pairs.txt")).Order());
        foreach (var (type, message) in new[] { ("nope", "holds no such type (it holds aaa-other, r2d2)"), ("../descriptors", "holds no such type"), ("aaa-other", "expected `name, dtype") })
        {
            (code, _, err) = CliTests.Localize("convert", "--from", broken, "--to", Path.Combine(dir, "typed2"), "--format", "hloc", "--descriptors-type", type);
            Assert.True(code != 0, err);
            Assert.Contains(message, err);
        }
        File.WriteAllText(Path.Combine(other, "descriptors.txt"), "other, float32, 128, SIFT, L2\n");
        (code, _, err) = CliTests.Localize("convert", "--from", broken, "--to", Path.Combine(dir, "typed2"), "--format", "hloc", "--descriptors-type", "aaa-other");
        Assert.True(code == 2, err);
        Assert.Contains("describes the keypoints 'SIFT', not 'r2d2'", err);
        (code, _, err) = CliTests.Localize("convert", "--from", db, "--to", Path.Combine(dir, "typed2"), "--format", "hloc", "--descriptors-type", "r2d2");
        Assert.True(code == 2, err);
        Assert.Contains("--descriptors-type: from a kapture folder only", err);
        Assert.False(Directory.Exists(Path.Combine(dir, "typed2")));
        // A pair the file lacks is refused before any match is written; --matches without hloc's features too.
        var twoPairs = Path.Combine(dir, "two-pairs.h5");
        var kept = File.ReadAllLines(Path.Combine(hloc, "pairs.txt")).Take(2).Select(l => l.Split(' ')).ToList();
        Hloc.WriteMatches(twoPairs, kept.Select(p =>
        {
            var (m, sc) = ReadMatches0(Path.Combine(hloc, "matches.h5"), Path.Combine(hloc, "features.h5"), p[0], p[1]);
            return (p[0], p[1], m, sc);
        }));
        (code, _, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", Path.Combine(dir, "m.db"), "--model", "hloc:" + Path.Combine(hloc, "features.h5"),
            "--matches", twoPairs, "--pairs", "exhaustive");
        Assert.True(code != 0);
        Assert.Contains("holds no matches for 1 of the 3 pairs", err);
        (code, _, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", Path.Combine(dir, "m.db"), "--model", "default", "--matches", Path.Combine(hloc, "matches.h5"));
        Assert.True(code != 0);
        Assert.Contains("goes with hloc's features", err);

        // The map takes one file's features: another file (here a copy) is refused on a rerun, as another checkpoint is.
        var copy = Path.Combine(dir, "copy.h5");
        File.Copy(Path.Combine(hloc, "features.h5"), copy);
        (code, _, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", fromHloc, "--model", "hloc:" + copy, "--pairs", "exhaustive");
        Assert.True(code != 0);
        Assert.Contains($"file: {Path.Combine(hloc, "features.h5")} in the database, {copy} now", err);
        // Queries whose features a file lacks are said before any work.
        var partial = Path.Combine(dir, "partial.h5");
        Hloc.WriteFeatures(partial, new[] { "01.jpg", "02.jpg" }.Select(n => (n, Hloc.ReadFeatures(copy, n))));
        (code, stdout, err) = CliTests.Localize("query", "--map", fromHloc, "--queries", Berlin, "--output", Path.Combine(dir, "partial-poses.txt"), "--model", "hloc:" + partial);
        Assert.True(code != 0);
        Assert.Contains("holds no features for 1 of the 3 queries", err);
        Assert.False(File.Exists(Path.Combine(dir, "partial-poses.txt")));
        // Another file whose keypoints for a map image differ is not the map's extraction: refused.
        var shifted = Path.Combine(dir, "shifted.h5");
        Hloc.WriteFeatures(shifted, new[] { "01.jpg", "02.jpg", "03.jpg" }.Select(n => Hloc.ReadFeatures(copy, n))
            .Select((h, i) => (new[] { "01.jpg", "02.jpg", "03.jpg" }[i], h with { Keypoints = h.Keypoints.Select(v => v + 1).ToArray() })));
        (code, _, err) = CliTests.Localize("query", "--map", fromHloc, "--queries", Berlin, "--output", Path.Combine(dir, "shifted-poses.txt"), "--model", "hloc:" + shifted);
        Assert.True(code != 0);
        Assert.Contains("holds other keypoints for the map image", err);
        // hloc rewrites a file of the same name when it extracts or matches again: a map of the old
        // file's features, or a database of its matches, is not resumed from the new one (they mixed).
        var rewritten = Path.Combine(dir, "rewritten.h5");
        File.Copy(copy, rewritten);
        var fromRewritten = Path.Combine(dir, "rewritten.db");
        (code, _, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", fromRewritten, "--model", "hloc:" + rewritten, "--pairs", "exhaustive");
        Assert.True(code == 0, err);
        File.Copy(shifted, rewritten, overwrite: true);
        (code, _, err) = CliTests.Localize("query", "--map", fromRewritten, "--queries", Berlin, "--output", Path.Combine(dir, "rewritten-poses.txt"));
        Assert.True(code != 0);
        Assert.Contains("holds other keypoints for the map image", err);
        (code, _, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", fromRewritten, "--model", "hloc:" + rewritten, "--pairs", "exhaustive");
        Assert.True(code != 0);
        Assert.Contains("the file was extracted again since", err);
        var changedMatches = Path.Combine(dir, "changed-matches.h5");
        File.Copy(Path.Combine(hloc, "matches.h5"), changedMatches);
        var fromMatches = Path.Combine(dir, "from-matches.db");
        (code, _, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", fromMatches, "--model", "hloc:" + Path.Combine(hloc, "features.h5"), "--matches", changedMatches, "--pairs", "exhaustive");
        Assert.True(code == 0, err);
        var pairNames = File.ReadAllLines(Path.Combine(hloc, "pairs.txt")).Select(l => l.Split(' ')).ToList();
        Hloc.WriteMatches(changedMatches, pairNames.Select(p =>
        {
            var (m, sc) = ReadMatches0(Path.Combine(hloc, "matches.h5"), copy, p[0], p[1]);
            return (p[0], p[1], m.Select((v, i) => i % 2 == 0 ? -1 : v).ToArray(), sc); // half the matches
        }));
        (code, _, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", fromMatches, "--model", "hloc:" + Path.Combine(hloc, "features.h5"), "--matches", changedMatches, "--pairs", "exhaustive");
        Assert.True(code != 0);
        Assert.Contains("the file was changed since they were imported", err);
        // Only the last pair changed: the stored pairs compared are spread over the list (the first alone passed).
        Hloc.WriteMatches(changedMatches, pairNames.Select((p, k) =>
        {
            var (m, sc) = ReadMatches0(Path.Combine(hloc, "matches.h5"), copy, p[0], p[1]);
            return (p[0], p[1], k == pairNames.Count - 1 ? m.Select((v, i) => i % 2 == 0 ? -1 : v).ToArray() : m, sc);
        }));
        (code, _, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", fromMatches, "--model", "hloc:" + Path.Combine(hloc, "features.h5"), "--matches", changedMatches, "--pairs", "exhaustive");
        Assert.True(code != 0);
        Assert.Contains($"stores other matches for '{pairNames[^1][0]}' '{pairNames[^1][1]}'", err);
        // A match beyond the second image's keypoints in the last pair: found before any pair is written,
        // so the database takes the corrected file (it held the first pairs, bound to the bad file).
        var badIndex = Path.Combine(dir, "bad-index.h5");
        Hloc.WriteMatches(badIndex, pairNames.Select((p, k) =>
        {
            var (m, sc) = ReadMatches0(Path.Combine(hloc, "matches.h5"), copy, p[0], p[1]);
            if (k == pairNames.Count - 1) m[0] = 1_000_000;
            return (p[0], p[1], m, sc);
        }));
        var fromBad = Path.Combine(dir, "from-bad.db");
        (code, _, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", fromBad, "--model", "hloc:" + Path.Combine(hloc, "features.h5"), "--matches", badIndex, "--pairs", "exhaustive");
        Assert.True(code != 0);
        Assert.Contains("= 1000000, beyond the", err);
        using (var bad = R2D2.Localization.Storage.FeatureDatabase.OpenReadOnly(fromBad)) Assert.False(bad.HasAnyMatches);
        (code, _, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", fromBad, "--model", "hloc:" + Path.Combine(hloc, "features.h5"), "--matches", Path.Combine(hloc, "matches.h5"), "--pairs", "exhaustive");
        Assert.True(code == 0, err);
        // Matches that index other keypoints (another extraction run's) barely fit the poses: said.
        var otherRun = Path.Combine(dir, "other-run.h5");
        Hloc.WriteMatches(otherRun, pairNames.Select(p =>
        {
            var (m, sc) = ReadMatches0(Path.Combine(hloc, "matches.h5"), copy, p[0], p[1]);
            int count1 = Hloc.ReadFeatures(copy, p[1]).Count;
            return (p[0], p[1], m.Select(v => v < 0 ? v : (v + 97) % count1).ToArray(), sc);
        }));
        (code, _, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", Path.Combine(dir, "other-run.db"), "--model", "hloc:" + Path.Combine(hloc, "features.h5"),
            "--matches", otherRun, "--pairs", "exhaustive", "--allow-empty");
        Assert.Contains("of its", err);
        Assert.Contains("matches fit the poses: are they matches of these features", err);
        // hloc's older pair keys ('a_b', names_to_pair_old), which its find_pair still reads.
        if (!Formats.HlocTests.SkipWithoutH5py())
        {
            var oldKeys = Path.Combine(dir, "old-keys.h5");
            PythonTools.Run($@"
import h5py
with h5py.File('{Path.Combine(hloc, "matches.h5")}', 'r') as src, h5py.File('{oldKeys}', 'w') as dst:
    for a in src:
        for b in src[a]:
            g = dst.create_group(a + '_' + b)
            for d in src[a][b]: g.create_dataset(d, data=src[a][b][d][()])
");
            (code, stdout, err) = CliTests.Localize("build-map", "--poses", Berlin, "--map", Path.Combine(dir, "old-keys.db"), "--model", "hloc:" + Path.Combine(hloc, "features.h5"),
                "--matches", oldKeys, "--pairs", "exhaustive");
            Assert.True(code == 0, err + stdout);
            Assert.Equal(Rounded(model), Rounded(ColmapText.ReadModel(Path.Combine(dir, "old-keys_model"))));
        }

        // An export must not replace the file the map was built from (its queries' features would go).
        (code, _, err) = CliTests.Localize("convert", "--from", fromHloc, "--to", hloc, "--format", "hloc");
        Assert.True(code != 0);
        Assert.Contains("would overwrite the hloc features the map was built from", err);

        // Again over that export, with features of an image the map lacks (an earlier export of
        // another map) and what a killed run left staged: the new export replaces the old one whole.
        KaptureFeatures.WriteKeypoints(export, "r2d2", "stale.jpg", new FeatureArray(new float[] { 1, 2, 3 }, 3));
        var staged = Path.Combine(export, KaptureExportRunner.StagingName, "reconstruction");
        Directory.CreateDirectory(staged);
        File.WriteAllText(Path.Combine(staged, "half.txt"), "killed");
        (code, stdout, err) = CliTests.Localize("convert", "--from", db, "--to", export, "--format", "kapture", "--features");
        Assert.True(code == 0, err);
        Assert.False(Directory.Exists(Path.Combine(export, KaptureExportRunner.StagingName)));
        Assert.Empty(Directory.GetFiles(export, "stale.jpg*", SearchOption.AllDirectories));
        Assert.Equal((kp.X.Length, 3), (KaptureFeatures.ReadKeypoints(export, "r2d2", "02.jpg").Rows, 3));
        SamePosedNames(Kapture.ReadPosed(export), truth.Values.ToList());
    }

    private static void SamePosedNames(List<PosedImage> a, List<PosedImage> b)
    {
        Assert.Equal(a.Select(p => p.Name).Order(), b.Select(p => p.Name).Order());
        var bb = b.ToDictionary(p => p.Name);
        Assert.All(a, p => Assert.True(Rotations.AngleBetweenRotations(p.Pose.Rotation, bb[p.Name].Pose.Rotation) < 1e-9));
    }

    [Fact]
    public void SubmissionNamesCanKeepTheCameraFolder()
    {
        Assert.Equal("1417176586978230.jpg", Submission.NameFor("rear/1417176586978230.jpg", 0));
        Assert.Equal("rear/1417176586978230.jpg", Submission.NameFor("overcast/rear/1417176586978230.jpg", 1));
        Assert.Equal("a/b.jpg", Submission.NameFor("a/b.jpg", 3));
        var dir = TempDir.Create();
        var path = Path.Combine(dir, "poses.txt");
        var poses = new[] { new ImagePose("night/rear/1.jpg", Pose.Identity), new ImagePose("night/left/1.jpg", Pose.Identity) };
        Submission.Write(path, poses, folders: 1);
        Assert.Equal(new[] { "rear/1.jpg", "left/1.jpg" }, Submission.Read(path).Select(p => p.Name));
        // Without the folder the two cameras' images collide.
        Assert.Contains("same base name '1.jpg'", Assert.Throws<R2D2Exception>(() => Submission.Write(path, poses)).Message);
    }
}
