
namespace R2D2.Localization.Storage;

/// <summary>
/// A row of COLMAP's <c>images</c> table. The priors are COLMAP's optional pose prior (≤ 3.9
/// layout), world→camera: a Hamilton quaternion (w, x, y, z) and a translation; null when absent
/// or when the database uses COLMAP's newer layout without these columns.
/// </summary>
public sealed record DatabaseImage(int Id, string Name, int CameraId, double[]? PriorRotation = null, double[]? PriorTranslation = null)
{
    /// <summary>The pose prior (quaternion w, x, y, z and t, world→camera), or null when none is stored.</summary>
    public Geometry.Pose? PriorPose => PriorRotation != null && PriorTranslation != null ? Geometry.Pose.FromQuaternion(PriorRotation, PriorTranslation) : null;
}

/// <summary>
/// An image's keypoints as COLMAP stores them, in the project's pixel convention. COLMAP keeps
/// 2 (x, y), 4 (x, y, scale, orientation) or 6 (x, y, affine a11 a12 a21 a22) columns; the scale
/// and orientation are derived as COLMAP does (mean column norm of the affine shape, atan2(a21, a11);
/// scale 1 and orientation 0 when only x, y are stored).
/// </summary>
public sealed record Keypoints(float[] X, float[] Y, float[] Scale, float[] Orientation, int StoredColumns)
{
    public int Count => X.Length;
}

/// <summary>A row of COLMAP's <c>descriptors</c> table: Count×Dim uint8, row-major.</summary>
public sealed record ColmapDescriptors(int Count, int Dim, byte[] Data);

/// <summary>COLMAP's two-view configuration (the <c>config</c> column).</summary>
public enum TwoViewConfiguration
{
    Undefined = 0,
    /// <summary>No overlap or too few inliers.</summary>
    Degenerate = 1,
    /// <summary>Essential matrix.</summary>
    Calibrated = 2,
    /// <summary>Fundamental matrix.</summary>
    Uncalibrated = 3,
    /// <summary>Homography, planar scene with baseline.</summary>
    Planar = 4,
    /// <summary>Homography, pure rotation.</summary>
    Panoramic = 5,
    PlanarOrPanoramic = 6,
    /// <summary>Pure 2D translation near the borders (a watermark).</summary>
    Watermark = 7,
    Multiple = 8,
    /// <summary>Metric relative pose of a calibrated rig (newer COLMAP).</summary>
    CalibratedRig = 9,
}

/// <summary>
/// The verified geometry of an image pair, for (image 1, image 2) as asked. F and H are row-major
/// 3×3 in the project's pixel convention (x2ᵀ·F·x1 = 0, x2 ~ H·x1); E is in normalized camera
/// coordinates; Rotation (w, x, y, z) and Translation are camera 2 from camera 1. Matrices are
/// null when not stored. The inliers' similarities are not stored (NaN on read).
/// </summary>
public sealed record TwoViewGeometry(
    TwoViewConfiguration Config,
    List<Match> Inliers,
    double[]? F = null,
    double[]? E = null,
    double[]? H = null,
    double[]? Rotation = null,
    double[]? Translation = null);

/// <summary>An image pair with the number of its matches (or inliers); ImageId1 &lt; ImageId2.</summary>
public readonly record struct PairCount(int ImageId1, int ImageId2, int Count);

/// <summary>A map's retrieval index: a VLAD codebook (Clusters × descriptor dimension, row-major)
/// and the VLAD descriptor of each database image, by image id.</summary>
public sealed record RetrievalIndex(IReadOnlyDictionary<int, float[]> Descriptors, float[] Codebook, int Clusters);

/// <summary>What a database holds, for reports and resumable runs.</summary>
public sealed record DatabaseSummary(
    string Path,
    int SchemaVersion,
    ExtractorIdentity? Extractor,
    int Cameras,
    int Images,
    int ImagesWithKeypoints,
    int ImagesWithFeatures,
    long Keypoints,
    int MatchedPairs,
    long Matches,
    int VerifiedPairs,
    long InlierMatches)
{
    public override string ToString() =>
        $"{Path}: {Counted.Of(Cameras, "camera")}, {Counted.Of(Images, "image")} ({ImagesWithFeatures} with features, {ImagesWithKeypoints} with keypoints, {Counted.Of(Keypoints, "keypoint")}), " +
        $"{Counted.Of(MatchedPairs, "matched pair")} ({Counted.Of(Matches, "match", "matches")}), {Counted.Of(VerifiedPairs, "verified pair")} ({Counted.Of(InlierMatches, "inlier")})" +
        (Extractor != null ? $"; features: {Extractor.Describe()}" : "");
}

/// <summary>A database that is missing, not SQLite, damaged, of another schema, or holding
/// features of another extractor. The message starts with the database's path.</summary>
public sealed class FeatureDatabaseException : R2D2Exception
{
    public FeatureDatabaseException(string path, string message, Exception? inner = null)
        : base(path, 0, message, inner) { }

    public string DatabasePath => File!;

    /// <summary>Throws unless a database file is at <paramref name="path"/>: a folder is said to be one
    /// (it read "not found"), else <paramref name="missing"/>.</summary>
    public static void RequireFile(string path, string missing)
    {
        if (System.IO.File.Exists(path)) return;
        throw new FeatureDatabaseException(path, Directory.Exists(path) ? "is a folder, not a database" : missing);
    }
}
