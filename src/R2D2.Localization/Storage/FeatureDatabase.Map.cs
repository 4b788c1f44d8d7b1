
namespace R2D2.Localization.Storage;

// The map: triangulated points with their tracks and descriptors (table r2d2_points3d), the
// retrieval index built for it (r2d2_retrieval, r2d2_meta 'retrieval_codebook') and the build
// summary (r2d2_meta 'map_summary'). Written whole in one transaction, so a map is either the
// previous one or the new one, never half of each nor one without its index.
public sealed partial class FeatureDatabase
{
    public bool HasMap => _hasProjectTables && Scalar("SELECT value FROM r2d2_meta WHERE key = 'map_summary'") != null;

    public string? MapSummary => _hasProjectTables ? Scalar("SELECT value FROM r2d2_meta WHERE key = 'map_summary'") as string : null;

    /// <summary>Stores the map with its retrieval index (null: the map has none, e.g. too few
    /// descriptors for a codebook), replacing the previous map and index, in one transaction.</summary>
    /// <param name="asmk">the images' ASMK representations (their codebook stored by training), stored with the map when given.</param>
    public void WriteMap(IReadOnlyList<MapPoint> points, string summaryJson, RetrievalIndex? retrieval = null, IReadOnlyDictionary<int, AsmkImage>? asmk = null)
    {
        InTransaction(() =>
        {
            Execute("DELETE FROM r2d2_points3d");
            using var cmd = Command("INSERT INTO r2d2_points3d(point_id, x, y, z, color, error, track, descriptor) VALUES ($id, $x, $y, $z, $c, $e, $t, $d)");
            var pId = cmd.Parameters.Add("$id", Microsoft.Data.Sqlite.SqliteType.Integer);
            var pX = cmd.Parameters.Add("$x", Microsoft.Data.Sqlite.SqliteType.Real);
            var pY = cmd.Parameters.Add("$y", Microsoft.Data.Sqlite.SqliteType.Real);
            var pZ = cmd.Parameters.Add("$z", Microsoft.Data.Sqlite.SqliteType.Real);
            var pC = cmd.Parameters.Add("$c", Microsoft.Data.Sqlite.SqliteType.Integer);
            var pE = cmd.Parameters.Add("$e", Microsoft.Data.Sqlite.SqliteType.Real);
            var pT = cmd.Parameters.Add("$t", Microsoft.Data.Sqlite.SqliteType.Blob);
            var pD = cmd.Parameters.Add("$d", Microsoft.Data.Sqlite.SqliteType.Blob);
            foreach (var p in points)
            {
                var track = new int[2 * p.Track.Length];
                for (int i = 0; i < p.Track.Length; i++) { track[2 * i] = p.Track[i].ImageId; track[2 * i + 1] = p.Track[i].KeypointIndex; }
                pId.Value = p.Id; pX.Value = p.X; pY.Value = p.Y; pZ.Value = p.Z;
                pC.Value = (p.R << 16) | (p.G << 8) | p.B;
                pE.Value = p.Error;
                pT.Value = Blobs.Of<int>(track);
                pD.Value = p.Descriptor == null ? DBNull.Value : Blobs.Float16(p.Descriptor);
                cmd.ExecuteNonQuery();
            }
            WriteRetrieval(retrieval);
            if (asmk != null) WriteAsmkIndex(asmk);
            Execute("INSERT OR REPLACE INTO r2d2_meta(key, value) VALUES ('map_summary', $v)", ("$v", summaryJson));
            return 0;
        });
    }

    /// <summary>The number of the map's 3D points (0 without a map).</summary>
    public int CountMapPoints() => !_hasProjectTables ? 0 : Convert.ToInt32(Scalar("SELECT count(*) FROM r2d2_points3d"));

    public List<MapPoint> ReadMap() => !_hasProjectTables ? new List<MapPoint>() : Rows(
        "SELECT point_id, x, y, z, color, error, track, descriptor FROM r2d2_points3d ORDER BY point_id", r => PointOf(r, withDescriptor: true));
}

public sealed partial class FeatureDatabase
{
    /// <summary>
    /// The map's points that have a descriptor, in point order, each without it (Descriptor null):
    /// the descriptors go into one array, row i that of point i, as stored (float16), so a loaded map
    /// holds each descriptor once, in 2 bytes a value, and no array per point. All must have one size
    /// (<paramref name="dim"/>; 0 when there are none).
    /// </summary>
    public List<MapPoint> ReadMapPoints(out Half[] descriptors, out int dim)
    {
        descriptors = System.Array.Empty<Half>();
        dim = 0;
        if (!_hasProjectTables) return new List<MapPoint>();
        var (count, minBytes, maxBytes) = Rows("SELECT count(*), min(length(descriptor)), max(length(descriptor)) FROM r2d2_points3d WHERE descriptor IS NOT NULL",
            r => (r.GetInt32(0), r.IsDBNull(1) ? 0L : r.GetInt64(1), r.IsDBNull(2) ? 0L : r.GetInt64(2)))[0];
        if (minBytes != maxBytes || maxBytes % 2 != 0)
            throw new FeatureDatabaseException(Path, $"map point descriptors have different or odd sizes ({minBytes} to {maxBytes} bytes)");
        int d = dim = (int)(maxBytes / 2);
        var all = descriptors = new Half[(long)count * d];
        var buffer = new byte[maxBytes];
        int i = 0;
        var points = Rows("SELECT point_id, x, y, z, color, error, track, descriptor FROM r2d2_points3d WHERE descriptor IS NOT NULL ORDER BY point_id", r =>
        {
            if (i >= count) throw new FeatureDatabaseException(Path, "the map changed while it was read");
            r.GetBytes(7, 0, buffer, 0, buffer.Length);
            System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(buffer).CopyTo(all.AsSpan(i++ * d, d));
            return PointOf(r, withDescriptor: false);
        });
        if (i != count) throw new FeatureDatabaseException(Path, "the map changed while it was read");
        return points;
    }

    private static MapPoint PointOf(Microsoft.Data.Sqlite.SqliteDataReader r, bool withDescriptor)
    {
        var t = Blobs.To<int>(Blob(r, 6));
        var track = new TrackElement[t.Length / 2];
        for (int i = 0; i < track.Length; i++) track[i] = new TrackElement(t[2 * i], t[2 * i + 1]);
        long c = r.GetInt64(4);
        var d = withDescriptor ? Blob(r, 7) : null;
        return new MapPoint(r.GetInt64(0), r.GetDouble(1), r.GetDouble(2), r.GetDouble(3),
            (byte)(c >> 16), (byte)(c >> 8), (byte)c, r.GetDouble(5), track, d == null ? null : Blobs.FromFloat16(d));
    }

    /// <summary>A note of the project's in r2d2_meta (e.g. 'model_path', the checkpoint a map was built with).</summary>
    public string? ReadNote(string key) =>
        _hasProjectTables ? Scalar("SELECT value FROM r2d2_meta WHERE key = $k", ("$k", "note_" + key)) as string : null;

    public void WriteNote(string key, string value) =>
        InTransaction(() => Execute("INSERT OR REPLACE INTO r2d2_meta(key, value) VALUES ($k, $v)", ("$k", "note_" + key), ("$v", value)));

    /// <summary>The notes whose key starts with <paramref name="prefix"/>, by the rest of their key.</summary>
    public Dictionary<string, string> ReadNotes(string prefix) => !_hasProjectTables ? new(StringComparer.Ordinal)
        : Rows("SELECT key, value FROM r2d2_meta WHERE substr(key, 1, length($p)) = $p", r => (r.GetString(0), r.GetString(1)), ("$p", "note_" + prefix))
            .ToDictionary(x => x.Item1[("note_" + prefix).Length..], x => x.Item2, StringComparer.Ordinal);
}

public sealed partial class FeatureDatabase
{
    // Part of WriteMap's transaction. The number of indexed images is recorded (0 without an index),
    // so a reader tells a map stored without an index from one whose index is missing.
    private void WriteRetrieval(RetrievalIndex? retrieval)
    {
        Execute("DELETE FROM r2d2_retrieval");
        Execute("DELETE FROM r2d2_meta WHERE key = 'retrieval_codebook'");
        if (retrieval != null)
        {
            foreach (var (id, d) in retrieval.Descriptors)
                Execute("INSERT INTO r2d2_retrieval(image_id, descriptor) VALUES ($id, $d)", ("$id", id), ("$d", Blobs.Float16(d)));
            Execute("INSERT INTO r2d2_meta(key, value) VALUES ('retrieval_codebook', $v)",
                ("$v", retrieval.Clusters + ":" + Convert.ToBase64String(Blobs.Of<float>(retrieval.Codebook))));
        }
        Execute("INSERT OR REPLACE INTO r2d2_meta(key, value) VALUES ('retrieval_images', $v)", ("$v", (retrieval?.Descriptors.Count ?? 0).ToString()));
    }

    public RetrievalIndex? ReadRetrieval()
    {
        if (!_hasProjectTables || Scalar("SELECT value FROM r2d2_meta WHERE key = 'retrieval_codebook'") is not string cb) return null;
        int colon = cb.IndexOf(':');
        var codebook = Blobs.To<float>(Convert.FromBase64String(cb[(colon + 1)..]));
        var d = Rows("SELECT image_id, descriptor FROM r2d2_retrieval", r => (r.GetInt32(0), Blobs.FromFloat16(Blob(r, 1))))
            .ToDictionary(x => x.Item1, x => x.Item2);
        return new RetrievalIndex(d, codebook, int.Parse(cb[..colon]));
    }

    /// <summary>The number of images the map's retrieval index was stored with: 0 when the map was
    /// stored without one; null when the database does not say (no map, or a map whose build
    /// stopped between storing the map and its index, before both were one transaction).</summary>
    public int? RetrievalImages =>
        _hasProjectTables && Scalar("SELECT value FROM r2d2_meta WHERE key = 'retrieval_images'") is string v ? int.Parse(v) : null;
}
