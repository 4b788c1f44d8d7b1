using System.Buffers.Binary;
using OpenCvSharp;
using R2D2.Localization.Formats;
using R2D2.Localization.Tests.FaultInjection;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

/// <summary>The header reader against OpenCV's encoders and hand-made headers: sizes without decoding.</summary>
public class ImageHeaderTests
{
    public static IEnumerable<object[]> Encodings() => new[]
    {
        new object[] { "a.png", ImageFormat.Png, false, Array.Empty<ImageEncodingParam>() },
        new object[] { "a.jpg", ImageFormat.Jpeg, false, Array.Empty<ImageEncodingParam>() },
        new object[] { "p.jpg", ImageFormat.Jpeg, true, new[] { new ImageEncodingParam(ImwriteFlags.JpegProgressive, 1) } },
        new object[] { "a.bmp", ImageFormat.Bmp, false, Array.Empty<ImageEncodingParam>() },
        new object[] { "a.tiff", ImageFormat.Tiff, false, Array.Empty<ImageEncodingParam>() },
        new object[] { "a.webp", ImageFormat.WebP, false, Array.Empty<ImageEncodingParam>() },
        new object[] { "l.webp", ImageFormat.WebP, false, new[] { new ImageEncodingParam(ImwriteFlags.WebPQuality, 101) } }, // lossless: VP8L
        new object[] { "a.ppm", ImageFormat.Pnm, false, Array.Empty<ImageEncodingParam>() },
        new object[] { "a.pgm", ImageFormat.Pnm, false, Array.Empty<ImageEncodingParam>() },
        new object[] { "t.ppm", ImageFormat.Pnm, false, new[] { new ImageEncodingParam(ImwriteFlags.PxmBinary, 0) } }, // ASCII P3
    };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void HeaderSizeIsTheDecodedSize(string name, ImageFormat format, bool progressive, ImageEncodingParam[] flags)
    {
        var path = TestImages.WriteBoat(TempDir.Create(), name, 37, 23, flags);
        var h = ImageFile.ReadHeader(path);
        Assert.Equal(new ImageHeader(format, 37, 23, progressive), h);
        var img = ImageFile.ReadRgb(path);
        Assert.Equal((37, 23), (img.Width, img.Height));
    }

    [Fact]
    public void LinksAreFollowedAndBrokenOnesNamed()
    {
        var dir = TempDir.Create();
        var png = TestImages.WriteBoat(dir, "a.png", 37, 23);
        var link = Path.Combine(dir, "link.png");
        File.CreateSymbolicLink(link, png);
        Assert.Equal(37, ImageFile.ReadRgb(link).Width);
        var broken = Path.Combine(dir, "broken.png");
        File.CreateSymbolicLink(broken, Path.Combine(dir, "gone.png"));
        Assert.Contains("broken symbolic link", Assert.Throws<ImageFileException>(() => ImageFile.ReadRgb(broken)).Message);
        var folder = Path.Combine(dir, "folder.png");
        Directory.CreateDirectory(folder);
        Assert.Contains("is a folder", Assert.Throws<ImageFileException>(() => ImageFile.ReadRgb(folder)).Message);
    }

    [Fact]
    public void JpegFrameHeaderIsFoundAfterLargeSegments()
    {
        var dir = TempDir.Create();
        var bytes = File.ReadAllBytes(TestImages.WriteBoat(dir, "a.jpg", 50, 40)).ToList();
        // Two 64 KB APP1 segments (EXIF with a thumbnail is this large) between SOI and the frame header.
        var app = new byte[65535 + 2];
        app[0] = 0xFF; app[1] = 0xE1; app[2] = 0xFF; app[3] = 0xFF;
        bytes.InsertRange(2, app);
        bytes.InsertRange(2, app);
        var path = Path.Combine(dir, "big-app.jpg");
        File.WriteAllBytes(path, bytes.ToArray());
        Assert.Equal(new ImageHeader(ImageFormat.Jpeg, 50, 40), ImageFile.ReadHeader(path));
        Assert.Equal(50, ImageFile.ReadRgb(path).Width);
    }

    [Fact]
    public void HandMadeHeaders()
    {
        // Big-endian TIFF, SHORT width and LONG height.
        var mm = new byte[8 + 2 + 2 * 12 + 4];
        "MM"u8.CopyTo(mm); BinaryPrimitives.WriteUInt16BigEndian(mm.AsSpan(2), 42); BinaryPrimitives.WriteUInt32BigEndian(mm.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt16BigEndian(mm.AsSpan(8), 2);
        BigEndianEntry(mm, 10, 256, 3, 30000);
        BigEndianEntry(mm, 22, 257, 4, 40000);
        Assert.Equal(new ImageHeader(ImageFormat.Tiff, 30000, 40000), Header(mm));
        // BigTIFF (version 43, 8-byte offsets, 20-byte entries), LONG8 sizes.
        var big = new byte[16 + 8 + 2 * 20 + 8];
        "II"u8.CopyTo(big); BinaryPrimitives.WriteUInt16LittleEndian(big.AsSpan(2), 43); BinaryPrimitives.WriteUInt16LittleEndian(big.AsSpan(4), 8);
        BinaryPrimitives.WriteUInt64LittleEndian(big.AsSpan(8), 16);
        BinaryPrimitives.WriteUInt64LittleEndian(big.AsSpan(16), 2);
        foreach (var (o, tag, v) in new[] { (24, 256, 70000UL), (44, 257, 50000UL) })
        {
            BinaryPrimitives.WriteUInt16LittleEndian(big.AsSpan(o), (ushort)tag);
            BinaryPrimitives.WriteUInt16LittleEndian(big.AsSpan(o + 2), 16);
            BinaryPrimitives.WriteUInt64LittleEndian(big.AsSpan(o + 4), 1);
            BinaryPrimitives.WriteUInt64LittleEndian(big.AsSpan(o + 12), v);
        }
        Assert.Equal(new ImageHeader(ImageFormat.Tiff, 70000, 50000), Header(big));
        // WebP extended (VP8X): 24-bit canvas width−1, height−1.
        var vp8x = new byte[30];
        "RIFF"u8.CopyTo(vp8x); "WEBPVP8X"u8.CopyTo(vp8x.AsSpan(8));
        vp8x[24] = 0x1F; vp8x[25] = 0x4E; vp8x[26] = 0x00; // 19999
        vp8x[27] = 0x0F; vp8x[28] = 0x27; vp8x[29] = 0x00; // 9999
        Assert.Equal(new ImageHeader(ImageFormat.WebP, 20000, 10000), Header(vp8x));
        // BMP with an OS/2 core header (16-bit sizes), and a top-down BMP (negative height).
        var core = new byte[26];
        "BM"u8.CopyTo(core); core[14] = 12; BinaryPrimitives.WriteUInt16LittleEndian(core.AsSpan(18), 640); BinaryPrimitives.WriteUInt16LittleEndian(core.AsSpan(20), 480);
        Assert.Equal(new ImageHeader(ImageFormat.Bmp, 640, 480), Header(core));
        var topDown = new byte[26];
        "BM"u8.CopyTo(topDown); topDown[14] = 40; BinaryPrimitives.WriteInt32LittleEndian(topDown.AsSpan(18), 640); BinaryPrimitives.WriteInt32LittleEndian(topDown.AsSpan(22), -480);
        Assert.Equal(new ImageHeader(ImageFormat.Bmp, 640, 480), Header(topDown));
        // PNM with comments between the tokens.
        Assert.Equal(new ImageHeader(ImageFormat.Pnm, 30000, 20000), Header("P6\n# made by hand\n30000 # width\n20000\n255\n"u8.ToArray()));
    }

    [Theory]
    [InlineData(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0 }, "truncated")]
    [InlineData(new byte[] { (byte)'G', (byte)'I', (byte)'F', (byte)'8', (byte)'9', (byte)'a' }, "unknown format")]
    [InlineData(new byte[] { 0xFF, 0xD8, 0xFF, 0xD9 }, "without a frame header")]
    [InlineData(new byte[] { (byte)'P', (byte)'5', (byte)' ', (byte)'x' }, "without a width and height")]
    public void BrokenHeadersAreRefusedNamingTheFile(byte[] bytes, string message)
    {
        var path = Path.Combine(TempDir.Create(), "bad.png");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ImageFileException>(() => ImageFile.ReadHeader(path));
        Assert.StartsWith($"{path}: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void SizesBeyondIntAreRefused()
    {
        var png = new byte[24];
        new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }.CopyTo(png, 0);
        "IHDR"u8.CopyTo(png.AsSpan(12));
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(16), 0x80000000);
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(20), 1);
        Assert.Contains("impossible size", Assert.Throws<DataFormatException>(() => Header(png)).Message);
    }

    [Fact]
    public void PixelLimitRefusesBeforeDecodingAndReducedJpegDecodesSmall()
    {
        var dir = TempDir.Create();
        var jpg = TestImages.WriteBoat(dir, "a.jpg", 203, 101);
        var e = Assert.Throws<ImageFileException>(() => ImageFile.ReadRgb(jpg, maxPixels: 20000));
        Assert.Contains("203×101", e.Message);
        Assert.Contains("over the limit of 0.02 megapixels (--max-pixels)", e.Message);
        // libjpeg rounds the reduced size up: ⌈203/4⌉ × ⌈101/4⌉.
        var reduced = ImageFile.ReadRgb(jpg, maxPixels: 20000, reduction: 4);
        Assert.Equal((51, 26), (reduced.Width, reduced.Height));
        var png = TestImages.WriteBoat(dir, "a.png", 64, 48);
        Assert.Throws<ImageFileException>(() => ImageFile.ReadRgb(png, reduction: 2));
    }

    private static ImageHeader Header(byte[] bytes) => ImageHeader.Read(new MemoryStream(bytes));

    /// <summary>A classic TIFF directory entry, one value stored in place (a SHORT left-justified).</summary>
    private static void BigEndianEntry(byte[] b, int o, int tag, int type, uint value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(o), (ushort)tag);
        BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(o + 2), (ushort)type);
        BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(o + 4), 1);
        if (type == 3) BinaryPrimitives.WriteUInt16BigEndian(b.AsSpan(o + 8), (ushort)value);
        else BinaryPrimitives.WriteUInt32BigEndian(b.AsSpan(o + 8), value);
    }
}
