using System.Diagnostics;
using R2D2.Localization.Geometry;
using R2D2.Localization.Storage;
using Xunit;
using static R2D2.Localization.Tests.Storage.StorageTestData;

namespace R2D2.Localization.Tests.Storage;

/// <summary>Real COLMAP databases from ../shared/datasets/formats, read read-only and compared with
/// what SQLite itself reports.</summary>
public class ColmapDatabaseTests
{
    private static string Maupertuis => SharedData.Path_("datasets", "formats", "maupertuis", "colmap", "colmap.db");
    private static string T265 => SharedData.Path_("datasets", "formats", "t265", "colmap", "colmap.db");

    [Fact]
    public void ReadsMaupertuis()
    {
        string path = Maupertuis;
        string before = Sha(path);
        using (var db = FeatureDatabase.OpenReadOnly(path))
        {
            var s = db.Summary();
            Assert.Equal(RawCount(path, "SELECT count(*) FROM cameras"), s.Cameras);
            Assert.Equal(RawCount(path, "SELECT count(*) FROM images"), s.Images);
            Assert.Equal(RawCount(path, "SELECT count(*) FROM keypoints"), s.ImagesWithKeypoints);
            Assert.Equal(RawCount(path, "SELECT sum(rows) FROM keypoints"), s.Keypoints);
            Assert.Equal(RawCount(path, "SELECT count(*) FROM matches WHERE rows > 0"), s.MatchedPairs);
            Assert.Equal(RawCount(path, "SELECT sum(rows) FROM matches"), s.Matches);
            Assert.Equal(RawCount(path, "SELECT count(*) FROM two_view_geometries WHERE rows > 0"), s.VerifiedPairs);
            Assert.Equal(RawCount(path, "SELECT sum(rows) FROM two_view_geometries"), s.InlierMatches);
            Assert.Equal((1, 4, 4, 24010L, 6), (s.Cameras, s.Images, s.ImagesWithKeypoints, s.Keypoints, s.MatchedPairs));
            Assert.Null(s.Extractor);
            Assert.Equal(0, s.SchemaVersion);

            // SIMPLE_PINHOLE 1919×1079, f = 2302.8, principal point (959.5, 539.5) in COLMAP's convention.
            var cam = db.ReadCamera(1)!;
            Assert.Same(CameraModel.SimplePinhole, cam.Model);
            Assert.Equal((1919, 1079, false), (cam.Width, cam.Height, cam.HasPriorFocalLength));
            Assert.Equal(new[] { 2302.7999999999997, 959.0, 539.0 }, cam.Params);

            Assert.Equal(new[] { "00.jpg", "01.jpg", "02.jpg", "03.jpg" }, db.ReadImages().Select(i => i.Name));
            Assert.Equal(3, db.FindImage("02.jpg")!.Id);
            Assert.Null(db.FindImage("02.jpg")!.PriorRotation);

            // Image 1's first keypoint, COLMAP's row: x 1290.9084, y 4.1563606, affine (−1.3475, 1.4732; −1.4732, −1.3475).
            var raw = RawBlob<float>(path, "SELECT data FROM keypoints WHERE image_id = 1");
            var kp = db.ReadKeypoints(1)!;
            Assert.Equal((6424, 6), (kp.Count, kp.StoredColumns));
            Assert.Equal(raw[0] - 0.5f, kp.X[0]);
            Assert.Equal(raw[1] - 0.5f, kp.Y[0]);
            Assert.Equal(1290.408447265625f, kp.X[0]);
            float a11 = raw[2], a12 = raw[3], a21 = raw[4], a22 = raw[5];
            float scale = 0.5f * (MathF.Sqrt(a11 * a11 + a21 * a21) + MathF.Sqrt(a12 * a12 + a22 * a22));
            Assert.Equal(scale, kp.Scale[0], 5);
            Assert.Equal(MathF.Atan2(a21, a11), kp.Orientation[0], 5);

            var desc = db.ReadColmapDescriptors(1)!;
            Assert.Equal((6424, 128), (desc.Count, desc.Dim));
            Assert.Equal(new byte[] { 21, 37, 36, 67, 67, 38, 37, 9, 95, 101, 28, 15, 10, 24, 33, 18 }, desc.Data[..16]);
            Assert.False(db.HasFeatures(1));
            Assert.Null(db.ReadFeatures(1));

            Assert.Equal(new[] { (1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4) }, db.ListMatchedPairs().Select(p => (p.ImageId1, p.ImageId2)));
            var m12 = db.ReadMatches(1, 2)!;
            Assert.Equal(2516, m12.Count);
            Assert.Equal((3, 1), (m12[0].I, m12[0].J));
            Assert.True(float.IsNaN(m12[0].Similarity));
            Assert.Equal((1, 3), (db.ReadMatches(2, 1)![0].I, db.ReadMatches(2, 1)![0].J));

            // COLMAP 3.6: two_view_geometries without qvec/tvec; config 3 (fundamental), E stored as zeros.
            var g = db.ReadTwoViewGeometry(1, 2)!;
            Assert.Equal(TwoViewConfiguration.Uncalibrated, g.Config);
            Assert.Equal(2501, g.Inliers.Count);
            Assert.Null(g.Rotation);
            Assert.Null(g.Translation);
            Assert.All(g.E!, v => Assert.Equal(0, v));
            var fc = RawBlob<double>(path, $"SELECT F FROM two_view_geometries WHERE pair_id = {ImagePairs.PairId(1, 2)}");
            Assert.Equal(-3.6700237728468655e-06, fc[0]);
            double Epi(double[] m, double x1, double y1, double x2, double y2) =>
                x2 * (m[0] * x1 + m[1] * y1 + m[2]) + y2 * (m[3] * x1 + m[4] * y1 + m[5]) + (m[6] * x1 + m[7] * y1 + m[8]);
            Assert.Equal(Epi(fc, 100.5, 50.5, 300.5, 70.5), Epi(g.F!, 100, 50, 300, 70), 9);
            // The inliers satisfy the epipolar constraint in our convention (COLMAP's threshold: 4 px, Sampson).
            var kp2 = db.ReadKeypoints(2)!;
            double Sampson(double[] m, double x1, double y1, double x2, double y2)
            {
                double a = m[0] * x1 + m[1] * y1 + m[2], b = m[3] * x1 + m[4] * y1 + m[5];
                double c = m[0] * x2 + m[3] * y2 + m[6], d = m[1] * x2 + m[4] * y2 + m[7];
                double r = Epi(m, x1, y1, x2, y2);
                return Math.Sqrt(r * r / (a * a + b * b + c * c + d * d));
            }
            var errors = g.Inliers.Select(m => Sampson(g.F!, kp.X[m.I], kp.Y[m.I], kp2.X[m.J], kp2.Y[m.J])).ToList();
            Assert.True(errors.Max() < 4.01 && errors.Average() < 2, $"Sampson error: max {errors.Max()}, mean {errors.Average()}");
        }
        Assert.Equal(before, Sha(path));
    }

    [Fact]
    public void ReadsT265CamerasAndPosePriors()
    {
        string path = T265;
        using var db = FeatureDatabase.OpenReadOnly(path);
        var cams = db.ReadCameras();
        Assert.Equal(RawCount(path, "SELECT count(*) FROM cameras"), cams.Count);
        Assert.All(cams, c => Assert.Same(CameraModel.OpenCVFisheye, c.Model));
        Assert.Equal(new[] { 284.468, 285.51, 423.855, 393.242, 0.0008, 0.031, -0.03, 0.005 }, cams[0].Params);
        Assert.True(cams[0].HasPriorFocalLength);
        var images = db.ReadImages();
        Assert.Equal(RawCount(path, "SELECT count(*) FROM images"), images.Count);
        var first = images[0];
        Assert.Equal(("rightraw/frame_000000001.jpg", 2), (first.Name, first.CameraId));
        Assert.Equal(new[] { 0.9540331248716523, -0.03768128483784883, -0.2972570621910482, -0.0062565444214723875 }, first.PriorRotation);
        Assert.Equal(new[] { 2.7109402281860904, 0.13236653865769618, -2.868626176500939 }, first.PriorTranslation);
        var s = db.Summary();
        Assert.Equal((0, 0L, 0), (s.ImagesWithKeypoints, s.Keypoints, s.MatchedPairs));
        Assert.Empty(db.ListMatchedPairs());
    }

    [Theory]
    [InlineData("database.db", "db/2738.jpg", 1600, 1067, 1920.0, 799.5, 533.0, 0.0)]
    [InlineData("database_v1_1.db", "db/1.jpg", 1600, 1063, 1243.94, 799.5, 531.0, -0.10977)]
    public void ReadsAachenCamerasAndImagesQuickly(string file, string firstImage, int w, int h, double f, double cx, double cy, double k)
    {
        string path = SharedData.Path_("datasets", "formats", "aachen-vlb", file);
        var sw = Stopwatch.StartNew();
        using var db = FeatureDatabase.OpenReadOnly(path);
        var images = db.ReadImages();
        var cameras = db.ReadCameras();
        var byName = images.ToDictionary(i => i.Name);
        double seconds = sw.Elapsed.TotalSeconds;
        Assert.True(seconds < 3, $"reading {images.Count} images and {cameras.Count} cameras took {seconds:F2} s");

        Assert.Equal(RawCount(path, "SELECT count(*) FROM images"), images.Count);
        Assert.Equal(RawCount(path, "SELECT count(*) FROM cameras"), cameras.Count);
        Assert.Equal(RawCount(path, "SELECT max(image_id) FROM images"), images[^1].Id);
        Assert.True(images.Count >= 4328);
        Assert.All(cameras, c => Assert.Same(CameraModel.SimpleRadial, c.Model));
        Assert.Equal(firstImage, images[0].Name);
        var cam = cameras.Single(c => c.Id == images[0].CameraId);
        Assert.Equal((w, h), (cam.Width, cam.Height));
        Assert.Equal(new[] { f, cx, cy, k }, cam.Params);
        var night = images.Where(i => i.Name.StartsWith("query/night/")).ToList();
        Assert.NotEmpty(night);
        Assert.Equal(night[0].Id, db.FindImage(night[0].Name)!.Id);
        Assert.Equal(byName.Count, images.Count);
    }

    /// <summary>COLMAP ≥ 3.10 dropped the pose-prior columns of <c>images</c> (priors moved to a
    /// pose_priors table) and added rigs and frames; such a database reads and takes our tables.</summary>
    [Fact]
    public void ReadsAndExtendsTheNewerColmapLayout()
    {
        var path = Path.Combine(TempDir.Create(), "colmap312.db");
        using (var c = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            c.Open();
            using var cmd = c.CreateCommand();
            cmd.CommandText = """
                CREATE TABLE rigs (rig_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, ref_sensor_id INTEGER NOT NULL, ref_sensor_type INTEGER NOT NULL);
                CREATE TABLE cameras (camera_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, model INTEGER NOT NULL, width INTEGER NOT NULL, height INTEGER NOT NULL, params BLOB, prior_focal_length INTEGER NOT NULL);
                CREATE TABLE frames (frame_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, rig_id INTEGER NOT NULL);
                CREATE TABLE images (image_id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, name TEXT NOT NULL UNIQUE, camera_id INTEGER NOT NULL,
                    CONSTRAINT image_id_check CHECK(image_id >= 0 and image_id < 2147483647), FOREIGN KEY(camera_id) REFERENCES cameras(camera_id));
                CREATE TABLE pose_priors (image_id INTEGER PRIMARY KEY NOT NULL, position BLOB, coordinate_system INTEGER NOT NULL, position_covariance BLOB);
                CREATE TABLE keypoints (image_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB);
                CREATE TABLE descriptors (image_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB);
                CREATE TABLE matches (pair_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB);
                CREATE TABLE two_view_geometries (pair_id INTEGER PRIMARY KEY NOT NULL, rows INTEGER NOT NULL, cols INTEGER NOT NULL, data BLOB,
                    config INTEGER NOT NULL, F BLOB, E BLOB, H BLOB, qvec BLOB, tvec BLOB);
                INSERT INTO cameras VALUES (1, 1, 640, 480, $params, 0);
                INSERT INTO images VALUES (1, 'a.jpg', 1);
                INSERT INTO images VALUES (2, 'b.jpg', 1);
                INSERT INTO keypoints VALUES (1, 1, 2, $kp);
                """;
            cmd.Parameters.AddWithValue("$params", System.Runtime.InteropServices.MemoryMarshal.AsBytes(new[] { 500.0, 501.0, 320.0, 240.0 }.AsSpan()).ToArray());
            cmd.Parameters.AddWithValue("$kp", System.Runtime.InteropServices.MemoryMarshal.AsBytes(new[] { 10.5f, 20.5f }.AsSpan()).ToArray());
            cmd.ExecuteNonQuery();
        }
        using (var db = FeatureDatabase.OpenReadOnly(path))
        {
            Assert.Equal(new[] { "a.jpg", "b.jpg" }, db.ReadImages().Select(i => i.Name));
            Assert.Null(db.FindImage("a.jpg")!.PriorRotation);
            Assert.Equal(new[] { 500.0, 501.0, 319.5, 239.5 }, db.ReadCamera(1)!.Params);
            var kp = db.ReadKeypoints(1)!;
            Assert.Equal((10f, 20f, 1f, 2), (kp.X[0], kp.Y[0], kp.Scale[0], kp.StoredColumns));
        }
        using (var db = FeatureDatabase.Open(path))
        {
            Assert.Equal(3, db.AddImage("c.jpg", 1));
            var e = Assert.Throws<FeatureDatabaseException>(() => db.AddImage(new DatabaseImage(0, "d.jpg", 1, new[] { 1.0, 0, 0, 0 }, new[] { 0.0, 0, 0 })));
            Assert.Contains("pose-prior", e.Message);
            Assert.Equal(FeatureDatabase.SchemaVersion, db.Summary().SchemaVersion);
        }
    }
}
