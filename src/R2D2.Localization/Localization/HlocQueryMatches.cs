using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Matching;

namespace R2D2.Localization.Localization;

/// <summary>
/// Queries' matches with database images from hloc's matches.h5 (SuperGlue, LightGlue… run on the
/// features.h5 the map and the queries were read from, whose keypoint order both keep): the pairs a
/// pairs file gives, every one checked to be in the file before any query runs, as hloc's
/// localize_sfm reads them. An image the pairs do not give a query (one a verification round finds
/// around a pose) has no imported matches.
/// </summary>
public sealed class HlocQueryMatches : IQueryImageMatches
{
    private readonly string _file;
    // Per query name: its entry in the files, and its paired images' entries by image id.
    private readonly Dictionary<string, (string Entry, Dictionary<int, string> Images)> _pairs;
    // The current query's pairs read so far: a verification round asks for an image again.
    private (string Query, Dictionary<int, List<Match>> ByImage) _read = ("", new());

    private HlocQueryMatches(string file, Dictionary<string, (string, Dictionary<int, string>)> pairs) => (_file, _pairs) = (file, pairs);

    /// <param name="queries">each query's name and image file</param>
    /// <param name="source">the queries' hloc features (it names a query as the files do); a database
    /// image's name is the map's, which the pairs file gives as the files do</param>
    public static HlocQueryMatches Open(string file, IReadOnlyList<(string Name, string ImagePath)> queries, NameIndex<List<int>> pairs, MapIndex map, FeatureSource source)
    {
        if (!File.Exists(file)) throw new FileFormatException(file, 0, Directory.Exists(file) ? "is a folder, not hloc's matches file (matches.h5)" : "matches file (--matches) not found");
        var byQuery = new Dictionary<string, (string, Dictionary<int, string>)>(StringComparer.Ordinal);
        var needed = new List<(string Query, string Image)>();
        foreach (var (name, path) in queries)
        {
            // A query without pairs, or without features, is that query's problem, said where it is checked.
            if (pairs.Find(name) is not { } ids) continue;
            string entry;
            try { entry = source.HlocName(path)!; }
            catch (ImageFileException) { continue; }
            var images = ids.Distinct().ToDictionary(id => id, id => map.Images[id].Name);
            byQuery[name] = (entry, images);
            needed.AddRange(images.Values.Select(image => (entry, image)));
        }
        var missing = Hloc.MissingPairs(file, needed);
        if (missing.Count > 0)
            throw new FileFormatException(file, 0, $"holds no matches for {missing.Count} of the {needed.Count} query pairs (first: '{needed[missing[0]].Query}' '{needed[missing[0]].Image}'): "
                + "give the pairs file the queries were matched on (--pairs); nothing was written");
        return new HlocQueryMatches(file, byQuery);
    }

    public IEnumerable<Match> Between(string query, FeatureSet queryFeatures, int imageId, FeatureSet imageFeatures)
    {
        if (!_pairs.TryGetValue(query, out var q) || !q.Images.TryGetValue(imageId, out var image)) return Array.Empty<Match>();
        if (_read.Query != query) _read = (query, new());
        if (!_read.ByImage.TryGetValue(imageId, out var matches))
            _read.ByImage[imageId] = matches = Hloc.ReadMatches(_file, q.Entry, image, queryFeatures.Count, imageFeatures.Count);
        return matches;
    }
}
