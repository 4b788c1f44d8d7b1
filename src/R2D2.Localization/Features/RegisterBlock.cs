using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace R2D2.Localization.Features;

/// <summary>
/// The multiply-add kernel of the project's small matrix products on 512-bit vectors:
/// c[r][0..16·V) = Σ_k a[r][k] · b[k][0..16·V) for R rows (4 or 6) and V vectors (1–4), the
/// accumulators in registers (up to 24 of AVX-512's 32), a[r][k] broadcast, row k of b loaded once
/// for all rows. Each output sums its products one multiply-add at a time in ascending k, so it has
/// the bits of a plain loop of fused multiply-adds. Used by Winograd's convolution (6 tiles × a
/// block of output channels) and by the dots against transposed centres (4 descriptors × 64 or 16
/// centres, <c>Matching/TransposedDots</c>).
/// </summary>
internal static unsafe class RegisterBlock
{
    public interface ICount { static abstract int Count { get; } }
    public struct One : ICount { public static int Count => 1; }
    public struct Two : ICount { public static int Count => 2; }
    public struct Three : ICount { public static int Count => 3; }
    public struct Four : ICount { public static int Count => 4; }
    public struct Six : ICount { public static int Count => 6; }

    /// <param name="a">TR rows of <paramref name="depth"/> values, <paramref name="aStride"/> apart</param>
    /// <param name="b"><paramref name="depth"/> rows of 16·TV values, <paramref name="bStride"/> apart</param>
    /// <param name="c">TR rows of 16·TV outputs, <paramref name="cStride"/> apart (overwritten)</param>
    /// <remarks>Written out row by row: the accumulators must be locals for the JIT to keep them in
    /// registers; the rows and vectors beyond TR and TV are compiled away (each is a constant per
    /// instantiation).</remarks>
    public static void Product<TR, TV>(float* a, int aStride, float* b, int bStride, int depth, float* c, int cStride)
        where TR : struct, ICount where TV : struct, ICount
    {
        int nr = TR.Count, n = TV.Count;
        Vector512<float> c00 = default, c01 = default, c02 = default, c03 = default;
        Vector512<float> c10 = default, c11 = default, c12 = default, c13 = default;
        Vector512<float> c20 = default, c21 = default, c22 = default, c23 = default;
        Vector512<float> c30 = default, c31 = default, c32 = default, c33 = default;
        Vector512<float> c40 = default, c41 = default, c42 = default, c43 = default;
        Vector512<float> c50 = default, c51 = default, c52 = default, c53 = default;
        float* a1 = a + aStride, a2 = a1 + aStride, a3 = a2 + aStride, a4 = a3 + aStride, a5 = a4 + aStride;
        for (int k = 0; k < depth; k++, b += bStride)
        {
            var u0 = Vector512.Load(b);
            var u1 = n > 1 ? Vector512.Load(b + 16) : default;
            var u2 = n > 2 ? Vector512.Load(b + 32) : default;
            var u3 = n > 3 ? Vector512.Load(b + 48) : default;
            Row(Vector512.Create(a[k]), u0, u1, u2, u3, n, ref c00, ref c01, ref c02, ref c03);
            Row(Vector512.Create(a1[k]), u0, u1, u2, u3, n, ref c10, ref c11, ref c12, ref c13);
            Row(Vector512.Create(a2[k]), u0, u1, u2, u3, n, ref c20, ref c21, ref c22, ref c23);
            Row(Vector512.Create(a3[k]), u0, u1, u2, u3, n, ref c30, ref c31, ref c32, ref c33);
            if (nr > 4)
            {
                Row(Vector512.Create(a4[k]), u0, u1, u2, u3, n, ref c40, ref c41, ref c42, ref c43);
                Row(Vector512.Create(a5[k]), u0, u1, u2, u3, n, ref c50, ref c51, ref c52, ref c53);
            }
        }
        Store(c, n, c00, c01, c02, c03); c += cStride;
        Store(c, n, c10, c11, c12, c13); c += cStride;
        Store(c, n, c20, c21, c22, c23); c += cStride;
        Store(c, n, c30, c31, c32, c33);
        if (nr > 4)
        {
            c += cStride;
            Store(c, n, c40, c41, c42, c43); c += cStride;
            Store(c, n, c50, c51, c52, c53);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row(Vector512<float> x, Vector512<float> u0, Vector512<float> u1, Vector512<float> u2, Vector512<float> u3, int n,
        ref Vector512<float> c0, ref Vector512<float> c1, ref Vector512<float> c2, ref Vector512<float> c3)
    {
        c0 = Vector512.FusedMultiplyAdd(x, u0, c0);
        if (n > 1) c1 = Vector512.FusedMultiplyAdd(x, u1, c1);
        if (n > 2) c2 = Vector512.FusedMultiplyAdd(x, u2, c2);
        if (n > 3) c3 = Vector512.FusedMultiplyAdd(x, u3, c3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, int n, Vector512<float> c0, Vector512<float> c1, Vector512<float> c2, Vector512<float> c3)
    {
        c0.Store(c);
        if (n > 1) c1.Store(c + 16);
        if (n > 2) c2.Store(c + 32);
        if (n > 3) c3.Store(c + 48);
    }
}
