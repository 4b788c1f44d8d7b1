using R2D2.Localization.Features;
using static TorchSharp.torch;

namespace R2D2.Localization.Training;

/// <summary>
/// Adam with L2 weight decay added to the gradient (as torch.optim.Adam's weight_decay, which the
/// paper's training used). Written here rather than taken from TorchSharp so that its state (the
/// moments and the step count) is saved with the weights in the project's checkpoint format, which
/// makes a resumed run continue exactly where it stopped.
/// </summary>
public sealed class AdamOptimizer : IDisposable
{
    private readonly List<(string Name, Tensor Param, Tensor M, Tensor V)> _state = new();
    public double LearningRate { get; set; }
    public double Beta1 { get; } = 0.9;
    public double Beta2 { get; } = 0.999;
    public double Epsilon { get; } = 1e-8;
    public double WeightDecay { get; }
    public long Steps { get; private set; }

    public AdamOptimizer(IEnumerable<(string Name, Tensor Param)> parameters, double learningRate, double weightDecay)
    {
        LearningRate = learningRate;
        WeightDecay = weightDecay;
        foreach (var (name, p) in parameters)
        {
            using Tensor m = zeros_like(p), v = zeros_like(p); // held through detach
            _state.Add((name, p, m.detach(), v.detach()));
        }
    }

    public void ZeroGrad()
    {
        foreach (var (_, p, _, _) in _state)
            using (var g = p.grad) g?.zero_();
    }

    public void Step()
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        Steps++;
        double bc1 = 1 - Math.Pow(Beta1, Steps), bc2 = 1 - Math.Pow(Beta2, Steps);
        foreach (var (_, p, m, v) in _state)
        {
            var g = p.grad;
            if (g is null) continue;
            if (WeightDecay != 0) g = g.Add(p, alpha: WeightDecay);
            m.MulInPlace(Beta1).AddInPlace(g, alpha: 1 - Beta1);
            v.MulInPlace(Beta2).AddcmulInPlace(g, g, value: 1 - Beta2);
            var denom = v.sqrt().DivInPlace(Math.Sqrt(bc2)).AddInPlace(Epsilon);
            p.AddcdivInPlace(m, denom, value: -LearningRate / bc1);
        }
    }

    /// <summary>The moments by parameter name ("adam.m.NAME", "adam.v.NAME") for saving.</summary>
    public IEnumerable<(string Key, Tensor Value)> StateTensors()
    {
        foreach (var (name, _, m, v) in _state)
        {
            yield return ("adam.m." + name, m);
            yield return ("adam.v." + name, v);
        }
    }

    /// <summary>Restores what <see cref="StateTensors"/> saved.</summary>
    public void Restore(long steps, Func<string, float[]?> values)
    {
        Steps = steps;
        using var _ = no_grad();
        foreach (var (name, _, m, v) in _state)
        {
            var mv = values("adam.m." + name) ?? throw new DataFormatException($"optimizer state lacks adam.m.{name}");
            var vv = values("adam.v." + name) ?? throw new DataFormatException($"optimizer state lacks adam.v.{name}");
            using (var t = tensor(mv, m.shape)) m.copy_(t);
            using (var t = tensor(vv, v.shape)) v.copy_(t);
        }
    }

    public void Dispose()
    {
        foreach (var (_, _, m, v) in _state) { m.Dispose(); v.Dispose(); }
        _state.Clear();
    }
}
