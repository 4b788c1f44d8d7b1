using Microsoft.Data.Sqlite;
using R2D2.Localization.Features;
using R2D2.Localization.Geometry;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Tests.Storage;

/// <summary>Synthetic features and raw SQLite access for checking the stored layout byte by byte.</summary>
internal static class StorageTestData
{
    public static readonly ExtractorIdentity R2D2Extractor =
        ExtractorIdentity.ForR2D2("r2d2_WASF_N16", "Quad_L2Net_ConfCFS()", "weights-a", new ExtractionSettings());

    public static FeatureSet RandomFeatures(Random rng, int n, int dim = 128, bool nonNegative = false, int width = 1600, int height = 1067)
    {
        float[] Uniform(float lo, float hi) => Enumerable.Range(0, n).Select(_ => lo + (hi - lo) * rng.NextSingle()).ToArray();
        var d = new float[n * dim];
        for (int i = 0; i < n; i++)
        {
            double norm = 0;
            for (int k = 0; k < dim; k++)
            {
                float v = nonNegative ? rng.NextSingle() : rng.NextSingle() * 2 - 1;
                d[i * dim + k] = v;
                norm += v * v;
            }
            for (int k = 0; k < dim; k++) d[i * dim + k] = (float)(d[i * dim + k] / Math.Sqrt(norm));
        }
        return new FeatureSet
        {
            ImageWidth = width, ImageHeight = height,
            X = Uniform(-0.5f, width - 0.5f), Y = Uniform(-0.5f, height - 0.5f),
            OfficialX = Uniform(0, width), OfficialY = Uniform(0, height),
            Scale = Uniform(1, 64), Score = Uniform(0, 1), Reliability = Uniform(0.7f, 1), Repeatability = Uniform(0.7f, 1),
            Descriptors = d, Dim = dim,
        };
    }

    /// <summary>A new database with one camera and <paramref name="images"/> images named img{i}.jpg.</summary>
    public static (FeatureDatabase Db, string Path, int[] ImageIds) NewDatabase(int images)
    {
        var path = System.IO.Path.Combine(TempDir.Create(), "features.db");
        var db = FeatureDatabase.Open(path);
        int cam = db.AddCamera(new Camera(0, CameraModel.SimpleRadial, 1600, 1067, new[] { 1200.0, 799.5, 533.0, -0.1 }));
        var ids = Enumerable.Range(1, images).Select(i => db.AddImage($"img{i}.jpg", cam)).ToArray();
        return (db, path, ids);
    }

    /// <summary>A raw read-only connection (immutable for write-protected files, so nothing is created beside them).</summary>
    public static SqliteConnection Raw(string path)
    {
        bool writeProtected = !OperatingSystem.IsWindows() && (File.GetUnixFileMode(path) & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) == 0;
        var source = writeProtected ? new Uri(path).AbsoluteUri + "?immutable=1" : path;
        var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = source, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        c.Open();
        return c;
    }

    public static object? RawScalar(string path, string sql)
    {
        using var c = Raw(path);
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return cmd.ExecuteScalar();
    }

    /// <summary>A raw write (for building files as older builds wrote them); $a binds <paramref name="blob"/>.</summary>
    public static void RawExecute(string path, string sql, byte[]? blob = null)
    {
        using var c = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
        c.Open();
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        if (blob != null) cmd.Parameters.AddWithValue("$a", blob);
        cmd.ExecuteNonQuery();
    }

    public static long RawCount(string path, string sql) => Convert.ToInt64(RawScalar(path, sql));

    public static T[] RawBlob<T>(string path, string sql) where T : unmanaged
    {
        var bytes = (byte[])RawScalar(path, sql)!;
        return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, T>(bytes).ToArray();
    }

    public static string Sha(string path) => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(path)));
}
