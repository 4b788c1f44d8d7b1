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
    /// <summary>Side of the sgemm that measures the CPU's peak (0: skip it and the FMA peak, <see cref="FmaPeak"/>).</summary>
    public int SgemmSize { get; init; } = 4096;
    /// <summary>Forward passes per profiled size (best kept; 0: no per-layer profile).</summary>
    public int ProfileRounds { get; init; } = 2;
    /// <summary>Network variants timed against each other over the whole extraction of all
    /// images, in interleaved rounds (empty: none); see <see cref="NetworkBenchRunner.Variants"/>.</summary>
    public IReadOnlyList<string> Compare { get; init; } = Array.Empty<string>();
    public int Rounds { get; init; } = 3;
    /// <summary>The results as JSON here (null: none); refused before the measuring when it is an input.</summary>
    public string? JsonPath { get; init; }
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
        // The direct (oneDNN) convolutions everywhere: the default before Winograd.
        ["fp32-direct"] = new() { Winograd = false },
        // Earlier defaults and steps, unsplit (SplitDilated = 1) as they were measured.
        ["fp32-before-split"] = new() { SplitDilated = 1, FusedHeads = false },
        ["fp32-nchw"] = new() { OneDnnLayout = false, SplitDilated = 1, FusedHeads = false },
        ["fp32-gemm-pad"] = new() { ExplicitPadding = false, SplitDilated = 1, FusedHeads = false },
        ["fp32-nchw-gemm-pad"] = new() { OneDnnLayout = false, ExplicitPadding = false, SplitDilated = 1, FusedHeads = false },
        ["fp32-nhwc"] = new() { ChannelsLast = true, SplitDilated = 1 },
        ["fp32-unfolded"] = new() { FoldBatchNorm = false },
        ["fp32-torch-heads"] = new() { FusedHeads = false },
        ["bf16"] = new() { BFloat16 = true },
        ["bf16-nchw"] = new() { BFloat16 = true, OneDnnLayout = false, SplitDilated = 1 },
        // Phase split of the dilated convolutions (NetworkOptions.SplitDilated): -sF-dD splits the
        // convolutions with dilation ≥ D by up to F.
        ["fp32-split1"] = new() { SplitDilated = 1 },
        ["fp32-s2-d2"] = new() { SplitDilated = 2, SplitMinDilation = 2 },
        ["fp32-s4-d2"] = new() { SplitDilated = 4, SplitMinDilation = 2 },
        ["fp32-s16-d2"] = new() { SplitDilated = 16, SplitMinDilation = 2 },
        ["fp32-s2-d16"] = new() { SplitDilated = 2, SplitMinDilation = 16 },
        ["fp32-s4-d16"] = new() { SplitDilated = 4, SplitMinDilation = 16 },
        ["fp32-s8-d16"] = new() { SplitDilated = 8, SplitMinDilation = 16 },
        ["fp32-s4-d8"] = new() { SplitDilated = 4, SplitMinDilation = 8 },
        ["fp32-nchw-s4-d16"] = new() { OneDnnLayout = false, SplitDilated = 4, SplitMinDilation = 16 },
        ["bf16-split1"] = new() { BFloat16 = true, SplitDilated = 1 },
        ["bf16-s4-d16"] = new() { BFloat16 = true, SplitDilated = 4, SplitMinDilation = 16 },
        ["bf16-s4-d8"] = new() { BFloat16 = true, SplitDilated = 4, SplitMinDilation = 8 },
    };

    public static Dictionary<string, object?> Run(NetworkBenchOptions o, IProgressSink progress)
    {
        // Checked before the minutes of measuring: the JSON replaced an image given as its path.
        OutputFile.RefuseInputs(new[] { ("--json", o.JsonPath) },
            o.Images.Select(i => ("--images", (string?)i)).Concat(o.Compare.Select(c => ("--compare", (string?)c))).Append(("--model", o.Model)));
        foreach (var v in o.Compare)
            if (!Variants.ContainsKey(v)) throw new UsageException($"unknown variant '{v}' (known: {string.Join(", ", Variants.Keys)})");
        var result = new Dictionary<string, object?> { ["threads"] = get_num_threads(), ["torch"] = "libtorch " + __version__ };
        if (o.SgemmSize > 0)
        {
            progress.Info($"sgemm {o.SgemmSize}² ...");
            result["sgemm"] = new Dictionary<string, object> { ["n"] = o.SgemmSize, ["gflops"] = TorchRuntime.SgemmGflops(o.SgemmSize) };
            progress.Info("FMA peak ...");
            result["fma"] = new Dictionary<string, object> { ["lanes"] = FmaPeak.Lanes, ["gflops"] = FmaPeak.Gflops(get_num_threads()) };
        }

        using var net = ModelLoader.Load(o.Model, CPU, new NetworkOptions());
        var extractor = new MultiScaleExtractor(net, o.Extraction);
        double macs = net.Architecture.MacsPerPixel;
        result["net"] = net.Architecture.Net;
        result["macs_per_pixel"] = macs;
        var images = o.Images.Select(p => (Path: p, Image: ImageFile.ReadRgb(p, o.Extraction.MaxPixels))).ToList();
        var levels = new List<(int W, int H)>();
        (int W, int H)[] ProfileSizes() => new[] { levels.MaxBy(l => (long)l.W * l.H), levels.MinBy(l => (long)l.W * l.H) }.Distinct().ToArray();
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
            var sizes = ProfileSizes();
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
                        ["split"] = t.Split, ["layout_ms"] = t.LayoutSeconds * 1e3,
                    });
            }
            result["layers"] = profile;
        }

        if (o.Compare.Count > 0)
        {
            var nets = o.Compare.ToDictionary(v => v, v => ModelLoader.Load(o.Model, CPU, Variants[v]));
            try
            {
                if (o.ProfileRounds > 0 && levels.Count > 0) result["layers_compare"] = ProfileVariants(nets, o.Compare, ProfileSizes(), o.ProfileRounds, progress);
                var seconds = o.Compare.ToDictionary(v => v, _ => new List<double>());
                double Time(string v)
                {
                    var ex = new MultiScaleExtractor(nets[v], o.Extraction);
                    long t0 = Stopwatch.GetTimestamp();
                    foreach (var im in images) ex.Extract(im.Image);
                    return Stopwatch.GetElapsedTime(t0).TotalSeconds;
                }
                if (o.Rounds > 0) foreach (var v in o.Compare) Time(v); // warm-up
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
                if (o.Rounds > 0) result["compare"] = seconds.ToDictionary(kv => kv.Key, kv => (object)new Dictionary<string, object>
                {
                    ["seconds"] = kv.Value, ["median"] = Statistics.Median(kv.Value), ["min"] = kv.Value.Min(), ["max"] = kv.Value.Max(),
                });
                if (o.Rounds > 0)
                    foreach (var v in o.Compare)
                        progress.Info($"{v}: median {Statistics.Median(seconds[v]):F2} s per round (min {seconds[v].Min():F2}, max {seconds[v].Max():F2}; ratio to {o.Compare[0]} {Statistics.Median(seconds[v]) / Statistics.Median(seconds[o.Compare[0]]):F3})");
            }
            finally
            {
                foreach (var n in nets.Values) n.Dispose();
            }
        }
        if (o.JsonPath != null) OutputFile.WriteAllText(o.JsonPath, System.Text.Json.JsonSerializer.Serialize(result, new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        return result;
    }

    /// <summary>The per-layer profile of each variant at each size, in interleaved passes (the
    /// order alternating between passes), the best pass kept per layer and variant.</summary>
    private static List<Dictionary<string, object>> ProfileVariants(IReadOnlyDictionary<string, R2D2Network> nets, IReadOnlyList<string> variants,
        IReadOnlyList<(int W, int H)> sizes, int rounds, IProgressSink progress)
    {
        var profile = new List<Dictionary<string, object>>();
        foreach (var (w, h) in sizes)
        {
            progress.Info($"per-layer profile of {string.Join(", ", variants)} at {w}×{h} ...");
            using var x = randn(1, 3, h, w, dtype: float32);
            foreach (var v in variants) nets[v].ProfileConvolutions(x, 1); // warm-up
            var best = variants.ToDictionary(v => v, _ => new Dictionary<int, R2D2Network.ConvTiming>());
            for (int r = 0; r < rounds; r++)
                foreach (var v in r % 2 == 0 ? variants : variants.Reverse())
                    foreach (var t in nets[v].ProfileConvolutions(x, 1))
                        if (!best[v].TryGetValue(t.Index, out var b) || t.Seconds < b.Seconds) best[v][t.Index] = t;
            foreach (var v in variants)
                foreach (var t in best[v].Values.OrderBy(t => t.Index))
                    profile.Add(new Dictionary<string, object>
                    {
                        ["variant"] = v, ["size"] = $"{w}x{h}", ["conv"] = t.Index + 1, ["kernel"] = t.Kernel, ["dilation"] = t.Dilation,
                        ["split"] = t.Split, ["ms"] = t.Seconds * 1e3, ["layout_ms"] = t.LayoutSeconds * 1e3, ["gflops"] = t.Flop / t.Seconds / 1e9,
                    });
        }
        return profile;
    }
}
