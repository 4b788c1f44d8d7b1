using R2D2.Localization.Features;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace R2D2.Localization.Training;

/// <summary>The outputs of a training forward pass on a batch (autograd on).</summary>
public sealed record TrainingOutput(Tensor Descriptors, Tensor Reliability, Tensor Repeatability);

/// <summary>
/// An R2D2 network whose weights learn: the same layers as <see cref="R2D2Architecture"/> (and so
/// the official state-dict names, "ops.N.weight", "clf.bias", BN running statistics), with
/// batch norms in training mode. <see cref="ToCheckpoint"/> gives a checkpoint that
/// <see cref="R2D2Network"/> (and PyTorch, through the zip export) loads.
/// </summary>
public sealed class TrainableR2D2 : IDisposable
{
    private const double BatchNormEps = 1e-5, BatchNormMomentum = 0.1;
    private readonly Dictionary<string, Tensor> _tensors = new(StringComparer.Ordinal); // state dict, official order
    private readonly List<(string Name, Tensor Param)> _parameters = new();

    public R2D2Architecture Architecture { get; }
    public Device Device { get; }
    public IReadOnlyList<(string Name, Tensor Param)> Parameters => _parameters;
    public IReadOnlyDictionary<string, Tensor> StateDict => _tensors;

    /// <summary>A network with PyTorch's default initialization (uniform ±1/√fan_in for convolution
    /// weights and biases), drawn from <paramref name="seed"/> so that training is repeatable.</summary>
    public TrainableR2D2(string net, long seed, Device? device = null)
        : this(net, device, name => null, seed) { }

    /// <summary>Continues from a checkpoint (fine-tuning or resuming).</summary>
    public TrainableR2D2(Checkpoint checkpoint, Device? device = null)
        : this(checkpoint.Net, device, name => checkpoint.StateDict.TryGetValue(name, out var t) ? t : null, 0) { }

    private TrainableR2D2(string net, Device? device, Func<string, CheckpointTensor?> initial, long seed)
    {
        Architecture = R2D2Architecture.Parse(net);
        Device = device ?? CPU;
        var rng = new Rng(Rng.Hash(unchecked((ulong)seed)));

        void Add(string name, long[] shape, bool learn, Func<float[]> init, bool counter = false)
        {
            var given = initial(name);
            using var scope = NewDisposeScope();
            Tensor t;
            if (counter)
                t = tensor(given != null ? BitConverter.ToInt64(given.Data) : 0L, dtype: int64);
            else
            {
                if (given != null && !given.Shape.SequenceEqual(shape))
                    throw new DataFormatException($"'{name}' has shape [{string.Join(",", given.Shape)}], {net} needs [{string.Join(",", shape)}]");
                t = tensor(given?.ToFloat32() ?? init(), shape, dtype: float32);
            }
            t = t.to(Device).detach().DetachFromDisposeScope(); // ours: disposed in Dispose
            if (learn)
            {
                t = t.requires_grad_(true);
                _parameters.Add((name, t));
            }
            _tensors[name] = t;
        }
        float[] Uniform(long count, long fanIn)
        {
            float bound = (float)(1 / Math.Sqrt(fanIn));
            var v = new float[count];
            for (long i = 0; i < count; i++) v[i] = (float)((rng.NextDouble() * 2 - 1) * bound);
            return v;
        }
        float[] Fill(long n, float value) => Enumerable.Repeat(value, (int)n).ToArray();

        void AddConv(string prefix, int cin, int cout, int k)
        {
            long fanIn = (long)cin * k * k;
            Add(prefix + ".weight", new long[] { cout, cin, k, k }, true, () => Uniform((long)cout * fanIn, fanIn));
            Add(prefix + ".bias", new long[] { cout }, true, () => Uniform(cout, fanIn));
        }
        foreach (var op in Architecture.Ops)
        {
            switch (op)
            {
                case ConvOp c: AddConv($"ops.{c.Index}", c.InChannels, c.OutChannels, c.Kernel); break;
                case BatchNormOp bn:
                    if (bn.Affine)
                    {
                        Add($"ops.{bn.Index}.weight", new long[] { bn.Channels }, true, () => Fill(bn.Channels, 1));
                        Add($"ops.{bn.Index}.bias", new long[] { bn.Channels }, true, () => Fill(bn.Channels, 0));
                    }
                    Add($"ops.{bn.Index}.running_mean", new long[] { bn.Channels }, false, () => Fill(bn.Channels, 0));
                    Add($"ops.{bn.Index}.running_var", new long[] { bn.Channels }, false, () => Fill(bn.Channels, 1));
                    Add($"ops.{bn.Index}.num_batches_tracked", Array.Empty<long>(), false, () => Array.Empty<float>(), counter: true);
                    break;
                case UpsampleOp or MaxPoolOp or AvgPoolOp or ReluOp: break;
            }
        }
        AddConv("clf", Architecture.DescriptorDim, 2, 1);
        AddConv("sal", Architecture.DescriptorDim, 1, 1);
    }

    /// <summary>Forward pass on a normalized B×3×H×W batch. In training mode the batch norms use
    /// the batch's statistics and update their running ones, as PyTorch's do.</summary>
    public TrainingOutput Forward(Tensor images, bool training = true)
    {
        using var scope = NewDisposeScope();
        var x = images;
        foreach (var op in Architecture.Ops)
        {
            switch (op)
            {
                case ConvOp c:
                    x = F.conv2d(x, _tensors[$"ops.{c.Index}.weight"], _tensors[$"ops.{c.Index}.bias"], strides: new long[] { 1, 1 },
                        padding: new long[] { c.Padding, c.Padding }, dilation: new long[] { c.Dilation, c.Dilation });
                    break;
                case BatchNormOp bn:
                    x = F.batch_norm(x, _tensors[$"ops.{bn.Index}.running_mean"], _tensors[$"ops.{bn.Index}.running_var"],
                        bn.Affine ? _tensors[$"ops.{bn.Index}.weight"] : null, bn.Affine ? _tensors[$"ops.{bn.Index}.bias"] : null,
                        training: training, momentum: BatchNormMomentum, eps: BatchNormEps);
                    if (training)
                        using (no_grad()) _tensors[$"ops.{bn.Index}.num_batches_tracked"].AddInPlace(1);
                    break;
                case ReluOp: x = F.relu(x); break;
                case MaxPoolOp p: x = F.max_pool2d(x, new long[] { p.Kernel, p.Kernel }, new long[] { p.Kernel, p.Kernel }); break;
                case AvgPoolOp p: x = F.avg_pool2d(x, new long[] { p.Kernel, p.Kernel }, new long[] { p.Kernel, p.Kernel }); break;
                case UpsampleOp u:
                    x = F.interpolate(x, scale_factor: new double[] { u.Factor, u.Factor }, mode: InterpolationMode.Bilinear, align_corners: false);
                    break;
            }
        }
        // Heads as in the official network: both read the squared features.
        var sq = x.Square();
        var reliability = F.softmax(F.conv2d(sq, _tensors["clf.weight"], _tensors["clf.bias"]), 1).narrow(1, 1, 1);
        var sp = F.conv2d(sq, _tensors["sal.weight"], _tensors["sal.bias"]).Softplus();
        var repeatability = sp.div(sp.Add(1));
        var descriptors = F.normalize(x, p: 2, dim: 1);
        return new TrainingOutput(descriptors.MoveToOuterDisposeScope(), reliability.MoveToOuterDisposeScope(), repeatability.MoveToOuterDisposeScope());
    }

    /// <summary>The weights and statistics as a checkpoint with the official names.</summary>
    public Checkpoint ToCheckpoint(IReadOnlyDictionary<string, string>? metadata = null)
    {
        var sd = new Dictionary<string, CheckpointTensor>(StringComparer.Ordinal);
        using var scope = NewDisposeScope();
        foreach (var (name, t) in _tensors)
        {
            using var cpu = t.detach().cpu().contiguous();
            if (cpu.dtype == int64)
                sd[name] = new CheckpointTensor(TensorDType.I64, Array.Empty<long>(), BitConverter.GetBytes(cpu.item<long>()));
            else
                sd[name] = CheckpointTensor.FromFloat32(cpu.data<float>().ToArray(), cpu.shape);
        }
        return new Checkpoint(Architecture.Net, sd, metadata);
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _tensors.Clear();
        _parameters.Clear();
    }
}
