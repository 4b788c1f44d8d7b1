namespace R2D2.Localization.Pipeline;

/// <summary>The machine a benchmark ran on, as tools/bench/machine prints it: CPU model, logical
/// CPUs, RAM, the SIMD flags that change fp32 sums and bf16 speed, and the load average.</summary>
public static class MachineLine
{
    private static readonly string[] Flags = { "fma", "f16c", "avx2", "avx512f", "avx512_bf16", "amx_bf16" };

    public static string Describe()
    {
        string model = "unknown CPU", flags = "", ram = "", load = "";
        try
        {
            var cpu = File.ReadLines("/proc/cpuinfo").ToList();
            model = cpu.FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? model;
            var have = (cpu.FirstOrDefault(l => l.StartsWith("flags"))?.Split(':', 2)[1] ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
            flags = string.Join(' ', Flags.Where(have.Contains));
            var mem = File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal"))?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (mem is { Length: >= 2 } && long.TryParse(mem[1], out long kb)) ram = FormattableString.Invariant($", {kb / 1048576.0:F1} GB RAM");
            load = ", load average " + string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // not Linux: what is known
        return $"{model}, {Environment.ProcessorCount} logical CPUs{ram}, flags: {flags}{load}";
    }
}
