using R2D2.Localization.Geometry;

namespace R2D2.Localization.Storage;

// Features of an image: COLMAP's keypoints row (x, y, scale, orientation, in COLMAP's pixel
// convention), the descriptors (R2D2: float16 in r2d2_features; RootSIFT: uint8 in COLMAP's
// descriptors table, as COLMAP stores SIFT), and the per-keypoint extras.
public sealed partial class FeatureDatabase
{
    /// <summary>x, y, scale, orientation: COLMAP's 4-column keypoints (COLMAP reads 2, 4 or 6
    /// columns). Schema 1 wrote 6 (x, y and the isotropic shape a11 = a22 = scale, a12 = a21 = 0),
    /// which carries nothing more for upright keypoints and costs 8 bytes a keypoint; both read alike.</summary>
    private const int KeypointColumns = 4;

    /// <summary>COLMAP quantizes L2-normalized SIFT descriptors as min(255, round(512·v)).</summary>
    private const float ColmapDescriptorScale = 512f;

    /// <summary>The extractor whose features the database holds (null before the first write).</summary>
    public ExtractorIdentity? Extractor => _hasProjectTables ? ReadExtractor() : null;

    private ExtractorIdentity? ReadExtractor()
    {
        var meta = Rows("SELECT key, value FROM r2d2_meta", r => (r.GetString(0), r.GetString(1))).ToDictionary(kv => kv.Item1, kv => kv.Item2);
        if (!meta.TryGetValue("feature_type", out var type)) return null;
        string Get(string key) => meta.TryGetValue(key, out var v) ? v : "";
        return new ExtractorIdentity(type, Get("model"), Get("net"), Get("weights_hash"), Get("settings"),
            int.TryParse(Get("descriptor_dim"), out var dim) ? dim : 0);
    }

    /// <summary>
    /// Records the extractor of this database's features, or checks that it is the one already
    /// recorded; throws a <see cref="FeatureDatabaseException"/> naming the file when another
    /// model or other settings produced the stored features. Call it before a long extraction run
    /// to fail early; <see cref="WriteFeatures"/> calls it too.
    /// </summary>
    public void UseExtractor(ExtractorIdentity extractor)
    {
        extractor.Validate();
        InTransaction(() =>
        {
            if (CheckExtractor(extractor)) return 0;
            if (Long("SELECT count(*) FROM keypoints") > 0)
                throw new FeatureDatabaseException(Path, "holds keypoints of an unrecorded extractor (a COLMAP database with features); refusing to mix features");
            foreach (var (key, value) in new[]
            {
                ("feature_type", extractor.FeatureType), ("model", extractor.Model), ("net", extractor.Net),
                ("weights_hash", extractor.WeightsHash), ("settings", extractor.Settings),
                ("descriptor_dim", extractor.DescriptorDim.ToString()),
                ("descriptor_storage", extractor.UsesColmapDescriptors
                    ? "descriptors: uint8, min(255, round(512*v)) of the L2-normalized descriptor, as COLMAP stores SIFT"
                    : "r2d2_features.descriptors: float16, rows x dim, L2-normalized"),
            })
                Execute("INSERT OR REPLACE INTO r2d2_meta(key, value) VALUES ($k, $v)", ("$k", key), ("$v", value));
            return 0;
        });
    }

    /// <summary>Throws a <see cref="FeatureDatabaseException"/> when the database holds features of
    /// another extractor, naming what differs; writes nothing. True when it records this extractor,
    /// false when it records none yet or another but holds no features.</summary>
    public bool CheckExtractor(ExtractorIdentity extractor)
    {
        var stored = Extractor;
        if (stored == null) return false;
        var diff = stored.Differences(extractor);
        // Nothing extracted yet (a first run that failed on its first image, e.g. with sizes that
        // fit no pyramid level): the record is replaced, there is nothing to mix with.
        if (diff.Count > 0 && Scalar("SELECT 1 FROM r2d2_features LIMIT 1") == null && Scalar("SELECT 1 FROM keypoints LIMIT 1") == null) return false;
        if (diff.Count > 0)
            throw new FeatureDatabaseException(Path, $"holds features of {stored.Name}; refusing features that differ ({string.Join("; ", diff)}). "
                + "Use another database, or the model and settings its features were extracted with.");
        return true;
    }

    /// <summary>
    /// Writes (or replaces) the features of an image in one transaction: COLMAP's keypoints row,
    /// the descriptors and the per-keypoint extras. Replacing features leaves the image's stored
    /// matches pointing at the old keypoints; delete or rewrite them too.
    /// </summary>
    /// <param name="notes">notes written in the same transaction (the image file's hash: features
    /// never stored without the record of the file they came from).</param>
    public void WriteFeatures(int imageId, FeatureSet features, ExtractorIdentity extractor, IReadOnlyDictionary<string, string>? notes = null)
    {
        Check(features, extractor);
        int n = features.Count;
        var kp = new float[n * KeypointColumns];
        for (int i = 0; i < n; i++)
        {
            var row = kp.AsSpan(i * KeypointColumns, KeypointColumns);
            row[0] = ColmapConvention.ToColmap(features.X[i]);
            row[1] = ColmapConvention.ToColmap(features.Y[i]);
            row[2] = features.Scale[i];
            row[3] = 0; // orientation: R2D2 and RootSIFT keypoints are upright
        }
        byte[]? official = null;
        if (features.OfficialX.Length == n && features.OfficialY.Length == n)
        {
            var xy = new float[2 * n];
            for (int i = 0; i < n; i++) { xy[2 * i] = features.OfficialX[i]; xy[2 * i + 1] = features.OfficialY[i]; }
            official = Blobs.Of<float>(xy);
        }

        InTransaction(() =>
        {
            if (Scalar("SELECT 1 FROM images WHERE image_id = $id", ("$id", imageId)) == null)
                throw new FeatureDatabaseException(Path, $"has no image {imageId}; add the image before its features");
            UseExtractor(extractor);
            RequireSchemaVersion(SchemaVersion); // this row's layout (derived scores) needs a reader of this schema
            Execute("INSERT OR REPLACE INTO keypoints(image_id, rows, cols, data) VALUES ($id, $r, $c, $d)",
                ("$id", imageId), ("$r", n), ("$c", KeypointColumns), ("$d", Blobs.Of<float>(kp)));
            byte[]? ours = null;
            if (extractor.UsesColmapDescriptors)
                Execute("INSERT OR REPLACE INTO descriptors(image_id, rows, cols, data) VALUES ($id, $r, $c, $d)",
                    ("$id", imageId), ("$r", n), ("$c", features.Dim), ("$d", QuantizeForColmap(features.Descriptors)));
            else
            {
                // COLMAP's table only holds uint8 (SIFT-like, non-negative) descriptors; R2D2's are
                // signed and COLMAP never needs them (it maps from our matches), so it gets no row.
                Execute("DELETE FROM descriptors WHERE image_id = $id", ("$id", imageId));
                ours = Blobs.Float16(features.Descriptors);
            }
            Execute("INSERT OR REPLACE INTO r2d2_features(image_id, image_width, image_height, rows, dim, descriptors, scores, reliability, repeatability, official_xy) " +
                    "VALUES ($id, $w, $h, $r, $dim, $d, $s, $rel, $rep, $o)",
                ("$id", imageId), ("$w", features.ImageWidth), ("$h", features.ImageHeight), ("$r", n), ("$dim", features.Dim),
                ("$d", ours), ("$s", ScoresUnlessDerived(features)), ("$rel", Blobs.Of<float>(features.Reliability)),
                ("$rep", Blobs.Of<float>(features.Repeatability)), ("$o", official));
            foreach (var (key, value) in notes ?? new Dictionary<string, string>())
                WriteNote(key, value);
            return 0;
        });
    }

    /// <summary>The scores' blob, or null when every score is reliability × repeatability in float32
    /// to the bit (R2D2's definition, so its scores cost nothing): the reader recomputes them.</summary>
    private static byte[]? ScoresUnlessDerived(FeatureSet f)
    {
        for (int i = 0; i < f.Count; i++)
            if (BitConverter.SingleToInt32Bits(f.Score[i]) != BitConverter.SingleToInt32Bits(f.Reliability[i] * f.Repeatability[i]))
                return Blobs.Of<float>(f.Score);
        return f.Count == 0 ? Blobs.Of<float>(f.Score) : null;
    }

    /// <summary>Scores read back: the stored ones, or reliability × repeatability where none are stored.</summary>
    private static float[] ScoresOf(float[] stored, float[] reliability, float[] repeatability)
    {
        if (stored.Length > 0 || reliability.Length != repeatability.Length) return stored;
        var s = new float[reliability.Length];
        for (int i = 0; i < s.Length; i++) s[i] = reliability[i] * repeatability[i];
        return s;
    }

    private static void Check(FeatureSet f, ExtractorIdentity extractor)
    {
        int n = f.Count;
        if (f.Dim != extractor.DescriptorDim)
            throw new ArgumentException($"features have {f.Dim}-dimensional descriptors, the extractor {extractor.DescriptorDim}");
        foreach (var (name, a) in new[] { ("Y", f.Y), ("Scale", f.Scale), ("Score", f.Score), ("Reliability", f.Reliability), ("Repeatability", f.Repeatability) })
            if (a.Length != n) throw new ArgumentException($"features: {name} has {a.Length} values for {n} keypoints");
        if ((long)n * f.Dim != f.Descriptors.Length)
            throw new ArgumentException($"features: {f.Descriptors.Length} descriptor values for {n}×{f.Dim}");
    }

    private static byte[] QuantizeForColmap(float[] descriptors)
    {
        var q = new byte[descriptors.Length];
        for (int i = 0; i < q.Length; i++)
        {
            float v = descriptors[i];
            if (v < 0 || float.IsNaN(v)) throw new ArgumentException("COLMAP's uint8 descriptors need non-negative values (RootSIFT); got " + v);
            q[i] = (byte)Math.Min(255f, MathF.Round(ColmapDescriptorScale * v));
        }
        return q;
    }

    /// <summary>True when the image's features were written by <see cref="WriteFeatures"/> (whole:
    /// the extras row is written in the same transaction as the keypoints).</summary>
    public bool HasFeatures(int imageId) =>
        _hasProjectTables && Scalar("SELECT 1 FROM r2d2_features WHERE image_id = $id", ("$id", imageId)) != null;

    /// <summary>The number of keypoints of an image's features (<see cref="ReadFeatures"/>' Count), or null when it has none.</summary>
    public int? FeatureCount(int imageId) =>
        _hasProjectTables && Scalar("SELECT rows FROM r2d2_features WHERE image_id = $id", ("$id", imageId)) is { } n ? Convert.ToInt32(n) : null;

    /// <summary>Each image with features: its number of keypoints and the descriptors' dimension, without reading them.</summary>
    public Dictionary<int, (int Count, int Dim)> FeatureShapes() =>
        _hasProjectTables ? Rows("SELECT image_id, rows, dim FROM r2d2_features", r => (Id: r.GetInt32(0), Shape: (r.GetInt32(1), r.GetInt32(2)))).ToDictionary(x => x.Id, x => x.Shape)
            : new Dictionary<int, (int, int)>();

    /// <summary>Ids of the images with features, for resuming a run.</summary>
    public HashSet<int> ImagesWithFeatures() =>
        _hasProjectTables ? Rows("SELECT image_id FROM r2d2_features", r => r.GetInt32(0)).ToHashSet() : new HashSet<int>();

    /// <summary>The features written by <see cref="WriteFeatures"/>, or null. Descriptors come back
    /// within float16 precision (R2D2) or COLMAP's 1/512 quantization, re-normalized (RootSIFT).</summary>
    public FeatureSet? ReadFeatures(int imageId)
    {
        if (!_hasProjectTables) return null;
        var rows = Rows("SELECT image_width, image_height, rows, dim, descriptors, scores, reliability, repeatability, official_xy FROM r2d2_features WHERE image_id = $id",
            r => (W: r.GetInt32(0), H: r.GetInt32(1), N: r.GetInt32(2), Dim: r.GetInt32(3), Desc: Blob(r, 4),
                Score: Blobs.To<float>(Blob(r, 5)), Rel: Blobs.To<float>(Blob(r, 6)), Rep: Blobs.To<float>(Blob(r, 7)), Official: Blobs.To<float>(Blob(r, 8))),
            ("$id", imageId));
        if (rows.Count == 0) return null;
        var row = rows[0];
        row.Score = ScoresOf(row.Score, row.Rel, row.Rep);
        var kp = ReadKeypoints(imageId) ?? throw new FeatureDatabaseException(Path, $"image {imageId} has features but no keypoints row");
        float[] desc;
        if (row.Desc != null) desc = Blobs.FromFloat16(row.Desc);
        else
        {
            var cd = ReadColmapDescriptors(imageId) ?? throw new FeatureDatabaseException(Path, $"image {imageId} has features but no descriptors");
            desc = Dequantize(cd);
        }
        int n = row.N;
        if (kp.Count != n || desc.Length != (long)n * row.Dim || row.Score.Length != n || row.Rel.Length != n || row.Rep.Length != n)
            throw new FeatureDatabaseException(Path, $"image {imageId}: feature rows disagree ({kp.Count} keypoints, {n} extras, {desc.Length} descriptor values)");
        bool hasOfficial = row.Official.Length == 2 * n;
        return new FeatureSet
        {
            ImageWidth = row.W, ImageHeight = row.H,
            X = kp.X, Y = kp.Y,
            OfficialX = hasOfficial ? Enumerable.Range(0, n).Select(i => row.Official[2 * i]).ToArray() : new float[n],
            OfficialY = hasOfficial ? Enumerable.Range(0, n).Select(i => row.Official[2 * i + 1]).ToArray() : new float[n],
            Scale = kp.Scale, Score = row.Score, Reliability = row.Rel, Repeatability = row.Rep,
            Descriptors = desc, Dim = row.Dim,
        };
    }

    private static float[] Dequantize(ColmapDescriptors d)
    {
        var f = new float[d.Data.Length];
        for (int i = 0; i < d.Count; i++)
        {
            double norm = 0;
            for (int k = 0; k < d.Dim; k++) norm += (double)d.Data[i * d.Dim + k] * d.Data[i * d.Dim + k];
            float inv = norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0;
            for (int k = 0; k < d.Dim; k++) f[i * d.Dim + k] = d.Data[i * d.Dim + k] * inv;
        }
        return f;
    }

    /// <summary>COLMAP's keypoints of an image (any COLMAP database), in the project's pixel convention; null when absent.</summary>
    public Keypoints? ReadKeypoints(int imageId)
    {
        var row = Rows("SELECT rows, cols, data FROM keypoints WHERE image_id = $id",
            r => (Rows: r.GetInt32(0), Cols: r.GetInt32(1), Data: Blobs.To<float>(Blob(r, 2))), ("$id", imageId));
        if (row.Count == 0) return null;
        var (n, cols, data) = row[0];
        if (cols != 2 && cols != 4 && cols != 6)
            throw new FeatureDatabaseException(Path, $"image {imageId}: keypoints have {cols} columns (COLMAP writes 2, 4 or 6)");
        if (data.Length != n * cols)
            throw new FeatureDatabaseException(Path, $"image {imageId}: keypoint blob holds {data.Length} values for {n}×{cols}");
        var x = new float[n]; var y = new float[n]; var scale = new float[n]; var angle = new float[n];
        for (int i = 0; i < n; i++)
        {
            var k = data.AsSpan(i * cols, cols);
            x[i] = ColmapConvention.FromColmap(k[0]);
            y[i] = ColmapConvention.FromColmap(k[1]);
            switch (cols)
            {
                case 2: scale[i] = 1; break;
                case 4: scale[i] = k[2]; angle[i] = k[3]; break;
                default:
                    // COLMAP's FeatureKeypoint: scale = mean norm of the shape's columns, orientation = atan2(a21, a11).
                    if (k[3] == 0 && k[4] == 0) scale[i] = 0.5f * (MathF.Abs(k[2]) + MathF.Abs(k[5])); // exact for ours
                    else scale[i] = 0.5f * (MathF.Sqrt(k[2] * k[2] + k[4] * k[4]) + MathF.Sqrt(k[3] * k[3] + k[5] * k[5]));
                    angle[i] = MathF.Atan2(k[4], k[2]);
                    break;
            }
        }
        return new Keypoints(x, y, scale, angle, cols);
    }

    /// <summary>
    /// The pixels (project convention) of some of an image's keypoints, read from the stored row
    /// without decoding the others (no array per keypoint of the image); false when the image has
    /// no keypoints. Throws when an index is beyond the image's keypoints.
    /// </summary>
    public bool ReadKeypointPixels(int imageId, ReadOnlySpan<int> keypoints, Span<float> x, Span<float> y)
    {
        using var cmd = Command("SELECT rows, cols, data FROM keypoints WHERE image_id = $id", ("$id", imageId));
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return false;
        int n = r.GetInt32(0), cols = r.GetInt32(1);
        if (cols != 2 && cols != 4 && cols != 6)
            throw new FeatureDatabaseException(Path, $"image {imageId}: keypoints have {cols} columns (COLMAP writes 2, 4 or 6)");
        long bytes = r.IsDBNull(2) ? 0 : r.GetBytes(2, 0, null, 0, 0);
        if (bytes != 4L * n * cols)
            throw new FeatureDatabaseException(Path, $"image {imageId}: keypoint blob holds {bytes} bytes for {n}×{cols} float32");
        var buffer = new byte[8];
        for (int i = 0; i < keypoints.Length; i++)
        {
            int k = keypoints[i];
            if (k < 0 || k >= n) throw new FeatureDatabaseException(Path, $"image {imageId}: keypoint {k} asked for, the image has {n}");
            r.GetBytes(2, 4L * k * cols, buffer, 0, 8);
            x[i] = ColmapConvention.FromColmap(BitConverter.ToSingle(buffer, 0));
            y[i] = ColmapConvention.FromColmap(BitConverter.ToSingle(buffer, 4));
        }
        return true;
    }

    /// <summary>
    /// Some of an image's descriptors (row i: keypoint <paramref name="keypoints"/>[i]), as
    /// <see cref="ReadFeatures"/> gives them, without decoding the others; null when the image has
    /// no features.
    /// </summary>
    public float[]? ReadDescriptorRows(int imageId, ReadOnlySpan<int> keypoints, out int dim)
    {
        dim = 0;
        if (!_hasProjectTables) return null;
        using var cmd = Command("SELECT rows, dim, descriptors FROM r2d2_features WHERE image_id = $id", ("$id", imageId));
        using var r = cmd.ExecuteReader();
        if (!r.Read()) return null;
        int n = r.GetInt32(0), d = dim = r.GetInt32(1);
        var result = new float[keypoints.Length * d];
        if (r.IsDBNull(2))
        {
            // RootSIFT: COLMAP's uint8 rows, re-normalized as ReadFeatures does.
            var f = ReadFeatures(imageId) ?? throw new FeatureDatabaseException(Path, $"image {imageId} has features but no descriptors");
            for (int i = 0; i < keypoints.Length; i++) f.Descriptor(Row(keypoints[i])).CopyTo(result.AsSpan(i * d, d));
            return result;
        }
        if (r.GetBytes(2, 0, null, 0, 0) != 2L * n * d)
            throw new FeatureDatabaseException(Path, $"image {imageId}: descriptor blob does not hold {n}×{d} float16");
        var buffer = new byte[2 * d];
        for (int i = 0; i < keypoints.Length; i++)
        {
            r.GetBytes(2, 2L * d * Row(keypoints[i]), buffer, 0, buffer.Length);
            var h = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(buffer);
            for (int j = 0; j < d; j++) result[i * d + j] = (float)h[j];
        }
        return result;

        int Row(int k) => k >= 0 && k < n ? k : throw new FeatureDatabaseException(Path, $"image {imageId}: keypoint {k} asked for, the image has {n}");
    }

    /// <summary>COLMAP's uint8 descriptors of an image (e.g. SIFT in a COLMAP database); null when absent.</summary>
    public ColmapDescriptors? ReadColmapDescriptors(int imageId)
    {
        var row = Rows("SELECT rows, cols, data FROM descriptors WHERE image_id = $id",
            r => new ColmapDescriptors(r.GetInt32(0), r.GetInt32(1), Blob(r, 2) ?? System.Array.Empty<byte>()), ("$id", imageId)).FirstOrDefault();
        if (row != null && row.Data.Length != (long)row.Count * row.Dim)
            throw new FeatureDatabaseException(Path, $"image {imageId}: descriptor blob holds {row.Data.Length} bytes for {row.Count}×{row.Dim}");
        return row;
    }
}
