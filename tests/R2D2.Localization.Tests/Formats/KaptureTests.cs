using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

/// <summary>kapture's sensors and feature files: kapture's own samples (berlin, Aachen-Day-Night),
/// round trips, rigs, pairs files with scores, and malformed files.</summary>
public class KaptureTests
{
    private static string Berlin => SharedData.Path_("datasets", "formats", "kapture", "berlin", "kapture");
    private static string AachenKapture => SharedData.Path_("datasets", "formats", "kapture", "Aachen-Day-Night", "kapture");
    private static string Aachen => SharedData.Path_("datasets", "formats", "Aachen-Day-Night");

    private static double Distance(double[] a, double[] b) => Math.Sqrt(a.Zip(b, (x, y) => (x - y) * (x - y)).Sum());

    [Fact]
    public void ReadsTheBerlinSample()
    {
        Assert.True(Kapture.IsKapture(Berlin));
        var posed = Kapture.ReadPosed(Berlin);
        Assert.Equal(new[] { "01.jpg", "02.jpg", "03.jpg" }, posed.Select(p => p.Name));
        var cam = posed[0].Camera;
        Assert.Equal(CameraModel.Radial, cam.Model);
        Assert.Equal((3264, 2448), (cam.Width, cam.Height));
        Assert.Equal(new[] { 3147.3191028463957, 1631.5, 1223.5, 0.022672104712876825, -0.0009966053789495556 }, cam.Params);
        Near(new[] { 0.7567825047018621, 0.5759378194165659, -0.1844928813510864, 0.24806903368546643 }, posed[0].Pose.Quaternion, 1e-4);
        Assert.Equal(new[] { -0.47088726728907015, 6.93176439745662, 7.616922291503473 }, posed[0].Pose.Translation);
        // The rotation is the trajectory's quaternion normalized.
        Near(Rotations.FromQuaternion(new[] { 0.7567825047018621, 0.5759378194165659, -0.1844928813510864, 0.24806903368546643 }), posed[0].Pose.Rotation, 1e-12);
        Assert.All(posed, p => Assert.True(File.Exists(Path.Combine(Kapture.ImageRoot(Berlin), p.Name))));
    }

    [Fact]
    public void TheAachenSampleAgreesWithTheNvmAndQueryListsItWasMadeFrom()
    {
        var training = Path.Combine(AachenKapture, "training");
        var fromKapture = Kapture.ReadPosed(training);
        var fromNvm = Nvm.Read(Path.Combine(Aachen, "3D-models", "aachen_cvpr2018_db.nvm"), null, null, Path.Combine(Aachen, "images_upright"))
            .ToDictionary(p => p.Name);
        Assert.Equal(3, fromKapture.Count);
        foreach (var k in fromKapture)
        {
            var n = fromNvm[k.Name];
            Assert.True(Distance(k.Pose.CameraCenter, n.Pose.CameraCenter) < 1e-3, k.Name);
            Assert.True(Rotations.AngleBetweenRotations(k.Pose.Rotation, n.Pose.Rotation) < 1e-5, k.Name);
            Assert.Equal(n.Camera.Params[0], k.Camera.Params[0], 6); // the NVM focal
        }
        var queries = Kapture.ReadQueries(Path.Combine(AachenKapture, "query"));
        var list = QueryList.ReadWithIntrinsics(Path.Combine(Aachen, "queries", "day_time_queries_with_intrinsics.txt")).ToDictionary(q => q.Name);
        Assert.Equal(4, queries.Count);
        foreach (var q in queries.Where(q => list.ContainsKey(q.Name)))
        {
            Assert.Equal(list[q.Name].Camera!.Params, q.Camera!.Params);
            Assert.Equal(list[q.Name].Camera!.Model, q.Camera.Model);
        }
    }

    [Fact]
    public void SensorsRoundTrip()
    {
        var images = Kapture.Read(Berlin);
        var dir = TempDir.Create();
        Kapture.Write(dir, images);
        var back = Kapture.Read(dir);
        Assert.Equal(images.Select(i => (i.Timestamp, i.SensorId, i.Name)), back.Select(i => (i.Timestamp, i.SensorId, i.Name)));
        for (int i = 0; i < images.Count; i++)
        {
            Assert.Equal(images[i].Camera.Params, back[i].Camera.Params);
            // Through a quaternion: equal to the last bits.
            Near(images[i].Pose!.Rotation, back[i].Pose!.Rotation, 1e-14);
            Assert.Equal(images[i].Pose!.Translation, back[i].Pose!.Translation);
        }
        Assert.StartsWith(Kapture.Header, File.ReadAllText(Path.Combine(dir, "sensors", "trajectories.txt")));
    }

    [Fact]
    public void RigCamerasGetTheRigPoseThenTheirPoseInTheRig()
    {
        var dir = Folder(sensors: "# kapture format: 1.1\nleft, , camera, PINHOLE, 640, 480, 500, 500, 320, 240\nright, , camera, PINHOLE, 640, 480, 500, 500, 320, 240\ngps, , gnss, EPSG:4326\n",
            records: "# kapture format: 1.1\n5, left, left/a.jpg\n5, right, right/a.jpg\n",
            trajectories: "# kapture format: 1.1\n5, rig, 0.7071067811865476, 0, 0, 0.7071067811865476, 1, 2, 3\n",
            rigs: "# kapture format: 1.1\nrig, left, 1, 0, 0, 0, 0.5, 0, 0\nrig, right, 0.9238795325112867, 0, 0.3826834323650898, 0, -0.5, 0, 0\n");
        var posed = Kapture.ReadPosed(dir);
        var rigFromWorld = Pose.FromQuaternion(new[] { 0.7071067811865476, 0, 0, 0.7071067811865476 }, new double[] { 1, 2, 3 });
        var rightFromRig = Pose.FromQuaternion(new[] { 0.9238795325112867, 0, 0.3826834323650898, 0 }, new double[] { -0.5, 0, 0 });
        // A world point goes to the rig's frame, then to the camera's.
        var x = rigFromWorld.ToCamera(4, -5, 6);
        var expected = rightFromRig.ToCamera(x[0], x[1], x[2]);
        var got = posed[1].Pose.ToCamera(4, -5, 6);
        Near(expected, got, 1e-12);
        Assert.Equal(new[] { 1.5, 2, 3 }, posed[0].Pose.Translation.Select(v => Math.Round(v, 12)));
    }

    [Fact]
    public void BadLinesNameTheFileAndLine()
    {
        var dir = TempDir.Create();
        Kapture.Write(dir, Kapture.Read(Berlin));
        var traj = Path.Combine(dir, "sensors", "trajectories.txt");
        var lines = File.ReadAllLines(traj).ToList();
        lines[3] = lines[3].Replace(", 0.", ", x.");
        File.WriteAllLines(traj, lines);
        var e = Assert.Throws<FileFormatException>(() => Kapture.ReadPosed(dir));
        Assert.Equal((traj, 4), (e.File, e.Line));
        lines[3] = "1, cam";
        File.WriteAllLines(traj, lines);
        Assert.Equal(4, Assert.Throws<FileFormatException>(() => Kapture.ReadPosed(dir)).Line);
        // A pose of a device that is neither a sensor nor a rig (it was dropped without a word).
        lines[3] = "2, camX, 1, 0, 0, 0, 1, 2, 3";
        File.WriteAllLines(traj, lines);
        e = Assert.Throws<FileFormatException>(() => Kapture.ReadPosed(dir));
        Assert.Equal((traj, 4), (e.File, e.Line));
        Assert.Contains("device 'camX' is neither a sensor", e.Message);
        lines[3] = "1, cam";
        // An image without a pose: its record is named.
        File.WriteAllLines(traj, lines.Take(3));
        var rec = Path.Combine(dir, "sensors", "records_camera.txt");
        e = Assert.Throws<FileFormatException>(() => Kapture.ReadPosed(dir));
        Assert.Equal((rec, 4), (e.File, e.Line));
        Assert.Contains("02.jpg", e.Message);
        // A record naming an unknown sensor.
        File.AppendAllText(rec, "9, nosuch, x.jpg\n");
        e = Assert.Throws<FileFormatException>(() => Kapture.Read(dir));
        Assert.Equal((rec, 6), (e.File, e.Line));
        // A second record for one (timestamp, camera), or one image twice: both took the first's pose.
        var records = File.ReadAllLines(rec).Take(5).ToList();
        var last = records[^1].Split(',').Select(x => x.Trim()).ToArray();
        foreach (var (extra, message) in new[]
        {
            ($"{last[0]}, {last[1]}, other.jpg", $"timestamp {last[0]}, camera '{last[1]}' is also on line 5"),
            ($"77, {last[1]}, {last[2]}", $"image '{last[2]}' is also on line 5"),
        })
        {
            File.WriteAllLines(rec, records.Append(extra));
            e = Assert.Throws<FileFormatException>(() => Kapture.Read(dir));
            Assert.Equal((rec, 6), (e.File, e.Line));
            Assert.Contains(message, e.Message);
        }
    }

    [Fact]
    public void ReadsTheBerlinFeaturesAndRoundTripsThem()
    {
        var root = Path.GetDirectoryName(Path.Combine(Berlin, "x"))!;
        var kp = KaptureFeatures.ReadKeypoints(root, "HessianAffine", "01.jpg");
        Assert.Equal((4670, 4), (kp.Rows, kp.Columns));
        var desc = KaptureFeatures.ReadDescriptors(root, "HOG", "01.jpg");
        Assert.Equal((4670, 128), (desc.Rows, desc.Columns));
        Assert.All(kp.Values.Where((_, i) => i % 4 == 0), x => Assert.InRange(x, -2f, 3266f));
        var pairs = KaptureFeatures.ListMatches(root, "HessianAffine");
        Assert.Equal(new[] { ("01.jpg", "02.jpg"), ("01.jpg", "03.jpg"), ("03.jpg", "02.jpg") }, pairs);
        var m = KaptureFeatures.ReadMatches(root, "HessianAffine", "01.jpg", "02.jpg");
        Assert.Equal(29784 / 24, m.Count);
        var kp2 = KaptureFeatures.ReadKeypoints(root, "HessianAffine", "02.jpg");
        Assert.All(m, x => { Assert.InRange(x.I1, 0, kp.Rows - 1); Assert.InRange(x.I2, 0, kp2.Rows - 1); });

        var dir = TempDir.Create();
        KaptureFeatures.WriteKeypointsHeader(dir, "r2d2", 4);
        KaptureFeatures.WriteKeypoints(dir, "r2d2", "sub/01.jpg", kp);
        KaptureFeatures.WriteDescriptorsHeader(dir, "r2d2_desc", 128, "r2d2");
        KaptureFeatures.WriteDescriptors(dir, "r2d2_desc", "sub/01.jpg", desc);
        KaptureFeatures.WriteMatches(dir, "r2d2", "sub/01.jpg", "02.jpg", m);
        // The 0.5 shift there and back is exact but for the last bit of a few values.
        Assert.All(kp.Values.Zip(KaptureFeatures.ReadKeypoints(dir, "r2d2", "sub/01.jpg").Values), v => Assert.Equal(v.First, v.Second, 1e-4f));
        Assert.Equal(desc.Values, KaptureFeatures.ReadDescriptors(dir, "r2d2_desc", "sub/01.jpg").Values);
        Assert.Equal(m, KaptureFeatures.ReadMatches(dir, "r2d2", "sub/01.jpg", "02.jpg"));
        Assert.Equal(new[] { ("02.jpg", "sub/01.jpg") }, KaptureFeatures.ListMatches(dir, "r2d2")); // stored under the lexically first
        // The keypoints file is kapture's: raw float32 in COLMAP's convention, the same size as kapture's own.
        var raw = File.ReadAllBytes(Path.Combine(KaptureFeatures.KeypointsFolder(dir, "r2d2"), "sub", "01.jpg.kpt"));
        var theirs = File.ReadAllBytes(Path.Combine(KaptureFeatures.KeypointsFolder(root, "HessianAffine"), "01.jpg.kpt"));
        Assert.Equal(theirs.Length, raw.Length);
        Assert.Equal(BitConverter.ToSingle(theirs, 4), BitConverter.ToSingle(raw, 4), 1e-4f);

        // Truncated files and bad headers name the file.
        var kpt = Path.Combine(KaptureFeatures.KeypointsFolder(dir, "r2d2"), "sub", "01.jpg.kpt");
        File.WriteAllBytes(kpt, raw[..^3]);
        var e = Assert.Throws<FileFormatException>(() => KaptureFeatures.ReadKeypoints(dir, "r2d2", "sub/01.jpg"));
        Assert.Equal(kpt, e.File);
        var header = Path.Combine(KaptureFeatures.KeypointsFolder(dir, "r2d2"), "keypoints.txt");
        File.WriteAllText(header, "# kapture format: 1.1\nr2d2, complex64, 4\n");
        e = Assert.Throws<FileFormatException>(() => KaptureFeatures.ReadKeypoints(dir, "r2d2", "sub/01.jpg"));
        Assert.Equal((header, 2), (e.File, e.Line));
        var matches = KaptureFeatures.MatchesPath(dir, "r2d2", "02.jpg", "sub/01.jpg");
        File.WriteAllBytes(matches, File.ReadAllBytes(matches)[..^1]);
        Assert.Equal(matches, Assert.Throws<FileFormatException>(() => KaptureFeatures.ReadMatches(dir, "r2d2", "sub/01.jpg", "02.jpg")).File);
    }

    [Fact]
    public void PairsFilesWithScoresAreReadEverywhere()
    {
        var lines = new[] { "# query_image, map_image, score", "a.jpg, b.jpg, 0.93", "a.jpg, c d.jpg, 0.5", "b.jpg c.jpg", "c.jpg, a.jpg" };
        var pairs = PairSources.Parse(lines, "pairs.txt");
        Assert.Equal(new[] { ("a.jpg", "b.jpg"), ("a.jpg", "c d.jpg"), ("b.jpg", "c.jpg"), ("c.jpg", "a.jpg") }, pairs.Select(p => (p.Name1, p.Name2)));
        var e = Assert.Throws<FileFormatException>(() => PairSources.Parse(new[] { "a.jpg, b.jpg, high" }, "pairs.txt"));
        Assert.Equal(("pairs.txt", 1), (e.File, e.Line));
        e = Assert.Throws<FileFormatException>(() => PairSources.Parse(new[] { "", "a.jpg, b.jpg, 1, 2" }, "pairs.txt"));
        Assert.Equal(2, e.Line);
    }

    private static void Near(double[] expected, double[] actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tol, $"[{i}] {expected[i]} vs {actual[i]}");
    }

    /// <summary>kapture keeps a pair under its lexically first image (kapture-localization looks it up
    /// so): a pair given the other way round is written swapped, its match columns with it.</summary>
    [Fact]
    public void MatchesAreStoredUnderTheLexicallyFirstImage()
    {
        var root = TempDir.Create();
        KaptureFeatures.WriteMatches(root, "r2d2", "right/b.jpg", "left/a.jpg", new[] { (1, 2, 0.5), (3, 4, 0.25) });
        Assert.False(File.Exists(KaptureFeatures.MatchesPath(root, "r2d2", "right/b.jpg", "left/a.jpg")));
        var bytes = File.ReadAllBytes(KaptureFeatures.MatchesPath(root, "r2d2", "left/a.jpg", "right/b.jpg"));
        var values = Enumerable.Range(0, bytes.Length / 8).Select(k => BitConverter.ToDouble(bytes, 8 * k)).ToArray();
        Assert.Equal(new[] { 2.0, 1, 0.5, 4, 3, 0.25 }, values);
    }

    /// <summary>Rigs: a member sensors.txt lacks, a rig id that is a sensor's, a rig of rigs are
    /// refused at their line (the first was accepted silently, the last said "has no pose"); a
    /// query folder's poses are not read (ground truth there may hold lines kapture allows, e.g. a
    /// position without a rotation); kapture's models only are written; dtype "float" is float64.</summary>
    [Fact]
    public void RigsAreCheckedQueriesIgnoreTheirPosesAndOnlyKapturesModelsAreWritten()
    {
        var root = Folder(sensors: "cam1, , camera, PINHOLE, 64, 48, 50, 50, 32, 24\n", records: "0, cam1, a.jpg\n",
            trajectories: "0, cam1, , , , , 1, 2, 3\n0, camX, 1, 0, 0, 0, 0, 0, 0\n");
        var sensors = Path.Combine(root, "sensors");
        Assert.Equal("a.jpg", Assert.Single(Kapture.ReadQueries(root)).Name);
        Assert.Throws<FileFormatException>(() => Kapture.Read(root)); // as poses, the line is refused
        File.WriteAllText(Path.Combine(sensors, "trajectories.txt"), "0, rig, 1, 0, 0, 0, 0, 0, 0\n");
        var rigs = Path.Combine(sensors, "rigs.txt");
        foreach (var (lines, message) in new[]
        {
            ("rig, camZ, 1, 0, 0, 0, 0, 0, 0\n", "rig 'rig' names sensor 'camZ', which sensors.txt lacks"),
            ("cam1, cam1, 1, 0, 0, 0, 0, 0, 0\n", "rig id 'cam1' is also a sensor's id"),
            ("rig, cam1, 1, 0, 0, 0, 0, 0, 0\nouter, rig, 1, 0, 0, 0, 0, 0, 0\n", "rig 'outer' holds the rig 'rig': rigs of rigs are not supported"),
        })
        {
            File.WriteAllText(rigs, lines);
            var e = Assert.Throws<FileFormatException>(() => Kapture.Read(root));
            Assert.Equal(rigs, e.File);
            Assert.Contains(message, e.Message);
        }
        File.WriteAllText(rigs, "rig, cam1, 1, 0, 0, 0, 0, 0, 0\n");
        Assert.NotNull(Assert.Single(Kapture.Read(root)).Pose);

        var division = new Camera(1, CameraModel.SimpleDivision, 64, 48, new[] { 50.0, 32, 24, 0 });
        Assert.Contains("kapture has no camera model SIMPLE_DIVISION", Assert.Throws<R2D2Exception>(() =>
            Kapture.Write(TempDir.Create(), Kapture.FromImages(new[] { ("a.jpg", division, (Pose?)null) }))).Message);
        Assert.Equal(("float64", "float32", "float16", "uint8"), (KaptureFeatures.Dtype("float"), KaptureFeatures.Dtype("single"), KaptureFeatures.Dtype("half"), KaptureFeatures.Dtype("uint8")));
    }

    /// <summary>A record whose image is missing is named at its line of records_camera.txt (the
    /// message named the folder only).</summary>
    [Fact]
    public void AMissingImageIsNamedAtItsRecord()
    {
        var root = Folder(sensors: "cam1, , camera, PINHOLE, 64, 48, 50, 50, 32, 24\n", records: "# images\n0, cam1, a.jpg\n1, cam1, b.jpg\n",
            trajectories: "0, cam1, 1, 0, 0, 0, 0, 0, 0\n1, cam1, 1, 0, 0, 0, 1, 0, 0\n");
        var images = Path.Combine(root, "sensors", "records_data");
        // Without the folder, the message says where kapture keeps images and how to give others.
        var none = Assert.Throws<R2D2Exception>(() => R2D2.Localization.Pipeline.MapInputs.ReadPosed(root, null, images, null));
        Assert.Contains("image folder not found (a kapture folder's images are in its sensors/records_data: give --images", none.Message);
        Directory.CreateDirectory(images);
        FaultInjection.TestImages.WriteConstantPng(Path.Combine(images, "a.jpg"), 64, 48);
        var e = Assert.Throws<FileFormatException>(() => R2D2.Localization.Pipeline.MapInputs.ReadPosed(root, null, images, null));
        Assert.Equal((Path.Combine(root, "sensors", "records_camera.txt"), 3), (e.File, e.Line));
        Assert.Contains("1 image not found under", e.Message);
    }

    /// <summary>A kapture folder of the given sensors/ files (null: none).</summary>
    private static string Folder(string sensors, string records, string? trajectories = null, string? rigs = null)
    {
        var root = TempDir.Create();
        var dir = Path.Combine(root, "sensors");
        Directory.CreateDirectory(dir);
        foreach (var (file, text) in new[] { ("sensors.txt", sensors), ("records_camera.txt", records), ("trajectories.txt", trajectories), ("rigs.txt", rigs) })
            if (text != null) File.WriteAllText(Path.Combine(dir, file), text);
        return root;
    }
}
