using System.Text.Json.Nodes;

namespace R2D2.Localization.Tests;

/// <summary>Locates ../shared (or $R2D2_SHARED). Tests that need it fail loudly when it is missing.</summary>
public static class SharedData
{
    public static string Root { get; } = Find();

    private static string Find()
    {
        var env = Environment.GetEnvironmentVariable("R2D2_SHARED");
        if (!string.IsNullOrEmpty(env)) return Path.GetFullPath(env);
        // Walk up from the test binary to the repo root (the folder holding R2D2.Localization.sln).
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "R2D2.Localization.sln"))) dir = dir.Parent;
        var root = dir?.FullName ?? Directory.GetCurrentDirectory();
        return Path.GetFullPath(Path.Combine(root, "..", "shared"));
    }

    public static string RepoRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir != null && !File.Exists(Path.Combine(dir.FullName, "R2D2.Localization.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new DirectoryNotFoundException("repo root not found");
        }
    }

    public static string Path_(params string[] parts)
    {
        var p = Path.Combine(new[] { Root }.Concat(parts).ToArray());
        if (!File.Exists(p) && !Directory.Exists(p))
            throw new FileNotFoundException($"shared data missing: {p} (set R2D2_SHARED to the shared folder; see README)");
        return p;
    }

    public static string Model(string name) => Path_("models", "r2d2", name + ".pt");

    public static readonly string[] Models = { "r2d2_WASF_N16", "r2d2_WAF_N16", "r2d2_WASF_N8_big", "faster2d2_WASF_N16" };

    /// <summary>Reads a raw little-endian array without a header.</summary>
    public static T[] Raw<T>(params string[] parts) where T : unmanaged
    {
        var bytes = File.ReadAllBytes(Path_(parts));
        var data = new T[bytes.Length / System.Runtime.CompilerServices.Unsafe.SizeOf<T>()];
        Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        return data;
    }

    /// <summary>Reads a reference array (.f32 / .i64 / .u8 with its .json header).</summary>
    public static (T[] Data, long[] Shape) Array<T>(params string[] parts) where T : unmanaged
    {
        var file = Path_(parts);
        var json = JsonNode.Parse(File.ReadAllText(Path.ChangeExtension(file, ".json")))!;
        var shape = json["shape"]!.AsArray().Select(x => x!.GetValue<long>()).ToArray();
        var bytes = File.ReadAllBytes(file);
        var data = new T[bytes.Length / System.Runtime.CompilerServices.Unsafe.SizeOf<T>()];
        Buffer.BlockCopy(bytes, 0, data, 0, bytes.Length);
        return (data, shape);
    }
}
