using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Storage;

/// <summary>
/// The feature database: one SQLite file that COLMAP and pycolmap open as their own database.db
/// (cameras, images, keypoints, descriptors, matches, two_view_geometries) and that holds what
/// COLMAP lacks in r2d2_* tables (R2D2 descriptors as float16, scores, match similarities, the
/// extractor's identity). The only code of the project that speaks SQL; see Storage/README.md.
/// Every write is one transaction, so a process killed at any moment leaves a valid database that
/// holds whole images and whole pairs only. Not thread-safe: one instance per thread.
/// </summary>
public sealed partial class FeatureDatabase : IDisposable
{
    private readonly SqliteConnection _db;
    private SqliteTransaction? _tx;
    // Layout variants of the file at hand (COLMAP's older and newer tables).
    private bool _imagesHavePriors;
    private IReadOnlySet<string> _geometryColumns = new HashSet<string>();
    private bool _hasProjectTables;
    // A read-only instance that removes the -wal/-shm its connection created (see RemoveWalFiles).
    private readonly bool _removesWalFiles;
    // Another tool's file (COLMAP's) opened for writing gains WAL mode and our tables at its first
    // write, not when it is opened: a command that refuses it after reading it leaves it as it was.
    private SchemaState? _pendingSchema;

    private FeatureDatabase(string path, SqliteConnection db, bool readOnly, SchemaState state, bool removesWalFiles = false)
    {
        Path = path;
        _db = db;
        IsReadOnly = readOnly;
        _removesWalFiles = removesWalFiles;
        UseSchema(state);
    }

    private void UseSchema(SchemaState state)
    {
        _imagesHavePriors = state.ImagesHavePriors;
        _geometryColumns = state.GeometryColumnsPresent;
        _hasProjectTables = state.HasProjectTables;
    }

    public string Path { get; }
    public bool IsReadOnly { get; }

    /// <summary>
    /// Opens a database, or creates it when it does not exist (unless <paramref name="readOnly"/>).
    /// An existing file is first checked read-only — SQLite header, size, schema, each table's
    /// b-tree — and a file that is not SQLite, is damaged, or has another schema raises a
    /// <see cref="FeatureDatabaseException"/> naming it, with nothing written. A COLMAP database
    /// opened for writing gains the r2d2_* tables (and COLMAP ≥ 3.7's two-view columns, as COLMAP
    /// itself adds them) with the first write, so one refused before it writes is left unchanged. Write-protected files and files on read-only storage (a read-only folder
    /// or mount) can only be opened read-only; a read-only open leaves no -wal/-shm behind.
    /// </summary>
    public static FeatureDatabase Open(string path, bool readOnly = false)
    {
        path = System.IO.Path.GetFullPath(path);
        // SQLite puts -wal/-shm beside the file a symbolic link points to: the checks for them
        // (and their removal after a read-only open) must look there too.
        if (new FileInfo(path).LinkTarget != null && new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true) is { } target) path = target.FullName;
        if (Directory.Exists(path)) throw new FeatureDatabaseException(path, "is a folder: give the database file (e.g. map.db)");
        var state = EmptyState;
        if (File.Exists(path))
        {
            bool nonEmpty = CheckHeader(path);
            if (!nonEmpty && readOnly) throw new FeatureDatabaseException(path, "is an empty file, not a database");
            if (!readOnly) RequireWritable(path);
            if (nonEmpty)
            {
                // Inspect through a read-only connection first, so a foreign or damaged file is never written.
                var kind = ConnectionKind.ReaderOf(path);
                var probe = Connect(path, kind);
                try
                {
                    state = Inspect(probe, path);
                }
                catch
                {
                    Close(probe, path, kind.RemovesWalFiles);
                    throw;
                }
                if (readOnly) return new FeatureDatabase(path, probe, true, state, kind.RemovesWalFiles);
                Close(probe, path, kind.RemovesWalFiles);
            }
        }
        else if (readOnly) throw new FeatureDatabaseException(path, "no such database");
        else
        {
            var dir = System.IO.Path.GetDirectoryName(path);
            if (!string.IsNullOrEmpty(dir))
            {
                if (FolderPath.FileInTheWay(dir) is { } at)
                    throw new FeatureDatabaseException(path, $"cannot be created: {at} is a file, where a folder of its path goes");
                Directory.CreateDirectory(dir);
            }
            if (!string.IsNullOrEmpty(dir) && !CanWrite(dir))
                throw new FeatureDatabaseException(path, $"cannot be created: its folder {dir} is read-only");
        }

        var db = Connect(path, ConnectionKind.Writer);
        try
        {
            // NORMAL sync is safe against process kills (not power loss of the last commits, which
            // stay consistent but may be lost). journal_size_limit: after a checkpoint, the next write
            // truncates the WAL to 64 MB, so a long process keeps no log the size of its largest
            // transaction (the map: ~0.5 KB a point). These settings are the connection's, not the file's.
            Exec(db, "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF; PRAGMA journal_size_limit = 67108864;");
            var fdb = new FeatureDatabase(path, db, false, state);
            if (state.Empty || !NeedsSchema(state)) fdb.PrepareForWriting(state);
            else fdb._pendingSchema = state;
            return fdb;
        }
        catch (SqliteException e)
        {
            db.Dispose();
            throw new FeatureDatabaseException(path, $"cannot be opened for writing (SQLite error {e.SqliteErrorCode}: {e.Message})", e);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>WAL mode (readers never block the writer, and a killed writer leaves only uncommitted
    /// frames behind, which SQLite discards; it is the file's setting) and the missing schema.</summary>
    private void PrepareForWriting(SchemaState state)
    {
        Exec(_db, "PRAGMA journal_mode = WAL;");
        CreateMissingSchema(state);
        UseSchema(Inspect(_db, Path));
    }

    /// <summary>Opens a database for reading only; nothing is ever written.</summary>
    public static FeatureDatabase OpenReadOnly(string path) => Open(path, readOnly: true);

    /// <summary>Opens for writing a database that must exist already (a map to add to, features to
    /// match): a missing or empty file is refused, not made into a new database.</summary>
    public static FeatureDatabase OpenExisting(string path)
    {
        if (!File.Exists(path) && !Directory.Exists(path)) throw new FeatureDatabaseException(path, "not found");
        if (File.Exists(path) && new FileInfo(path).Length == 0) throw new FeatureDatabaseException(path, "is an empty file, not a database");
        return Open(path);
    }

    /// <summary>How SQLite is to open a file: for writing, for reading alongside other connections
    /// (Mode=ReadOnly), or as "immutable" (no locks, no -wal/-shm).</summary>
    internal readonly record struct ConnectionKind(bool ReadOnly, bool Immutable, bool RemovesWalFiles)
    {
        public static readonly ConnectionKind Writer = new(false, false, false);

        /// <summary>
        /// Immutable where SQLite cannot create its -wal/-shm beside the file (a read-only folder or
        /// mount, where a plain read-only open fails with SQLite error 14) or must not (a
        /// write-protected dataset). Never with a live WAL, whose last commits SQLite would then miss.
        /// Otherwise a shared read-only open, which leaves -wal/-shm beside a WAL database: they are
        /// removed on close when they were not there before or the -wal is empty (left by a killed
        /// reader: nothing in it to lose; <see cref="RemoveWalFiles"/> removes nothing while another
        /// connection uses them).
        /// </summary>
        public static ConnectionKind ReaderOf(string path)
        {
            bool storageWritable = IsOnWritableStorage(path), writable = storageWritable && !IsWriteProtected(path);
            if (!writable && !HasWal(path)) return new(true, true, false);
            if (!storageWritable && !File.Exists(path + "-shm"))
                throw new FeatureDatabaseException(path, "has a write-ahead log (-wal) that SQLite cannot read on read-only storage "
                    + "without its -shm; copy the database with its -wal to writable storage and open it once there");
            return new(true, false, writable && !HasWal(path));
        }
    }

    private static SqliteConnection Connect(string path, ConnectionKind kind)
    {
        var source = kind.Immutable ? new Uri(path).AbsoluteUri + "?immutable=1" : path;
        var c = new SqliteConnection(ConnectionString(source, kind.ReadOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate));
        try
        {
            c.Open();
            return c;
        }
        catch (SqliteException e)
        {
            c.Dispose();
            throw new FeatureDatabaseException(path, $"cannot be opened (SQLite error {e.SqliteErrorCode}: {e.Message})", e);
        }
    }

    private static string ConnectionString(string source, SqliteOpenMode mode) => new SqliteConnectionStringBuilder
    {
        DataSource = source,
        Mode = mode,
        Pooling = false, // a pooled connection would keep the file open after Dispose
        Cache = SqliteCacheMode.Private,
    }.ToString();

    private static void Close(SqliteConnection c, string path, bool removeWalFiles)
    {
        c.Dispose();
        if (removeWalFiles) RemoveWalFiles(path);
    }

    /// <summary>
    /// A read-only connection cannot checkpoint, so SQLite leaves the -wal and -shm it created for
    /// it. A read-write connection that closes as the last one deletes them; with an empty WAL
    /// there is nothing to checkpoint, so the database file itself is not written. While another
    /// connection uses the file, they stay (they are its own).
    /// </summary>
    private static void RemoveWalFiles(string path)
    {
        if (!File.Exists(path + "-wal") && !File.Exists(path + "-shm")) return;
        try
        {
            using var c = new SqliteConnection(ConnectionString(path, SqliteOpenMode.ReadWrite));
            c.Open();
            Exec(c, "PRAGMA query_only = ON; SELECT count(*) FROM sqlite_master;");
        }
        catch (SqliteException)
        {
            // Busy or gone: the files stay, which SQLite handles.
        }
    }

    /// <summary>Refuses writes to a write-protected file (the shared datasets: even root must not
    /// write them) and to files on read-only storage, before SQLite fails half-way with error 8 or 14.</summary>
    private static void RequireWritable(string path)
    {
        if (IsWriteProtected(path))
            throw new FeatureDatabaseException(path, "is read-only (write-protected) and this command writes to it; copy it to a writable file");
        if (!IsOnWritableStorage(path))
            throw new FeatureDatabaseException(path, "is on read-only storage (the file or its folder cannot be written) and this command writes to it; copy it to writable storage");
    }

    private static bool IsWriteProtected(string path)
    {
        if (OperatingSystem.IsWindows()) return new FileInfo(path).IsReadOnly;
        const UnixFileMode anyWrite = UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite;
        return (File.GetUnixFileMode(path) & anyWrite) == 0;
    }

    /// <summary>Whether the file and its folder (where SQLite puts -wal, -shm and journals) can be
    /// written: access(2) says so for root too on a read-only mount.</summary>
    private static bool IsOnWritableStorage(string path) =>
        CanWrite(path) && CanWrite(System.IO.Path.GetDirectoryName(path) ?? ".");

    private static bool CanWrite(string path) => OperatingSystem.IsWindows() || AccessCall(path, WriteOk) == 0;

    private const int WriteOk = 2; // W_OK

    [LibraryImport("libc", EntryPoint = "access", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int AccessCall(string path, int mode);

    public void Dispose()
    {
        _tx?.Dispose();
        Close(_db, Path, _removesWalFiles);
    }

    // ---- SQL helpers -------------------------------------------------------------------------

    private static void Exec(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        cmd.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] args)
    {
        var cmd = _db.CreateCommand();
        cmd.CommandText = sql;
        cmd.Transaction = _tx;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    private int Execute(string sql, params (string Name, object? Value)[] args) => Named(() =>
    {
        using var cmd = Command(sql, args);
        return cmd.ExecuteNonQuery();
    });

    private object? Scalar(string sql, params (string Name, object? Value)[] args) => Named(() =>
    {
        using var cmd = Command(sql, args);
        var v = cmd.ExecuteScalar();
        return v is DBNull ? null : v;
    });

    /// <summary>An SQLite failure of a statement (a table or column a damaged or foreign database
    /// lacks) as this project's error naming the file, not an unhandled exception.</summary>
    private T Named<T>(Func<T> statement)
    {
        try
        {
            return statement();
        }
        catch (SqliteException e)
        {
            throw new FeatureDatabaseException(Path, $"is damaged or not a database of this project (SQLite error {e.SqliteErrorCode}: {e.Message})", e);
        }
    }

    private long Long(string sql, params (string Name, object? Value)[] args) => Convert.ToInt64(Scalar(sql, args) ?? 0L);

    private List<T> Rows<T>(string sql, Func<SqliteDataReader, T> row, params (string Name, object? Value)[] args) => Named(() =>
    {
        using var cmd = Command(sql, args);
        using var r = cmd.ExecuteReader();
        var list = new List<T>();
        while (r.Read()) list.Add(row(r));
        return list;
    });

    private static byte[]? Blob(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : r.GetFieldValue<byte[]>(i);

    /// <summary>Runs <paramref name="body"/> in one write transaction (BEGIN IMMEDIATE: the write
    /// lock is taken first, so a concurrent writer waits instead of failing half-way).</summary>
    private T InTransaction<T>(Func<T> body)
    {
        if (IsReadOnly) throw new InvalidOperationException($"{Path}: opened read-only");
        if (_tx != null) return body();
        try
        {
            if (_pendingSchema is { } pending)
            {
                _pendingSchema = null;
                PrepareForWriting(pending);
            }
            using var tx = _db.BeginTransaction(deferred: false);
            _tx = tx;
            var result = body();
            tx.Commit();
            return result;
        }
        catch (SqliteException e)
        {
            throw new FeatureDatabaseException(Path, $"write failed (SQLite error {e.SqliteErrorCode}: {e.Message})", e);
        }
        finally
        {
            _tx = null;
        }
    }

    /// <summary>Runs <paramref name="body"/>'s reads in one read transaction: they all see the
    /// database as it was at the first of them (a WAL snapshot), whatever another process writes
    /// meanwhile (a stage that reads the matches twice met a pair written between its passes).</summary>
    public T ReadConsistent<T>(Func<T> body)
    {
        if (_tx != null) return body();
        using var tx = Named(() => _db.BeginTransaction(deferred: true));
        _tx = tx;
        try
        {
            var result = body();
            tx.Commit();
            return result;
        }
        finally { _tx = null; }
    }

    /// <summary>Copies the write-ahead log into the database file and empties it, as closing the
    /// last connection does (then the file alone holds everything); nothing for a read-only instance.
    /// False when another connection's reader kept part of the log.</summary>
    public bool Checkpoint()
    {
        if (IsReadOnly) return true;
        using var cmd = _db.CreateCommand();
        cmd.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        using var r = cmd.ExecuteReader();
        return r.Read() && r.GetInt32(0) == 0;
    }

    /// <summary>SQLite's full consistency check (reads the whole file); throws when it finds damage.</summary>
    public void CheckIntegrity()
    {
        try
        {
            var problems = Rows("PRAGMA quick_check", r => r.GetString(0));
            if (problems.Count != 1 || problems[0] != "ok")
                throw new FeatureDatabaseException(Path, $"is damaged: {string.Join("; ", problems.Take(5))}");
        }
        catch (SqliteException e)
        {
            throw new FeatureDatabaseException(Path, $"is damaged (SQLite error {e.SqliteErrorCode}: {e.Message})", e);
        }
    }

    // ---- Cameras -----------------------------------------------------------------------------

    /// <summary>Adds a camera (its <see cref="Camera.Id"/> is used when positive, else a new id is
    /// assigned) and returns its id. The principal point is stored in COLMAP's convention.</summary>
    public int AddCamera(Camera camera)
    {
        camera.Validate();
        var c = ColmapConvention.CameraToColmap(camera);
        return InTransaction(() =>
        {
            Execute("INSERT INTO cameras(camera_id, model, width, height, params, prior_focal_length) VALUES ($id, $m, $w, $h, $p, $f)",
                ("$id", camera.Id > 0 ? camera.Id : null), ("$m", c.Model.Id), ("$w", c.Width), ("$h", c.Height),
                ("$p", Blobs.Of<double>(c.Params)), ("$f", c.HasPriorFocalLength ? 1 : 0));
            return (int)Long("SELECT last_insert_rowid()");
        });
    }

    /// <summary>The id of a camera with exactly these intrinsics, or null. Compared as stored (in
    /// COLMAP's convention), since the ±0.5 shift of the principal point may round its last bit.</summary>
    public int? FindCamera(Camera like) => CamerasLike(like, "").Select(id => (int?)id).FirstOrDefault();

    /// <summary>Whether camera <paramref name="cameraId"/> has exactly these intrinsics (compared as <see cref="FindCamera"/> does).</summary>
    public bool IsCamera(int cameraId, Camera like) => CamerasLike(like, "AND camera_id = $id", ("$id", cameraId)).Any();

    private IEnumerable<int> CamerasLike(Camera like, string and, params (string, object?)[] args)
    {
        var stored = ColmapConvention.CameraToColmap(like).Params;
        return Rows($"SELECT camera_id, params FROM cameras WHERE model = $m AND width = $w AND height = $h {and} ORDER BY camera_id",
                r => (Id: r.GetInt32(0), Params: Blobs.To<double>(Blob(r, 1))),
                args.Concat(new (string, object?)[] { ("$m", like.Model.Id), ("$w", like.Width), ("$h", like.Height) }).ToArray())
            .Where(c => c.Params.AsSpan().SequenceEqual(stored))
            .Select(c => c.Id);
    }

    public Camera? ReadCamera(int cameraId) => ReadCameras("WHERE camera_id = $id", ("$id", cameraId)).FirstOrDefault();

    public List<Camera> ReadCameras() => ReadCameras("");

    /// <summary>Each image's camera, by image name, from a database opened read-only (v1.1's
    /// visuallocalization.net local-feature evaluation database gives Aachen's intrinsics so).
    /// Cameras the pipeline cannot project, and COLMAP's initial guesses, are refused.</summary>
    public static Dictionary<string, Camera> ReadCamerasByImage(string path)
    {
        using var db = OpenReadOnly(path);
        var cams = db.ReadCameras().ToDictionary(c => c.Id);
        // COLMAP's initial guess (no prior focal length, f = 1.2 × the larger side, the principal
        // point at the centre, no distortion) is no calibration: v1.0's visuallocalization.net
        // evaluation database holds only such, and a map built on them was off without a word.
        if (cams.Values.FirstOrDefault(ColmapGuess.Is) is { } guessed)
            throw new FeatureDatabaseException(path, $"camera {guessed.Id} has no prior focal length (prior_focal_length 0) and COLMAP's initial guess for intrinsics "
                + $"(f = 1.2 × {Math.Max(guessed.Width, guessed.Height)}, no distortion), not a calibration ({cams.Values.Count(ColmapGuess.Is)} of {cams.Count} cameras): "
                + "give the dataset's intrinsics list as --intrinsics");
        var result = new Dictionary<string, Camera>();
        foreach (var image in db.ReadImages())
        {
            if (!cams.TryGetValue(image.CameraId, out var camera))
                throw new FeatureDatabaseException(path, $"image '{image.Name}' names camera {image.CameraId}, which is not in the cameras table");
            if ((camera.FindProblem() ?? camera.UnsupportedModelProblem) is { } problem)
                throw new FeatureDatabaseException(path, $"image '{image.Name}': {problem}");
            result[image.Name] = camera;
        }
        return result;
    }

    private List<Camera> ReadCameras(string where, params (string, object?)[] args) =>
        Rows($"SELECT camera_id, model, width, height, params, prior_focal_length FROM cameras {where} ORDER BY camera_id", r =>
        {
            int id = r.GetInt32(0), modelId = r.GetInt32(1);
            if (!CameraModel.TryFromId(modelId, out var model))
                throw new FeatureDatabaseException(Path, $"camera {id} has an unknown camera model id {modelId}");
            var p = Blobs.To<double>(Blob(r, 4));
            if (p.Length != model.ParamCount)
                throw new FeatureDatabaseException(Path, $"camera {id} ({model.Name}) has {p.Length} parameters, the model needs {model.ParamCount}");
            var c = new Camera(id, model, r.GetInt32(2), r.GetInt32(3), p, r.GetInt64(5) != 0);
            return ColmapConvention.CameraFromColmap(c);
        }, args);

    // ---- Images ------------------------------------------------------------------------------

    /// <summary>Adds an image (its <see cref="DatabaseImage.Id"/> is used when positive) and returns
    /// its id. Names are unique; the camera must exist.</summary>
    public int AddImage(DatabaseImage image)
    {
        if (string.IsNullOrEmpty(image.Name)) throw new ArgumentException("an image needs a name");
        if (ImageNameProblem(image.Name) is { } problem) throw new FeatureDatabaseException(Path, problem);
        if (image.PriorRotation is { Length: not 4 }) throw new ArgumentException("the prior rotation is a quaternion (w, x, y, z)");
        if (image.PriorTranslation is { Length: not 3 }) throw new ArgumentException("the prior translation has 3 values");
        bool hasPrior = image.PriorRotation != null || image.PriorTranslation != null;
        if (hasPrior && !_imagesHavePriors)
            throw new FeatureDatabaseException(Path, "uses COLMAP's newer images table without pose-prior columns; cannot store a prior");
        return InTransaction(() =>
        {
            if (Scalar("SELECT 1 FROM cameras WHERE camera_id = $c", ("$c", image.CameraId)) == null)
                throw new FeatureDatabaseException(Path, $"image '{image.Name}' refers to camera {image.CameraId}, which does not exist");
            if (Scalar("SELECT image_id FROM images WHERE name = $n", ("$n", image.Name)) is long existing)
                throw new FeatureDatabaseException(Path, $"already holds an image named '{image.Name}' (id {existing})");
            object? id = image.Id > 0 ? image.Id : null;
            if (hasPrior)
            {
                var q = image.PriorRotation;
                var t = image.PriorTranslation;
                Execute("INSERT INTO images(image_id, name, camera_id, prior_qw, prior_qx, prior_qy, prior_qz, prior_tx, prior_ty, prior_tz) " +
                        "VALUES ($id, $n, $c, $qw, $qx, $qy, $qz, $tx, $ty, $tz)",
                    ("$id", id), ("$n", image.Name), ("$c", image.CameraId),
                    ("$qw", q?[0]), ("$qx", q?[1]), ("$qy", q?[2]), ("$qz", q?[3]),
                    ("$tx", t?[0]), ("$ty", t?[1]), ("$tz", t?[2]));
            }
            else
            {
                Execute("INSERT INTO images(image_id, name, camera_id) VALUES ($id, $n, $c)",
                    ("$id", id), ("$n", image.Name), ("$c", image.CameraId));
            }
            return (int)Long("SELECT last_insert_rowid()");
        });
    }

    public int AddImage(string name, int cameraId) => AddImage(new DatabaseImage(0, name, cameraId));

    /// <summary>The image's id, registered with the camera (found or added) when the database does
    /// not hold it yet, in one write transaction: two processes extracting into one database no
    /// longer both find it missing and then fail to add it ("already holds an image named").</summary>
    public int FindOrAddImage(string name, Camera camera) => InTransaction(() =>
        FindImage(name)?.Id ?? AddImage(name, FindCamera(camera) ?? AddCamera(camera)));

    /// <summary>
    /// Why a name cannot be an image's, or null. COLMAP's text model (images.txt: one image per
    /// line, fields split at whitespace) and the project's lists and pairs files cannot hold line
    /// breaks, tabs or other control characters, nor leading or trailing spaces: such a name would
    /// corrupt the export or come back as another name, so the database refuses it.
    /// </summary>
    public static string? ImageNameProblem(string name)
    {
        string? what = name.Any(c => c is '\n' or '\r') ? "a line break"
            : name.Any(char.IsControl) ? "a tab or another control character"
            : name.Length > 0 && (char.IsWhiteSpace(name[0]) || char.IsWhiteSpace(name[^1])) ? "a leading or trailing space"
            : null;
        return what == null ? null
            : $"image name '{Printable(name)}' holds {what}, which COLMAP's images.txt (one image per line) and the pairs and list files cannot hold; rename the image";
    }

    private static string Printable(string s) =>
        string.Concat(s.Select(c => c switch { '\n' => "\\n", '\r' => "\\r", '\t' => "\\t", _ when char.IsControl(c) => $"\\u{(int)c:x4}", _ => c.ToString() }));

    public DatabaseImage? FindImage(string name) => ReadImages("WHERE name = $n", ("$n", name)).FirstOrDefault();

    public DatabaseImage? ReadImage(int imageId) => ReadImages("WHERE image_id = $id", ("$id", imageId)).FirstOrDefault();

    /// <summary>All images, by id (one query: the 6,888 rows of Aachen v1.1 take milliseconds).</summary>
    public List<DatabaseImage> ReadImages() => ReadImages("");

    private List<DatabaseImage> ReadImages(string where, params (string, object?)[] args)
    {
        string priors = _imagesHavePriors ? ", " + string.Join(", ", PriorColumns) : "";
        return Rows($"SELECT image_id, name, camera_id{priors} FROM images {where} ORDER BY image_id", r =>
        {
            double[]? q = null, t = null;
            if (_imagesHavePriors)
            {
                if (Enumerable.Range(3, 4).All(i => !r.IsDBNull(i))) q = Enumerable.Range(3, 4).Select(r.GetDouble).ToArray();
                if (Enumerable.Range(7, 3).All(i => !r.IsDBNull(i))) t = Enumerable.Range(7, 3).Select(r.GetDouble).ToArray();
            }
            return new DatabaseImage(r.GetInt32(0), r.GetString(1), r.GetInt32(2), q, t);
        }, args);
    }

    // ---- Summary -----------------------------------------------------------------------------

    public DatabaseSummary Summary()
    {
        (long Count, long Sum) CountRows(string table, string where = "") =>
            Rows($"SELECT count(*), coalesce(sum(rows), 0) FROM {table} {where}", r => (r.GetInt64(0), r.GetInt64(1)))[0];
        var kp = CountRows("keypoints");
        var m = CountRows("matches", "WHERE rows > 0");
        var g = CountRows("two_view_geometries", "WHERE rows > 0");
        return new DatabaseSummary(Path, StoredSchemaVersion(), Extractor,
            (int)Long("SELECT count(*) FROM cameras"), (int)Long("SELECT count(*) FROM images"),
            (int)kp.Count, _hasProjectTables ? (int)Long("SELECT count(*) FROM r2d2_features") : 0, kp.Sum,
            (int)m.Count, m.Sum, (int)g.Count, g.Sum);
    }

    private int StoredSchemaVersion() =>
        _hasProjectTables && Scalar("SELECT value FROM r2d2_meta WHERE key = 'schema_version'") is string v ? int.Parse(v) : 0;
}
