using OpenCvSharp;

namespace R2D2.Localization.Formats;

/// <summary>An 8-bit RGB image, rows top to bottom, pixels interleaved (H×W×3).</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width < 0 || height < 0 || pixels.LongLength != 3L * width * height)
            throw new ArgumentException("pixel buffer size does not match the image size");
        Width = width; Height = height; Pixels = pixels;
    }
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public RgbImage Crop(int x, int y, int w, int h)
    {
        var p = new byte[3L * w * h];
        for (int r = 0; r < h; r++) Buffer.BlockCopy(Pixels, ((y + r) * Width + x) * 3, p, r * w * 3, w * 3);
        return new RgbImage(w, h, p);
    }
}

public sealed class ImageFileException : R2D2Exception
{
    public ImageFileException(string path, string message) : base(path, 0, message) { }
    public string Path => File!;
}

/// <summary>
/// Reads images as RGB the way PIL's Image.open(...).convert('RGB') does for the official code:
/// grey images are replicated to 3 channels and the EXIF orientation is NOT applied (PIL does not
/// apply it either). The size is read from the header first (<see cref="ImageHeader"/>): an image
/// over the pixel limit is refused before any decoding, so memory never depends on what a file
/// claims. Broken, missing or unreadable files raise <see cref="ImageFileException"/> naming the file.
/// </summary>
public static class ImageFile
{
    public static readonly string[] Extensions = { ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".ppm", ".pgm", ".webp" };

    /// <summary>The reductions JPEG decoders apply while decoding (libjpeg's DCT scaling).</summary>
    public static readonly int[] JpegReductions = { 2, 4, 8 };

    public static bool IsImagePath(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    /// <summary>The SHA-256 of the file's bytes (hex): what a stored result records of the image it
    /// was made from, so a replaced image is not taken for the one it replaced.</summary>
    public static string ContentHash(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16);
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(stream)).ToLowerInvariant();
    }

    /// <summary><see cref="ContentHash"/>, or null when the file cannot be read (the extraction that
    /// reads it next reports why).</summary>
    public static string? ContentHashOrNull(string path)
    {
        try { return ContentHash(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// Decodes <paramref name="path"/> as RGB, refusing images of more than <paramref name="maxPixels"/>
    /// pixels (after reduction). <paramref name="reduction"/> 2, 4 or 8 decodes a sequential (not
    /// progressive) JPEG at that fraction of its size inside the decoder, so memory follows the
    /// reduced size; the result is ⌈W/r⌉×⌈H/r⌉ and its pixels are not those of a resize of the
    /// whole image (see MultiScaleExtractor.ExtractFile for when that is acceptable).
    /// </summary>
    /// <param name="nameWarnings">what the decoder itself prints on stderr comes back with the path
    /// in front (<see cref="NativeStderr"/>): for a run that reads its images one at a time.</param>
    public static RgbImage ReadRgb(string path, long maxPixels = ImageLimits.DefaultMaxPixels, int reduction = 1, bool nameWarnings = false) =>
        Decode(path, maxPixels, reduction, hash: false, nameWarnings).Image;

    /// <summary><see cref="ReadRgb"/> for an extraction (one image at a time: the decoder's warnings
    /// name the image), with the SHA-256 of the very bytes decoded (see <see cref="ContentHash"/>):
    /// a result that records its image's hash must not take it from a second read, which a file
    /// replaced in between would make another file's.</summary>
    /// <param name="header">the file's header when the caller read it already (it is not read again:
    /// the decoded image must then have the size the caller planned with).</param>
    public static (RgbImage Image, string Sha256) ReadRgbAndHash(string path, long maxPixels = ImageLimits.DefaultMaxPixels, int reduction = 1,
        ImageHeader? header = null)
    {
        var (image, sha256) = Decode(path, maxPixels, reduction, hash: true, nameWarnings: true, header);
        return (image, sha256!);
    }

    private static (RgbImage Image, string? Sha256) Decode(string path, long maxPixels, int reduction, bool hash, bool nameWarnings, ImageHeader? known = null)
    {
        var header = known ?? ReadHeader(path);
        if (reduction != 1 && !CanDecodeReduced(header, reduction))
            throw new ImageFileException(path, $"only sequential JPEGs can be decoded at 1/{reduction} size");
        long w = ReducedSide(header.Width, reduction), h = ReducedSide(header.Height, reduction);
        if (w * h > Math.Min(maxPixels, ImageLimits.MaxPixelsLimit)) throw new ImageFileException(path, OverLimit(header, maxPixels));
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ImageFileException(path, $"cannot read: {e.Message}"); }
        string? sha256 = hash ? Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(bytes)).ToLowerInvariant() : null;
        bool jpeg = header.Format == ImageFormat.Jpeg;
        if (jpeg && JpegStructure.Check(bytes) is { } problem)
            throw new ImageFileException(path, $"broken JPEG: {problem}");
        var mode = (reduction switch { 2 => ImreadModes.ReducedColor2, 4 => ImreadModes.ReducedColor4, 8 => ImreadModes.ReducedColor8, _ => ImreadModes.Color })
            | ImreadModes.IgnoreOrientation;
        Mat mat;
        try { mat = nameWarnings ? NativeStderr.Annotate(path, () => Cv2.ImDecode(bytes, mode)) : Cv2.ImDecode(bytes, mode); }
        catch (OpenCVException e) { throw new ImageFileException(path, $"cannot decode: {e.Message}"); }
        using (mat)
        {
            if (mat.Empty())
                throw new ImageFileException(path, jpeg ? "cannot decode this JPEG" : "not a readable image (corrupt data)");
            // The decoder must agree with the header the limit was checked on.
            if (mat.Cols != w || mat.Rows != h)
                throw new ImageFileException(path, $"decodes to {mat.Cols}×{mat.Rows}, its header says {w}×{h}");
            using var rgb = new Mat();
            Cv2.CvtColor(mat, rgb, ColorConversionCodes.BGR2RGB);
            int rows = rgb.Rows, cols = rgb.Cols;
            var pixels = new byte[3L * rows * cols];
            if (rgb.IsContinuous()) System.Runtime.InteropServices.Marshal.Copy(rgb.Data, pixels, 0, pixels.Length);
            else for (int r = 0; r < rows; r++) System.Runtime.InteropServices.Marshal.Copy(rgb.Ptr(r), pixels, r * cols * 3, cols * 3);
            return (new RgbImage(cols, rows, pixels), sha256);
        }
    }

    /// <summary>The file's format and size from its header; a missing, empty, dangling, special or
    /// unreadable file raises <see cref="ImageFileException"/>.</summary>
    public static ImageHeader ReadHeader(string path)
    {
        var info = new FileInfo(path);
        if (Directory.Exists(path)) throw new ImageFileException(path, "is a folder, not an image file");
        // FileInfo.Exists is true for a link whose target is missing: resolve it (a link loop throws).
        if (info.LinkTarget is { } target)
        {
            FileSystemInfo? final;
            try { final = info.ResolveLinkTarget(returnFinalTarget: true); }
            catch (IOException) { final = null; }
            if (final is not { Exists: true }) throw new ImageFileException(path, $"is a broken symbolic link (to {target})");
        }
        if (!info.Exists) throw new ImageFileException(path, "file not found");
        // Checked before opening: pipes and devices report 0 bytes, and opening a pipe would wait for a writer.
        if (info.Length == 0) throw new ImageFileException(path, "file is empty (or not a regular file)");
        return ImageHeader.Read(path);
    }

    /// <summary>Width and height from the file header, without decoding.</summary>
    public static (int Width, int Height) ReadSize(string path)
    {
        var h = ReadHeader(path);
        return (h.Width, h.Height);
    }

    /// <summary>True when the decoder can produce this image at 1/<paramref name="reduction"/> size with memory
    /// following the reduced size: sequential JPEGs (a progressive one keeps all its coefficients while decoding).</summary>
    public static bool CanDecodeReduced(ImageHeader header, int reduction) =>
        JpegReductions.Contains(reduction) && header.Format == ImageFormat.Jpeg && !header.ProgressiveJpeg;

    /// <summary>A side's length decoded at 1/<paramref name="reduction"/>: libjpeg rounds up.</summary>
    public static int ReducedSide(int side, int reduction) => (int)((side + (long)reduction - 1) / reduction);

    public static string OverLimit(ImageHeader header, long maxPixels) =>
        $"image is {header.Width}×{header.Height} ({Pixels(header.Pixels)}), over the limit of "
        + $"{Pixels(Math.Min(maxPixels, ImageLimits.MaxPixelsLimit))} (--max-pixels)";

    // Megapixels, except for limits too small to show in them (a --max-pixels 1000 read "0 megapixels").
    private static string Pixels(long n) => n >= 10_000 ? $"{n / 1e6:0.##} megapixels" : $"{n} pixels";

    /// <summary>Wraps an RGB image as an OpenCV BGR Mat (for drawing and writing).</summary>
    public static Mat ToBgrMat(RgbImage img)
    {
        using var rgb = new Mat(img.Height, img.Width, MatType.CV_8UC3);
        System.Runtime.InteropServices.Marshal.Copy(img.Pixels, 0, rgb.Data, img.Pixels.Length);
        var bgr = new Mat();
        Cv2.CvtColor(rgb, bgr, ColorConversionCodes.RGB2BGR);
        return bgr;
    }
}

/// <summary>
/// Walks a JPEG's marker segments and entropy-coded data up to the end-of-image marker.
/// libjpeg decodes a truncated file "successfully" (grey fill and a warning), so a missing EOI
/// is the way to tell a cut-off download from a whole image.
/// </summary>
public static class JpegStructure
{
    /// <summary>Null when the structure is whole, else what is wrong.</summary>
    public static string? Check(byte[] b)
    {
        int i = 2; // after SOI
        bool sawFrame = false;
        while (true)
        {
            if (i >= b.Length) return "file ends before the end-of-image marker (truncated)";
            if (b[i] != 0xFF) return $"expected a marker at byte {i}";
            while (i < b.Length && b[i] == 0xFF) i++; // fill bytes
            if (i >= b.Length) return "file ends inside a marker (truncated)";
            byte m = b[i++];
            if (m == 0xD9) return sawFrame ? null : "no image frame before end-of-image";
            if (m is >= 0xD0 and <= 0xD7 or 0x01) continue; // standalone markers
            if (i + 2 > b.Length) return "file ends inside a segment header (truncated)";
            int len = (b[i] << 8) | b[i + 1];
            if (len < 2) return $"bad segment length at byte {i}";
            if (m is >= 0xC0 and <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) sawFrame = true;
            i += len;
            if (i > b.Length) return "file ends inside a segment (truncated)";
            if (m == 0xDA)
            {
                // Entropy-coded data: runs until a marker other than a stuffed 0xFF00 or a restart.
                while (true)
                {
                    if (i + 1 >= b.Length) return "file ends inside the compressed image data (truncated)";
                    if (b[i] == 0xFF && b[i + 1] != 0x00 && !(b[i + 1] is >= 0xD0 and <= 0xD7) && b[i + 1] != 0xFF) break;
                    i++;
                }
            }
        }
    }
}
