using System.Diagnostics;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using static TorchSharp.torch;

namespace R2D2.Localization.Pipeline;

/// <summary>What <see cref="NetworkBenchRunner.Run"/> measures.</summary>
public sealed record NetworkBenchOptions
{
    /// <summary>Checkpoint path (or "default").</summary>
    public required string Model { get; init; }
    public required IReadOnlyList<string> Images { get; init; }
    public ExtractionSettings Extraction { get; init; } = new();
    /// <summary>Side of the sgemm that measures the CPU's peak (0: skip it).</summary>
    public int SgemmSize { get; init; } = 4096;
    /// <summary>Forward passes per profiled size (best kept; 0: no per-layer profile).</summary>
    public int ProfileRounds { get; init; } = 2;
    /// <summary>Network variants timed against each other over the whole extraction of all
    /// images, in interleaved rounds (empty: none); see <see cref="NetworkBenchRunner.Variants"/>.</summary>
    public IReadOnlyList<string> Compare { get; init; } = Array.Empty<string>();
    public int Rounds { get; init; } = 3;
}

/// <summary>
/// The network's efficiency (`localize bench-net`, the FLOP half of tools/bench/extract): the
/// CPU's sgemm peak, each image's pyramid pixels and convolution FLOPs, a per-layer profile at
/// the largest and smallest level, and optionally A/B timings of network variants over the same
/// extraction in interleaved rounds (on a shared machine, load changes between rounds hit every
/// variant alike).
/// </summary>
public static class NetworkBenchRunner
{
    /// <summary>The variants <see cref="NetworkBenchOptions.Compare"/> can name.</summary>
    public static readonly IReadOnlyDictionary<string, NetworkOptions> Variants = new Dictionary<string, NetworkOptions>
    {
        ["fp32"] = new(),
        ["fp32-nchw"] = new() { OneDnnLayout = false },
        ["fp32-gemm-pad"] = new() { ExplicitPadding = false },
        ["fp32-nchw-gemm-pad"] = new() { OneDnnLayout = false, ExplicitPadding = false },
        ["fp32-nhwc"] = new() { ChannelsLast = true },
        ["fp32-unfolded"] = new() { FoldBatchNorm = false },
        ["bf16"] = new() { BFloat16 = true },
        ["bf16-nchw"] = new() { BFloat16 = true, OneDnnLayout = false },
    };

    public static Dictionary<string, object?> Run(NetworkBenchOptions o, IProgressSink progress)
    {
        foreach (var v in o.Compare)
            if (!Variants.ContainsKey(v)) throw new ArgumentException($"unknown variant '{v}' (known: {string.Join(", ", Variants.Keys)})");
        var result = new Dictionary<string, object?> { ["threads"] = get_num_threads(), ["torch"] = "libtorch " + __version__ };
        if (o.SgemmSize > 0)
        {
            progress.Info($"sgemm {o.SgemmSize}² ...");
            result["sgemm"] = new Dictionary<string, object> { ["n"] = o.SgemmSize, ["gflops"] = TorchRuntime.SgemmGflops(o.SgemmSize) };
        }

        using var net = ModelLoader.Load(o.Model, CPU, new NetworkOptions());
        var extractor = new MultiScaleExtractor(net, o.Extraction);
        double macs = net.Architecture.MacsPerPixel;
        result["net"] = net.Architecture.Net;
        result["macs_per_pixel"] = macs;
        var images = o.Images.Select(p => (Path: p, Image: ImageFile.ReadRgb(p, o.Extraction.MaxPixels))).ToList();
        var levels = new List<(int W, int H)>();
        result["images"] = images.Select(im =>
        {
            var plan = extractor.PlanLevels(im.Image.Width, im.Image.Height);
            levels.AddRange(plan.Select(l => (l.Width, l.Height)));
            long px = plan.Sum(l => (long)l.Width * l.Height);
            return new Dictionary<string, object>
            {
                ["name"] = Path.GetFileName(im.Path), ["width"] = im.Image.Width, ["height"] = im.Image.Height,
                ["levels"] = plan.Count, ["pyramid_pixels"] = px, ["gflop"] = 2 * macs * px / 1e9,
            };
        }).ToList();

        if (o.ProfileRounds > 0 && levels.Count > 0)
        {
            var sizes = new[] { levels.MaxBy(l => (long)l.W * l.H), levels.MinBy(l => (long)l.W * l.H) }.Distinct();
            var profile = new List<Dictionary<string, object>>();
            foreach (var (w, h) in sizes)
            {
                progress.Info($"per-layer profile at {w}×{h} ...");
                using var x = randn(1, 3, h, w, dtype: float32);
                net.ProfileConvolutions(x, 1); // warm-up: oneDNN primitives created, pages faulted in
                foreach (var t in net.ProfileConvolutions(x, o.ProfileRounds))
                    profile.Add(new Dictionary<string, object>
                    {
                        ["size"] = $"{w}x{h}", ["conv"] = t.Index + 1, ["in"] = t.InChannels, ["out"] = t.OutChannels,
                        ["kernel"] = t.Kernel, ["dilation"] = t.Dilation, ["ms"] = t.Seconds * 1e3, ["gflops"] = t.Flop / t.Seconds / 1e9,
                    });
            }
            result["layers"] = profile;
        }

        if (o.Compare.Count > 0)
        {
            var nets = o.Compare.ToDictionary(v => v, v => ModelLoader.Load(o.Model, CPU, Variants[v]));
            try
            {
                var seconds = o.Compare.ToDictionary(v => v, _ => new List<double>());
                double Time(string v)
                {
                    var ex = new MultiScaleExtractor(nets[v], o.Extraction);
                    long t0 = Stopwatch.GetTimestamp();
                    foreach (var im in images) ex.Extract(im.Image);
                    return Stopwatch.GetElapsedTime(t0).TotalSeconds;
                }
                foreach (var v in o.Compare) Time(v); // warm-up
                for (int r = 0; r < o.Rounds; r++)
                {
                    // Alternate the order so neither variant always runs right after the other.
                    var order = r % 2 == 0 ? o.Compare : o.Compare.Reverse().ToList();
                    foreach (var v in order)
                    {
                        seconds[v].Add(Time(v));
                        progress.Info($"round {r + 1}/{o.Rounds} {v}: {seconds[v][^1]:F2} s");
                    }
                }
                result["compare"] = seconds.ToDictionary(kv => kv.Key, kv => (object)new Dictionary<string, object>
                {
                    ["seconds"] = kv.Value, ["median"] = PoseEvaluation.Median(kv.Value), ["min"] = kv.Value.Min(), ["max"] = kv.Value.Max(),
                });
            }
            finally
            {
                foreach (var n in nets.Values) n.Dispose();
            }
        }
        return result;
    }
}
