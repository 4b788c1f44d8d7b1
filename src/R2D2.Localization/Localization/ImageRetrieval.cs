using System.Diagnostics;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Localization;

/// <summary>Picks the database images a query is matched against, best first.</summary>
public interface IImageRetrieval
{
    string Name { get; }
    /// <summary>Up to k database image ids, best first.</summary>
    IReadOnlyList<int> Retrieve(string queryName, FeatureSet query, int k);
    /// <summary>The queries of <paramref name="queryNames"/> the method holds nothing for (a pairs or
    /// global-descriptor file without them); none for the map's own methods.</summary>
    IReadOnlyList<string> Lacking(IReadOnlyList<string> queryNames) => Array.Empty<string>();
    /// <summary>Why a lacking query is lacking, when its name is ambiguous in the file ("" otherwise).</summary>
    string Ambiguity(string queryName) => "";
    /// <summary>What the user should know about the method's input before the queries (map images a
    /// global-descriptor file lacks, which are never retrieved); null: nothing.</summary>
    string? Note => null;
}

/// <summary>
/// The retrieval methods, by the name `--retrieval-method` takes: `vlad` (the map's VLAD of the
/// local descriptors), `asmk` (the map's ASMK inverted file), `auto` (ASMK when the map has its
/// index, else VLAD), `pairs:FILE` (a pairs file of hloc's or kapture's layout, see
/// <see cref="RetrievalPairs"/>) and `global:PATH` (global descriptors of the database and query
/// images, ranked by cosine similarity: a kapture `global_features` folder, or hloc's
/// global-feats-*.h5 file).
/// </summary>
public static class ImageRetrieval
{
    /// <summary>The file or folder a method reads (pairs:FILE, global:PATH), for the commands that
    /// must not write over it; null for the map's own methods.</summary>
    public static (string Role, string? Path)? InputOf(string spec) =>
        spec.StartsWith("pairs:", StringComparison.Ordinal) ? ("retrieval pairs file", spec[6..])
        : spec.StartsWith("global:", StringComparison.Ordinal) ? ("global descriptors", spec[7..])
        : null;

    /// <summary>Whether <see cref="Create"/> takes <paramref name="spec"/> (checked before a map is read).</summary>
    public static bool IsMethod(string spec) => spec is "vlad" or "asmk" or "auto" || InputOf(spec) != null;

    public static IImageRetrieval Create(string spec, MapIndex map)
    {
        if (InputOf(spec) is { Path: "" } empty) throw new UsageException($"--retrieval-method {spec}: give the {empty.Role} after the colon");
        if (spec.StartsWith("pairs:", StringComparison.Ordinal)) return new FromPairs(spec, RetrievalPairs.Read(spec[6..]), map);
        if (spec.StartsWith("global:", StringComparison.Ordinal))
            return new FromGlobal(spec, File.Exists(spec[7..]) ? Hloc.ReadAllGlobal(spec[7..]) : KaptureGlobalFeatures.Read(spec[7..]), map);
        return spec switch
        {
            "vlad" => new Local("vlad", map, (f, k) => map.RetrieveVlad(f, k)),
            // Said once, before any query is extracted (each query failed on it, after its extraction).
            "asmk" => map.Asmk == null ? throw new R2D2Exception(map.Path, 0, $"the map has no ASMK index: add one with `localize build-retrieval --map {map.Path}`, or use --retrieval-method vlad")
                : new Local("asmk", map, (f, k) => map.RetrieveAsmk(f, k)),
            "auto" => map.Asmk != null ? Create("asmk", map) : Create("vlad", map),
            _ => throw new UsageException($"--retrieval-method must be auto, vlad, asmk, pairs:FILE or global:PATH, not '{spec}'"),
        };
    }

    private sealed class Local(string name, MapIndex map, Func<FeatureSet, int, List<int>> retrieve) : IImageRetrieval
    {
        public string Name => name;
        public IReadOnlyList<int> Retrieve(string queryName, FeatureSet query, int k) => retrieve(query, k);
        public override string ToString() => $"{name} ({map.Path})";
    }

    private sealed class FromPairs : IImageRetrieval
    {
        private readonly NameIndex<List<int>> _byQuery;
        public FromPairs(string name, Dictionary<string, List<string>> pairs, MapIndex map)
        {
            Name = name;
            var ids = map.Images.ToDictionary(kv => kv.Value.Name, kv => kv.Key, StringComparer.Ordinal);
            var unknown = pairs.SelectMany(kv => kv.Value).FirstOrDefault(n => !ids.ContainsKey(n));
            if (unknown != null) throw new FileFormatException(name[6..], RetrievalPairs.LineOf(name[6..], unknown), $"'{unknown}' is not an image of the map {map.Path}");
            _byQuery = new NameIndex<List<int>>(pairs.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Select(n => ids[n]).ToList())));
        }
        public string Name { get; }
        public IReadOnlyList<int> Retrieve(string queryName, FeatureSet query, int k) => (_byQuery.Find(queryName) ?? new List<int>()).Take(k).ToList();
        public IReadOnlyList<string> Lacking(IReadOnlyList<string> queryNames) => queryNames.Where(q => _byQuery.Find(q) == null).ToList();
        public string Ambiguity(string queryName) => _byQuery.Ambiguity(queryName);
    }

    /// <summary>Ranks by cosine similarity, so descriptors stored unnormalized rank as normalized
    /// ones (NetVLAD's and AP-GeM's are normalized already).</summary>
    private sealed class FromGlobal : IImageRetrieval
    {
        private readonly NameIndex<float[]> _all;
        private readonly List<(int Id, float[] D, double Norm)> _db;
        public FromGlobal(string name, Dictionary<string, float[]> all, MapIndex map)
        {
            Name = name;
            _all = new NameIndex<float[]>(all);
            _db = map.Images.Where(kv => all.ContainsKey(kv.Value.Name)).Select(kv => { var d = all[kv.Value.Name]; return (kv.Key, d, Norm(d)); }).OrderBy(x => x.Key).ToList();
            if (_db.Count == 0) throw new FileFormatException(name[7..], 0, $"holds no global feature of an image of the map {map.Path}");
            // Every entry, queries' too, has the database's size: checked before any query, not at each.
            var first = map.Images[_db[0].Id].Name;
            if (all.FirstOrDefault(kv => kv.Value.Length != _db[0].D.Length) is { Key: not null } odd)
                throw new FileFormatException(name[7..], 0, $"the global feature of '{odd.Key}' has {odd.Value.Length} values, that of '{first}' {_db[0].D.Length}");
            int lacking = map.Images.Count - _db.Count;
            if (lacking > 0)
                Note = $"{name[7..]}: no global feature for {lacking} of the map's {map.Images.Count} images (first: '{map.Images.Values.First(i => !all.ContainsKey(i.Name)).Name}'): they are never retrieved";
        }
        public string Name { get; }
        public IReadOnlyList<int> Retrieve(string queryName, FeatureSet query, int k)
        {
            var q = _all.Find(queryName) ?? throw new R2D2Exception(Name[7..], 0, $"no global feature of the query '{queryName}'{_all.Ambiguity(queryName)}");
            if (q.Length != _db[0].D.Length) throw new R2D2Exception(Name[7..], 0, $"the query's global feature has {q.Length} values, the database's {_db[0].D.Length}");
            double qn = Norm(q);
            return _db.Select(x => (x.Id, S: Dot(q, x.D) / Math.Max(qn * x.Norm, double.Epsilon))).OrderByDescending(x => x.S).ThenBy(x => x.Id).Take(k).Select(x => x.Id).ToList();
        }
        public IReadOnlyList<string> Lacking(IReadOnlyList<string> queryNames) => queryNames.Where(q => _all.Find(q) == null).ToList();
        public string Ambiguity(string queryName) => _all.Ambiguity(queryName);
        public string? Note { get; }
        private static double Dot(float[] a, float[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
        private static double Norm(float[] a) => Math.Sqrt(Dot(a, a));
    }

    /// <summary>Before any query: a global-descriptor file without some of <paramref name="queryNames"/>
    /// is refused (every query needs one), a pairs file's missing queries are said (they get no
    /// images); <paramref name="context"/> starts the message (e.g. the set).</summary>
    public static void CheckLacking(IImageRetrieval method, IReadOnlyList<string> queryNames, Action<string> warn, string context = "")
    {
        var lacking = method.Lacking(queryNames);
        if (lacking.Count == 0 || InputOf(method.Name) is not { } input) return;
        string which = $"{lacking.Count} of the {queryNames.Count} queries (first: '{lacking[0]}'{method.Ambiguity(lacking[0])})";
        if (input.Role == "global descriptors")
            throw new R2D2Exception(input.Path, 0, $"{context}holds no global descriptor for {which}: give one with every query's (hloc: global features of the query images too)");
        warn($"{context}{input.Path}: no pair for {which}: they get no database image (in a query run, a fallback pose)");
    }

    /// <summary>Runs a method and times it (seconds).</summary>
    public static (IReadOnlyList<int> Ids, double Seconds) Timed(IImageRetrieval method, string queryName, FeatureSet query, int k)
    {
        var sw = Stopwatch.StartNew();
        var ids = method.Retrieve(queryName, query, k);
        return (ids, sw.Elapsed.TotalSeconds);
    }
}

public static class MatchingSchemes
{
    /// <summary>The --matching value: 2d3d (<see cref="MatchingScheme.PointDescriptors"/>) or 2d2d (<see cref="MatchingScheme.ImagePairs"/>).</summary>
    public static MatchingScheme Parse(string text) => Parse(text, "--matching");

    /// <summary>The option values, as <see cref="Parse(string)"/> reads them.</summary>
    public static readonly string[] Names = { "2d3d", "2d2d" };

    /// <summary>The option value of a scheme (as <see cref="Parse(string)"/> reads it).</summary>
    public static string Name(MatchingScheme s) => s == MatchingScheme.ImagePairs ? "2d2d" : "2d3d";

    /// <summary>As <see cref="Parse(string)"/>, the error naming <paramref name="option"/> (evaluate-retrieval's --localize).</summary>
    public static MatchingScheme Parse(string text, string option) => text switch
    {
        "2d3d" => MatchingScheme.PointDescriptors,
        "2d2d" => MatchingScheme.ImagePairs,
        _ => throw new UsageException($"{option} must be 2d3d or 2d2d, not '{text}'"),
    };
}
