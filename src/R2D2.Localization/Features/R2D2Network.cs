using System.Runtime.Intrinsics.X86;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace R2D2.Localization.Features;

/// <summary>The raw outputs of one forward pass on one image (batch of 1).</summary>
public sealed class NetworkOutput : IDisposable
{
    public required Tensor Descriptors { get; init; }     // 1×D×H×W, L2-normalized over D
    public required Tensor Reliability { get; init; }     // 1×1×H×W in [0, 1]
    public required Tensor Repeatability { get; init; }   // 1×1×H×W in [0, 1]
    public Tensor? ReliabilityLogits { get; init; }       // 1×2×H×W (only when asked for)
    public Tensor? RepeatabilityLogits { get; init; }     // 1×1×H×W (only when asked for)
    public void Dispose()
    {
        Descriptors.Dispose(); Reliability.Dispose(); Repeatability.Dispose();
        ReliabilityLogits?.Dispose(); RepeatabilityLogits?.Dispose();
    }
}

/// <summary>
/// What extraction needs of one forward pass: the two score maps whole (1×1×H×W float32, on the
/// network's device) and the L2-normalized descriptors only at the pixels asked for. On the CPU
/// the heads run fused (<see cref="FusedHeads"/>) and the 128-channel map is never normalized
/// as a whole; elsewhere it holds <see cref="R2D2Network.Forward"/>'s output.
/// </summary>
public sealed class KeypointMaps : IDisposable
{
    private readonly NetworkOutput? _output;
    private readonly Tensor? _features; // 1×C×H×W (or 1×H×W×C) float32, contiguous, on the CPU, not normalized
    private readonly bool _channelsLast;
    private readonly float[]? _norm;    // ‖x‖ per pixel

    internal KeypointMaps(NetworkOutput output)
    {
        _output = output;
        Reliability = output.Reliability;
        Repeatability = output.Repeatability;
        Dim = (int)output.Descriptors.shape[1];
    }

    /// <param name="features">1×C×H×W, or 1×H×W×C when <paramref name="channelsLast"/></param>
    internal KeypointMaps(Tensor reliability, Tensor repeatability, Tensor features, float[] norm, bool channelsLast)
    {
        Reliability = reliability;
        Repeatability = repeatability;
        _features = features;
        _channelsLast = channelsLast;
        _norm = norm;
        Dim = (int)features.shape[channelsLast ? 3 : 1];
    }

    public Tensor Reliability { get; }
    public Tensor Repeatability { get; }
    public int Dim { get; }

    /// <summary>The descriptors (x / max(‖x‖, 1e-12), as torch's normalize) at the given
    /// row-major pixel indices of the map: count × <see cref="Dim"/>, row-major.</summary>
    public unsafe float[] DescriptorsAt(long[] pixels)
    {
        if (_output != null)
        {
            using var scope = NewDisposeScope();
            using var idxCpu = TorchScalars.Copied<long>(pixels, new long[] { pixels.Length }, int64);
            using var idx = idxCpu.to(_output.Descriptors.device);
            return _output.Descriptors.view(Dim, -1).index_select(1, idx).t().contiguous().cpu().data<float>().ToArray();
        }
        long plane = _norm!.Length;
        // A channel's step, and a pixel's: NCHW or NHWC.
        long channelStep = _channelsLast ? 1 : plane, pixelStep = _channelsLast ? Dim : 1;
        var d = new float[pixels.Length * Dim];
        fixed (byte* bytes = _features!.bytes)
        {
            var x = (float*)bytes;
            for (int k = 0; k < pixels.Length; k++)
            {
                long p = pixels[k];
                float norm = MathF.Max(_norm[p], 1e-12f);
                for (int c = 0; c < Dim; c++) d[k * Dim + c] = x[c * channelStep + p * pixelStep] / norm;
            }
        }
        return d;
    }

    public void Dispose()
    {
        if (_output != null) { _output.Dispose(); return; }
        Reliability.Dispose(); Repeatability.Dispose(); _features!.Dispose();
    }
}

/// <summary>Options that change how the forward pass is computed, not what it computes.</summary>
public sealed record NetworkOptions
{
    /// <summary>Fold each (affine-free) batch norm into the convolution before it: one pass over
    /// the activations fewer per layer; results differ from the unfolded net by float rounding.</summary>
    public bool FoldBatchNorm { get; init; } = true;
    /// <summary>Run convolutions in channels-last (NHWC) memory layout. Off by default: with
    /// libtorch 2.10 on the AMD EPYC we measure on, the whole pyramid gains nothing from it.</summary>
    public bool ChannelsLast { get; init; }
    /// <summary>On the CPU, keep the activations in oneDNN's blocked layout (nChw16c) from one
    /// convolution to the next, with the weights reordered into it once at load and each ReLU
    /// applied in place there. Plain NCHW convolutions run the same oneDNN kernels but reorder
    /// input, output and weights to and from that layout on every call: three extra passes over
    /// the activations per layer, about a third of the time on 2 cores. Same kernels, so the
    /// outputs are bit-identical to the plain path. Ignored on GPUs and with
    /// <see cref="ChannelsLast"/>.</summary>
    public bool OneDnnLayout { get; init; } = true;
    /// <summary>Zero-pad the input of a convolution with a large padding (the last layer)
    /// beforehand, so that oneDNN runs it with its direct kernel instead of im2col + sgemm (see
    /// <see cref="OneDnnConvolutions.NeedsExplicitPadding"/>). CPU only.</summary>
    public bool ExplicitPadding { get; init; } = true;
    /// <summary>Run the convolution trunk in bfloat16 (heads and normalization stay float32):
    /// about twice as fast on CPUs with AVX512-BF16 and on GPUs, not bit-equal to the official
    /// float32 outputs.</summary>
    public bool BFloat16 { get; init; }
    /// <summary>Largest space-to-batch factor for the dilated convolutions (1: off): a
    /// convolution with dilation d and padding p runs as the convolution with dilation d/f and
    /// padding p/f of the f² phase sub-images of its input, f the largest power of two up to this
    /// that divides both (<see cref="PhaseSplit"/>); consecutive convolutions with the same f
    /// stay split. Same products, another summation order. CPU only. Null (the default): 4 in
    /// float32 (with <see cref="SplitMinDilation"/> 16, R2D2's last convolution runs at
    /// dilation 4 on 16 sub-images: oneDNN's direct kernel is slow at dilation 16, not at 8),
    /// 1 in bfloat16 (where splitting measured slower); see docs/speed.md, "Speed". Winograd's
    /// convolutions (<see cref="Winograd"/>) take any dilation and are never split.</summary>
    public int? SplitDilated { get; init; }
    /// <summary>Only convolutions with at least this dilation are split (<see cref="SplitDilated"/>).</summary>
    public int SplitMinDilation { get; init; } = 16;
    /// <summary>For extraction on the CPU, compute the heads in one fused pass over the features and
    /// normalize the descriptors only at the keypoints (<see cref="FusedHeads"/>) instead of with
    /// libtorch's operators over the whole map. Same formulas, other summation order.</summary>
    public bool FusedHeads { get; init; } = true;
    /// <summary>Run the convolutions that <see cref="WinogradConvolution"/> takes (2×2 and 3×3
    /// with channels in multiples of 16, from the third on: all of R2D2's but the first two) by
    /// Winograd's minimal filtering on channels-last maps, ReLU fused: 16 products per 4×4 input
    /// tile where the direct kernel does 36, at any dilation (no phase split). Other products,
    /// so results differ by float rounding. CPU, float32, batch-norm folded. Null (the default):
    /// on where the CPU has AVX-512 or AVX2 with FMA (<see cref="WinogradConvolution.Accelerated"/>),
    /// where it measured about twice as fast as oneDNN's direct kernels per layer (docs/speed.md, "Speed").</summary>
    public bool? Winograd { get; init; }
}

/// <summary>
/// An R2D2 network with loaded weights, evaluated with torch's functional operators (inference
/// only, no autograd). Heads: reliability = softmax(clf(x²))[1], repeatability =
/// softplus(u)/(1 + softplus(u)) with u = sal(x²), descriptors = x / ‖x‖.
/// </summary>
public sealed class R2D2Network : IDisposable
{
    private abstract record Layer;
    private sealed record Conv(Tensor Weight, Tensor Bias, long Padding, long Dilation, long MacsPerPixel, int Split, WinogradConvolution? Winograd) : Layer
    {
        /// <summary>Padding and dilation of the convolution of each phase sub-image.</summary>
        public long SplitPadding => Padding / Split;
        public long SplitDilation => Dilation / Split;
    }
    private sealed record Norm(Tensor Mean, Tensor Var, Tensor? Weight, Tensor? Bias) : Layer;
    private sealed record Relu : Layer;
    private sealed record MaxPool(long Kernel) : Layer;
    private sealed record AvgPool(long Kernel) : Layer;
    private sealed record Upsample(double Factor) : Layer;

    private const double BatchNormEps = 1e-5;
    private readonly List<Layer> _layers = new();
    private readonly Tensor _headWeight, _headBias; // clf (2 rows) and sal (1 row) stacked: 3×D×1×1
    private readonly float[] _headsWeight, _headsBias; // the same on the host, for FusedHeads
    private readonly List<Tensor> _owned = new();

    public R2D2Architecture Architecture { get; }
    public Device Device { get; }
    public NetworkOptions Options { get; }
    /// <summary>A short identity of the weights (hash of the state dict), for databases and files.</summary>
    public string WeightsHash { get; }

    /// <summary>Whether oneDNN runs bfloat16 convolutions on this CPU (it refuses them below
    /// AVX-512 BW+VL+DQ, or AVX-NE-CONVERT: CPUID leaf 7 subleaf 1, EDX bit 5).</summary>
    public static bool CpuRunsBFloat16 =>
        (Avx512BW.IsSupported && Avx512BW.VL.IsSupported && Avx512DQ.IsSupported)
        || (X86Base.IsSupported && (X86Base.CpuId(7, 1).Edx & (1 << 5)) != 0);

    public R2D2Network(Checkpoint checkpoint, Device? device = null, NetworkOptions? options = null)
    {
        Architecture = R2D2Architecture.Parse(checkpoint.Net);
        Device = device ?? CPU;
        Options = options ?? new NetworkOptions();
        if (Options.BFloat16 && Device.type == DeviceType.CPU && !CpuRunsBFloat16)
            throw new R2D2Exception("bfloat16 (--precision bf16) on the CPU needs AVX-512 BW/VL/DQ or AVX-NE-CONVERT, which this CPU lacks "
                + "(oneDNN has no bfloat16 convolution for it): use float32, the default, or a GPU");
        WeightsHash = HashStateDict(checkpoint);
        var sd = checkpoint.StateDict;

        Tensor Param(string name, params long[] shape)
        {
            if (!sd.TryGetValue(name, out var t))
                throw new DataFormatException($"checkpoint for {checkpoint.Net} lacks '{name}'");
            if (!t.Shape.SequenceEqual(shape))
                throw new DataFormatException($"'{name}' has shape [{string.Join(",", t.Shape)}], {checkpoint.Net} needs [{string.Join(",", shape)}]");
            return TorchScalars.Copied<float>(t.ToFloat32(), shape, float32); // no managed deleter (TorchScalars.Copied)
        }

        using (no_grad())
        {
            // The scope holds the temporaries (Param's tensors, the folding's) through the native
            // calls that read them; what the network keeps, Own detaches from it.
            using var scope = NewDisposeScope();
            var ops = Architecture.Ops;
            for (int i = 0; i < ops.Count; i++)
            {
                switch (ops[i])
                {
                    case ConvOp c:
                    {
                        var w = Param($"ops.{c.Index}.weight", c.OutChannels, c.InChannels, c.Kernel, c.Kernel);
                        var b = Param($"ops.{c.Index}.bias", c.OutChannels);
                        if (Options.FoldBatchNorm && i + 1 < ops.Count && ops[i + 1] is BatchNormOp bn)
                        {
                            // y = γ·(conv(x) − μ)/√(σ²+ε) + β  =  conv'(x) with w' = w·s, b' = (b − μ)·s + β.
                            var mean = Param($"ops.{bn.Index}.running_mean", bn.Channels).to(float64);
                            var scale = Param($"ops.{bn.Index}.running_var", bn.Channels).to(float64).Add(BatchNormEps).rsqrt();
                            if (bn.Affine) scale = scale.mul(Param($"ops.{bn.Index}.weight", bn.Channels).to(float64));
                            var shift = bn.Affine ? Param($"ops.{bn.Index}.bias", bn.Channels).to(float64) : zeros(bn.Channels, dtype: float64);
                            w = w.to(float64).mul(scale.view(-1, 1, 1, 1)).to(float32);
                            b = b.to(float64).sub(mean).mul(scale).Add(shift).to(float32);
                            i++;
                        }
                        WinogradConvolution? winograd = null;
                        if (UsesWinograd && _layers.OfType<Conv>().Count() >= WinogradFirstConvolution
                            && WinogradConvolution.Supports(c.InChannels, c.OutChannels, c.Kernel, c.Padding, c.Dilation))
                        {
                            using var wc = w.contiguous();
                            using var bc = b.contiguous();
                            winograd = new WinogradConvolution(wc.data<float>().ToArray(), bc.data<float>().ToArray(), c.OutChannels, c.InChannels, c.Kernel, c.Padding, c.Dilation);
                            _winograd.Add(winograd);
                        }
                        _layers.Add(new Conv(Own(w, layoutWeights: true), Own(b), c.Padding, c.Dilation,
                            (long)c.InChannels * c.OutChannels * c.Kernel * c.Kernel,
                            winograd == null && c.Dilation >= Options.SplitMinDilation && Device.type == DeviceType.CPU ? PhaseSplit.Factor(c.Kernel, c.Padding, c.Dilation, Options.SplitDilated ?? (Options.BFloat16 ? 1 : 4)) : 1,
                            winograd));
                        break;
                    }
                    case BatchNormOp bn:
                        _layers.Add(new Norm(Own(Param($"ops.{bn.Index}.running_mean", bn.Channels)), Own(Param($"ops.{bn.Index}.running_var", bn.Channels)),
                            bn.Affine ? Own(Param($"ops.{bn.Index}.weight", bn.Channels)) : null,
                            bn.Affine ? Own(Param($"ops.{bn.Index}.bias", bn.Channels)) : null));
                        break;
                    case ReluOp: _layers.Add(new Relu()); break;
                    case MaxPoolOp p: _layers.Add(new MaxPool(p.Kernel)); break;
                    case AvgPoolOp p: _layers.Add(new AvgPool(p.Kernel)); break;
                    case UpsampleOp u: _layers.Add(new Upsample(u.Factor)); break;
                }
            }
            int dim = Architecture.DescriptorDim;
            _headWeight = Own(cat(new[] { Param("clf.weight", 2, dim, 1, 1), Param("sal.weight", 1, dim, 1, 1) }, 0), layoutWeights: true, trunk: false);
            _headBias = Own(cat(new[] { Param("clf.bias", 2), Param("sal.bias", 1) }, 0), trunk: false);
            _headsWeight = _headWeight.cpu().contiguous().data<float>().ToArray();
            _headsBias = _headBias.cpu().contiguous().data<float>().ToArray();
            if (Options.OneDnnLayout && !Options.ChannelsLast && Device.type == DeviceType.CPU) _oneDnn = new OneDnnConvolutions(_layers.OfType<Conv>().Select(c => (c.Weight, c.SplitPadding, c.SplitDilation)).ToList(), Options.ExplicitPadding);
        }
    }

    private readonly OneDnnConvolutions? _oneDnn;
    private readonly List<WinogradConvolution> _winograd = new();

    /// <summary>The first convolution (0-based) that runs as Winograd's: the first two stay direct.
    /// Their rounding is amplified by every layer after them: with the second one as Winograd's,
    /// the parity test's `test` image kept 98.9% of the official keypoints instead of 100%.</summary>
    private const int WinogradFirstConvolution = 2;

    /// <summary>Whether the convolutions Winograd takes run that way (see <see cref="NetworkOptions.Winograd"/>).</summary>
    private bool UsesWinograd => Device.type == DeviceType.CPU && !Options.BFloat16 && !Options.ChannelsLast && Options.FoldBatchNorm
        && (Options.Winograd ?? WinogradConvolution.Accelerated);

    /// <summary>Whether the convolutions run in oneDNN's blocked layout (see <see cref="NetworkOptions.OneDnnLayout"/>).</summary>
    public bool UsesOneDnnLayout => _oneDnn != null;

    /// <summary>A tensor the network keeps (and disposes): on its device, detached from autograd and from any DisposeScope.</summary>
    private Tensor Own(Tensor t, bool layoutWeights = false, bool trunk = true)
    {
        using var scope = NewDisposeScope();
        var d = t.to(Device);
        if (trunk && Options.BFloat16) d = d.to(bfloat16);
        if (layoutWeights && Options.ChannelsLast) d = ToChannelsLast(d);
        d = d.detach().DetachFromDisposeScope();
        _owned.Add(d);
        return d;
    }

    /// <summary>NCHW tensor with NHWC strides (TorchSharp has no memory_format argument).</summary>
    public static Tensor ToChannelsLast(Tensor t)
    {
        using var scope = NewDisposeScope();
        return t.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2).MoveToOuterDisposeScope();
    }

    /// <summary>One convolution's share of a forward pass (<see cref="ProfileConvolutions"/>).</summary>
    /// <param name="Split">the phase-split factor it ran with (<see cref="NetworkOptions.SplitDilated"/>)</param>
    /// <param name="LayoutSeconds">the part of <paramref name="Seconds"/> spent splitting its input and merging its output</param>
    public sealed record ConvTiming(int Index, long InChannels, long OutChannels, long Kernel, long Dilation, long Width, long Height, double Seconds,
        int Split = 1, double LayoutSeconds = 0)
    {
        /// <summary>2 FLOP per multiply-add.</summary>
        public double Flop => 2.0 * InChannels * OutChannels * Kernel * Kernel * Width * Height;
    }

    /// <summary>Times each convolution (with the ReLU after it) of the trunk on a normalized
    /// 1×3×H×W image: the best of <paramref name="rounds"/> forward passes, layer by layer.</summary>
    public IReadOnlyList<ConvTiming> ProfileConvolutions(Tensor image, int rounds = 3)
    {
        using var _ = no_grad();
        var best = new Dictionary<int, ConvTiming>();
        for (int r = 0; r < rounds; r++)
        {
            using var x = Trunk(image, (i, c, shape, sec, layoutSec) =>
            {
                if (!best.TryGetValue(i, out var t) || sec < t.Seconds)
                    best[i] = new ConvTiming(i, c.Weight.shape[1], c.Weight.shape[0], c.Weight.shape[2], c.Dilation, shape[3], shape[2], sec, c.Split, layoutSec);
            });
        }
        return best.OrderBy(kv => kv.Key).Select(kv => kv.Value).ToList();
    }

    /// <summary>Runs the network on a normalized 1×3×H×W image (any device; moved to ours).</summary>
    public NetworkOutput Forward(Tensor image, bool keepLogits = false)
    {
        using var _ = no_grad();
        return Heads(Trunk(image, null), keepLogits);
    }

    /// <summary>Runs the network on a normalized 1×3×H×W image for extraction: the score maps,
    /// and descriptors where asked (<see cref="KeypointMaps"/>).</summary>
    public unsafe KeypointMaps ForwardForKeypoints(Tensor image)
    {
        using var _ = no_grad();
        if (!Options.FusedHeads || Device.type != DeviceType.CPU || image.shape[0] != 1) return new KeypointMaps(Heads(Trunk(image, null), keepLogits: false));
        using var scope = NewDisposeScope();
        var x = Trunk(image, null);
        long h = x.shape[2], w = x.shape[3];
        var reliability = empty(1, 1, h, w, dtype: float32);
        var repeatability = empty(1, 1, h, w, dtype: float32);
        var norm = new float[h * w];
        if (x.dtype == float32 && IsChannelsLast(x))
        {
            var nhwc = x.permute(0, 2, 3, 1); // the dense N×H×W×C storage itself
            x.Dispose();
            fixed (byte* f = nhwc.bytes, rel = reliability.bytes, rep = repeatability.bytes)
                Features.FusedHeads.RunChannelsLast((float*)f, (int)nhwc.shape[3], h * w, _headsWeight, _headsBias, (float*)rel, (float*)rep, norm, get_num_threads());
            return new KeypointMaps(reliability.MoveToOuterDisposeScope(), repeatability.MoveToOuterDisposeScope(), nhwc.MoveToOuterDisposeScope(), norm, channelsLast: true);
        }
        var features = x.dtype == float32 && x.is_contiguous() ? x : x.to(float32).contiguous();
        if (!ReferenceEquals(features, x)) x.Dispose();
        fixed (byte* f = features.bytes, rel = reliability.bytes, rep = repeatability.bytes)
            Features.FusedHeads.Run((float*)f, (int)features.shape[1], h * w, _headsWeight, _headsBias, (float*)rel, (float*)rep, norm, get_num_threads());
        return new KeypointMaps(reliability.MoveToOuterDisposeScope(), repeatability.MoveToOuterDisposeScope(), features.MoveToOuterDisposeScope(), norm, channelsLast: false);
    }

    /// <summary>The layers up to the descriptor features (1×D×H×W, dense, the trunk's dtype);
    /// <paramref name="timing"/> gets, when given, each convolution's seconds (its ReLU included,
    /// and for the last one its output brought back to a dense map) and the part of them spent
    /// splitting and merging phase sub-images (<see cref="NetworkOptions.SplitDilated"/>).</summary>
    private Tensor Trunk(Tensor image, Action<int, Conv, long[], double, double>? timing)
    {
        // Each activation is freed as soon as the next exists (as PyTorch's reference counting
        // does): peak memory stays at two activations, and the allocator hands the block just
        // freed to the next layer instead of faulting in fresh pages.
        var x = image.to(Device);
        if (Options.BFloat16) x = Replace(x, x.to(bfloat16), image);
        if (Options.ChannelsLast && Device.type == DeviceType.CPU) x = Replace(x, ToChannelsLast(x), image);
        // The activations: the map itself (split 1), or the phase sub-images of a map of
        // height × width split by `split` (PhaseSplit), one tensor per block.
        var xs = new[] { x };
        int split = 1;
        long height = xs[0].shape[2], width = xs[0].shape[3];
        bool blocked = false; // xs are oneDNN (MKLDNN) tensors
        bool nhwc = false;    // xs[0] is a dense N×H×W×C map (Winograd convolutions)
        void Planar()
        {
            if (!nhwc) return;
            using var view = xs[0].permute(0, 3, 1, 2);
            xs[0] = Replace(xs[0], view.contiguous(), image);
            nhwc = false;
        }
        void Dense()
        {
            if (!blocked) return;
            for (int i = 0; i < xs.Length; i++) xs[i] = Replace(xs[i], _oneDnn!.ToDense(xs[i]), image);
            blocked = false;
        }
        void Resplit(int factor)
        {
            if (factor == split) return;
            Dense();
            if (split > 1)
            {
                var merged = PhaseSplit.Merge(xs, split, height, width);
                foreach (var p in xs) p.Dispose(); // parts are never the caller's image
                xs = new[] { merged };
                split = 1;
            }
            if (factor > 1)
            {
                var parts = PhaseSplit.Split(xs[0], factor);
                if (!ReferenceEquals(xs[0], image)) xs[0].Dispose();
                xs = parts;
                split = factor;
            }
        }
        int lastConv = _layers.FindLastIndex(l => l is Conv);
        int convIndex = 0;
        for (int li = 0; li < _layers.Count; li++)
        {
            var layer = _layers[li];
            if (blocked && layer is not (Conv or Relu)) Dense();
            if (nhwc && layer is not (Conv { Winograd: not null } or Relu)) Planar(); // pointwise ReLU takes either layout
            if (layer is not (Conv or Relu or Norm)) Resplit(1); // pointwise layers take the parts as they are
            switch (layer)
            {
                case Conv c:
                {
                    long t0 = timing != null ? System.Diagnostics.Stopwatch.GetTimestamp() : 0;
                    long[] shape = { image.shape[0], c.Weight.shape[1], height, width };
                    bool last = li == lastConv;
                    double layoutSec = 0;
                    if (c.Split != split)
                    {
                        Resplit(c.Split);
                        if (timing != null) layoutSec = System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds;
                    }
                    bool relu = li + 1 < _layers.Count && _layers[li + 1] is Relu;
                    if (c.Winograd != null)
                    {
                        Dense();
                        if (!nhwc)
                        {
                            using var view = xs[0].permute(0, 2, 3, 1);
                            xs[0] = Replace(xs[0], view.contiguous(), image);
                            nhwc = true;
                        }
                        var y = empty(xs[0].shape[0], height, width, c.Winograd.OutChannels, dtype: float32);
                        RunWinograd(c.Winograd, xs[0], y, relu);
                        xs[0] = Replace(xs[0], y, image);
                    }
                    else if (_oneDnn != null)
                    {
                        // Phase sub-images fresh from a split go in dense when this is the last
                        // convolution of the split (oneDNN reorders them once, and its output
                        // comes out dense, ready for the merge); else into the blocked layout.
                        if (!blocked && !(split > 1 && SplitRunEnds(li)))
                        {
                            for (int i = 0; i < xs.Length; i++) xs[i] = Replace(xs[i], _oneDnn.ToBlocked(xs[i]), image);
                            blocked = true;
                        }
                        for (int i = 0; i < xs.Length; i++) xs[i] = Replace(xs[i], _oneDnn.Convolve(convIndex, xs[i], c.Bias, relu), image);
                        blocked = !_oneDnn.PadsExplicitly(convIndex); // see there: dense out
                    }
                    else
                    {
                        long pad = c.SplitPadding;
                        bool padFirst = Device.type == DeviceType.CPU && Options.ExplicitPadding && OneDnnConvolutions.NeedsExplicitPadding(pad);
                        for (int i = 0; i < xs.Length; i++)
                        {
                            var xi = xs[i];
                            if (padFirst) xi = Replace(xi, F.pad(xi, new[] { pad, pad, pad, pad }), image);
                            long p = padFirst ? 0 : pad;
                            xs[i] = Replace(xi, F.conv2d(xi, c.Weight, c.Bias, strides: new long[] { 1, 1 }, padding: new[] { p, p }, dilation: new[] { c.SplitDilation, c.SplitDilation }), image);
                            if (relu) xs[i].relu_();
                        }
                    }
                    if (relu) li++;
                    if (last && timing != null)
                    {
                        // The last convolution's output, dense and merged, is what the heads take.
                        Dense();
                        if (split > 1)
                        {
                            long t1 = System.Diagnostics.Stopwatch.GetTimestamp();
                            Resplit(1);
                            layoutSec += System.Diagnostics.Stopwatch.GetElapsedTime(t1).TotalSeconds;
                        }
                    }
                    timing?.Invoke(convIndex, c, shape, System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds, layoutSec);
                    convIndex++;
                    break;
                }
                case Norm n:
                    for (int i = 0; i < xs.Length; i++)
                        xs[i] = Replace(xs[i], F.batch_norm(xs[i], n.Mean, n.Var, n.Weight, n.Bias, training: false, momentum: 0.1, eps: BatchNormEps), image);
                    break;
                case Relu:
                    for (int i = 0; i < xs.Length; i++)
                        if (ReferenceEquals(xs[i], image)) xs[i] = image.relu(); else xs[i].relu_(); // (image: held by the caller)
                    break;
                case MaxPool p:
                    xs[0] = Replace(xs[0], F.max_pool2d(xs[0], new[] { p.Kernel, p.Kernel }, new[] { p.Kernel, p.Kernel }), image);
                    break;
                case AvgPool p:
                    xs[0] = Replace(xs[0], F.avg_pool2d(xs[0], new[] { p.Kernel, p.Kernel }, new[] { p.Kernel, p.Kernel }), image);
                    break;
                case Upsample u:
                    xs[0] = Replace(xs[0], F.interpolate(xs[0], scale_factor: new[] { u.Factor, u.Factor }, mode: InterpolationMode.Bilinear, align_corners: false), image);
                    break;
            }
            if (split == 1) { height = xs[0].shape[nhwc ? 1 : 2]; width = xs[0].shape[nhwc ? 2 : 3]; }
        }
        Dense();
        Resplit(1);
        x = xs[0];
        if (nhwc)
        {
            // N×C×H×W in shape, channels last in memory (see IsChannelsLast): the heads take either.
            var planar = x.permute(0, 3, 1, 2);
            x.Dispose();
            return planar;
        }
        return ReferenceEquals(x, image) ? image.alias() : x;
    }

    /// <summary>Whether an N×C×H×W tensor is laid out channels last (the Winograd trunk's output).</summary>
    private static bool IsChannelsLast(Tensor x) =>
        x.dim() == 4 && x.stride(1) == 1 && x.stride(3) == x.shape[1] && x.stride(2) == x.shape[1] * x.shape[3] && x.stride(0) == x.shape[1] * x.shape[2] * x.shape[3];

    /// <summary>One Winograd convolution of a dense N×H×W×Cin float32 map into <paramref name="y"/> (N×H×W×Cout).</summary>
    private static unsafe void RunWinograd(WinogradConvolution conv, Tensor x, Tensor y, bool relu)
    {
        long n = x.shape[0], h = x.shape[1], w = x.shape[2];
        fixed (byte* xp = x.bytes, yp = y.bytes)
            for (long i = 0; i < n; i++)
                conv.Run((float*)xp + i * h * w * conv.InChannels, (float*)yp + i * h * w * conv.OutChannels, (int)h, (int)w, relu, get_num_threads());
    }

    /// <summary>Whether the convolution at layer <paramref name="li"/> is the last one with its
    /// split factor before another factor, a layer that needs the whole map, or the end.</summary>
    private bool SplitRunEnds(int li)
    {
        int split = ((Conv)_layers[li]).Split;
        for (int j = li + 1; j < _layers.Count; j++)
        {
            if (_layers[j] is Conv next) return next.Split != split;
            if (_layers[j] is not (Relu or Norm)) return true;
        }
        return true;
    }

    /// <summary>The heads on the trunk's features <paramref name="x"/> (disposed here).</summary>
    private NetworkOutput Heads(Tensor x, bool keepLogits)
    {
        using var scope = NewDisposeScope();
        var features = x;
        if (features.dtype != float32) { features = x.to(float32); x.Dispose(); }
        using (var sq = features.Square())
        {
            var heads = F.conv2d(sq, _headWeight, _headBias).contiguous();
            var relLogits = heads.narrow(1, 0, 2);
            var repLogits = heads.narrow(1, 2, 1);
            var reliability = F.softmax(relLogits, 1).narrow(1, 1, 1).contiguous();
            var sp = repLogits.Softplus();
            var repeatability = sp.div(sp.Add(1)).contiguous();
            var descriptors = F.normalize(features.contiguous(), p: 2, dim: 1);
            features.Dispose();
            return new NetworkOutput
            {
                Descriptors = descriptors.MoveToOuterDisposeScope(),
                Reliability = reliability.MoveToOuterDisposeScope(),
                Repeatability = repeatability.MoveToOuterDisposeScope(),
                ReliabilityLogits = keepLogits ? relLogits.contiguous().MoveToOuterDisposeScope() : null,
                RepeatabilityLogits = keepLogits ? repLogits.contiguous().MoveToOuterDisposeScope() : null,
            };
        }
    }

    /// <summary>Returns <paramref name="next"/>, disposing <paramref name="previous"/> unless it is the caller's input.</summary>
    private static Tensor Replace(Tensor previous, Tensor next, Tensor input)
    {
        if (!ReferenceEquals(previous, input) && !ReferenceEquals(previous, next)) previous.Dispose();
        return next;
    }

    private static string HashStateDict(Checkpoint c)
    {
        using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        sha.AppendData(System.Text.Encoding.UTF8.GetBytes(c.Net));
        foreach (var (k, v) in c.StateDict.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (k.EndsWith("num_batches_tracked", StringComparison.Ordinal)) continue; // bookkeeping, not weights
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(k));
            sha.AppendData(v.Data);
        }
        return Convert.ToHexString(sha.GetHashAndReset())[..16].ToLowerInvariant();
    }

    public void Dispose()
    {
        _oneDnn?.Dispose();
        foreach (var w in _winograd) w.Dispose();
        foreach (var t in _owned) t.Dispose();
        _owned.Clear();
    }
}
