namespace R2D2.Localization.Formats;

/// <summary>The pairs of several dataset folders, for the evaluations that take them (homography, WxBS).</summary>
internal static class PairFolders
{
    /// <summary>The pairs <paramref name="find"/> gives for every folder, in order; a folder without
    /// any is refused with <paramref name="none"/>'s error (it was left out of the average without a word).</summary>
    public static List<T> FindAll<T>(IEnumerable<string> folders, Func<string, List<T>> find, Func<string, Exception> none)
    {
        var all = new List<T>();
        foreach (var folder in folders)
        {
            var found = find(folder);
            if (found.Count == 0) throw none(folder);
            all.AddRange(found);
        }
        return all;
    }
}
