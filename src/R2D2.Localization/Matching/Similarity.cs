using System.Numerics;
using System.Runtime.InteropServices;

namespace R2D2.Localization.Matching;

/// <summary>The similarity of two descriptors: their dot product (cosine for L2-normalized ones).</summary>
public static class Similarity
{
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var va = MemoryMarshal.Cast<float, Vector<float>>(a);
        var vb = MemoryMarshal.Cast<float, Vector<float>>(b);
        var acc = Vector<float>.Zero;
        for (int k = 0; k < va.Length; k++) acc = Vector.FusedMultiplyAdd(va[k], vb[k], acc);
        float s = Vector.Sum(acc);
        for (int k = va.Length * Vector<float>.Count; k < a.Length; k++) s += a[k] * b[k];
        return s;
    }
}
