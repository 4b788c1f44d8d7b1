namespace R2D2.Localization;

/// <summary>How large an image the project reads (checked from the file's header, before decoding).</summary>
public static class ImageLimits
{
    /// <summary>The default pixel limit (100 megapixels: 300 MB decoded, 1.2 GB as the network's float input).</summary>
    public const long DefaultMaxPixels = 100_000_000;

    /// <summary>The most pixels an <see cref="RgbImage"/> can hold: its H×W×3 bytes are one .NET array.</summary>
    public static readonly long MaxPixelsLimit = Array.MaxLength / 3;
}
