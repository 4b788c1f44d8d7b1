using System.Collections;
using System.Runtime.InteropServices;

namespace R2D2.Localization.Cli;

/// <summary>
/// The network's activations are blocks of 100+ MB. glibc's malloc maps each one with mmap and
/// unmaps it on free, so every layer of every image page-faults its output in again (a third of
/// the run in the kernel). jemalloc keeps and reuses them; it has to be preloaded before the
/// process starts, so on Linux, when Debian's libjemalloc2 is installed, `localize` re-executes
/// itself once (execve: the same process, no child) with it preloaded. R2D2_ALLOCATOR=glibc
/// turns this off.
/// <para>libstdc++ is preloaded ahead of jemalloc, so C++'s operators new and delete are
/// libstdc++'s, which call malloc and free (jemalloc's), and jemalloc never sees a sized delete.
/// jemalloc trusts the size a sized delete gives it to pick the free list, and TorchSharp 0.107
/// gives a wrong one: <c>THSJIT_FreeTensorOrScalarArray</c> frees the argument array of every
/// TorchScript call (<c>new TensorOrScalar[n]</c>) with a scalar <c>delete</c>, 24 bytes for an
/// array of 72 (the oneDNN convolutions' three arguments). The block then went back to the
/// 32-byte list, was handed out again inside live objects, and the heap broke: segfaults in
/// jemalloc, oneDNN or the .NET runtime, seconds later and far away (README, "A runtime crash
/// and its cause"). glibc's free ignores the size, which is why runs with it never failed.</para>
/// </summary>
public static class Allocator
{
    private static readonly string[] JemallocPaths =
    {
        "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
        "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
        "/usr/lib64/libjemalloc.so.2",
    };

    private const string Libstdcxx = "libstdc++.so.6";

    // Freed pages are never returned to the system: any decay (even 5 s) purges the activations
    // between layers and brings the page faults back (measured on 7 EVD images: 69 s and 3.9 GB
    // peak without decay, 112 s and 1.5 GB with 5 s decay, 110 s and 2.1 GB with glibc).
    // thp:always asks for transparent huge pages on jemalloc's memory (honoured when the kernel's
    // THP mode is madvise or always): a convolution reading 128 channels of a 100+ MB map misses
    // the TLB on every 4 kB page otherwise (boat + a 1280×820 image: 21.8 s of user time against
    // 27.4, docs/speed.md, "Speed").
    private const string JemallocConf = "dirty_decay_ms:-1,muzzy_decay_ms:-1,thp:always";

    [DllImport("libc", SetLastError = true)]
    private static extern int execve(string path, string?[] argv, string?[] envp);

    /// <summary>The LD_PRELOAD to run with, or null to run as the process is: jemalloc with
    /// libstdc++ ahead of it, then what was preloaded already. A preload that has jemalloc without
    /// libstdc++ before it gets libstdc++ in front; one that has both is kept.</summary>
    /// <param name="preload">the current LD_PRELOAD (colon- or space-separated)</param>
    /// <param name="jemalloc">the jemalloc found on the system, or null</param>
    /// <param name="libstdcxx">libstdc++ beside it, or null when there is none (then jemalloc is not used)</param>
    public static string? Preload(string preload, string? jemalloc, string? libstdcxx)
    {
        var entries = Entries(preload);
        int je = Array.FindIndex(entries, IsJemalloc);
        int cxx = Array.FindIndex(entries, e => Path.GetFileName(e).StartsWith("libstdc++", StringComparison.Ordinal));
        if (je >= 0)
            return cxx >= 0 && cxx < je ? null : libstdcxx == null ? null : string.Join(":", new[] { libstdcxx }.Concat(entries));
        if (jemalloc == null || libstdcxx == null) return null;
        return string.Join(":", new[] { libstdcxx, jemalloc }.Concat(entries));
    }

    private static string[] Entries(string preload) => preload.Split(new[] { ':', ' ' }, StringSplitOptions.RemoveEmptyEntries);

    private static bool IsJemalloc(string entry) => Path.GetFileName(entry).StartsWith("libjemalloc", StringComparison.Ordinal);

    public static void UseJemalloc(string[] args)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("R2D2_ALLOCATOR") == "glibc") return;
        var lib = JemallocPaths.FirstOrDefault(File.Exists);
        var cxx = lib == null ? null : Path.Combine(Path.GetDirectoryName(lib)!, Libstdcxx);
        var current = Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "";
        var preload = Preload(current, lib, cxx != null && File.Exists(cxx) ? cxx : null);
        // A jemalloc preloaded by the user keeps the user's MALLOC_CONF (or jemalloc's defaults).
        bool ownConf = !Entries(current).Any(IsJemalloc);
        var exe = Environment.ProcessPath;
        if (preload == null || exe == null) return;
        var argv = new List<string?> { exe };
        // Run through the dotnet host, the program is its first argument; through the apphost, it is the host.
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") argv.Add(Environment.GetCommandLineArgs()[0]);
        argv.AddRange(args);
        argv.Add(null);
        var env = new List<string?>();
        foreach (DictionaryEntry kv in Environment.GetEnvironmentVariables())
        {
            var key = (string)kv.Key;
            if (key == "LD_PRELOAD" || (ownConf && key == "MALLOC_CONF")) continue;
            env.Add($"{key}={kv.Value}");
        }
        env.Add("LD_PRELOAD=" + preload);
        if (ownConf) env.Add("MALLOC_CONF=" + (Environment.GetEnvironmentVariable("MALLOC_CONF") ?? JemallocConf));
        env.Add(null);
        execve(exe, argv.ToArray(), env.ToArray());
        // Only reached when execve failed: go on as the process is.
    }
}

/// <summary>
/// Ends the process without running the native libraries' static destructors. At exit, with
/// jemalloc preloaded, OpenCvSharpExtern's destructors (zxing's QR-code tables) crashed in
/// jemalloc after the work was done: exit 139 instead of 0 in about one loaded test run in four.
/// That was most likely the broken heap of <see cref="Allocator"/>'s remarks, found later; exiting
/// here stays, as nothing is left to do: every output is written and closed by then, the console
/// is flushed here.
/// </summary>
internal static class ProcessEnd
{
    [DllImport("libc", EntryPoint = "_exit")]
    private static extern void ExitNow(int status);

    public static int Exit(int code)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        if (OperatingSystem.IsLinux()) ExitNow(code);
        return code;
    }
}

