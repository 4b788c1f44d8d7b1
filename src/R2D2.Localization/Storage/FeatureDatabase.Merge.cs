using Microsoft.Data.Sqlite;

namespace R2D2.Localization.Storage;

/// <summary>Rows one merge added (or found there already, identical).</summary>
public sealed record MergeCounts(int Cameras, int Images, int Features, int MatchedPairs, int VerifiedPairs);

// Merging shard databases (`localize merge`): every row of another database's COLMAP and r2d2_*
// tables is copied as it is stored (same image ids, keypoint order, match blobs), so the merged
// database is the one a single process would have written. A row already here must be identical
// (the shards of one run register the same images with the same ids); anything else is refused.
public sealed partial class FeatureDatabase
{
    /// <summary>The tables a merge copies, with their key column, in an order where every row's
    /// references (camera of an image, image of a feature row) are copied before it.</summary>
    private static readonly (string Table, string Key, bool Project)[] MergedTables =
    {
        ("cameras", "camera_id", false), ("images", "image_id", false),
        ("keypoints", "image_id", false), ("descriptors", "image_id", false), ("r2d2_features", "image_id", true),
        ("matches", "pair_id", false), ("r2d2_matches", "pair_id", true), ("two_view_geometries", "pair_id", false),
    };

    /// <summary>The note a shard's database carries (see Pipeline's ShardRunner), not merged.</summary>
    public const string ShardNote = "shard";

    /// <summary>Rows per transaction of a merge: the write-ahead log stays small on large databases.</summary>
    private const int MergeBatch = 200;

    /// <summary>The number of keypoints of every image with keypoints, by image id (the cost of matching it).</summary>
    public Dictionary<int, int> KeypointCounts() => Rows("SELECT image_id, rows FROM keypoints", r => (r.GetInt32(0), r.GetInt32(1)))
        .ToDictionary(x => x.Item1, x => x.Item2);

    /// <summary>
    /// Copies every image, camera, feature row, match and two-view geometry of <paramref name="source"/>
    /// into this database. Refused, naming the file and what differs, when the source holds features
    /// of another extractor, a map (maps are built after the merge), another value of a setting noted
    /// in both (<paramref name="settingNotes"/>), or a row that differs from the one stored here under
    /// the same id (another run's registration). Rows identical to stored ones are skipped, so merging
    /// a database twice changes nothing.
    /// </summary>
    /// <param name="registrationOnly">Copy the cameras and images only (a match shard's database, whose
    /// matches must name the images by the ids of the features it reads).</param>
    public MergeCounts MergeFrom(FeatureDatabase source, IReadOnlyCollection<string> settingNotes, bool registrationOnly = false)
    {
        if (!registrationOnly && source.HasMap) throw new FeatureDatabaseException(source.Path, "holds a map; merge takes databases of extraction and matching (build the map after the merge)");
        var theirs = source.Extractor;
        var ours = Extractor;
        if (theirs != null && ours != null && ours.Differences(theirs, "in the databases merged so far", "in this one") is { Count: > 0 } diff)
            throw new FeatureDatabaseException(source.Path, $"holds features of another model or settings than the databases before it: {string.Join("; ", diff)}");
        foreach (var key in settingNotes)
            if (ReadNote(key) is { } mine && source.ReadNote(key) is { } other && mine != other)
                throw new FeatureDatabaseException(source.Path, $"was made with {key} {other}, the databases before it with {mine}");
        if (theirs != null) UseExtractor(theirs);
        // Rows are copied as stored: the merged file needs a reader of the newest layout among them.
        if (source.StoredSchemaVersion() is var version && version > StoredSchemaVersion()) RequireSchemaVersion(version);

        var counts = new Dictionary<string, int>();
        foreach (var (table, key, project) in MergedTables)
        {
            if (project && (!source._hasProjectTables || !_hasProjectTables)) continue;
            if (registrationOnly && table is not ("cameras" or "images")) continue;
            counts[table] = CopyRows(source, table, key);
        }
        // The notes of the inputs (checkpoint, image folder…), the first input's where they differ;
        // not a shard's own note (which shard of which job it is), which the merged whole is not.
        foreach (var (key, value) in source.Rows("SELECT key, value FROM r2d2_meta WHERE key LIKE 'note\\_%' ESCAPE '\\'", r => (r.GetString(0), r.GetString(1))))
            if (key != "note_" + ShardNote && ReadNote(key["note_".Length..]) == null) WriteNote(key["note_".Length..], value);
        return new MergeCounts(counts["cameras"], counts["images"], counts.GetValueOrDefault("r2d2_features"),
            counts.GetValueOrDefault("matches"), counts.GetValueOrDefault("two_view_geometries"));
    }

    private int CopyRows(FeatureDatabase source, string table, string key)
    {
        var columns = ColumnsOf(source._db, table).Intersect(ColumnsOf(_db, table), StringComparer.OrdinalIgnoreCase).OrderBy(c => c == key ? 0 : 1).ThenBy(c => c, StringComparer.Ordinal).ToList();
        string list = string.Join(", ", columns.Select(c => $"\"{c}\""));
        string values = string.Join(", ", columns.Select((_, i) => $"$v{i}"));
        using var read = source.Command($"SELECT {list} FROM \"{table}\" ORDER BY \"{key}\"");
        using var reader = read.ExecuteReader();
        int n = 0;
        bool more = true;
        while (more)
        {
            InTransaction(() =>
            {
                using var insert = Command($"INSERT INTO \"{table}\" ({list}) VALUES ({values}) ON CONFLICT DO NOTHING");
                var ps = columns.Select((_, i) => insert.Parameters.Add(new SqliteParameter($"$v{i}", null))).ToArray();
                for (int b = 0; b < MergeBatch; b++)
                {
                    if (!(more = reader.Read())) break;
                    var row = new object[columns.Count];
                    reader.GetValues(row);
                    for (int i = 0; i < row.Length; i++) ps[i].Value = row[i];
                    if (insert.ExecuteNonQuery() == 0) RequireSameRow(source, table, key, columns, row);
                    n++;
                }
                return 0;
            });
        }
        return n;
    }

    /// <summary>A row that is here already (or whose unique name is) must be the same row.</summary>
    private void RequireSameRow(FeatureDatabase source, string table, string key, List<string> columns, object[] row)
    {
        string list = string.Join(", ", columns.Select(c => $"\"{c}\""));
        var stored = Rows($"SELECT {list} FROM \"{table}\" WHERE \"{key}\" = $k", r => { var v = new object[row.Length]; r.GetValues(v); return v; }, ("$k", row[0]));
        bool same = stored.Count == 1 && row.Zip(stored[0]).All(p => p.First is byte[] a && p.Second is byte[] b ? a.AsSpan().SequenceEqual(b) : Equals(p.First, p.Second));
        if (same) return;
        int name = columns.FindIndex(c => c.Equals("name", StringComparison.OrdinalIgnoreCase));
        string what = table == "images" && name >= 0 ? $"image {row[0]} ('{row[name]}')" : $"{table} row {key} {row[0]}";
        throw new FeatureDatabaseException(source.Path, $"{what} differs from the one in the databases merged before it: "
            + "merge takes the shards of one run (the same images, cameras and settings), each image's features and each pair's matches from one shard");
    }
}
