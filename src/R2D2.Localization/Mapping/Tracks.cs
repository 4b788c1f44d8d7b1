namespace R2D2.Localization.Mapping;

/// <summary>
/// Builds tracks from pairwise matches by union-find over (image, keypoint). A track that ends up
/// holding two or more keypoints of one image is ambiguous there: those observations are dropped
/// (the track keeps its other images), and a track left with fewer than two images is dropped.
/// </summary>
public sealed class TrackBuilder
{
    private readonly Dictionary<TrackElement, int> _index = new();
    private readonly List<TrackElement> _elements = new();
    private readonly List<int> _parent = new();

    private int Node(TrackElement e)
    {
        if (_index.TryGetValue(e, out var i)) return i;
        i = _elements.Count;
        _index[e] = i;
        _elements.Add(e);
        _parent.Add(i);
        return i;
    }

    private int Find(int i)
    {
        while (_parent[i] != i) { _parent[i] = _parent[_parent[i]]; i = _parent[i]; }
        return i;
    }

    public void AddMatch(int image1, int keypoint1, int image2, int keypoint2)
    {
        int a = Find(Node(new TrackElement(image1, keypoint1))), b = Find(Node(new TrackElement(image2, keypoint2)));
        if (a != b) _parent[Math.Max(a, b)] = Math.Min(a, b); // smaller root wins: deterministic
    }

    /// <summary>The tracks, each sorted by image id, in order of their first element.</summary>
    public List<TrackElement[]> Build() => BuildWithConflicts().Select(t => t.Track).ToList();

    /// <summary>The tracks with, for each, the observations dropped as ambiguous (two or more
    /// keypoints of one image), which track completion may restore one of.</summary>
    public List<(TrackElement[] Track, TrackElement[] Conflicts)> BuildWithConflicts()
    {
        var groups = new Dictionary<int, List<TrackElement>>();
        var order = new List<int>();
        for (int i = 0; i < _elements.Count; i++)
        {
            int r = Find(i);
            if (!groups.TryGetValue(r, out var g)) { groups[r] = g = new List<TrackElement>(); order.Add(r); }
            g.Add(_elements[i]);
        }
        var tracks = new List<(TrackElement[], TrackElement[])>();
        foreach (var r in order)
        {
            var byImage = groups[r].GroupBy(e => e.ImageId).ToList();
            var kept = byImage.Where(g => g.Count() == 1).Select(g => g.First()).OrderBy(e => e.ImageId).ToArray();
            if (kept.Length >= 2) tracks.Add((kept, byImage.Where(g => g.Count() > 1).SelectMany(g => g).ToArray()));
        }
        return tracks;
    }
}

/// <summary>
/// Tracks in compact form, for maps of thousands of images: the same tracks, conflicts and order as
/// <see cref="TrackBuilder.BuildWithConflicts"/> gives for the same matches, held as two flat arrays
/// with offsets (8 bytes an observation, 8 a track) instead of an array pair per track.
/// <see cref="Build"/> replays the matches twice (from the database: read twice, held never):
/// the first pass marks each matched keypoint with one bit of its image and notes the order in
/// which keypoints first appear; the second runs union-find over the marked keypoints only,
/// numbered densely by image and keypoint (4 bytes each). Keypoints that no match names cost one
/// bit; matched ones ~24 bytes while building, nothing after.
/// </summary>
public sealed class TrackSet
{
    private readonly int[] _start, _conflictStart;
    private readonly TrackElement[] _elements, _conflicts;

    private TrackSet(int[] start, TrackElement[] elements, int[] conflictStart, TrackElement[] conflicts)
    {
        _start = start; _elements = elements; _conflictStart = conflictStart; _conflicts = conflicts;
    }

    public int Count => _start.Length - 1;
    /// <summary>Observations over all tracks, and the offset of track t's first one.</summary>
    public int ElementCount => _elements.Length;
    public int ConflictCount => _conflicts.Length;
    public int StartOf(int t) => _start[t];
    public int ConflictStartOf(int t) => _conflictStart[t];
    /// <summary>Track t, sorted by image id.</summary>
    public ReadOnlySpan<TrackElement> Track(int t) => _elements.AsSpan(_start[t], _start[t + 1] - _start[t]);
    /// <summary>The observations dropped from track t as ambiguous (two or more keypoints of one image).</summary>
    public ReadOnlySpan<TrackElement> Conflicts(int t) => _conflicts.AsSpan(_conflictStart[t], _conflictStart[t + 1] - _conflictStart[t]);
    public ReadOnlySpan<TrackElement> AllElements => _elements;
    public ReadOnlySpan<TrackElement> AllConflicts => _conflicts;

    /// <summary>
    /// The tracks of the matches that <paramref name="replay"/> gives, calling its argument once per
    /// match (image 1, keypoint 1, image 2, keypoint 2). It is called twice and must give the same
    /// matches in the same order both times.
    /// </summary>
    public static TrackSet Build(Action<Action<int, int, int, int>> replay)
    {
        // Pass 1: the matched keypoints (a bit each), and the order of their first appearance.
        var bits = new Dictionary<int, ulong[]>();
        var first = new List<long>();
        void Mark(int image, int keypoint)
        {
            if (keypoint < 0) throw new DataFormatException($"negative keypoint index {keypoint} in image {image}");
            int w = keypoint >> 6;
            if (!bits.TryGetValue(image, out var b) || w >= b.Length)
            {
                var grown = new ulong[Math.Max(w + 1, 2 * (b?.Length ?? 0))];
                b?.CopyTo(grown, 0);
                bits[image] = b = grown;
            }
            ulong m = 1UL << (keypoint & 63);
            if ((b[w] & m) == 0) { b[w] |= m; first.Add(((long)image << 32) | (uint)keypoint); }
        }
        replay((i1, k1, i2, k2) => { Mark(i1, k1); Mark(i2, k2); });

        // Dense numbers: by image id, then keypoint; a keypoint's is its image's base plus the bits below it.
        var rank = new Dictionary<int, int[]>(bits.Count);
        int total = 0;
        foreach (var image in bits.Keys.Order())
        {
            var b = bits[image];
            var r = new int[b.Length];
            for (int w = 0; w < b.Length; w++) { r[w] = total; total += System.Numerics.BitOperations.PopCount(b[w]); }
            rank[image] = r;
        }
        int Dense(int image, int keypoint)
        {
            int w = keypoint >> 6;
            ulong m = 1UL << (keypoint & 63);
            if (!bits.TryGetValue(image, out var b) || w >= b.Length || (b[w] & m) == 0)
                throw new InvalidOperationException($"the matches changed between the two passes (image {image}, keypoint {keypoint} is new)");
            return rank[image][w] + System.Numerics.BitOperations.PopCount(b[w] & (m - 1));
        }

        // Pass 2: union-find over the dense numbers (membership does not depend on which root wins).
        var parent = new int[total];
        for (int i = 0; i < total; i++) parent[i] = i;
        int Find(int i)
        {
            while (parent[i] != i) { parent[i] = parent[parent[i]]; i = parent[i]; }
            return i;
        }
        replay((i1, k1, i2, k2) =>
        {
            int a = Find(Dense(i1, k1)), b = Find(Dense(i2, k2));
            if (a != b) parent[Math.Max(a, b)] = Math.Min(a, b);
        });

        // Components in order of their first-appearing keypoint, members in order of appearance:
        // TrackBuilder's node order, so the tracks (and each track's seed) are the same.
        var group = new int[total];
        Array.Fill(group, -1);
        var sizes = new List<int>();
        var dense = new int[first.Count];
        for (int p = 0; p < first.Count; p++)
        {
            int root = Find(dense[p] = Dense((int)(first[p] >> 32), (int)first[p]));
            if (group[root] < 0) { group[root] = sizes.Count; sizes.Add(0); }
            sizes[group[root]]++;
        }
        var offset = new int[sizes.Count + 1];
        for (int g = 0; g < sizes.Count; g++) offset[g + 1] = offset[g] + sizes[g];
        var members = new TrackElement[first.Count];
        var fill = offset[..^1];
        for (int p = 0; p < first.Count; p++)
            members[fill[group[Find(dense[p])]]++] = new TrackElement((int)(first[p] >> 32), (int)first[p]);
        first = null!; parent = null!; group = null!; dense = null!;

        // Each component: images with one keypoint make the track (by image id), images with more its conflicts.
        var start = new List<int>(sizes.Count + 1) { 0 };
        var conflictStart = new List<int>(sizes.Count + 1) { 0 };
        var kept = new List<TrackElement>();
        var conflicts = new List<TrackElement>();
        var perImage = new Dictionary<int, int>();
        var order = new List<int>();
        for (int g = 0; g < sizes.Count; g++)
        {
            var m = members.AsSpan(offset[g], offset[g + 1] - offset[g]);
            perImage.Clear();
            foreach (var e in m) perImage[e.ImageId] = perImage.GetValueOrDefault(e.ImageId) + 1;
            int singles = 0;
            foreach (var n in perImage.Values) if (n == 1) singles++;
            if (singles < 2) continue;
            int from = kept.Count;
            foreach (var e in m) if (perImage[e.ImageId] == 1) kept.Add(e);
            kept.Sort(from, kept.Count - from, Comparer<TrackElement>.Create((a, b) => a.ImageId.CompareTo(b.ImageId)));
            if (singles < perImage.Count)
            {
                // Conflicting images in order of their first keypoint, each one's keypoints in order (GroupBy's order).
                order.Clear();
                var firstAt = new Dictionary<int, int>();
                for (int i = 0; i < m.Length; i++)
                    if (perImage[m[i].ImageId] > 1) { firstAt.TryAdd(m[i].ImageId, i); order.Add(i); }
                var mm = m.ToArray();
                order.Sort((a, b) => firstAt[mm[a].ImageId] != firstAt[mm[b].ImageId] ? firstAt[mm[a].ImageId].CompareTo(firstAt[mm[b].ImageId]) : a.CompareTo(b));
                foreach (var i in order) conflicts.Add(mm[i]);
            }
            start.Add(kept.Count);
            conflictStart.Add(conflicts.Count);
        }
        return new TrackSet(start.ToArray(), kept.ToArray(), conflictStart.ToArray(), conflicts.ToArray());
    }
}
