namespace R2D2.Localization.Formats;

/// <summary>
/// Entries of a file keyed by image names, found by an image's name as another file gives it: its
/// own name, else the one entry whose name ends the image's or is ended by it at a folder boundary
/// ("night/x.jpg" for "query/night/x.jpg", "x.jpg" for either, and the other way round). Not any
/// entry of the same base name: b/x.jpg took a/x.jpg's (RobotCar's rear/ and left/ share names).
/// The entries are copied and indexed by base name when it is made (a miss scanned every entry: N
/// queries against N names were N² comparisons).
/// </summary>
public sealed class NameIndex<T> where T : class
{
    private readonly Dictionary<string, T> _byName;
    private readonly Dictionary<string, List<string>> _byBaseName = new(StringComparer.Ordinal);

    public NameIndex(IEnumerable<KeyValuePair<string, T>> byName)
    {
        _byName = new Dictionary<string, T>(byName, StringComparer.Ordinal);
        foreach (var key in _byName.Keys)
        {
            var b = Submission.BaseName(key);
            if (!_byBaseName.TryGetValue(b, out var list)) _byBaseName[b] = list = new List<string>();
            list.Add(key);
        }
    }

    /// <summary>The entry of the image named <paramref name="name"/>, or null (none, or several: see <see cref="Ambiguity"/>).</summary>
    public T? Find(string name)
    {
        if (_byName.TryGetValue(name, out var v)) return v;
        var hits = Hits(name).Take(2).ToList();
        return hits.Count == 1 ? _byName[hits[0]] : null;
    }

    /// <summary>Why <see cref="Find"/> finds nothing for <paramref name="name"/>: "" when no entry
    /// is it, else the entries that all end it or are ended by it (to say in a message).</summary>
    public string Ambiguity(string name)
    {
        var hits = Hits(name).Take(3).Select(k => $"'{k}'").ToList();
        return hits.Count < 2 ? "" : hits.Count == 2 ? $": ambiguous, {hits[0]} and {hits[1]} both match it; give full names"
            : $": ambiguous, {hits[0]}, {hits[1]}, … match it; give full names";
    }

    private IEnumerable<string> Hits(string name) =>
        _byBaseName.TryGetValue(Submission.BaseName(name), out var keys)
            ? keys.Where(key => Submission.EndsAtFolder(name, key) || Submission.EndsAtFolder(key, name))
            : Enumerable.Empty<string>();
}
