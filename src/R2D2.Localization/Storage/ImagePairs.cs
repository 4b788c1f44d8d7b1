namespace R2D2.Localization.Storage;

/// <summary>
/// COLMAP's pair ids: pair_id = 2147483647·min(id1, id2) + max(id1, id2). The blobs of a pair are
/// stored for (min, max); a pair asked for as (id1 &gt; id2) is swapped on write and back on read.
/// </summary>
public static class ImagePairs
{
    /// <summary>COLMAP's kMaxNumImages (int32 max); image ids are below it.</summary>
    public const long MaxImageId = 2147483647;

    public static long PairId(int imageId1, int imageId2)
    {
        if (imageId1 < 0 || imageId2 < 0) throw new ArgumentOutOfRangeException(nameof(imageId1), "image ids are non-negative");
        if (imageId1 == imageId2) throw new ArgumentException($"a pair needs two different images (got {imageId1} twice)");
        long a = Math.Min(imageId1, imageId2), b = Math.Max(imageId1, imageId2);
        return MaxImageId * a + b;
    }

    /// <summary>The images of a pair id, smaller id first.</summary>
    public static (int ImageId1, int ImageId2) FromPairId(long pairId) =>
        ((int)(pairId / MaxImageId), (int)(pairId % MaxImageId));

    /// <summary>True when the stored blobs of (id1, id2) are in the other order.</summary>
    public static bool IsSwapped(int imageId1, int imageId2) => imageId1 > imageId2;
}
