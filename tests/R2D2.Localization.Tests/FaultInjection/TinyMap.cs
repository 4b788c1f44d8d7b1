using System.Security.Cryptography;
using R2D2.Localization.Features;
using R2D2.Localization.Localization;
using R2D2.Localization.Storage;
using Xunit;

namespace R2D2.Localization.Tests.FaultInjection;

/// <summary>
/// A tiny map to run queries against, built once for the collection: `localize demo` with RootSIFT
/// (no network), half-size images, 5 day photos, 2 night queries. Its day photos are queries
/// that localize; each test copies what it uses into its own folder, so the fixture's files
/// never change.
/// </summary>
public sealed class TinyMap
{
    public string Folder { get; } = TempDir.Create();
    public string Map => Path.Combine(Folder, "map.db");
    public string DayImages => Path.Combine(Folder, "images", "day");

    /// <summary>The camera of the day photos in a query list's (COLMAP's) convention.</summary>
    public const string Camera = "PINHOLE 256 192 200 200 128 96";

    public TinyMap()
    {
        var (code, stdout, err) = CliTests.Localize("demo", "--model", "rootsift", "--scale", "0.5", "--max-day", "5", "--max-queries", "2", "--out", Folder);
        Assert.True(code == 0, err + stdout);
    }

    /// <summary>A fresh folder holding a copy of the map and of the named day photos (as queries).</summary>
    public string Workspace(params string[] dayImages)
    {
        var dir = TempDir.Create();
        File.Copy(Map, Path.Combine(dir, "map.db"));
        foreach (var name in dayImages) File.Copy(Path.Combine(DayImages, name), Path.Combine(dir, name));
        return dir;
    }

    /// <summary>The map of a workspace and the feature source it was built with (library-level runs).</summary>
    public static (MapIndex Map, FeatureSource Source) Load(string workspace)
    {
        using var db = FeatureDatabase.OpenReadOnly(Path.Combine(workspace, "map.db"));
        var map = MapIndex.Load(db);
        return (map, FeatureSource.ForRootSift(RootSiftSettings.FromJson(map.Extractor.Settings)));
    }

    public static string Hash(string path) => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path)));

    /// <summary>The hash of every file of a folder (recursively), for "nothing changed" checks; not
    /// SQLite's -shm/-wal, which a reader may create and update.</summary>
    public static Dictionary<string, string> Hashes(string folder) =>
        Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith("-shm") && !f.EndsWith("-wal"))
            .ToDictionary(f => Path.GetRelativePath(folder, f), Hash);
}

[CollectionDefinition("tiny map")]
public sealed class TinyMapCollection : ICollectionFixture<TinyMap> { }
