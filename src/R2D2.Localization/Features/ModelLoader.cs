using static TorchSharp.torch;

namespace R2D2.Localization.Features;

/// <summary>Loads a checkpoint (any supported format) into a network; every error names the file.</summary>
public static class ModelLoader
{
    /// <summary>Loads a checkpoint file, or the embedded default model for "default".</summary>
    public static R2D2Network Load(string path, Device? device = null, NetworkOptions? options = null)
    {
        var checkpoint = DefaultModel.IsDefault(path) ? DefaultModel.LoadCheckpoint() : Checkpoint.Load(path);
        try
        {
            return new R2D2Network(checkpoint, device, options);
        }
        catch (Exception e) when (e is NotSupportedException or DataFormatException)
        {
            throw new CheckpointException(path, e.Message, e);
        }
    }

    /// <summary>The name a model goes by in file metadata: the file's name without extension.</summary>
    public static string ModelName(string path) =>
        DefaultModel.IsDefault(path) ? Path.GetFileNameWithoutExtension(DefaultModel.FileName) : Path.GetFileNameWithoutExtension(path);

    /// <summary>A table row's name for <paramref name="path"/> among the <paramref name="compared"/>
    /// models: its <see cref="ModelName"/>, with its folder's name when another model has the same
    /// (two training runs' model.safetensors were two rows named 'model').</summary>
    public static string Label(string path, IEnumerable<string> compared)
    {
        var name = ModelName(path);
        bool shared = compared.Any(o => ModelName(o) == name && Path.GetFullPath(o) != Path.GetFullPath(path));
        return shared && !DefaultModel.IsDefault(path) ? $"{Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(path)))}/{name}" : name;
    }
}
