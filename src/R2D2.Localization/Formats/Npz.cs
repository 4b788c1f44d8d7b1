using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace R2D2.Localization.Formats;

/// <summary>One numpy array: element type ('f4', 'i8', ...), C-order shape and raw little-endian bytes.</summary>
public sealed record NpyArray(string DType, long[] Shape, byte[] Data)
{
    public static NpyArray Of(float[] values, params long[] shape) => new("<f4", shape, Bytes(values));
    public static NpyArray Of(long[] values, params long[] shape) => new("<i8", shape, Bytes(values));

    public float[] AsFloat32()
    {
        if (DType != "<f4") throw new DataFormatException($"array is {DType}, not float32");
        var r = new float[Data.Length / 4];
        Buffer.BlockCopy(Data, 0, r, 0, Data.Length);
        return r;
    }

    public long[] AsInt64()
    {
        if (DType != "<i8") throw new DataFormatException($"array is {DType}, not int64");
        var r = new long[Data.Length / 8];
        Buffer.BlockCopy(Data, 0, r, 0, Data.Length);
        return r;
    }

    private static byte[] Bytes<T>(T[] v) where T : unmanaged
    {
        var b = new byte[v.Length * System.Runtime.CompilerServices.Unsafe.SizeOf<T>()];
        Buffer.BlockCopy(v, 0, b, 0, b.Length);
        return b;
    }
}

/// <summary>numpy's .npz (a zip of .npy files, as np.savez writes it: stored, not compressed)
/// and .npy version 1.0 headers.</summary>
public static class Npz
{
    public static void Write(string path, IReadOnlyDictionary<string, NpyArray> arrays)
    {
        OutputFile.Write(path, f =>
        {
            using var zip = new ZipArchive(f, ZipArchiveMode.Create, leaveOpen: true);
            foreach (var (name, a) in arrays)
            {
                var e = zip.CreateEntry(name + ".npy", CompressionLevel.NoCompression);
                using var s = e.Open();
                WriteNpy(s, a);
            }
        });
    }

    public static Dictionary<string, NpyArray> Read(string path)
    {
        using var zip = ZipFile.OpenRead(path);
        var r = new Dictionary<string, NpyArray>();
        foreach (var e in zip.Entries)
        {
            if (!e.FullName.EndsWith(".npy")) continue;
            using var s = e.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            r[e.FullName[..^4]] = ReadNpy(ms.ToArray(), $"{path}:{e.FullName}");
        }
        return r;
    }

    public static void WriteNpy(Stream s, NpyArray a)
    {
        string shape = a.Shape.Length == 1 ? $"({a.Shape[0]},)" : "(" + string.Join(", ", a.Shape) + ")";
        string dict = $"{{'descr': '{a.DType}', 'fortran_order': False, 'shape': {shape}, }}";
        // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        var header = dict + new string(' ', pad) + "\n";
        s.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 });
        s.Write(BitConverter.GetBytes((ushort)header.Length));
        s.Write(Encoding.ASCII.GetBytes(header));
        s.Write(a.Data);
    }

    private static readonly Regex DescrRx = new(@"'descr':\s*'([^']+)'");
    private static readonly Regex ShapeRx = new(@"'shape':\s*\(([^)]*)\)");
    private static readonly Regex FortranRx = new(@"'fortran_order':\s*(True|False)");

    public static NpyArray ReadNpy(byte[] b, string name)
    {
        if (b.Length < 10 || b[0] != 0x93 || Encoding.ASCII.GetString(b, 1, 5) != "NUMPY") throw new DataFormatException($"{name}: not a .npy array");
        int major = b[6];
        int hlen = major == 1 ? BitConverter.ToUInt16(b, 8) : BitConverter.ToInt32(b, 8);
        int start = major == 1 ? 10 : 12;
        var header = Encoding.ASCII.GetString(b, start, hlen);
        var descr = DescrRx.Match(header).Groups[1].Value;
        if (FortranRx.Match(header).Groups[1].Value == "True") throw new DataFormatException($"{name}: Fortran-order arrays are not supported");
        var shape = ShapeRx.Match(header).Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(long.Parse).ToArray();
        return new NpyArray(descr, shape, b[(start + hlen)..]);
    }
}
