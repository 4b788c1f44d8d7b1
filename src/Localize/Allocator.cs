using System.Runtime.InteropServices;

namespace R2D2.Localization.Cli;

/// <summary>
/// glibc's malloc serves every large block (the network's 100+ MB activations) with a fresh mmap
/// and returns it on free, so each layer of each image page-faults its output in again. Keeping
/// freed memory in the heap (no mmap for large blocks, no trimming) removes that cost in-process,
/// which matters since an LD_PRELOADed allocator cannot be set up after the process started.
/// R2D2_MALLOC_TUNE=0 turns it off.
/// </summary>
internal static class Allocator
{
    private const int M_TRIM_THRESHOLD = -1;
    private const int M_MMAP_MAX = -4;

    [DllImport("libc", EntryPoint = "mallopt")]
    private static extern int Mallopt(int param, int value);

    public static void Tune()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("R2D2_MALLOC_TUNE") == "0") return;
        if ((Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "").Contains("jemalloc")) return;
        try
        {
            Mallopt(M_MMAP_MAX, 0);
            Mallopt(M_TRIM_THRESHOLD, int.MaxValue);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // Not glibc (musl, say): nothing to tune.
        }
    }
}
