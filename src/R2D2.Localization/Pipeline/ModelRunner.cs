using R2D2.Localization.Features;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Pipeline;

/// <summary>A checkpoint as `localize model info` shows it: its network, weights' identity and tensors.</summary>
public sealed record ModelInfo(string Net, string WeightsHash, IReadOnlyList<(string Name, string DType, IReadOnlyList<long> Shape, long Count)> Tensors);

/// <summary>
/// `localize model`: a checkpoint ('default': the embedded model; an official .pt, a zip-format
/// torch file or a .safetensors) read and checked against its architecture (the network is built
/// from it), described or written in another format.
/// </summary>
public static class ModelRunner
{
    public static ModelInfo Info(string path)
    {
        var c = Load(path);
        using var net = ModelLoader.Network(c, path);
        return new ModelInfo(c.Net, net.WeightsHash, c.StateDict.Select(kv => (kv.Key, kv.Value.DType.ToString(), (IReadOnlyList<long>)kv.Value.Shape.ToArray(), kv.Value.Count)).ToList());
    }

    /// <summary>Writes <paramref name="path"/>'s weights to <paramref name="output"/>: .safetensors (the
    /// project's format, its source recorded) or .pt/.pth (zip-format torch.save that PyTorch loads).
    /// Returns the network and the weights' identity.</summary>
    public static (string Net, string WeightsHash) Convert(string path, string output)
    {
        bool safetensors = output.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase);
        if (!safetensors && !IsTorch(output)) throw new UsageException($"{output}: the output must end in .safetensors or .pt");
        if (!DefaultModel.IsDefault(path)) OutputFile.RefuseInputs(new[] { ("converted checkpoint", (string?)output) }, new[] { ("checkpoint", (string?)path) });
        var c = Load(path);
        using var net = ModelLoader.Network(c, path); // validates the architecture against the weights
        if (safetensors) c.SaveSafeTensors(output, new Dictionary<string, string> { ["source"] = Path.GetFileName(path) });
        else c.SaveTorchZip(output);
        return (c.Net, net.WeightsHash);
    }

    internal static bool IsTorch(string output) =>
        output.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || output.EndsWith(".pth", StringComparison.OrdinalIgnoreCase);

    private static Checkpoint Load(string path) => DefaultModel.IsDefault(path) ? DefaultModel.LoadCheckpoint() : Checkpoint.Load(path);
}
