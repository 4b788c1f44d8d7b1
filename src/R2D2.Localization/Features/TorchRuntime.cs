using TorchSharp;
using static TorchSharp.torch;

namespace R2D2.Localization.Features;

/// <summary>Chooses the torch device ("auto" takes CUDA when the CUDA backend is built in and a GPU
/// is present) and the CPU thread count, once per process.</summary>
public static class TorchRuntime
{
    public static Device ResolveDevice(string? name)
    {
        switch ((name ?? "auto").ToLowerInvariant())
        {
            case "auto":
                return cuda.is_available() ? CUDA : CPU;
            case "cpu":
                return CPU;
            case "cuda":
            case var s when s.StartsWith("cuda:"):
                if (!cuda.is_available())
                    throw new ArgumentException("--device cuda: no CUDA device is available (this build uses the "
                        + "CPU libtorch unless built with -p:TorchBackend=cuda, and a GPU with its driver is needed)");
                return new Device(name!);
            default:
                throw new ArgumentException($"--device must be auto, cpu or cuda, not '{name}'");
        }
    }

    /// <summary>Sets the intra-op threads (0 = all cores).</summary>
    public static void SetThreads(int threads)
    {
        if (threads > 0) set_num_threads(threads);
        else set_num_threads(Environment.ProcessorCount);
    }
}
