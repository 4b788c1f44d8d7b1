using static TorchSharp.torch;

namespace R2D2.Localization.Features;

/// <summary>Loads a checkpoint (any supported format) into a network; every error names the file.</summary>
public static class ModelLoader
{
    /// <summary>Loads a checkpoint file, or the embedded default model for "default".</summary>
    public static R2D2Network Load(string path, Device? device = null, NetworkOptions? options = null)
    {
        var checkpoint = DefaultModel.IsDefault(path) ? DefaultModel.LoadCheckpoint() : Checkpoint.Load(path);
        return Network(checkpoint, path, device, options);
    }

    /// <summary>The network of a checkpoint read from <paramref name="path"/>; what its content makes
    /// wrong is said with the file's name.</summary>
    public static R2D2Network Network(Checkpoint checkpoint, string path, Device? device = null, NetworkOptions? options = null)
    {
        try
        {
            return new R2D2Network(checkpoint, device, options);
        }
        // An argument the checkpoint's content makes wrong (a tensor missing or of another shape, an
        // unknown network) is the file's fault: said with its name.
        catch (Exception e) when (e is NotSupportedException or DataFormatException or ArgumentException or KeyNotFoundException)
        {
            throw new CheckpointException(path, e.Message, e);
        }
    }

    /// <summary>Loads (on the CPU) and drops every checkpoint of <paramref name="models"/> but the
    /// extractors that are no checkpoint (<paramref name="isNoCheckpoint"/>): a command comparing
    /// models says a broken one before it runs the others (their results were lost).</summary>
    public static void CheckAll(IEnumerable<string> models, Func<string, bool> isNoCheckpoint)
    {
        foreach (var m in models.Where(m => !isNoCheckpoint(m)))
            using (Load(m)) { }
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
