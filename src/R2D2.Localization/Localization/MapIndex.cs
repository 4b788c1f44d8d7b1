using System.Buffers;
using R2D2.Localization.Geometry;
using R2D2.Localization.Mapping;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Localization;

/// <summary>A query's cells for the 2D–3D search within vocabulary cells: each query descriptor's
/// nearest coarse centre, how many nearest cells each point gets, and the number of cells.</summary>
public sealed record CellSearch(int[] QueryCells, int CellsPerPoint, int CellCount);

/// <summary>
/// The query side of a map: 3D points with their descriptors, and the database images' poses
/// and observations (for the fallback pose and reports).
/// </summary>
public sealed class MapIndex : IDisposable
{
    private MapIndex(string path, List<MapPoint> points, Half[] descriptors, int dim, Dictionary<int, (string Name, Pose Pose)> images,
        ExtractorIdentity extractor, RetrievalIndex? retrieval, string? noRetrieval, AsmkIndex? asmk)
    {
        Asmk = asmk;
        Path = path; Points = points; Descriptors = descriptors; Dim = dim; Images = images; Extractor = extractor; Retrieval = retrieval;
        _noRetrieval = noRetrieval;
        var observed = new Dictionary<int, List<long>>();
        for (int p = 0; p < points.Count; p++)
            foreach (var e in points[p].Track)
            {
                (PointsByImage.TryGetValue(e.ImageId, out var l) ? l : PointsByImage[e.ImageId] = new List<int>()).Add(p);
                (observed.TryGetValue(e.ImageId, out var o) ? o : observed[e.ImageId] = new List<long>()).Add(Key(e.KeypointIndex, p));
            }
        foreach (var l in PointsByImage.Values) l.TrimExcess();
        foreach (var (image, l) in observed)
        {
            var a = l.ToArray();
            Array.Sort(a);
            _pointOfKeypoint[image] = a;
        }
    }

    private List<(int Id, double[] Centre)>? _cameraCentres;

    /// <summary>The database images' camera centres, computed once for the map (candidate
    /// verification looks for the images near each pose of every query).</summary>
    public IReadOnlyList<(int Id, double[] Centre)> CameraCentres =>
        _cameraCentres ??= Images.Select(kv => (kv.Key, kv.Value.Pose.CameraCenter)).ToList();

    private static long Key(int high, int low) => ((long)high << 32) | (uint)low;
    // Per image, its observations as (keypoint, point) in 8 bytes, ascending: a binary search finds a
    // keypoint's point (the last one, were a keypoint named by two points).
    private readonly Dictionary<int, long[]> _pointOfKeypoint = new();

    /// <summary>The map point a database image's keypoint observes (index into <see cref="Points"/>), or -1.</summary>
    public int PointOf(int imageId, int keypoint)
    {
        if (keypoint < 0 || !_pointOfKeypoint.TryGetValue(imageId, out var a)) return -1;
        int at = Array.BinarySearch(a, Key(keypoint, -1)); // (keypoint, 0xFFFFFFFF): after all of the keypoint's, never found
        if (at < 0) at = ~at;
        return at > 0 && (int)(a[at - 1] >> 32) == keypoint ? (int)a[at - 1] : -1;
    }

    // The database images' features for 2D–2D matching, read on demand (a map of thousands of
    // images does not fit in memory) and kept for the next queries, the most recent ones only.
    private FeatureDatabase? _features;
    private readonly Dictionary<int, (FeatureSet F, long Used)> _featureCache = new();
    private long _uses;
    private const int FeatureCacheImages = 64;

    /// <summary>Closes the database the 2D–2D matching reads images' features from (left open, its
    /// -wal/-shm stayed beside the map when the process ended).</summary>
    public void Dispose()
    {
        _features?.Dispose();
        _features = null;
    }

    private FeatureSet? ImageFeatures(int imageId)
    {
        if (_featureCache.TryGetValue(imageId, out var hit)) { _featureCache[imageId] = (hit.F, ++_uses); return hit.F; }
        _features ??= FeatureDatabase.OpenReadOnly(Path);
        var f = _features.ReadFeatures(imageId);
        if (f == null) return null;
        if (_featureCache.Count >= FeatureCacheImages) _featureCache.Remove(_featureCache.MinBy(kv => kv.Value.Used).Key);
        _featureCache[imageId] = (f, ++_uses);
        return f;
    }

    /// <summary>2D–3D matches through the database images (hloc): mutual nearest neighbours of the
    /// query's descriptors and each image's (or the 2D–2D matches <paramref name="given"/> gives for
    /// an image: imported ones), kept where the image's keypoint observes a map point;
    /// J indexes <see cref="Points"/>; a query keypoint lifted to the same point twice counts once.</summary>
    public List<Match> MatchThroughImages(FeatureSet query, IEnumerable<int> imageIds, TorchSharp.torch.Device? device, float minSimilarity = float.NegativeInfinity,
        Func<int, FeatureSet, IEnumerable<Match>>? given = null)
    {
        var result = new List<Match>();
        var seen = new HashSet<long>();
        foreach (var id in imageIds)
        {
            if (!PointsByImage.ContainsKey(id) || ImageFeatures(id) is not { } f || f.Dim != query.Dim) continue;
            foreach (var m in given?.Invoke(id, f) ?? MutualNearestNeighbours.Match(query.Descriptors, query.Count, f.Descriptors, f.Count, Dim, device, minSimilarity))
                if (PointOf(id, m.J) is var p && p >= 0 && seen.Add(Key(m.I, p)))
                    result.Add(new Match(m.I, p, m.Similarity));
        }
        return result;
    }

    /// <summary>The images grouped into connected components of covisibility (two images are
    /// linked when they observe a common map point), in the order of their best-ranked image.</summary>
    public List<List<int>> CovisibilityClusters(IReadOnlyList<int> imageIds)
    {
        var parent = imageIds.Distinct().ToDictionary(i => i, i => i);
        int Find(int i) { while (parent[i] != i) i = parent[i] = parent[parent[i]]; return i; }
        var owner = new Dictionary<int, int>();
        foreach (var id in parent.Keys.ToList())
            foreach (var p in PointsByImage.GetValueOrDefault(id) ?? new List<int>())
                if (owner.TryGetValue(p, out var other)) { int a = Find(id), b = Find(other); if (a != b) parent[a] = b; }
                else owner[p] = id;
        var clusters = new Dictionary<int, List<int>>();
        foreach (var id in imageIds.Distinct()) (clusters.TryGetValue(Find(id), out var l) ? l : clusters[Find(id)] = new List<int>()).Add(id);
        return clusters.Values.ToList();
    }

    /// <summary>The map points each database image observes (indices into <see cref="Points"/>).</summary>
    public Dictionary<int, List<int>> PointsByImage { get; } = new();
    public RetrievalIndex? Retrieval { get; }
    /// <summary>The ASMK inverted file, when the map has one (build-map, or build-retrieval on an existing map).</summary>
    public AsmkIndex? Asmk { get; }
    // Why there is no retrieval index (null when there is one).
    private readonly string? _noRetrieval;

    public string Path { get; }
    /// <summary>The points, without their descriptors (Descriptor null): those are <see cref="Descriptors"/>.</summary>
    public List<MapPoint> Points { get; }
    /// <summary>Row-major Points.Count × Dim, as the map stores them (float16, so exact): each point's once.</summary>
    public Half[] Descriptors { get; }
    private float[]? _allDescriptors; // float32 copy for matching against every point (small maps), made on first use
    public int Dim { get; }
    public Dictionary<int, (string Name, Pose Pose)> Images { get; }
    public ExtractorIdentity Extractor { get; }

    public static MapIndex Load(FeatureDatabase db)
    {
        if (!db.HasMap) throw new FeatureDatabaseException(db.Path, "holds no map (run build-map first)");
        var extractor = db.Extractor ?? throw new FeatureDatabaseException(db.Path, "records no extractor");
        var points = db.ReadMapPoints(out var desc, out int dim);
        // A built map without points (images that do not overlap) is no input error: every query
        // then gets its fallback pose, and the command says so.
        if (points.Count == 0) dim = extractor.DescriptorDim;
        var images = db.ReadImages().Where(i => i.PriorRotation != null && i.PriorTranslation != null)
            .ToDictionary(i => i.Id, i => (i.Name, i.PriorPose!));
        var retrieval = db.ReadRetrieval();
        string? noRetrieval = retrieval != null ? null : db.RetrievalImages == 0
            ? "the map has no retrieval index (its images have too few descriptors for a codebook); query it with --retrieval all"
            : "map incomplete: it lacks the retrieval index that build-map stores with it (the build was stopped half-way); rerun build-map";
        var asmkImages = db.ReadAsmkIndex();
        var codebook = asmkImages == null ? null : AsmkCodebook.FromParts(dim, db.ReadAsmkCodebook());
        var asmk = codebook == null ? null : new AsmkIndex(codebook, asmkImages!);
        return new MapIndex(db.Path, points, desc, dim, images, extractor, retrieval, noRetrieval, asmk);
    }

    /// <summary>The k database images most similar to the query by ASMK.</summary>
    public List<int> RetrieveAsmk(FeatureSet query, int k)
    {
        if (Asmk is not { } a) throw new FeatureDatabaseException(Path, "the map has no ASMK index (run `localize build-retrieval --map MAP`)");
        var q = Mapping.Asmk.Encode(query.Descriptors, query.Count, a.Codebook, CoarseCellsOf(query, a));
        return a.Search(q, k).Select(x => x.ImageId).ToList();
    }

    /// <summary>Each query descriptor's nearest coarse ASMK centre, computed once per feature set:
    /// the ASMK retrieval's encoding and the 2D–3D search within cells (<see cref="QueryCells"/>)
    /// both need it (20–35 ms at 20,000 descriptors). Keyed by the feature set's identity (its
    /// descriptors are not changed after extraction); an entry goes with its feature set.</summary>
    private int[] CoarseCellsOf(FeatureSet query, AsmkIndex a) =>
        _coarseCells.GetValue(query, f => a.Codebook.CoarseCellsOf(f.Descriptors, f.Count, 1));

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<FeatureSet, int[]> _coarseCells = new();

    /// <summary>The k database images most similar to the query (VLAD dot product).</summary>
    public List<int> RetrieveVlad(FeatureSet query, int k)
    {
        if (Retrieval is not { } r) throw new FeatureDatabaseException(Path, _noRetrieval!);
        var q = Vlad.Encode(query, r.Codebook, r.Clusters);
        return r.Descriptors.Select(kv => (kv.Key, Score: Dot(q, kv.Value))).OrderByDescending(x => x.Score).Take(k).Select(x => x.Key).ToList();
    }

    private static double Dot(float[] a, float[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }

    /// <summary>2D–3D matches against the points observed by the given database images only
    /// (retrieved, or named by a pairs file); J indexes <see cref="Points"/>. With
    /// <paramref name="cells"/> (<see cref="QueryCells"/>) a query descriptor is compared only with
    /// the points that have its coarse vocabulary cell among their nearest
    /// (<see cref="CellMutualNearestNeighbours"/>); null: with every point (exact).</summary>
    public List<Match> MatchToPointsOf(FeatureSet query, IEnumerable<int> imageIds, TorchSharp.torch.Device? device, float minSimilarity = float.NegativeInfinity,
        CellSearch? cells = null)
    {
        var candidates = PointsObservedBy(imageIds);
        if (candidates.Length == 0) return new List<Match>();
        // The cell search takes the candidates' descriptors in a pooled buffer (longer than needed):
        // ~10 MB a query of fresh pages, a fault each, cost ~50 ms on the project's VM. The exact
        // search copies its arrays into libtorch tensors of their exact size, so a longer buffer
        // would only add a copy there.
        var sub = cells != null ? ArrayPool<float>.Shared.Rent(candidates.Length * Dim) : new float[candidates.Length * Dim];
        try
        {
            for (int c = 0; c < candidates.Length; c++) ToFloat(Descriptors.AsSpan(candidates[c] * Dim, Dim), sub.AsSpan(c * Dim, Dim));
            var matches = cells != null
                ? CellMutualNearestNeighbours.Match(query.Descriptors, query.Count, cells.QueryCells, sub, candidates.Length,
                    PointCells(candidates, cells.CellsPerPoint), cells.CellsPerPoint, Dim, cells.CellCount, minSimilarity)
                : MutualNearestNeighbours.Match(query.Descriptors, query.Count, sub, candidates.Length, Dim, device, minSimilarity);
            return matches.Select(m => m with { J = candidates[m.J] }).ToList();
        }
        finally
        {
            if (cells != null) ArrayPool<float>.Shared.Return(sub);
        }
    }

    /// <summary>The points the images observe, each once, ascending.</summary>
    public int[] PointsObservedBy(IEnumerable<int> imageIds)
    {
        var lists = imageIds.Distinct().Where(PointsByImage.ContainsKey).Select(i => PointsByImage[i]).ToList();
        var all = new int[lists.Sum(l => l.Count)];
        int n = 0;
        foreach (var l in lists) { l.CopyTo(all, n); n += l.Count; }
        Array.Sort(all);
        int unique = 0;
        for (int i = 0; i < all.Length; i++) if (unique == 0 || all[i] != all[unique - 1]) all[unique++] = all[i];
        return all[..unique];
    }

    /// <summary>A query's vocabulary cells for <see cref="MatchToPointsOf"/>: each descriptor's
    /// nearest coarse ASMK centre; null when the map has no ASMK index or <paramref name="cellsPerPoint"/> is 0.</summary>
    public CellSearch? QueryCells(FeatureSet query, int cellsPerPoint)
    {
        if (cellsPerPoint <= 0 || Asmk is not { } a) return null;
        // More cells than the vocabulary has are all of them (--point-cells 300000 overflowed the cache's size).
        return new CellSearch(CoarseCellsOf(query, a), Math.Min(cellsPerPoint, a.Codebook.CoarseCells), a.Codebook.CoarseCells);
    }

    // Each point's nearest coarse cells, computed when a query first needs them and kept (the same
    // points come back with every query of a place): per point k cells, and whether they are set.
    private readonly Dictionary<int, (int[] Cells, bool[] Done)> _pointCells = new();

    private int[] PointCells(int[] points, int k)
    {
        var codebook = Asmk!.Codebook;
        (int[] Cells, bool[] Done) cache;
        lock (_pointCells)
            if (!_pointCells.TryGetValue(k, out cache)) _pointCells[k] = cache = (new int[Points.Count * k], new bool[Points.Count]);
        var missing = points.Where(p => !Volatile.Read(ref cache.Done[p])).ToArray();
        if (missing.Length > 0)
        {
            var d = ArrayPool<float>.Shared.Rent(missing.Length * Dim); // pooled, as in MatchToPointsOf
            for (int m = 0; m < missing.Length; m++) ToFloat(Descriptors.AsSpan(missing[m] * Dim, Dim), d.AsSpan(m * Dim, Dim));
            var computed = codebook.CoarseCellsOf(d, missing.Length, k);
            ArrayPool<float>.Shared.Return(d);
            for (int m = 0; m < missing.Length; m++)
            {
                // Racing queries write the same values; a point counts as done only after its cells.
                Array.Copy(computed, m * k, cache.Cells, missing[m] * k, k);
                Volatile.Write(ref cache.Done[missing[m]], true);
            }
        }
        var cells = new int[points.Length * k];
        for (int c = 0; c < points.Length; c++) Array.Copy(cache.Cells, points[c] * k, cells, c * k, k);
        return cells;
    }

    /// <summary>2D–3D matches: mutual nearest neighbours between the query's descriptors and the
    /// points' (mean) descriptors, on the device.</summary>
    public List<Match> MatchToPoints(FeatureSet query, TorchSharp.torch.Device? device, float minSimilarity = float.NegativeInfinity)
    {
        if (_allDescriptors == null)
        {
            var all = new float[Descriptors.Length];
            ToFloat(Descriptors, all);
            Interlocked.CompareExchange(ref _allDescriptors, all, null);
        }
        return MutualNearestNeighbours.Match(query.Descriptors, query.Count, _allDescriptors, Points.Count, Dim, device, minSimilarity);
    }

    private static void ToFloat(ReadOnlySpan<Half> from, Span<float> to)
    {
        for (int i = 0; i < from.Length; i++) to[i] = (float)from[i];
    }
}
