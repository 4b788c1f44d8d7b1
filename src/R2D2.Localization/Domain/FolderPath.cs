namespace R2D2.Localization;

/// <summary>Folder paths, for the layers that make folders (formats' outputs, the feature
/// database), which may not use each other.</summary>
public static class FolderPath
{
    /// <summary>The file standing where <paramref name="folder"/> or one of its missing parents
    /// would go (so it cannot be made), or null: said by name, where .NET said "already exists" or
    /// "could not find a part of the path".</summary>
    public static string? FileInTheWay(string folder)
    {
        for (var at = Path.GetFullPath(folder); !string.IsNullOrEmpty(at) && !Directory.Exists(at); at = Path.GetDirectoryName(at))
            if (File.Exists(at)) return at;
        return null;
    }
}
