using TorchSharp;
using static TorchSharp.torch;

namespace R2D2.Localization.Features;

/// <summary>Chooses the torch device ("auto" takes CUDA when the CUDA backend is built in and a GPU
/// is present) and the CPU thread count, once per process.</summary>
public static class TorchRuntime
{
    /// <summary>Why <paramref name="name"/> is not a value <see cref="ResolveDevice"/> takes, or null
    /// (checked without probing for a GPU: the parser checks --device with it).</summary>
    public static string? DeviceNameProblem(string name) =>
        name.ToLowerInvariant() is "auto" or "cpu" or "cuda" || (name.StartsWith("cuda:", StringComparison.OrdinalIgnoreCase) && int.TryParse(name.AsSpan(5), out int n) && n >= 0)
            ? null : $"--device must be auto, cpu or cuda, not '{name}'";

    public static Device ResolveDevice(string? name)
    {
        if (name != null && DeviceNameProblem(name) is { } problem) throw new UsageException(problem);
        switch ((name ?? "auto").ToLowerInvariant())
        {
            case "auto":
                return cuda.is_available() ? CUDA : CPU;
            case "cpu":
                return CPU;
            default: // cuda or cuda:N
                if (!cuda.is_available())
                    throw new R2D2Exception("--device cuda: no CUDA device is available (this build uses the "
                        + "CPU libtorch unless built with -p:TorchBackend=cuda, and a GPU with its driver is needed)");
                return new Device(name!);
        }
    }

    /// <summary>The CPU's attainable float32 rate on the current threads: an n×n sgemm through
    /// torch.matmul (libtorch's BLAS), best of <paramref name="rounds"/> after one warm-up, in
    /// GFLOP/s (2n³ FLOP per product). The yardstick of the network's efficiency.</summary>
    public static double SgemmGflops(int n = 4096, int rounds = 5)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        random.manual_seed(0);
        var a = randn(n, n, dtype: float32);
        var b = randn(n, n, dtype: float32);
        torch.matmul(a, b).Dispose();
        double best = double.PositiveInfinity;
        for (int i = 0; i < rounds; i++)
        {
            long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            a.matmul(b).Dispose();
            best = Math.Min(best, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    /// <summary>Sets the intra-op threads (0 = all cores).</summary>
    public static void SetThreads(int threads)
    {
        if (threads > 0) set_num_threads(threads);
        else set_num_threads(Environment.ProcessorCount);
    }
}
