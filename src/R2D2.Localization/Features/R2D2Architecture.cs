using System.Globalization;
using System.Text.RegularExpressions;

namespace R2D2.Localization.Features;

/// <summary>One module of the network's `ops` list, named by its index as in the official
/// state dict ("ops.3.weight").</summary>
public abstract record NetOp(int Index);
public sealed record ConvOp(int Index, int InChannels, int OutChannels, int Kernel, int Padding, int Dilation) : NetOp(Index);
public sealed record BatchNormOp(int Index, int Channels, bool Affine) : NetOp(Index);
public sealed record ReluOp(int Index) : NetOp(Index);
public sealed record MaxPoolOp(int Index, int Kernel) : NetOp(Index);
public sealed record AvgPoolOp(int Index, int Kernel) : NetOp(Index);
public sealed record UpsampleOp(int Index, int Factor) : NetOp(Index);

/// <summary>
/// The layer list of an R2D2 network, derived from the official `net` string stored in
/// checkpoints: Quad_L2Net_ConfCFS (R2D2), Fast_Quad_L2Net_ConfCFS (Fast-R2D2), with keyword
/// arguments dim, mchan, relu22, dilated, dilation, bn, bn_affine, downsample_factor. Dilations
/// replace strides so the output keeps the input's resolution (the Fast variant pools once and
/// upsamples at the end).
/// </summary>
public sealed class R2D2Architecture
{
    public static readonly string[] KnownNets = { "Quad_L2Net_ConfCFS", "Fast_Quad_L2Net_ConfCFS" };

    private readonly List<NetOp> _ops = new();
    private int _curChannels = 3;
    private int _dilation;
    private readonly bool _dilated, _bn, _bnAffine;

    public string Net { get; }
    public string Name { get; }
    public IReadOnlyList<NetOp> Ops => _ops;
    public int DescriptorDim { get; }

    private R2D2Architecture(string net, string name, IReadOnlyDictionary<string, string> kw)
    {
        Net = net;
        Name = name;
        // Values out of these ranges made no network (a libtorch abort, an overflow of the channel count).
        int Int(string k, int d, int max)
        {
            if (!kw.TryGetValue(k, out var v)) return d;
            return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= max ? n
                : throw new NotSupportedException($"network '{net}': {k}={v} is not a whole number in [1, {max}]");
        }
        bool Bool(string k, bool d) => kw.TryGetValue(k, out var v) ? v == "True" : d;
        int dim = Int("dim", 128, 4096), mchan = Int("mchan", 4, 64), down = Int("downsample_factor", 2, 8);
        bool relu22 = Bool("relu22", false);
        _dilated = Bool("dilated", true);
        _dilation = Int("dilation", 1, 16);
        _bn = Bool("bn", true);
        _bnAffine = Bool("bn_affine", false);
        bool fast = name == "Fast_Quad_L2Net_ConfCFS";

        AddConv(8 * mchan);
        AddConv(8 * mchan);
        if (fast) { AddConv(16 * mchan, pool: down); AddConv(16 * mchan); }
        else { AddConv(16 * mchan, stride: 2); AddConv(16 * mchan); }
        AddConv(32 * mchan, stride: 2);
        AddConv(32 * mchan);
        AddConv(32 * mchan, k: 2, stride: 2, relu: relu22);
        AddConv(32 * mchan, k: 2, stride: 2, relu: relu22);
        AddConv(dim, k: 2, stride: 2, bn: false, relu: false);
        if (fast) _ops.Add(new UpsampleOp(_ops.Count, down));
        DescriptorDim = dim;
    }

    /// <summary>Multiply-adds of the convolutions per input pixel (heads excluded: 0.1% more),
    /// each convolution counted at its own resolution (after the Fast variant's pooling).</summary>
    public double MacsPerPixel
    {
        get
        {
            double macs = 0, area = 1;
            foreach (var op in _ops)
            {
                if (op is ConvOp c) macs += area * c.InChannels * c.OutChannels * c.Kernel * c.Kernel;
                else if (op is MaxPoolOp p) area /= (double)p.Kernel * p.Kernel;
            }
            return macs;
        }
    }

    private void AddConv(int outChannels, int k = 3, int stride = 1, bool bn = true, bool relu = true, int pool = 1)
    {
        if (!_dilated && stride != 1) throw new NotSupportedException("strided (non-dilated) R2D2 variants are not supported");
        int d = _dilation;
        _dilation *= stride; // the stride turns into dilation of the layers that follow
        _ops.Add(new ConvOp(_ops.Count, _curChannels, outChannels, k, (k - 1) * d / 2, d));
        if (bn && _bn) _ops.Add(new BatchNormOp(_ops.Count, outChannels, _bnAffine));
        if (relu) _ops.Add(new ReluOp(_ops.Count));
        _curChannels = outChannels;
        if (pool > 1) _ops.Add(new MaxPoolOp(_ops.Count, pool));
    }

    private static readonly Regex NetRx = new(@"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\((.*)\)\s*$", RegexOptions.Compiled);

    /// <summary>Parses an official net string such as "Quad_L2Net_ConfCFS(mchan=6)".</summary>
    public static R2D2Architecture Parse(string net)
    {
        var m = NetRx.Match(net ?? "");
        if (!m.Success || !KnownNets.Contains(m.Groups[1].Value))
            throw new NotSupportedException($"unknown network '{net}' (supported: {string.Join(", ", KnownNets.Select(n => n + "(...)"))})");
        var kw = new Dictionary<string, string>();
        foreach (var part in m.Groups[2].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            string[] allowed = { "dim", "mchan", "relu22", "dilated", "dilation", "bn", "bn_affine", "downsample_factor" };
            if (kv.Length != 2 || !allowed.Contains(kv[0]))
                throw new NotSupportedException($"unsupported argument '{part}' in network '{net}'");
            kw[kv[0]] = kv[1];
        }
        return new R2D2Architecture(net!, m.Groups[1].Value, kw);
    }
}
