using System.Collections;
using System.Runtime.InteropServices;

namespace R2D2.Localization.Cli;

/// <summary>
/// The network's activations are blocks of 100+ MB. glibc's malloc maps each one with mmap and
/// unmaps it on free, so every layer of every image page-faults its output in again (a third of
/// the run in the kernel). jemalloc keeps and reuses them; it has to be preloaded before the
/// process starts, so on Linux, when Debian's libjemalloc2 is installed, `localize` re-executes
/// itself once (execve: the same process, no child) with it preloaded. R2D2_ALLOCATOR=glibc
/// turns this off; a jemalloc already in LD_PRELOAD is kept as it is.
/// </summary>
internal static class Allocator
{
    private static readonly string[] JemallocPaths =
    {
        "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",
        "/usr/lib/aarch64-linux-gnu/libjemalloc.so.2",
        "/usr/lib64/libjemalloc.so.2",
    };

    // Freed pages are never returned to the system: any decay (even 5 s) purges the activations
    // between layers and brings the page faults back (measured on 7 EVD images: 69 s and 3.9 GB
    // peak without decay, 112 s and 1.5 GB with 5 s decay, 110 s and 2.1 GB with glibc).
    // thp:always asks for transparent huge pages on jemalloc's memory (honoured when the kernel's
    // THP mode is madvise or always): a convolution reading 128 channels of a 100+ MB map misses
    // the TLB on every 4 kB page otherwise (boat + a 1280×820 image: 21.8 s of user time against
    // 27.4, README "Speed").
    private const string JemallocConf = "dirty_decay_ms:-1,muzzy_decay_ms:-1,thp:always";

    [DllImport("libc", SetLastError = true)]
    private static extern int execve(string path, string?[] argv, string?[] envp);

    public static void UseJemalloc(string[] args)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("R2D2_ALLOCATOR") == "glibc") return;
        var preload = Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "";
        if (preload.Contains("jemalloc")) return;
        var lib = JemallocPaths.FirstOrDefault(File.Exists);
        var exe = Environment.ProcessPath;
        if (lib == null || exe == null) return;
        var argv = new List<string?> { exe };
        // Run through the dotnet host, the program is its first argument; through the apphost, it is the host.
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") argv.Add(Environment.GetCommandLineArgs()[0]);
        argv.AddRange(args);
        argv.Add(null);
        var env = new List<string?>();
        foreach (DictionaryEntry kv in Environment.GetEnvironmentVariables())
        {
            var key = (string)kv.Key;
            if (key is "LD_PRELOAD" or "MALLOC_CONF") continue;
            env.Add($"{key}={kv.Value}");
        }
        env.Add("LD_PRELOAD=" + (preload.Length > 0 ? lib + ":" + preload : lib));
        env.Add("MALLOC_CONF=" + (Environment.GetEnvironmentVariable("MALLOC_CONF") ?? JemallocConf));
        env.Add(null);
        execve(exe, argv.ToArray(), env.ToArray());
        // Only reached when execve failed: go on with glibc.
    }
}

/// <summary>
/// Ends the process without running the native libraries' static destructors. At exit, with
/// jemalloc preloaded, OpenCvSharpExtern's destructors (zxing's QR-code tables) freed memory while
/// libgomp's threads still ran, and the process died of SIGSEGV after its work was done: exit 139
/// instead of 0 in about one loaded test run in four (core: jemalloc's mutex under
/// zxing::qrcode::Version::~Version, called from exit()). Every output is written and closed by
/// then; the console is flushed here.
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

