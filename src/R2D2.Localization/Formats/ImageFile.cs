using OpenCvSharp;

namespace R2D2.Localization.Formats;

/// <summary>An 8-bit RGB image, rows top to bottom, pixels interleaved (H×W×3).</summary>
public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (pixels.Length != width * height * 3) throw new ArgumentException("pixel buffer size does not match the image size");
        Width = width; Height = height; Pixels = pixels;
    }
    public int Width { get; }
    public int Height { get; }
    public byte[] Pixels { get; }

    public RgbImage Crop(int x, int y, int w, int h)
    {
        var p = new byte[w * h * 3];
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
/// apply it either). Broken files raise <see cref="ImageFileException"/> naming the file.
/// </summary>
public static class ImageFile
{
    public static readonly string[] Extensions = { ".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".ppm", ".pgm", ".webp" };

    public static bool IsImagePath(string path) => Extensions.Contains(Path.GetExtension(path).ToLowerInvariant());

    public static RgbImage ReadRgb(string path)
    {
        if (!File.Exists(path)) throw new ImageFileException(path, "file not found");
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0) throw new ImageFileException(path, "file is empty");
        bool jpeg = bytes.Length >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
        if (jpeg && JpegStructure.Check(bytes) is { } problem)
            throw new ImageFileException(path, $"broken JPEG: {problem}");
        using var mat = Cv2.ImDecode(bytes, ImreadModes.Color | ImreadModes.IgnoreOrientation);
        if (mat.Empty())
            throw new ImageFileException(path, jpeg ? "cannot decode this JPEG" : "not a readable image (unknown format or corrupt data)");
        using var rgb = new Mat();
        Cv2.CvtColor(mat, rgb, ColorConversionCodes.BGR2RGB);
        int rows = rgb.Rows, cols = rgb.Cols;
        var pixels = new byte[rows * cols * 3];
        if (rgb.IsContinuous()) System.Runtime.InteropServices.Marshal.Copy(rgb.Data, pixels, 0, pixels.Length);
        else for (int r = 0; r < rows; r++) System.Runtime.InteropServices.Marshal.Copy(rgb.Ptr(r), pixels, r * cols * 3, cols * 3);
        return new RgbImage(cols, rows, pixels);
    }

    /// <summary>Width and height from the file header (PNG, JPEG), else by decoding the image.</summary>
    public static (int Width, int Height) ReadSize(string path)
    {
        if (!File.Exists(path)) throw new ImageFileException(path, "file not found");
        var head = new byte[64 * 1024];
        int n;
        using (var f = File.OpenRead(path)) n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (n >= 24 && head[0] == 0x89 && head[1] == (byte)'P' && head[2] == (byte)'N' && head[3] == (byte)'G')
            return ((head[16] << 24) | (head[17] << 16) | (head[18] << 8) | head[19], (head[20] << 24) | (head[21] << 16) | (head[22] << 8) | head[23]);
        if (n >= 4 && head[0] == 0xFF && head[1] == 0xD8)
        {
            int i = 2;
            while (i + 9 < n)
            {
                if (head[i] != 0xFF) break;
                byte m = head[i + 1];
                int len = (head[i + 2] << 8) | head[i + 3];
                if (m is >= 0xC0 and <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
                    return ((head[i + 7] << 8) | head[i + 8], (head[i + 5] << 8) | head[i + 6]);
                i += 2 + len;
            }
        }
        var img = ReadRgb(path);
        return (img.Width, img.Height);
    }

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
