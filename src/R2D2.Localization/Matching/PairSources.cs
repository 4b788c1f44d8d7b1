using System.Text;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Matching;

/// <summary>
/// Where the image pairs to match come from: a pairs file (hloc and the Aachen local-feature
/// evaluation write `name1 name2` per line, kapture `name1, name2, score`), every pair of a list, camera poses (nearby cameras
/// looking the same way), or a 3D model's covisibility. Every source returns unordered pairs once
/// (a–b and b–a are the same pair; the first seen is kept, as written), no image paired with
/// itself, in a deterministic order (the order of the input, then rank), so a run is reproducible
/// and can be resumed pair by pair.
/// </summary>
public static class PairSources
{
    /// <summary>Reads a pairs file. Blank lines and lines starting with # are skipped. A line that is
    /// not two names, or (with <paramref name="knownImages"/>) names an image outside it, throws an
    /// <see cref="Formats.FileFormatException"/> naming the file and line.</summary>
    public static List<ImagePair> ReadFile(string path, IReadOnlySet<string>? knownImages = null)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"{path}: pairs file not found", path);
        return Parse(TextInput.ReadLines(path), path, knownImages);
    }

    /// <summary>Parses the lines of a pairs file; <paramref name="source"/> names it in errors.</summary>
    public static List<ImagePair> Parse(IEnumerable<string> lines, string source, IReadOnlySet<string>? knownImages = null)
    {
        var pairs = new PairCollector();
        int lineNo = 0;
        foreach (var raw in lines)
        {
            lineNo++;
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var (a, b, _) = PairsLine.Parse(line, source, lineNo);
            var parts = new[] { a, b };
            if (knownImages != null)
                foreach (var name in parts)
                    if (!knownImages.Contains(name)) throw new Formats.FileFormatException(source, lineNo, $"unknown image '{name}'");
            pairs.Add(parts[0], parts[1]);
        }
        // An empty file (or one of self-pairs only) matched nothing and said so only as "0 pair(s)";
        // build-map extracted every image first.
        if (pairs.Pairs.Count == 0) throw new Formats.FileFormatException(source, 0, "lists no pairs of two images ('name1 name2' per line)");
        return pairs.Pairs;
    }

    /// <summary>Writes pairs in the same `name1 name2` format (names must not contain white space).</summary>
    public static void WriteFile(string path, IEnumerable<ImagePair> pairs)
    {
        var text = new StringBuilder();
        foreach (var p in pairs)
        {
            if (p.Name1.Any(char.IsWhiteSpace) || p.Name2.Any(char.IsWhiteSpace))
                throw new R2D2Exception($"image names in a pairs file cannot contain white space: '{p.Name1}', '{p.Name2}'");
            text.Append(p.Name1).Append(' ').Append(p.Name2).Append('\n');
        }
        OutputFile.WriteAllText(path, text.ToString());
    }

    /// <summary>Every pair of the list: (a, b) with a before b in the list.</summary>
    public static List<ImagePair> Exhaustive(IReadOnlyList<string> names)
    {
        var pairs = new PairCollector();
        for (int i = 0; i < names.Count; i++)
            for (int j = i + 1; j < names.Count; j++) pairs.Add(names[i], names[j]);
        return pairs.Pairs;
    }

    /// <summary>
    /// For each image, its <paramref name="k"/> nearest cameras by centre distance among those whose
    /// viewing direction is within <paramref name="maxAngle"/> (radians) of its own. As hloc's
    /// pairs_from_poses, the angle filters the candidates before the k nearest are taken, so an
    /// image keeps k partners when it has them; nearby cameras looking elsewhere see little of the
    /// same scene. Ties in distance go to the earlier image.
    /// </summary>
    public static List<ImagePair> FromPoses(IReadOnlyList<(string Name, Pose Pose)> cameras, int k, double maxAngle = Math.PI)
    {
        if (k < 1) throw new UsageException($"k must be ≥ 1 (got {k})");
        int n = cameras.Count;
        var centres = cameras.Select(c => c.Pose.CameraCenter).ToArray();
        var dirs = cameras.Select(c => c.Pose.ViewingDirection).ToArray();
        double minCos = Math.Cos(Math.Clamp(maxAngle, 0, Math.PI));
        var pairs = new PairCollector();
        var nearest = new SmallestK(k);
        for (int i = 0; i < n; i++)
        {
            nearest.Clear();
            for (int j = 0; j < n; j++)
            {
                if (j == i) continue;
                double cos = dirs[i][0] * dirs[j][0] + dirs[i][1] * dirs[j][1] + dirs[i][2] * dirs[j][2];
                if (cos < minCos) continue;
                double dx = centres[i][0] - centres[j][0], dy = centres[i][1] - centres[j][1], dz = centres[i][2] - centres[j][2];
                nearest.Offer(dx * dx + dy * dy + dz * dz, j);
            }
            foreach (var j in nearest.Indices) pairs.Add(cameras[i].Name, cameras[j].Name);
        }
        return pairs.Pairs;
    }

    /// <summary>
    /// For each image, the <paramref name="k"/> images that observe the most 3D points it observes
    /// (at least <paramref name="minShared"/>), most shared first, ties to the earlier image: the
    /// pairs a 3D model says overlap (hloc's pairs_from_covisibility).
    /// </summary>
    public static List<ImagePair> FromCovisibility(IReadOnlyList<(string Name, IReadOnlyCollection<long> PointIds)> images,
        int k, int minShared = 1)
    {
        if (k < 1) throw new UsageException($"k must be ≥ 1 (got {k})");
        var observers = new Dictionary<long, List<int>>();
        for (int i = 0; i < images.Count; i++)
            foreach (var p in images[i].PointIds.Distinct())
            {
                if (!observers.TryGetValue(p, out var list)) observers[p] = list = new List<int>();
                list.Add(i);
            }
        var pairs = new PairCollector();
        var shared = new Dictionary<int, int>();
        var best = new SmallestK(k);
        for (int i = 0; i < images.Count; i++)
        {
            shared.Clear();
            foreach (var p in images[i].PointIds.Distinct())
                foreach (var j in observers[p])
                    if (j != i) shared[j] = shared.GetValueOrDefault(j) + 1;
            best.Clear();
            foreach (var (j, count) in shared)
                if (count >= minShared) best.Offer(-count, j);
            foreach (var j in best.Indices) pairs.Add(images[i].Name, images[j].Name);
        }
        return pairs.Pairs;
    }

    /// <summary>The k offered indices with the smallest keys, ascending, ties to the smaller index;
    /// O(1) per offer that does not make the cut, which is almost all of them when k ≪ n
    /// (Aachen: thousands of cameras, k ≈ 20), so no per-image sort of all candidates.</summary>
    private sealed class SmallestK
    {
        private readonly (double Key, int Index)[] _items;
        private int _count;

        public SmallestK(int k) => _items = new (double, int)[k];

        public void Clear() => _count = 0;

        public void Offer(double key, int index)
        {
            if (_count == _items.Length && !Before(key, index, _items[_count - 1])) return;
            int pos = _count == _items.Length ? _count - 1 : _count++;
            while (pos > 0 && Before(key, index, _items[pos - 1])) { _items[pos] = _items[pos - 1]; pos--; }
            _items[pos] = (key, index);
        }

        public IEnumerable<int> Indices => _items.Take(_count).Select(x => x.Index);

        private static bool Before(double key, int index, (double Key, int Index) other) =>
            key < other.Key || (key == other.Key && index < other.Index);
    }

    /// <summary>Keeps the first occurrence of each unordered pair, in insertion order; drops self-pairs.</summary>
    private sealed class PairCollector
    {
        private readonly HashSet<(string, string)> _seen = new();
        public List<ImagePair> Pairs { get; } = new();

        public void Add(string a, string b)
        {
            if (a == b) return;
            var key = string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);
            if (_seen.Add(key)) Pairs.Add(new ImagePair(a, b));
        }
    }
}
