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
    private MapIndex(string path, List<MapPoint> points, float[] descriptors, int dim, Dictionary<int, (string Name, Pose Pose)> images, ExtractorIdentity extractor)
    {
        Path = path; Points = points; Descriptors = descriptors; Dim = dim; Images = images; Extractor = extractor;
    }

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
        if (points.Count < 4) throw new FeatureDatabaseException(db.Path, $"holds a map of {points.Count} point(s): too few to localize against");
        int dim = points[0].Descriptor!.Length;
        var desc = new float[points.Count * dim];
        for (int i = 0; i < points.Count; i++) points[i].Descriptor!.CopyTo(desc, i * dim);
        var images = db.ReadImages().Where(i => i.PriorRotation != null && i.PriorTranslation != null)
            .ToDictionary(i => i.Id, i => (i.Name, Pose.FromQuaternion(i.PriorRotation!, i.PriorTranslation!)));
        return new MapIndex(db.Path, points, desc, dim, images, extractor);
    }

    /// <summary>2D–3D matches: mutual nearest neighbours between the query's descriptors and the
    /// points' (mean) descriptors, on the device.</summary>
    public List<Match> MatchToPoints(Features.FeatureSet query, TorchSharp.torch.Device? device, float minSimilarity = float.NegativeInfinity) =>
        MutualNearestNeighbours.Match(query.Descriptors, query.Count, Descriptors, Points.Count, Dim, device, minSimilarity);
}
