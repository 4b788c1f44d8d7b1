using System.Buffers.Binary;
using Microsoft.Data.Sqlite;

namespace R2D2.Localization.Storage;

// The schema: COLMAP's six tables as COLMAP creates them (images with the ≤ 3.9 pose-prior
// columns, two_view_geometries with the ≥ 3.7 qvec/tvec columns), and the project's r2d2_*
// tables for what COLMAP lacks. Opening an existing file checks it before anything is written.
public sealed partial class FeatureDatabase
{
    /// <summary>
    /// Version of the project's stored layout; a newer database is refused. 1: keypoints as 6
    /// columns, scores always stored. 2: keypoints as 4 columns (x, y, scale, orientation) and
    /// r2d2_features.scores NULL where every score is reliability × repeatability (recomputed on
    /// read). This build reads both (and mixed files: a version-1 database that this build writes
    /// features to, or merges version-2 rows into, is marked 2, so older builds refuse it by name
    /// instead of misreading its rows).
    /// </summary>
    public const int SchemaVersion = 2;

    private const string ColmapTables = """
        CREATE TABLE IF NOT EXISTS cameras (
            camera_id          INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
            model              INTEGER NOT NULL,
            width              INTEGER NOT NULL,
            height             INTEGER NOT NULL,
            params             BLOB,
            prior_focal_length INTEGER NOT NULL);
        CREATE TABLE IF NOT EXISTS images (
            image_id  INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
            name      TEXT NOT NULL UNIQUE,
            camera_id INTEGER NOT NULL,
            prior_qw  REAL,
            prior_qx  REAL,
            prior_qy  REAL,
            prior_qz  REAL,
            prior_tx  REAL,
            prior_ty  REAL,
            prior_tz  REAL,
            CONSTRAINT image_id_check CHECK(image_id >= 0 and image_id < 2147483647),
            FOREIGN KEY(camera_id) REFERENCES cameras(camera_id));
        CREATE UNIQUE INDEX IF NOT EXISTS index_name ON images(name);
        CREATE TABLE IF NOT EXISTS keypoints (
            image_id INTEGER PRIMARY KEY NOT NULL,
            rows     INTEGER NOT NULL,
            cols     INTEGER NOT NULL,
            data     BLOB,
            FOREIGN KEY(image_id) REFERENCES images(image_id) ON DELETE CASCADE);
        CREATE TABLE IF NOT EXISTS descriptors (
            image_id INTEGER PRIMARY KEY NOT NULL,
            rows     INTEGER NOT NULL,
            cols     INTEGER NOT NULL,
            data     BLOB,
            FOREIGN KEY(image_id) REFERENCES images(image_id) ON DELETE CASCADE);
        CREATE TABLE IF NOT EXISTS matches (
            pair_id INTEGER PRIMARY KEY NOT NULL,
            rows    INTEGER NOT NULL,
            cols    INTEGER NOT NULL,
            data    BLOB);
        CREATE TABLE IF NOT EXISTS two_view_geometries (
            pair_id INTEGER PRIMARY KEY NOT NULL,
            rows    INTEGER NOT NULL,
            cols    INTEGER NOT NULL,
            data    BLOB,
            config  INTEGER NOT NULL,
            F       BLOB,
            E       BLOB,
            H       BLOB,
            qvec    BLOB,
            tvec    BLOB);
        """;

    // No foreign keys here either: rows are tied to COLMAP's by id and written in the same
    // transaction, and COLMAP tools that delete images must not trip over our tables.
    private const string ProjectTables = """
        CREATE TABLE IF NOT EXISTS r2d2_meta (
            key   TEXT PRIMARY KEY NOT NULL,
            value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS r2d2_features (
            image_id      INTEGER PRIMARY KEY NOT NULL,
            image_width   INTEGER NOT NULL,
            image_height  INTEGER NOT NULL,
            rows          INTEGER NOT NULL,
            dim           INTEGER NOT NULL,
            descriptors   BLOB,
            scores        BLOB,
            reliability   BLOB,
            repeatability BLOB,
            official_xy   BLOB);
        CREATE TABLE IF NOT EXISTS r2d2_matches (
            pair_id    INTEGER PRIMARY KEY NOT NULL,
            rows       INTEGER NOT NULL,
            similarity BLOB);
        CREATE TABLE IF NOT EXISTS r2d2_points3d (
            point_id   INTEGER PRIMARY KEY NOT NULL,
            x          REAL NOT NULL,
            y          REAL NOT NULL,
            z          REAL NOT NULL,
            color      INTEGER NOT NULL,
            error      REAL NOT NULL,
            track      BLOB NOT NULL,
            descriptor BLOB);
        CREATE TABLE IF NOT EXISTS r2d2_retrieval (
            image_id   INTEGER PRIMARY KEY NOT NULL,
            descriptor BLOB NOT NULL);
        """;

    private static readonly Dictionary<string, string[]> RequiredColumns = new()
    {
        ["cameras"] = new[] { "camera_id", "model", "width", "height", "params", "prior_focal_length" },
        ["images"] = new[] { "image_id", "name", "camera_id" },
        ["keypoints"] = new[] { "image_id", "rows", "cols", "data" },
        ["descriptors"] = new[] { "image_id", "rows", "cols", "data" },
        ["matches"] = new[] { "pair_id", "rows", "cols", "data" },
        ["two_view_geometries"] = new[] { "pair_id", "rows", "cols", "data", "config" },
        ["r2d2_meta"] = new[] { "key", "value" },
        ["r2d2_features"] = new[] { "image_id", "image_width", "image_height", "rows", "dim", "descriptors", "scores", "reliability", "repeatability", "official_xy" },
        ["r2d2_matches"] = new[] { "pair_id", "rows", "similarity" },
        ["r2d2_points3d"] = new[] { "point_id", "x", "y", "z", "color", "error", "track", "descriptor" },
        ["r2d2_retrieval"] = new[] { "image_id", "descriptor" },
    };

    private static readonly string[] PriorColumns = { "prior_qw", "prior_qx", "prior_qy", "prior_qz", "prior_tx", "prior_ty", "prior_tz" };
    private static readonly string[] GeometryColumns = { "F", "E", "H", "qvec", "tvec" };

    /// <summary>What an existing file holds, found without writing to it.</summary>
    private sealed record SchemaState(
        bool Empty,
        bool HasProjectTables,
        int Version,
        bool ImagesHavePriors,
        IReadOnlySet<string> GeometryColumnsPresent);

    private static readonly SchemaState EmptyState = new(true, false, 0, true, GeometryColumns.ToHashSet());

    /// <summary>Rejects files that are not SQLite or are visibly truncated, before SQLite sees them.</summary>
    private static bool CheckHeader(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long length = fs.Length;
        if (length == 0) return false; // SQLite treats an empty file as an empty database
        var h = new byte[100];
        int n = fs.ReadAtLeast(h, h.Length, throwOnEndOfStream: false);
        if (n < h.Length || !h.AsSpan(0, 16).SequenceEqual("SQLite format 3\0"u8))
            throw new FeatureDatabaseException(path, "is not an SQLite database (no SQLite header)");
        int pageSize = BinaryPrimitives.ReadUInt16BigEndian(h.AsSpan(16));
        if (pageSize == 1) pageSize = 65536;
        if (pageSize < 512 || (pageSize & (pageSize - 1)) != 0)
            throw new FeatureDatabaseException(path, $"is damaged: its header gives an invalid page size {pageSize}");
        // With a non-empty WAL, the file may legitimately lag behind its header (an interrupted
        // checkpoint that SQLite's recovery completes), so the size checks apply only without one.
        if (HasWal(path)) return true;
        if (length % pageSize != 0)
            throw new FeatureDatabaseException(path, $"is truncated or damaged: {length} bytes is not a whole number of {pageSize}-byte pages");
        uint changeCounter = BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(24));
        uint pages = BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(28));
        uint validFor = BinaryPrimitives.ReadUInt32BigEndian(h.AsSpan(92));
        if (pages > 0 && validFor == changeCounter && (long)pages * pageSize > length)
            throw new FeatureDatabaseException(path, $"is truncated: its header counts {pages} pages ({(long)pages * pageSize} bytes) but the file has {length} bytes");
        return true;
    }

    private static bool HasWal(string path)
    {
        var wal = new FileInfo(path + "-wal");
        return wal.Exists && wal.Length > 0;
    }

    /// <summary>Reads the schema and touches every table's b-tree; throws on a damaged or foreign file.</summary>
    private static SchemaState Inspect(SqliteConnection c, string path)
    {
        try
        {
            var tables = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            using (var cmd = c.CreateCommand())
            {
                cmd.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'";
                using var r = cmd.ExecuteReader();
                while (r.Read()) tables.Add(r.GetString(0));
            }
            if (tables.Count == 0) return EmptyState;

            var colmap = new[] { "cameras", "images", "keypoints", "descriptors", "matches", "two_view_geometries" };
            var missing = colmap.Where(t => !tables.Contains(t)).ToList();
            if (missing.Count > 0)
                throw new FeatureDatabaseException(path, $"is not a COLMAP or R2D2.Localization feature database: it lacks the table(s) {string.Join(", ", missing)} (it has {string.Join(", ", tables.Order())})");

            var columns = new Dictionary<string, HashSet<string>>();
            foreach (var t in tables.Where(RequiredColumns.ContainsKey))
            {
                columns[t] = ColumnsOf(c, t);
                var lacking = RequiredColumns[t].Where(col => !columns[t].Contains(col)).ToList();
                if (lacking.Count > 0)
                    throw new FeatureDatabaseException(path, $"has a foreign schema: table {t} lacks the column(s) {string.Join(", ", lacking)}");
            }

            bool project = new[] { "r2d2_meta", "r2d2_features", "r2d2_matches" }.All(tables.Contains);
            int version = 0;
            if (tables.Contains("r2d2_meta"))
            {
                using var cmd = c.CreateCommand();
                cmd.CommandText = "SELECT value FROM r2d2_meta WHERE key = 'schema_version'";
                var v = cmd.ExecuteScalar() as string;
                if (v == null || !int.TryParse(v, out version))
                    throw new FeatureDatabaseException(path, "has an r2d2_meta table without a valid schema_version");
                if (version > SchemaVersion)
                    throw new FeatureDatabaseException(path, $"was written by a newer R2D2.Localization (schema {version}; this build reads up to {SchemaVersion})");
            }

            // A damaged b-tree usually shows on its first and last pages; this costs a few page reads
            // per table, not a scan (CheckIntegrity does the full check).
            foreach (var t in columns.Keys)
            {
                using var cmd = c.CreateCommand();
                cmd.CommandText = $"SELECT max(rowid), min(rowid) FROM \"{t}\"";
                cmd.ExecuteScalar();
            }

            return new SchemaState(false, project, version,
                PriorColumns.All(columns["images"].Contains),
                GeometryColumns.Where(columns["two_view_geometries"].Contains).ToHashSet());
        }
        catch (SqliteException e)
        {
            throw new FeatureDatabaseException(path, $"is damaged or not a readable SQLite database (SQLite error {e.SqliteErrorCode}: {e.Message})", e);
        }
    }

    /// <summary>Marks the database as needing a reader of at least <paramref name="version"/> (never
    /// lowers it); inside the caller's transaction when there is one.</summary>
    private void RequireSchemaVersion(int version) => InTransaction(() =>
        Execute("UPDATE r2d2_meta SET value = $v WHERE key = 'schema_version' AND CAST(value AS INTEGER) < $n",
            ("$v", version.ToString()), ("$n", version)));

    private static HashSet<string> ColumnsOf(SqliteConnection c, string table)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = $"PRAGMA table_info(\"{table}\")";
        using var r = cmd.ExecuteReader();
        var cols = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (r.Read()) cols.Add(r.GetString(1));
        return cols;
    }

    private static bool NeedsSchema(SchemaState state) =>
        state.Empty || !state.HasProjectTables || GeometryColumns.Any(col => !state.GeometryColumnsPresent.Contains(col));

    /// <summary>Creates what is missing: everything in a new file; our tables and COLMAP's newer
    /// two-view columns in a COLMAP file (COLMAP adds those columns itself when it opens one).</summary>
    private void CreateMissingSchema(SchemaState state)
    {
        if (!NeedsSchema(state)) return;
        var geometryMissing = GeometryColumns.Where(col => !state.GeometryColumnsPresent.Contains(col)).ToList();
        InTransaction(() =>
        {
            if (state.Empty) Execute(ColmapTables);
            foreach (var col in geometryMissing) Execute($"ALTER TABLE two_view_geometries ADD COLUMN {col} BLOB");
            Execute(ProjectTables);
            Execute("INSERT OR IGNORE INTO r2d2_meta(key, value) VALUES ('schema_version', $v)", ("$v", SchemaVersion.ToString()));
            Execute("INSERT OR IGNORE INTO r2d2_meta(key, value) VALUES ('keypoint_convention', $v)",
                ("$v", "keypoints: COLMAP's, the centre of the top-left pixel is (0.5, 0.5); the library converts to (0, 0)"));
            return 0;
        });
    }
}
