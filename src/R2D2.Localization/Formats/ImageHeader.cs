using System.Buffers.Binary;
using System.Text;

namespace R2D2.Localization.Formats;

public enum ImageFormat { Png, Jpeg, Bmp, Tiff, WebP, Pnm }

/// <summary>
/// An image file's format and size, read from its header without decoding any pixel, so that a
/// huge image can be refused (or decoded reduced) before memory is spent on it. Covers the formats
/// of <see cref="ImageFile.Extensions"/>: PNG (IHDR), JPEG (the SOFn frame header, after any APPn
/// segments), BMP (the DIB header), TIFF and BigTIFF (the first IFD's ImageWidth/ImageLength), WebP
/// (VP8, VP8L and VP8X) and binary or ASCII PPM/PGM/PBM. The format comes from the content, as
/// OpenCV decides it, not from the extension.
/// </summary>
public sealed record ImageHeader(ImageFormat Format, int Width, int Height, bool ProgressiveJpeg = false)
{
    public long Pixels => (long)Width * Height;

    /// <summary>Reads the header of <paramref name="path"/>; a file without a readable header raises
    /// <see cref="ImageFileException"/> naming it.</summary>
    public static ImageHeader Read(string path)
    {
        try
        {
            using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096);
            return Read(s);
        }
        catch (DataFormatException e) { throw new ImageFileException(path, e.Message); }
        catch (EndOfStreamException) { throw new ImageFileException(path, "file ends inside the image header (truncated)"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new ImageFileException(path, $"cannot read: {e.Message}"); }
    }

    /// <summary>Reads a header from a seekable stream positioned at the file's start. Throws
    /// <see cref="DataFormatException"/> (unknown or bad header) or <see cref="EndOfStreamException"/>.</summary>
    public static ImageHeader Read(Stream s)
    {
        var magic = new byte[12];
        int n = s.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        s.Position = 0;
        if (n >= 8 && magic.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A })) return Png(s);
        if (n >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) return Jpeg(s);
        if (n >= 2 && magic[0] == 'B' && magic[1] == 'M') return Bmp(s);
        if (n >= 4 && (magic[0] == 'I' && magic[1] == 'I' || magic[0] == 'M' && magic[1] == 'M')) return Tiff(s);
        if (n >= 12 && Ascii(magic, 0, 4) == "RIFF" && Ascii(magic, 8, 4) == "WEBP") return WebP(s);
        if (n >= 2 && magic[0] == 'P' && magic[1] is >= (byte)'1' and <= (byte)'6') return Pnm(s);
        throw new DataFormatException("not a readable image: unknown format (PNG, JPEG, BMP, TIFF, WebP, PPM/PGM are read)");
    }

    private static ImageHeader Sized(ImageFormat format, long width, long height, bool progressive = false)
    {
        if (width < 1 || height < 1 || width > int.MaxValue || height > int.MaxValue)
            throw new DataFormatException($"{format} header gives an impossible size {width}×{height}");
        return new ImageHeader(format, (int)width, (int)height, progressive);
    }

    private static ImageHeader Png(Stream s)
    {
        var b = Bytes(s, 8, 16); // chunk length, "IHDR", width, height (big-endian)
        if (Ascii(b, 4, 4) != "IHDR") throw new DataFormatException("PNG without an IHDR chunk first");
        return Sized(ImageFormat.Png, BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(8)), BinaryPrimitives.ReadUInt32BigEndian(b.AsSpan(12)));
    }

    /// <summary>Walks the marker segments (seeking over APPn, EXIF thumbnails included) to the frame header.</summary>
    private static ImageHeader Jpeg(Stream s)
    {
        s.Position = 2;
        while (true)
        {
            int b = s.ReadByte();
            if (b < 0) throw new EndOfStreamException();
            if (b != 0xFF) throw new DataFormatException($"JPEG: expected a marker at byte {s.Position - 1}");
            int m;
            do { m = s.ReadByte(); } while (m == 0xFF); // fill bytes
            if (m < 0) throw new EndOfStreamException();
            if (m is 0x01 or (>= 0xD0 and <= 0xD8)) continue; // standalone markers
            if (m is 0xD9 or 0xDA) throw new DataFormatException("JPEG without a frame header before its image data");
            var len = Bytes(s, s.Position, 2);
            int length = (len[0] << 8) | len[1];
            if (length < 2) throw new DataFormatException($"JPEG: bad segment length at byte {s.Position - 2}");
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            if (m is >= 0xC0 and <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
            {
                var f = Bytes(s, s.Position, 5); // precision, height, width
                long h = (f[1] << 8) | f[2], w = (f[3] << 8) | f[4];
                if (h == 0) throw new DataFormatException("JPEG whose height is given after the image data (DNL marker) is not supported");
                return Sized(ImageFormat.Jpeg, w, h, progressive: m is 0xC2 or 0xC6 or 0xCA or 0xCE);
            }
            s.Position += length - 2;
        }
    }

    private static ImageHeader Bmp(Stream s)
    {
        var b = Bytes(s, 14, 12);
        uint dib = BinaryPrimitives.ReadUInt32LittleEndian(b);
        if (dib == 12) // BITMAPCOREHEADER: 16-bit sizes
            return Sized(ImageFormat.Bmp, BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(4)), BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(6)));
        if (dib < 40) throw new DataFormatException($"BMP with an unknown header size {dib}");
        // A negative height means the rows are stored top-down.
        return Sized(ImageFormat.Bmp, BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(4)), Math.Abs((long)BinaryPrimitives.ReadInt32LittleEndian(b.AsSpan(8))));
    }

    private static ImageHeader Tiff(Stream s)
    {
        var h = Bytes(s, 0, 16);
        bool le = h[0] == 'I';
        ushort U16(byte[] a, int o) => le ? BinaryPrimitives.ReadUInt16LittleEndian(a.AsSpan(o)) : BinaryPrimitives.ReadUInt16BigEndian(a.AsSpan(o));
        uint U32(byte[] a, int o) => le ? BinaryPrimitives.ReadUInt32LittleEndian(a.AsSpan(o)) : BinaryPrimitives.ReadUInt32BigEndian(a.AsSpan(o));
        ulong U64(byte[] a, int o) => le ? BinaryPrimitives.ReadUInt64LittleEndian(a.AsSpan(o)) : BinaryPrimitives.ReadUInt64BigEndian(a.AsSpan(o));
        int version = U16(h, 2);
        bool big = version == 43;
        if (version != 42 && !big) throw new DataFormatException($"TIFF with an unknown version {version}");
        long ifd = big ? (long)U64(h, 8) : U32(h, 4);
        if (ifd < 8 || ifd >= s.Length) throw new DataFormatException("TIFF whose first directory lies outside the file");
        var countBytes = Bytes(s, ifd, big ? 8 : 2);
        long count = big ? (long)U64(countBytes, 0) : U16(countBytes, 0);
        int entrySize = big ? 20 : 12;
        if (count > 4096) throw new DataFormatException($"TIFF directory with {count} entries");
        var entries = Bytes(s, ifd + countBytes.Length, (int)count * entrySize);
        long width = -1, height = -1;
        for (int i = 0; i < count; i++)
        {
            int o = i * entrySize;
            int tag = U16(entries, o), type = U16(entries, o + 2);
            if (tag != 256 && tag != 257) continue;
            int v = o + (big ? 12 : 8); // the value, stored in the entry when it fits
            long value = type switch
            {
                3 => U16(entries, v),           // SHORT
                4 => U32(entries, v),           // LONG
                16 when big => (long)Math.Min(U64(entries, v), long.MaxValue), // LONG8
                _ => throw new DataFormatException($"TIFF size tag {tag} has an unexpected type {type}"),
            };
            if (tag == 256) width = value; else height = value;
        }
        if (width < 0 || height < 0) throw new DataFormatException("TIFF without ImageWidth and ImageLength");
        return Sized(ImageFormat.Tiff, width, height);
    }

    private static ImageHeader WebP(Stream s)
    {
        var b = Bytes(s, 12, 18); // chunk fourcc, chunk size, then the first 10 bytes of its data
        var chunk = Ascii(b, 0, 4);
        var d = b.AsSpan(8);
        switch (chunk)
        {
            case "VP8 ": // lossy: a 3-byte frame tag, the start code 9D 01 2A, then 14-bit sizes
                if (d[3] != 0x9D || d[4] != 0x01 || d[5] != 0x2A) throw new DataFormatException("WebP (VP8) without its start code");
                return Sized(ImageFormat.WebP, BinaryPrimitives.ReadUInt16LittleEndian(d[6..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(d[8..]) & 0x3FFF);
            case "VP8L": // lossless: signature 2F, then width−1 and height−1 in 14 bits each
            {
                if (d[0] != 0x2F) throw new DataFormatException("WebP (VP8L) without its signature");
                uint bits = BinaryPrimitives.ReadUInt32LittleEndian(d[1..]);
                return Sized(ImageFormat.WebP, (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
            }
            case "VP8X": // extended: flags (4 bytes), canvas width−1 and height−1 in 24 bits each
                return Sized(ImageFormat.WebP, (d[4] | d[5] << 8 | d[6] << 16) + 1L, (d[7] | d[8] << 8 | d[9] << 16) + 1L);
            default:
                throw new DataFormatException($"WebP with an unknown first chunk '{chunk}'");
        }
    }

    /// <summary>P1–P6: the magic, then width and height as decimal tokens; # starts a comment to the end of the line.</summary>
    private static ImageHeader Pnm(Stream s)
    {
        s.Position = 2;
        long Token()
        {
            int c;
            while (true)
            {
                c = s.ReadByte();
                if (c < 0) throw new EndOfStreamException();
                if (c == '#') { while (c is not ('\n' or '\r')) { c = s.ReadByte(); if (c < 0) throw new EndOfStreamException(); } continue; }
                if (!char.IsWhiteSpace((char)c)) break;
            }
            long v = 0;
            int digits = 0;
            for (; c is >= '0' and <= '9'; c = s.ReadByte())
            {
                if (++digits > 12) throw new DataFormatException("PNM size has too many digits");
                v = v * 10 + (c - '0');
            }
            if (digits == 0) throw new DataFormatException("PNM header without a width and height");
            return v;
        }
        long w = Token(), h = Token();
        return Sized(ImageFormat.Pnm, w, h);
    }

    private static byte[] Bytes(Stream s, long offset, int count)
    {
        s.Position = offset;
        var b = new byte[count];
        s.ReadExactly(b);
        return b;
    }

    private static string Ascii(byte[] b, int offset, int count) => Encoding.ASCII.GetString(b, offset, count);
}
