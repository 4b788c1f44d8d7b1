using R2D2.Localization.Features;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;
using Xunit;
using static R2D2.Localization.Tests.Storage.StorageTestData;

namespace R2D2.Localization.Tests.Storage;

/// <summary>Every table written and read back, and the bytes COLMAP sees checked directly.</summary>
public class FeatureDatabaseRoundTripTests
{
    [Fact]
    public void CameraModelsAreColmaps()
    {
        var expected = new (string Name, int Params)[]
        {
            ("SIMPLE_PINHOLE", 3), ("PINHOLE", 4), ("SIMPLE_RADIAL", 4), ("RADIAL", 5), ("OPENCV", 8), ("OPENCV_FISHEYE", 8),
            ("FULL_OPENCV", 12), ("FOV", 5), ("SIMPLE_RADIAL_FISHEYE", 4), ("RADIAL_FISHEYE", 5), ("THIN_PRISM_FISHEYE", 12),
            ("RAD_TAN_THIN_PRISM_FISHEYE", 16), ("SIMPLE_DIVISION", 4), ("DIVISION", 5), ("SIMPLE_FISHEYE", 3), ("FISHEYE", 4),
            ("EUCM", 6), ("EQUIRECTANGULAR", 2),
        };
        for (int id = 0; id < expected.Length; id++)
        {
            var m = CameraModel.FromId(id);
            Assert.Equal(expected[id].Name, m.Name);
            Assert.Equal(expected[id].Params, m.ParamCount);
            Assert.Same(m, CameraModel.FromName(expected[id].Name.ToLowerInvariant()));
        }
        Assert.Equal((1, 2), CameraModel.SimpleRadial.PrincipalPoint);
        Assert.Equal((2, 3), CameraModel.FullOpenCV.PrincipalPoint);
        Assert.Null(CameraModel.Equirectangular.PrincipalPoint);
        Assert.Throws<ArgumentException>(() => CameraModel.FromName("PINHOLE_XL"));
        Assert.Throws<ArgumentException>(() => CameraModel.FromId(99));
        Assert.Throws<ArgumentException>(() => new Camera(1, CameraModel.Pinhole, 10, 10, new[] { 1.0, 2, 3 }).Validate());
    }

    [Fact]
    public void PairIdsAreColmapsAndOrderFree()
    {
        Assert.Equal(2147483649L, ImagePairs.PairId(1, 2));
        Assert.Equal(2147483649L, ImagePairs.PairId(2, 1));
        Assert.Equal(6442450945L, ImagePairs.PairId(4, 3));
        Assert.Equal((3, 4), ImagePairs.FromPairId(6442450945L));
        Assert.Equal((70000, 2147483646), ImagePairs.FromPairId(ImagePairs.PairId(2147483646, 70000)));
        Assert.True(ImagePairs.IsSwapped(5, 2));
        Assert.Throws<ArgumentException>(() => ImagePairs.PairId(3, 3));
    }

    [Fact]
    public void CamerasAndImagesRoundTripWithColmapsPrincipalPoint()
    {
        var (db, path, _) = NewDatabase(0);
        using (db)
        {
            var cam = new Camera(0, CameraModel.OpenCV, 848, 800, new[] { 284.5, 285.5, 423.855, 393.242, 0.0008, 0.031, -0.03, 0.005 }, HasPriorFocalLength: true);
            int id = db.AddCamera(cam);
            var back = db.ReadCamera(id)!;
            Assert.Equal(id, back.Id);
            Assert.Same(CameraModel.OpenCV, back.Model);
            Assert.Equal((848, 800, true), (back.Width, back.Height, back.HasPriorFocalLength));
            Assert.Equal(cam.Params, back.Params);
            Assert.Equal(id, db.FindCamera(cam));
            Assert.Null(db.FindCamera(cam with { Width = 849 }));
            Assert.Equal(7, db.AddCamera(cam with { Id = 7 }));

            int a = db.AddImage(new DatabaseImage(0, "query/a.jpg", id, new[] { 0.9, 0.1, -0.3, 0.2 }, new[] { 1.5, -2.0, 3.25 }));
            int b = db.AddImage("db/b.jpg", 7);
            Assert.Equal(new DatabaseImage(a, "query/a.jpg", id), db.FindImage("query/a.jpg")! with { PriorRotation = null, PriorTranslation = null });
            Assert.Equal(new[] { 0.9, 0.1, -0.3, 0.2 }, db.FindImage("query/a.jpg")!.PriorRotation);
            Assert.Equal(new[] { 1.5, -2.0, 3.25 }, db.ReadImage(a)!.PriorTranslation);
            Assert.Null(db.ReadImage(b)!.PriorRotation);
            Assert.Null(db.FindImage("nope.jpg"));
            Assert.Equal(new[] { a, b }, db.ReadImages().Select(i => i.Id));
            var dup = Assert.Throws<FeatureDatabaseException>(() => db.AddImage("db/b.jpg", id));
            Assert.Contains(path, dup.Message);
            Assert.Throws<FeatureDatabaseException>(() => db.AddImage("c.jpg", 12345));
        }
        // COLMAP sees its own convention: cx, cy + 0.5; ids, model and flag as COLMAP writes them.
        var raw = RawBlob<double>(path, "SELECT params FROM cameras WHERE camera_id = 2");
        Assert.Equal(new[] { 284.5, 285.5, 424.355, 393.742, 0.0008, 0.031, -0.03, 0.005 }, raw);
        Assert.Equal(4L, RawCount(path, "SELECT model FROM cameras WHERE camera_id = 2"));
        Assert.Equal(1L, RawCount(path, "SELECT prior_focal_length FROM cameras WHERE camera_id = 2"));
        Assert.Equal(0.9, (double)RawScalar(path, "SELECT prior_qw FROM images WHERE name = 'query/a.jpg'")!);
    }

    [Fact]
    public void R2D2FeaturesRoundTripWithinFloat16AndColmapsKeypointConvention()
    {
        var (db, path, ids) = NewDatabase(2);
        var f = RandomFeatures(new Random(3), 500);
        var empty = RandomFeatures(new Random(4), 0);
        using (db)
        {
            Assert.False(db.HasFeatures(ids[0]));
            Assert.Null(db.ReadFeatures(ids[0]));
            db.WriteFeatures(ids[0], f, R2D2Extractor);
            db.WriteFeatures(ids[1], empty, R2D2Extractor);
            Assert.True(db.HasFeatures(ids[0]));
            Assert.Equal(new HashSet<int>(ids), db.ImagesWithFeatures());
            Assert.Equal(R2D2Extractor, db.Extractor);
        }
        using (var db2 = FeatureDatabase.OpenReadOnly(path))
        {
            var g = db2.ReadFeatures(ids[0])!;
            Assert.Equal((f.ImageWidth, f.ImageHeight, f.Count, f.Dim), (g.ImageWidth, g.ImageHeight, g.Count, g.Dim));
            for (int i = 0; i < f.Count; i++)
            {
                Assert.True(Math.Abs(f.X[i] - g.X[i]) <= 2.5e-4 && Math.Abs(f.Y[i] - g.Y[i]) <= 2.5e-4, $"keypoint {i}");
            }
            Assert.Equal(f.Scale, g.Scale);
            Assert.Equal(f.Score, g.Score);
            Assert.Equal(f.Reliability, g.Reliability);
            Assert.Equal(f.Repeatability, g.Repeatability);
            Assert.Equal(f.OfficialX, g.OfficialX);
            Assert.Equal(f.OfficialY, g.OfficialY);
            // float16 keeps 11 significant bits: |error| ≤ 2⁻¹² for values in [−1, 1].
            double maxErr = f.Descriptors.Zip(g.Descriptors, (a, b) => Math.Abs(a - b)).Max();
            Assert.InRange(maxErr, 1e-6, 1.0 / 4096);
            Assert.Equal(0, db2.ReadFeatures(ids[1])!.Count);
            var s = db2.Summary();
            Assert.Equal((2, 2, 500L), (s.ImagesWithFeatures, s.ImagesWithKeypoints, s.Keypoints));
            Assert.Equal(FeatureDatabase.SchemaVersion, s.SchemaVersion);
        }
        // What COLMAP reads: 4 columns, x + 0.5, y + 0.5, the scale, orientation 0; no uint8 descriptors.
        Assert.Equal(4L, RawCount(path, $"SELECT cols FROM keypoints WHERE image_id = {ids[0]}"));
        var kp = RawBlob<float>(path, $"SELECT data FROM keypoints WHERE image_id = {ids[0]}");
        Assert.Equal(500 * 4, kp.Length);
        Assert.Equal(new[] { (float)(f.X[7] + 0.5), (float)(f.Y[7] + 0.5), f.Scale[7], 0f }, kp.AsSpan(28, 4).ToArray());
        // Scores that are not reliability × repeatability are stored as they are.
        Assert.Equal(500L * 4, RawCount(path, $"SELECT length(scores) FROM r2d2_features WHERE image_id = {ids[0]}"));
        Assert.Equal(0L, RawCount(path, "SELECT count(*) FROM descriptors"));
        Assert.Equal(500L * 128 * 2, RawCount(path, $"SELECT length(descriptors) FROM r2d2_features WHERE image_id = {ids[0]}"));
    }

    [Fact]
    public void ScoresThatAreReliabilityTimesRepeatabilityAreRecomputedNotStored()
    {
        var (db, path, ids) = NewDatabase(1);
        var f = WithDerivedScores(RandomFeatures(new Random(7), 300));
        using (db) db.WriteFeatures(ids[0], f, R2D2Extractor);
        Assert.IsType<DBNull>(RawScalar(path, $"SELECT scores FROM r2d2_features WHERE image_id = {ids[0]}"));
        using (var ro = FeatureDatabase.OpenReadOnly(path))
        {
            var g = ro.ReadFeatures(ids[0])!;
            Assert.Equal(f.Score, g.Score); // to the bit: the same float32 product
            Assert.Equal(f.Reliability, g.Reliability);
            Assert.Equal(f.Repeatability, g.Repeatability);
        }
        // Per keypoint beyond the descriptors: 16 bytes of keypoints, 8 of reliability and
        // repeatability, 8 of official coordinates (schema 1: 24 + 12 + 8).
        Assert.Equal(300L * 16, RawCount(path, $"SELECT length(data) FROM keypoints WHERE image_id = {ids[0]}"));
        Assert.Equal(300L * 16, RawCount(path, $"SELECT length(reliability) + length(repeatability) + length(official_xy) FROM r2d2_features WHERE image_id = {ids[0]}"));
    }

    [Fact]
    public void SchemaOneDatabasesReadAsBeforeAndAreMarkedTwoOnceWrittenTo()
    {
        var (db, path, ids) = NewDatabase(2);
        var f = WithDerivedScores(RandomFeatures(new Random(8), 200));
        var f2 = RandomFeatures(new Random(9), 100);
        using (db) db.WriteFeatures(ids[0], f, R2D2Extractor);
        // Rewrite the row as schema 1 stored it: 6 keypoint columns (x, y, a11, a12, a21, a22), scores always.
        var kp4 = RawBlob<float>(path, $"SELECT data FROM keypoints WHERE image_id = {ids[0]}");
        var kp6 = new float[200 * 6];
        for (int i = 0; i < 200; i++) { kp6[6 * i] = kp4[4 * i]; kp6[6 * i + 1] = kp4[4 * i + 1]; kp6[6 * i + 2] = kp6[6 * i + 5] = kp4[4 * i + 2]; }
        RawExecute(path, $"UPDATE keypoints SET cols = 6, data = $a WHERE image_id = {ids[0]}", Bytes(kp6));
        RawExecute(path, $"UPDATE r2d2_features SET scores = $a WHERE image_id = {ids[0]}", Bytes(f.Score));
        RawExecute(path, "UPDATE r2d2_meta SET value = '1' WHERE key = 'schema_version'");
        using (var ro = FeatureDatabase.OpenReadOnly(path))
        {
            Assert.Equal(1, ro.Summary().SchemaVersion);
            var g = ro.ReadFeatures(ids[0])!;
            Assert.Equal(f.Scale, g.Scale);
            Assert.Equal(f.Score, g.Score);
            Assert.Equal(6, ro.ReadKeypoints(ids[0])!.StoredColumns);
            Assert.Equal(new float[200], ro.ReadKeypoints(ids[0])!.Orientation);
        }
        // Writing schema-2 rows into a schema-1 file marks it 2, so an older build refuses it by name
        // instead of misreading the rows; its schema-1 rows still read.
        using (var rw = FeatureDatabase.Open(path))
        {
            Assert.Equal(1, rw.Summary().SchemaVersion);
            rw.WriteFeatures(ids[1], f2, R2D2Extractor);
            Assert.Equal(2, rw.Summary().SchemaVersion);
            Assert.Equal(f.Score, rw.ReadFeatures(ids[0])!.Score);
            Assert.Equal(f2.Score, rw.ReadFeatures(ids[1])!.Score);
        }
        RawExecute(path, "UPDATE r2d2_meta SET value = '3' WHERE key = 'schema_version'");
        Assert.Contains("newer R2D2.Localization (schema 3", Assert.Throws<FeatureDatabaseException>(() => FeatureDatabase.OpenReadOnly(path)).Message);
    }

    [Fact]
    public void MergingSchemaTwoRowsIntoASchemaOneDatabaseMarksItTwo()
    {
        var (older, olderPath, _) = NewDatabase(0);
        older.Dispose();
        RawExecute(olderPath, "UPDATE r2d2_meta SET value = '1' WHERE key = 'schema_version'");
        var (source, _, ids) = NewDatabase(1);
        using (source)
        {
            source.WriteFeatures(ids[0], WithDerivedScores(RandomFeatures(new Random(10), 50)), R2D2Extractor);
            using var target = FeatureDatabase.Open(olderPath);
            target.MergeFrom(source, Array.Empty<string>());
            Assert.Equal(2, target.Summary().SchemaVersion);
            Assert.Equal(source.ReadFeatures(ids[0])!.Score, target.ReadFeatures(ids[0])!.Score);
        }
    }

    [Fact]
    public void SomeRowsReadAsReadFeaturesGivesThem()
    {
        var (db, path, ids) = NewDatabase(3);
        var f = RandomFeatures(new Random(11), 150);
        var sift = RandomFeatures(new Random(12), 80, nonNegative: true);
        int[] rows = { 149, 0, 7, 7, 64 };
        using (db)
        {
            db.WriteFeatures(ids[0], f, R2D2Extractor);
            var g = db.ReadFeatures(ids[0])!;
            Assert.Equal(150, db.FeatureCount(ids[0]));
            Assert.Null(db.FeatureCount(ids[1]));
            Assert.Null(db.ReadDescriptorRows(ids[1], rows, out _));
            Assert.False(db.ReadKeypointPixels(ids[1], rows, new float[5], new float[5]));
            var d = db.ReadDescriptorRows(ids[0], rows, out int dim)!;
            Assert.Equal(128, dim);
            for (int i = 0; i < rows.Length; i++) Assert.Equal(g.Descriptor(rows[i]).ToArray(), d.AsSpan(i * dim, dim).ToArray());
            var (x, y) = (new float[5], new float[5]);
            Assert.True(db.ReadKeypointPixels(ids[0], rows, x, y));
            Assert.Equal(rows.Select(k => g.X[k]), x);
            Assert.Equal(rows.Select(k => g.Y[k]), y);
            Assert.Throws<FeatureDatabaseException>(() => db.ReadDescriptorRows(ids[0], new[] { 150 }, out _));
            Assert.Throws<FeatureDatabaseException>(() => db.ReadKeypointPixels(ids[0], new[] { -1 }, new float[1], new float[1]));
        }
        // RootSIFT (COLMAP's uint8 rows) in a database of its own, and schema 1's 6-column keypoints.
        var (db2, path2, ids2) = NewDatabase(1);
        using (db2) db2.WriteFeatures(ids2[0], sift, ExtractorIdentity.ForRootSift("{\"root\":true}"));
        var kp4 = RawBlob<float>(path2, $"SELECT data FROM keypoints WHERE image_id = {ids2[0]}");
        var kp6 = new float[80 * 6];
        for (int i = 0; i < 80; i++) { kp6[6 * i] = kp4[4 * i]; kp6[6 * i + 1] = kp4[4 * i + 1]; kp6[6 * i + 2] = kp6[6 * i + 5] = kp4[4 * i + 2]; }
        RawExecute(path2, $"UPDATE keypoints SET cols = 6, data = $a WHERE image_id = {ids2[0]}", Bytes(kp6));
        using var ro = FeatureDatabase.OpenReadOnly(path2);
        var h = ro.ReadFeatures(ids2[0])!;
        int[] some = { 79, 3 };
        var hd = ro.ReadDescriptorRows(ids2[0], some, out int hdim)!;
        Assert.Equal(h.Descriptor(79).ToArray(), hd.AsSpan(0, hdim).ToArray());
        Assert.Equal(h.Descriptor(3).ToArray(), hd.AsSpan(hdim, hdim).ToArray());
        var (sx, sy) = (new float[2], new float[2]);
        Assert.True(ro.ReadKeypointPixels(ids2[0], some, sx, sy));
        Assert.Equal(new[] { h.X[79], h.X[3] }, sx);
        Assert.Equal(new[] { h.Y[79], h.Y[3] }, sy);
    }

    private static FeatureSet WithDerivedScores(FeatureSet f) => new()
    {
        ImageWidth = f.ImageWidth, ImageHeight = f.ImageHeight, X = f.X, Y = f.Y, OfficialX = f.OfficialX, OfficialY = f.OfficialY,
        Scale = f.Scale, Reliability = f.Reliability, Repeatability = f.Repeatability,
        Score = f.Reliability.Zip(f.Repeatability, (a, b) => a * b).ToArray(), Descriptors = f.Descriptors, Dim = f.Dim,
    };

    private static byte[] Bytes(float[] v) => System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray();

    [Fact]
    public void RootSiftDescriptorsGoToColmapsUint8Table()
    {
        var (db, path, ids) = NewDatabase(1);
        var f = RandomFeatures(new Random(5), 200, nonNegative: true);
        using (db)
        {
            db.WriteFeatures(ids[0], f, ExtractorIdentity.ForRootSift("{\"root\":true}"));
            var g = db.ReadFeatures(ids[0])!;
            double maxErr = f.Descriptors.Zip(g.Descriptors, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(maxErr < 0.01, $"max error {maxErr}");
            var cd = db.ReadColmapDescriptors(ids[0])!;
            Assert.Equal((200, 128), (cd.Count, cd.Dim));
            Assert.Throws<ArgumentException>(() => db.WriteFeatures(ids[0], RandomFeatures(new Random(6), 5), ExtractorIdentity.ForRootSift("{\"root\":true}")));
        }
        var raw = (byte[])RawScalar(path, $"SELECT data FROM descriptors WHERE image_id = {ids[0]}")!;
        Assert.Equal((byte)Math.Min(255, Math.Round(512 * f.Descriptors[17])), raw[17]);
        Assert.Equal(128L, RawCount(path, $"SELECT cols FROM descriptors WHERE image_id = {ids[0]}"));
    }

    [Fact]
    public void MatchesRoundTripAndSwapColumnsWhenTheFirstIdIsLarger()
    {
        var (db, path, ids) = NewDatabase(3);
        var m12 = new List<Match> { new(0, 5, 0.9f), new(3, 1, 0.8f), new(7, 7, 0.75f) };
        var m32 = new List<Match> { new(10, 20, 0.5f), new(11, 0, 0.6f) };
        using (db)
        {
            db.WriteMatches(ids[0], ids[1], m12);
            db.WriteMatches(ids[2], ids[1], m32);
            db.WriteMatches(ids[0], ids[2], new List<Match>());
            Assert.Equal(m12, db.ReadMatches(ids[0], ids[1]));
            Assert.Equal(m32, db.ReadMatches(ids[2], ids[1]));
            Assert.Equal(m32.Select(m => new Match(m.J, m.I, m.Similarity)), db.ReadMatches(ids[1], ids[2])!);
            Assert.True(db.HasMatches(ids[1], ids[0]));
            Assert.False(db.HasMatches(ids[1], 99));
            Assert.Null(db.ReadMatches(ids[1], 99));
            Assert.Empty(db.ReadMatches(ids[2], ids[0])!);
            Assert.Equal(new[] { new PairCount(ids[0], ids[1], 3), new PairCount(ids[0], ids[2], 0), new PairCount(ids[1], ids[2], 2) }, db.ListMatchedPairs());
            var s = db.Summary();
            Assert.Equal((2, 5L), (s.MatchedPairs, s.Matches));
        }
        long pair = ImagePairs.PairId(ids[1], ids[2]);
        Assert.Equal(2147483647L * ids[1] + ids[2], pair);
        Assert.Equal(new uint[] { 20, 10, 0, 11 }, RawBlob<uint>(path, $"SELECT data FROM matches WHERE pair_id = {pair}"));
        Assert.Equal(new uint[] { 0, 5, 3, 1, 7, 7 }, RawBlob<uint>(path, $"SELECT data FROM matches WHERE pair_id = {ImagePairs.PairId(ids[0], ids[1])}"));
        Assert.Equal(2L, RawCount(path, $"SELECT cols FROM matches WHERE pair_id = {pair}"));
    }

    /// <summary>Reads in one <see cref="FeatureDatabase.ReadConsistent"/> see one snapshot: a pair
    /// another connection writes between them is not seen (triangulation reads the matches twice
    /// and stopped when they differed), and is seen after.</summary>
    [Fact]
    public void ReadsInOneSnapshotDoNotSeeAnotherWriter()
    {
        var (db, path, ids) = NewDatabase(3);
        using (db)
        {
            var g = new TwoViewGeometry(TwoViewConfiguration.Calibrated, new List<Match> { new(1, 2, float.NaN) });
            db.WriteTwoViewGeometry(ids[0], ids[1], g);
            using var other = FeatureDatabase.Open(path);
            var (first, second) = db.ReadConsistent(() =>
            {
                var a = db.ListGeometryPairs();
                other.WriteTwoViewGeometry(ids[1], ids[2], g);
                return (a, db.ListGeometryPairs());
            });
            Assert.Equal(first, second);
            Assert.Single(second);
            Assert.Equal(2, db.ListGeometryPairs().Count);
        }
    }

    [Fact]
    public void TwoViewGeometriesRoundTripAndInvertWhenSwapped()
    {
        var (db, path, ids) = NewDatabase(2);
        var h = new[] { 1.1, 0.02, 30.0, -0.01, 0.95, -12.0, 1e-5, -2e-5, 1.0 };
        var f = new[] { 1e-7, -3e-6, 2e-3, 4e-6, 2e-7, -5e-3, -1e-3, 6e-3, 1.0 };
        var e = new[] { 0.0, -0.3, 0.1, 0.25, 0.0, -0.9, -0.05, 0.95, 0.0 };
        var q = new[] { Math.Cos(0.2), 0.0, Math.Sin(0.2), 0.0 };
        var t = new[] { 0.9, 0.1, -0.2 };
        var inliers = new List<Match> { new(4, 2, float.NaN), new(9, 1, float.NaN) };
        var g = new TwoViewGeometry(TwoViewConfiguration.Calibrated, inliers, f, e, h, q, t);
        using (db)
        {
            // Stored under (2, 1): everything is inverted on the way in and back on the way out.
            db.WriteTwoViewGeometry(ids[1], ids[0], g);
            var back = db.ReadTwoViewGeometry(ids[1], ids[0])!;
            Assert.Equal(TwoViewConfiguration.Calibrated, back.Config);
            Assert.Equal(inliers.Select(m => (m.I, m.J)), back.Inliers.Select(m => (m.I, m.J)));
            AssertClose(f, back.F!, 1e-12);
            AssertClose(e, back.E!, 1e-12);
            AssertClose(h, back.H!, 1e-9);
            AssertClose(q, back.Rotation!, 1e-12);
            AssertClose(t, back.Translation!, 1e-12);

            // Asked in the stored order, it is the inverse: Fᵀ, Eᵀ, H⁻¹, the inverse pose.
            var fwd = db.ReadTwoViewGeometry(ids[0], ids[1])!;
            Assert.Equal(inliers.Select(m => (m.J, m.I)), fwd.Inliers.Select(m => (m.I, m.J)));
            AssertClose(new[] { f[0], f[3], f[6], f[1], f[4], f[7], f[2], f[5], f[8] }, fwd.F!, 1e-12);
            AssertClose(new[] { 1.0, 0, 0, 0, 1, 0, 0, 0, 1 }, Homography.Multiply(h, fwd.H!), 1e-9);
            AssertClose(new[] { q[0], -q[1], -q[2], -q[3] }, fwd.Rotation!, 1e-12);
            // x2 = R·x1 + t inverts to x1 = Rᵀ·x2 − Rᵀ·t.
            double c = Math.Cos(0.4), s = Math.Sin(0.4); // R is a rotation by 0.4 rad about y
            AssertClose(new[] { -(c * t[0] - s * t[2]), -t[1], -(s * t[0] + c * t[2]) }, fwd.Translation!, 1e-12);
            Assert.Equal(new[] { new PairCount(ids[0], ids[1], 2) }, db.ListGeometryPairs());
            Assert.True(db.HasTwoViewGeometry(ids[0], ids[1]));

            // A quaternion of huge components (its plain norm overflows) inverts as its unit one; a
            // singular H ("not estimated") as zeros.
            db.WriteTwoViewGeometry(ids[1], ids[0], g with { Rotation = q.Select(v => v * 1e200).ToArray(), H = new double[9] });
            fwd = db.ReadTwoViewGeometry(ids[0], ids[1])!;
            AssertClose(new[] { q[0], -q[1], -q[2], -q[3] }, fwd.Rotation!, 1e-12);
            AssertClose(new[] { -(c * t[0] - s * t[2]), -t[1], -(s * t[0] + c * t[2]) }, fwd.Translation!, 1e-12);
            Assert.Equal(new double[9], fwd.H);

            // An unverified pair: COLMAP writes empty blobs, which read as null.
            db.WriteTwoViewGeometry(ids[0], ids[1], new TwoViewGeometry(TwoViewConfiguration.Degenerate, new List<Match>()));
            var none = db.ReadTwoViewGeometry(ids[0], ids[1])!;
            Assert.Equal(TwoViewConfiguration.Degenerate, none.Config);
            Assert.Null(none.F); Assert.Null(none.H); Assert.Null(none.Rotation);
            Assert.Equal(0, db.Summary().VerifiedPairs);
        }
    }

    [Fact]
    public void FundamentalAndHomographyAreStoredInColmapsPixelConvention()
    {
        var (db, path, ids) = NewDatabase(2);
        var h = new[] { 1.1, 0.02, 30.0, -0.01, 0.95, -12.0, 1e-5, -2e-5, 1.0 };
        var f = new[] { 1e-7, -3e-6, 2e-3, 4e-6, 2e-7, -5e-3, -1e-3, 6e-3, 1.0 };
        using (db) db.WriteTwoViewGeometry(ids[0], ids[1], new TwoViewGeometry(TwoViewConfiguration.Uncalibrated, new List<Match> { new(0, 0, 1) }, f, null, h));
        var pair = ImagePairs.PairId(ids[0], ids[1]);
        var hc = RawBlob<double>(path, $"SELECT H FROM two_view_geometries WHERE pair_id = {pair}");
        var fc = RawBlob<double>(path, $"SELECT F FROM two_view_geometries WHERE pair_id = {pair}");
        Assert.Equal(3L, RawCount(path, $"SELECT config FROM two_view_geometries WHERE pair_id = {pair}"));
        // A point x (ours) maps to H·x; in COLMAP's convention x + 0.5 maps to H·x + 0.5.
        var (u, v) = Homography.Apply(h, 100, 200);
        var (uc, vc) = Homography.Apply(hc, 100.5, 200.5);
        Assert.Equal(u + 0.5, uc, 9);
        Assert.Equal(v + 0.5, vc, 9);
        // x2ᵀ·F·x1 is the same number in both conventions.
        double Epi(double[] m, double x1, double y1, double x2, double y2) =>
            x2 * (m[0] * x1 + m[1] * y1 + m[2]) + y2 * (m[3] * x1 + m[4] * y1 + m[5]) + (m[6] * x1 + m[7] * y1 + m[8]);
        Assert.Equal(Epi(f, 321, 123, 40, 600), Epi(fc, 321.5, 123.5, 40.5, 600.5), 9);
    }

    private static void AssertClose(double[] expected, double[] actual, double tol)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, Math.Abs(expected[i])), $"[{i}] expected {expected[i]}, got {actual[i]}");
    }
}
