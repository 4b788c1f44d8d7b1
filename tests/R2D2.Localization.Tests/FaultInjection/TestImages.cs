using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using OpenCvSharp;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Tests.FaultInjection;

/// <summary>Images for the input fault tests: crops of the reference boat, and huge constant PNGs
/// streamed row by row (a 20,000² grey image is ~0.4 MB on disk and never whole in memory).</summary>
internal static class TestImages
{
    public static RgbImage Boat(int w, int h) =>
        ImageFile.ReadRgb(SharedData.Path_("reference", "r2d2", "images", "boat.png")).Crop(0, 0, w, h);

    /// <summary>Writes a crop of boat.png (format from the extension, grey for .pgm; <paramref name="flags"/> for the encoder).</summary>
    public static string WriteBoat(string dir, string name, int w = 160, int h = 120, params ImageEncodingParam[] flags)
    {
        using var m = ImageFile.ToBgrMat(Boat(w, h));
        var path = Path.Combine(dir, name);
        if (Path.GetExtension(name) == ".pgm") Cv2.CvtColor(m, m, ColorConversionCodes.BGR2GRAY); // PGM is grey only
        if (!Cv2.ImWrite(path, m, flags)) throw new InvalidOperationException($"OpenCV could not write {path}");
        return path;
    }

    /// <summary>A valid 8-bit grey PNG of one value; rows are deflated as they are produced.</summary>
    public static string WriteConstantPng(string path, int width, int height, byte value = 128)
    {
        var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[width + 1]; // filter byte 0 (none), then the pixels
            Array.Fill(row, value, 1, width);
            for (int y = 0; y < height; y++) z.Write(row);
        }
        using var f = File.Create(path);
        f.Write(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A });
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; // bit depth; colour type 0 (grey), compression, filter, interlace 0
        Chunk(f, "IHDR", ihdr);
        Chunk(f, "IDAT", idat.ToArray());
        Chunk(f, "IEND", Array.Empty<byte>());
        return path;
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var head = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(head, data.Length);
        Encoding.ASCII.GetBytes(type, head.AsSpan(4));
        s.Write(head);
        s.Write(data);
        uint crc = Crc32(Crc32(0xFFFFFFFF, head.AsSpan(4)), data) ^ 0xFFFFFFFF;
        var c = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(c, crc);
        s.Write(c);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        uint c = (uint)n;
        for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320 ^ (c >> 1) : c >> 1;
        return c;
    }).ToArray();

    private static uint Crc32(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (var b in data) crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        return crc;
    }

    /// <summary>The files of <paramref name="dir"/> (not below) with their bytes' hashes (links: their
    /// targets), to show inputs were left as they were.</summary>
    public static Dictionary<string, string> Snapshot(string dir) =>
        Directory.EnumerateFiles(dir, "*", new EnumerationOptions { AttributesToSkip = 0 })
            .ToDictionary(p => Path.GetRelativePath(dir, p), p => new FileInfo(p).LinkTarget is { } target
                ? "link to " + target
                : Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(p))));
}
