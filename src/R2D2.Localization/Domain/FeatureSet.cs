namespace R2D2.Localization;

/// <summary>
/// The keypoints and descriptors of one image, best score first (those read from an hloc file in
/// the file's order, so that indices are the file's).
/// Pixel convention (the project's, stated once): the centre of the top-left pixel is (0, 0), so
/// a keypoint found at index i of a pyramid level of width w in an image of width W lies at
/// x = (i + 0.5)·W/w − 0.5. The official R2D2 numbers (x = i·W/w, computed in float32) are kept
/// beside them for the `.r2d2` export.
/// </summary>
public sealed class FeatureSet
{
    public required int ImageWidth { get; init; }
    public required int ImageHeight { get; init; }
    public required float[] X { get; init; }
    public required float[] Y { get; init; }
    /// <summary>Official R2D2 coordinates (x = i·W/w, no half-pixel shift).</summary>
    public required float[] OfficialX { get; init; }
    public required float[] OfficialY { get; init; }
    /// <summary>Official scale: 32 / s, where s is the pyramid level's scale (1 = full size).</summary>
    public required float[] Scale { get; init; }
    /// <summary>Reliability × repeatability.</summary>
    public required float[] Score { get; init; }
    public required float[] Reliability { get; init; }
    public required float[] Repeatability { get; init; }
    /// <summary>Row-major Count×Dim, each row L2-normalized.</summary>
    public required float[] Descriptors { get; init; }
    public required int Dim { get; init; }

    public int Count => X.Length;

    public ReadOnlySpan<float> Descriptor(int i) => Descriptors.AsSpan(i * Dim, Dim);
}
