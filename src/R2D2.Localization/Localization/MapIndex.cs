using R2D2.Localization.Geometry;
using R2D2.Localization.Mapping;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Localization;

/// <summary>
/// The query side of a map: 3D points with their descriptors, and the database images' poses
/// and observations (for the fallback pose and reports).
/// </summary>
public sealed class MapIndex
{
    private MapIndex(string path, List<MapPoint> points, float[] descriptors, int dim, Dictionary<int, (string Name, Pose Pose)> images,
        ExtractorIdentity extractor, RetrievalIndex? retrieval, string? noRetrieval)
    {
        Path = path; Points = points; Descriptors = descriptors; Dim = dim; Images = images; Extractor = extractor; Retrieval = retrieval;
        _noRetrieval = noRetrieval;
        for (int p = 0; p < points.Count; p++)
            foreach (var e in points[p].Track)
                (PointsByImage.TryGetValue(e.ImageId, out var l) ? l : PointsByImage[e.ImageId] = new List<int>()).Add(p);
    }

    /// <summary>The map points each database image observes (indices into <see cref="Points"/>).</summary>
    public Dictionary<int, List<int>> PointsByImage { get; } = new();
    public RetrievalIndex? Retrieval { get; }
    // Why there is no retrieval index (null when there is one).
    private readonly string? _noRetrieval;

    public string Path { get; }
    public List<MapPoint> Points { get; }
    /// <summary>Row-major Points.Count × Dim.</summary>
    public float[] Descriptors { get; }
    public int Dim { get; }
    public Dictionary<int, (string Name, Pose Pose)> Images { get; }
    public ExtractorIdentity Extractor { get; }

    public static MapIndex Load(FeatureDatabase db)
    {
        if (!db.HasMap) throw new FeatureDatabaseException(db.Path, "holds no map (run build-map first)");
        var extractor = db.Extractor ?? throw new FeatureDatabaseException(db.Path, "records no extractor");
        var points = db.ReadMap().Where(p => p.Descriptor != null).ToList();
        // A built map without points (images that do not overlap) is no input error: every query
        // then gets its fallback pose, and the command says so.
        int dim = points.Count > 0 ? points[0].Descriptor!.Length : extractor.DescriptorDim;
        var desc = new float[points.Count * dim];
        for (int i = 0; i < points.Count; i++) points[i].Descriptor!.CopyTo(desc, i * dim);
        var images = db.ReadImages().Where(i => i.PriorRotation != null && i.PriorTranslation != null)
            .ToDictionary(i => i.Id, i => (i.Name, i.PriorPose!));
        var retrieval = db.ReadRetrieval();
        string? noRetrieval = retrieval != null ? null : db.RetrievalImages == 0
            ? "the map has no retrieval index (its images have too few descriptors for a codebook); query it with --retrieval all"
            : "map incomplete: it lacks the retrieval index that build-map stores with it (the build was stopped half-way); rerun build-map";
        return new MapIndex(db.Path, points, desc, dim, images, extractor, retrieval, noRetrieval);
    }

    /// <summary>The k database images most similar to the query (VLAD dot product).</summary>
    public List<int> Retrieve(FeatureSet query, int k)
    {
        if (Retrieval is not { } r) throw new FeatureDatabaseException(Path, _noRetrieval!);
        var q = Vlad.Encode(query, r.Codebook, r.Clusters);
        return r.Descriptors.Select(kv => (kv.Key, Score: Dot(q, kv.Value))).OrderByDescending(x => x.Score).Take(k).Select(x => x.Key).ToList();
    }

    private static double Dot(float[] a, float[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }

    /// <summary>2D–3D matches against the points observed by the given database images only
    /// (retrieved, or named by a pairs file); J indexes <see cref="Points"/>.</summary>
    public List<Match> MatchToPointsOf(FeatureSet query, IEnumerable<int> imageIds, TorchSharp.torch.Device? device, float minSimilarity = float.NegativeInfinity)
    {
        var candidates = imageIds.Where(PointsByImage.ContainsKey).SelectMany(i => PointsByImage[i]).Distinct().OrderBy(p => p).ToArray();
        if (candidates.Length == 0) return new List<Match>();
        var sub = new float[candidates.Length * Dim];
        for (int c = 0; c < candidates.Length; c++) Array.Copy(Descriptors, candidates[c] * Dim, sub, c * Dim, Dim);
        return MutualNearestNeighbours.Match(query.Descriptors, query.Count, sub, candidates.Length, Dim, device, minSimilarity)
            .Select(m => m with { J = candidates[m.J] }).ToList();
    }

    /// <summary>2D–3D matches: mutual nearest neighbours between the query's descriptors and the
    /// points' (mean) descriptors, on the device.</summary>
    public List<Match> MatchToPoints(FeatureSet query, TorchSharp.torch.Device? device, float minSimilarity = float.NegativeInfinity) =>
        MutualNearestNeighbours.Match(query.Descriptors, query.Count, Descriptors, Points.Count, Dim, device, minSimilarity);
}
