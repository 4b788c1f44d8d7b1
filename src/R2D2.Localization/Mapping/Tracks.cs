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
