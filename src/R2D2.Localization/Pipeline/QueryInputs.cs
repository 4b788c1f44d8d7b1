using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

/// <summary>What a query run reads before its first query: the map, the query list with cameras,
/// a pairs file, and the map's own feature extractor.</summary>
public static class QueryInputs
{
    /// <summary>The map of a database and the checkpoint its build recorded (null: none recorded).</summary>
    public static (MapIndex Map, string? ModelPath) LoadMap(string mapPath)
    {
        FeatureDatabaseException.RequireFile(mapPath, "map not found");
        using var db = FeatureDatabase.OpenReadOnly(mapPath);
        return (MapIndex.Load(db), db.ReadNote("model_path"));
    }

    /// <summary>The folder the query names are relative to: the one given, else a kapture folder's sensors/records_data.</summary>
    public static string ImageRoot(string queries, string? images) =>
        images ?? (Kapture.IsKapture(queries) ? Kapture.ImageRoot(queries)
            : !File.Exists(queries) && !Directory.Exists(queries) ? throw new FileFormatException(queries, 0, "query list not found")
            : throw new UsageException($"--images is needed: {queries} is not a kapture folder (whose images are in sensors/records_data)"));

    /// <summary>A kapture folder (its camera records and sensors), a query list with intrinsics, or a names-only list with the cameras of <paramref name="intrinsicsPath"/>; an empty list is refused.</summary>
    public static List<QueryImage> ReadQueries(string list, string? intrinsicsPath)
    {
        List<QueryImage> queries;
        if (Kapture.IsKapture(list))
        {
            if (intrinsicsPath != null) throw new UsageException($"--intrinsics: the kapture folder {list} has its own cameras (sensors.txt)");
            queries = Kapture.ReadQueries(list);
        }
        else if (intrinsicsPath == null) queries = QueryList.ReadWithIntrinsics(list);
        else
        {
            var cams = CameraFiles.Read(intrinsicsPath);
            queries = QueryList.ReadNames(list).Select(q => cams.TryGetValue(q.Name, out var c) ? q with { Camera = c }
                : throw new FileFormatException(list, 0, $"query '{q.Name}' has no camera in {intrinsicsPath}")).ToList();
        }
        return queries.Count > 0 ? queries : throw new FileFormatException(list, 0, "no queries");
    }

    /// <summary>Refuses query images whose features <paramref name="source"/> cannot give (an hloc
    /// file without them), before any work; <paramref name="list"/> names the query list, if any.</summary>
    public static void RefuseLackingFeatures(FeatureSource source, IReadOnlyList<string> imagePaths, string? list)
    {
        if (source.Lacking(imagePaths) is { Count: > 0 } lacking)
            throw new R2D2Exception(list, 0, $"{source.Description} holds no features for {lacking.Count} of the {imagePaths.Count} queries (first: {lacking[0]}): "
                + "give a file with the queries' features too (hloc: extract_features on the query images)");
    }

    /// <summary>The queries of a list with intrinsics or of a names-only list, without their cameras' checks
    /// mattering (a merge needs the names and their order).</summary>
    public static List<QueryImage> ReadQueryNames(string list)
    {
        if (!File.Exists(list)) throw new FileFormatException(list, 0, Directory.Exists(list) ? "is a folder, not a query list" : "query list not found");
        // Told apart by the first data line (one field: names only), so a bad line of a list with
        // intrinsics is named as such (it was read again as names only: "line 1: found 8 fields").
        var queries = QueryList.FirstDataFields(list).Length == 1 ? QueryList.ReadNames(list) : QueryList.ReadWithIntrinsics(list);
        return queries.Count > 0 ? queries : throw new FileFormatException(list, 0, "no queries");
    }

    /// <summary>A pairs file (hloc's `query db` or kapture's `query, db, score`; see <see cref="RetrievalPairs"/>) →
    /// database image ids per query name, best first; a database name the map lacks is an error naming the file.</summary>
    public static NameIndex<List<int>> ReadPairs(string path, MapIndex map)
    {
        var ids = map.Images.ToDictionary(kv => kv.Value.Name, kv => kv.Key, StringComparer.Ordinal);
        return new NameIndex<List<int>>(RetrievalPairs.Read(path).Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Select(n => ids.TryGetValue(n, out int id) ? id
            : throw new FileFormatException(path, RetrievalPairs.LineOf(path, n), $"'{n}' is not an image of the map {map.Path}")).ToList())));
    }
}
