using System.Reflection;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Features;

/// <summary>
/// The project's own R2D2 model, trained by `localize train` on images the project generates (see
/// Features/DefaultModel/README.md for the exact command), embedded in the library so that
/// `--model default` (and commands whose --model is optional) work without any download.
/// </summary>
public static class DefaultModel
{
    /// <summary>The --model value that selects it.</summary>
    public const string Name = "default";
    public const string FileName = "r2d2_default.safetensors";
    private const string ResourceName = "R2D2.Localization.DefaultModel." + FileName;

    public static bool IsDefault(string? model) => model is null || string.Equals(model, Name, StringComparison.OrdinalIgnoreCase);

    public static bool IsEmbedded => typeof(DefaultModel).Assembly.GetManifestResourceInfo(ResourceName) != null;

    public static Checkpoint LoadCheckpoint()
    {
        using var s = typeof(DefaultModel).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new CheckpointException(Name, "this build has no embedded default model (Features/DefaultModel/" + FileName + " missing); pass --model CKPT");
        using var m = new MemoryStream();
        s.CopyTo(m);
        m.Position = 0;
        return Checkpoint.FromSafeTensors(SafeTensors.Read(m));
    }
}
