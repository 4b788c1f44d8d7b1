using System.Runtime.InteropServices;

namespace R2D2.Localization.Storage;

/// <summary>
/// Byte layouts of the database's blobs. COLMAP writes Eigen row-major matrices with memcpy, so a
/// blob is the array's raw bytes in the machine's order — little-endian on every platform COLMAP
/// and .NET run on; a big-endian machine is refused rather than silently misread.
/// </summary>
internal static class Blobs
{
    static Blobs()
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("the feature database's blobs are little-endian");
    }

    public static byte[] Of<T>(ReadOnlySpan<T> values) where T : unmanaged => MemoryMarshal.AsBytes(values).ToArray();

    public static T[] To<T>(byte[]? blob) where T : unmanaged
    {
        if (blob == null || blob.Length == 0) return System.Array.Empty<T>();
        int size = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        if (blob.Length % size != 0) throw new DataFormatException($"blob of {blob.Length} bytes is not a whole number of {size}-byte values");
        return MemoryMarshal.Cast<byte, T>(blob).ToArray();
    }

    public static byte[] Float16(ReadOnlySpan<float> values)
    {
        var h = new Half[values.Length];
        for (int i = 0; i < h.Length; i++) h[i] = (Half)values[i];
        return Of<Half>(h);
    }

    /// <summary>float16 values decoded straight from the blob (no intermediate copy: an image's
    /// descriptors are 5 MB of float16).</summary>
    public static float[] FromFloat16(byte[]? blob)
    {
        if (blob == null || blob.Length == 0) return System.Array.Empty<float>();
        if (blob.Length % 2 != 0) throw new DataFormatException($"blob of {blob.Length} bytes is not a whole number of 2-byte values");
        var h = MemoryMarshal.Cast<byte, Half>(blob);
        var f = new float[h.Length];
        for (int i = 0; i < f.Length; i++) f[i] = (float)h[i];
        return f;
    }

    /// <summary>COLMAP's rows×2 uint32 match blob; <paramref name="swap"/> exchanges the columns.</summary>
    public static byte[] MatchPairs(IReadOnlyList<Match> matches, bool swap)
    {
        var data = new uint[2 * matches.Count];
        for (int k = 0; k < matches.Count; k++)
        {
            var m = matches[k];
            if (m.I < 0 || m.J < 0) throw new ArgumentException($"match {k} has a negative keypoint index ({m.I}, {m.J})");
            data[2 * k] = (uint)(swap ? m.J : m.I);
            data[2 * k + 1] = (uint)(swap ? m.I : m.J);
        }
        return Of<uint>(data);
    }

    public static List<Match> ToMatches(byte[]? blob, int rows, bool swap, float[]? similarity)
    {
        var data = To<uint>(blob);
        if (data.Length != 2 * rows) throw new DataFormatException($"match blob holds {data.Length / 2} rows, the table says {rows}");
        var result = new List<Match>(rows);
        for (int k = 0; k < rows; k++)
        {
            int a = checked((int)data[2 * k]), b = checked((int)data[2 * k + 1]);
            float s = similarity != null && similarity.Length == rows ? similarity[k] : float.NaN;
            result.Add(swap ? new Match(b, a, s) : new Match(a, b, s));
        }
        return result;
    }
}
