using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace R2D2.Localization.Features;

/// <summary>
/// The trunk's convolutions in oneDNN's own blocked layout (MKLDNN tensors), with the weights
/// reordered into it once. TorchSharp binds neither <c>to_mkldnn</c> nor
/// <c>mkldnn_convolution</c>, so they are reached through a small TorchScript compilation unit
/// (libtorch's own operators; no Python involved). The activations stay blocked from one
/// convolution to the next; <see cref="ToDense"/> brings them back to NCHW for the heads.
/// </summary>
internal sealed class OneDnnConvolutions : IDisposable
{
    private readonly jit.CompilationUnit _unit;
    private readonly List<Tensor> _weights = new();
    private readonly bool[] _padded;

    /// <summary>Whether convolution <paramref name="index"/> pads beforehand: then its output is dense.</summary>
    public bool PadsExplicitly(int index) => _padded[index];

    /// <param name="convs">each convolution's dense weight (O×I×k×k, float32 or bfloat16), symmetric padding and dilation (stride 1)</param>
    /// <param name="explicitPadding">pad beforehand where <see cref="NeedsExplicitPadding"/> says so</param>
    public OneDnnConvolutions(IReadOnlyList<(Tensor Weight, long Padding, long Dilation)> convs, bool explicitPadding = true)
    {
        _padded = convs.Select(c => explicitPadding && NeedsExplicitPadding(c.Padding)).ToArray();
        var src = new StringBuilder();
        src.Append("def to_blocked(x: Tensor) -> Tensor:\n    return x.to_mkldnn()\n");
        src.Append("def to_dense(x: Tensor) -> Tensor:\n    return x.to_dense()\n");
        for (int i = 0; i < convs.Count; i++)
        {
            var (_, p, d) = convs[i];
            string geo = string.Create(CultureInfo.InvariantCulture, $"[{p}, {p}], [1, 1], [{d}, {d}], 1");
            if (_padded[i])
            {
                // Padded here (NCHW, one pass), the convolution itself unpadded (see
                // NeedsExplicitPadding), reading NCHW and writing NCHW (dense in, dense out).
                string pad = string.Create(CultureInfo.InvariantCulture, $"[{p}, {p}, {p}, {p}]");
                geo = string.Create(CultureInfo.InvariantCulture, $"[0, 0], [1, 1], [{d}, {d}], 1");
                src.Append($"def pack_{i}(w: Tensor) -> Tensor:\n    return torch.mkldnn_reorder_conv2d_weight(w.to_mkldnn(), {geo})\n");
                foreach (var (name, relu) in new[] { ("conv", false), ("conv_relu", true) })
                    src.Append($"def {name}_{i}(x: Tensor, w: Tensor, b: Tensor) -> Tensor:\n"
                        + $"    y = torch.mkldnn_convolution(torch.constant_pad_nd(x.to_dense(), {pad}, 0.0), w, b, {geo})\n"
                        + (relu ? "    return torch.relu_(y)\n" : "    return y\n"));
                continue;
            }
            // The reorder picks the blocked weight format oneDNN's kernel for this geometry wants.
            src.Append($"def pack_{i}(w: Tensor) -> Tensor:\n    return torch.mkldnn_reorder_conv2d_weight(w.to_mkldnn(), {geo})\n");
            src.Append($"def conv_{i}(x: Tensor, w: Tensor, b: Tensor) -> Tensor:\n    return torch.mkldnn_convolution(x, w, b, {geo})\n");
            src.Append($"def conv_relu_{i}(x: Tensor, w: Tensor, b: Tensor) -> Tensor:\n    return torch.relu_(torch.mkldnn_convolution(x, w, b, {geo}))\n");
        }
        _unit = jit.compile(src.ToString());
        using var _ = no_grad();
        for (int i = 0; i < convs.Count; i++)
        {
            using var dense = convs[i].Weight.contiguous(); // held through the call
            _weights.Add(_unit.invoke<Tensor>($"pack_{i}", dense).DetachFromDisposeScope()); // ours: disposed in Dispose
        }
    }

    /// <summary>
    /// Whether a convolution's zero padding is better applied to its input beforehand. oneDNN's
    /// direct AVX-512 kernel refuses paddings of 8 and more (the last layer of R2D2: 2×2, dilation 16,
    /// padding 8) and falls back to im2col + sgemm ("x64:gemm:jit"), which writes the input four
    /// times over and takes 6–10× the time of the same layer at dilation 8: a third of the whole
    /// forward pass. Padded beforehand, the unpadded convolution runs on the direct kernel; the
    /// padding costs one pass over the input. Same products, summed in another order.
    /// </summary>
    public static bool NeedsExplicitPadding(long padding) => padding >= 8;

    public Tensor ToBlocked(Tensor x)
    {
        if (x.is_contiguous()) return _unit.invoke<Tensor>("to_blocked", x);
        using var dense = x.contiguous(); // held through the call
        return _unit.invoke<Tensor>("to_blocked", dense);
    }

    public Tensor ToDense(Tensor x) => _unit.invoke<Tensor>("to_dense", x);

    /// <summary>Convolution <paramref name="index"/> (then ReLU in place when asked) of a blocked
    /// tensor: blocked out, or dense (NCHW) for a convolution that <see cref="NeedsExplicitPadding"/>.</summary>
    public Tensor Convolve(int index, Tensor x, Tensor bias, bool relu) =>
        _unit.invoke<Tensor>((relu ? "conv_relu_" : "conv_") + index.ToString(CultureInfo.InvariantCulture), x, _weights[index], bias);

    public void Dispose()
    {
        foreach (var w in _weights) w.Dispose();
        _weights.Clear();
        _unit.Dispose();
    }
}
