using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Matching;

namespace R2D2.Localization.Localization;

/// <summary>
/// Queries' matches with database images from hloc's matches.h5 (SuperGlue, LightGlue… run on the
/// features.h5 the map and the queries were read from, whose keypoint order both keep): the pairs a
/// pairs file gives, every one checked to be in the file before any query runs, as hloc's
/// localize_sfm reads them. An image the pairs do not give a query has no imported matches.
/// </summary>
public sealed class HlocQueryMatches : IQueryImageMatches
{
    private readonly string _file;
    private readonly Dictionary<string, string> _queryEntries;
    private readonly Dictionary<int, string> _imageEntries;

    private HlocQueryMatches(string file, Dictionary<string, string> queryEntries, Dictionary<int, string> imageEntries) =>
        (_file, _queryEntries, _imageEntries) = (file, queryEntries, imageEntries);

    /// <param name="queries">each query's name and image file</param>
    /// <param name="source">the hloc features the map was built from (it names the images as the files do)</param>
    public static HlocQueryMatches Open(string file, IReadOnlyList<(string Name, string ImagePath)> queries, NameIndex<List<int>> pairs, MapIndex map, FeatureSource source)
    {
        if (!File.Exists(file)) throw new FileFormatException(file, 0, Directory.Exists(file) ? "is a folder, not hloc's matches file (matches.h5)" : "matches file (--matches) not found");
        var queryEntries = new Dictionary<string, string>(StringComparer.Ordinal);
        var imageEntries = new Dictionary<int, string>();
        var needed = new List<(string Query, string Image)>();
        foreach (var (name, path) in queries)
        {
            // A query without pairs, or without features, is that query's problem, said where it is checked.
            if (pairs.Find(name) is not { } ids) continue;
            string query;
            try { query = source.HlocName(path)!; }
            catch (ImageFileException) { continue; }
            queryEntries[name] = query;
            foreach (var id in ids)
            {
                if (!imageEntries.TryGetValue(id, out var image)) imageEntries[id] = image = source.HlocName(map.Images[id].Name)!;
                needed.Add((query, image));
            }
        }
        var missing = Hloc.MissingPairs(file, needed);
        if (missing.Count > 0)
            throw new FileFormatException(file, 0, $"holds no matches for {missing.Count} of the {needed.Count} query pairs (first: '{needed[missing[0]].Query}' '{needed[missing[0]].Image}'): "
                + "give the pairs file the queries were matched on (--pairs); nothing was written");
        return new HlocQueryMatches(file, queryEntries, imageEntries);
    }

    public IEnumerable<Match> Between(string query, FeatureSet queryFeatures, int imageId, FeatureSet imageFeatures) =>
        _queryEntries.TryGetValue(query, out var q) && _imageEntries.TryGetValue(imageId, out var image)
            ? Hloc.ReadMatches(_file, q, image, queryFeatures.Count, imageFeatures.Count)
            : Array.Empty<Match>();
}
