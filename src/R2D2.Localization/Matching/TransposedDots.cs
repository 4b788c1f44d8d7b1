using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace R2D2.Localization.Matching;

/// <summary>
/// Dot products of one vector with many vectors stored transposed: row k of the block holds the
/// k-th component of every vector (padded to a multiple of 8 vectors). x·v for 64 vectors at a time
/// is then a sum of broadcast x[k] times one row, in eight registers, without the horizontal sums
/// a dot product per vector needs (~2× faster per thread). Used by the vocabulary's nearest-centre
/// search and by the matching within vocabulary cells.
/// </summary>
internal static class TransposedDots
{
    /// <summary>Rows of <paramref name="block"/> (dim × <paramref name="padded"/>) from the vectors
    /// <paramref name="rows"/> of row-major <paramref name="rowMajor"/>, in that order; padding
    /// columns are zero.</summary>
    public static void Transpose(ReadOnlySpan<float> rowMajor, ReadOnlySpan<int> rows, int dim, int padded, Span<float> block)
    {
        block[..(dim * padded)].Clear();
        for (int j = 0; j < rows.Length; j++)
        {
            var v = rowMajor.Slice(rows[j] * dim, dim);
            for (int k = 0; k < dim; k++) block[k * padded + j] = v[k];
        }
    }

    public static int Padded(int count) => (count + 7) / 8 * 8;

    /// <summary>dots[i] = x · vector (j0 + i) for i &lt; width (width a multiple of 8, j0 + width ≤ padded).</summary>
    public static void Dots(ReadOnlySpan<float> x, ReadOnlySpan<float> block, int padded, int j0, int width, Span<float> dots)
    {
        ref float t = ref MemoryMarshal.GetReference(block);
        int dim = x.Length;
        int j = 0;
        for (; j + 64 <= width; j += 64) Dots64(x, ref t, dim, padded, j0 + j, dots[j..]);
        for (; j < width; j += 8)
        {
            Vector256<float> a = default;
            for (int k = 0; k < dim; k++)
                a = Vector256.FusedMultiplyAdd(Vector256.Create(x[k]), Vector256.LoadUnsafe(ref Unsafe.Add(ref t, k * padded + j0 + j)), a);
            a.CopyTo(dots[j..]);
        }
    }

    /// <summary>The dots of <paramref name="rows"/> (1–4) vectors at once: dots[r · stride + i] =
    /// x_r · vector (j0 + i) for i &lt; width (a multiple of 8), x_r = xs[r · dim ..]. Each product
    /// sums the components in the same order as <see cref="Dots"/>, so the values are the same bits;
    /// a row of the block is loaded once for all four vectors, so the multiply-adds, not the loads,
    /// bound the speed (AVX-512: ~9× <see cref="Dots"/> per vector on one thread). Fewer than four
    /// rows run as four (copies of the first) when <paramref name="dots"/> has room for four rows,
    /// whose slots past <paramref name="rows"/> are then overwritten.</summary>
    public static void DotsRows(ReadOnlySpan<float> xs, int rows, int dim, ReadOnlySpan<float> block, int padded, int j0, int width, Span<float> dots, int stride)
    {
        if (rows is < 1 or > 4 || xs.Length < rows * dim || dots.Length < (rows - 1) * stride + width) throw new ArgumentException("1–4 rows with room for their dots expected");
        bool four = Vector512.IsHardwareAccelerated && (rows == 4 || (dots.Length >= 3 * stride + width && dim <= 1024));
        if (!four)
        {
            for (int r = 0; r < rows; r++) Dots(xs.Slice(r * dim, dim), block, padded, j0, width, dots.Slice(r * stride, width));
            return;
        }
        if (rows < 4)
        {
            Span<float> all = stackalloc float[4 * dim];
            xs[..(rows * dim)].CopyTo(all);
            for (int r = rows; r < 4; r++) xs[..dim].CopyTo(all.Slice(r * dim, dim));
            DotsRows(all, 4, dim, block, padded, j0, width, dots, stride);
            return;
        }
        ref float t = ref MemoryMarshal.GetReference(block);
        ref float x = ref MemoryMarshal.GetReference(xs);
        ref float d = ref MemoryMarshal.GetReference(dots);
        int j = 0;
        for (; j + 64 <= width; j += 64) Dots4x64(ref x, dim, ref t, padded, j0 + j, ref Unsafe.Add(ref d, j), stride);
        for (; j + 16 <= width; j += 16) Dots4x16(ref x, dim, ref t, padded, j0 + j, ref Unsafe.Add(ref d, j), stride);
        for (; j < width; j += 8)
            for (int r = 0; r < 4; r++) Dots(xs.Slice(r * dim, dim), block, padded, j0 + j, 8, dots.Slice(r * stride + j, 8));
    }

    // Four vectors × 64 columns: sixteen 512-bit accumulators; per component four row loads and four broadcasts.
    private static void Dots4x64(ref float x, int dim, ref float t, int padded, int j0, ref float d, int stride)
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        for (int k = 0; k < dim; k++)
        {
            ref float row = ref Unsafe.Add(ref t, k * padded + j0);
            var c0 = Vector512.LoadUnsafe(ref row, 0);
            var c1 = Vector512.LoadUnsafe(ref row, 16);
            var c2 = Vector512.LoadUnsafe(ref row, 32);
            var c3 = Vector512.LoadUnsafe(ref row, 48);
            var x0 = Vector512.Create(Unsafe.Add(ref x, k));
            a00 = Vector512.FusedMultiplyAdd(x0, c0, a00); a01 = Vector512.FusedMultiplyAdd(x0, c1, a01);
            a02 = Vector512.FusedMultiplyAdd(x0, c2, a02); a03 = Vector512.FusedMultiplyAdd(x0, c3, a03);
            var x1 = Vector512.Create(Unsafe.Add(ref x, dim + k));
            a10 = Vector512.FusedMultiplyAdd(x1, c0, a10); a11 = Vector512.FusedMultiplyAdd(x1, c1, a11);
            a12 = Vector512.FusedMultiplyAdd(x1, c2, a12); a13 = Vector512.FusedMultiplyAdd(x1, c3, a13);
            var x2 = Vector512.Create(Unsafe.Add(ref x, 2 * dim + k));
            a20 = Vector512.FusedMultiplyAdd(x2, c0, a20); a21 = Vector512.FusedMultiplyAdd(x2, c1, a21);
            a22 = Vector512.FusedMultiplyAdd(x2, c2, a22); a23 = Vector512.FusedMultiplyAdd(x2, c3, a23);
            var x3 = Vector512.Create(Unsafe.Add(ref x, 3 * dim + k));
            a30 = Vector512.FusedMultiplyAdd(x3, c0, a30); a31 = Vector512.FusedMultiplyAdd(x3, c1, a31);
            a32 = Vector512.FusedMultiplyAdd(x3, c2, a32); a33 = Vector512.FusedMultiplyAdd(x3, c3, a33);
        }
        a00.StoreUnsafe(ref d, 0); a01.StoreUnsafe(ref d, 16); a02.StoreUnsafe(ref d, 32); a03.StoreUnsafe(ref d, 48);
        ref float d1 = ref Unsafe.Add(ref d, stride);
        a10.StoreUnsafe(ref d1, 0); a11.StoreUnsafe(ref d1, 16); a12.StoreUnsafe(ref d1, 32); a13.StoreUnsafe(ref d1, 48);
        ref float d2 = ref Unsafe.Add(ref d, 2 * stride);
        a20.StoreUnsafe(ref d2, 0); a21.StoreUnsafe(ref d2, 16); a22.StoreUnsafe(ref d2, 32); a23.StoreUnsafe(ref d2, 48);
        ref float d3 = ref Unsafe.Add(ref d, 3 * stride);
        a30.StoreUnsafe(ref d3, 0); a31.StoreUnsafe(ref d3, 16); a32.StoreUnsafe(ref d3, 32); a33.StoreUnsafe(ref d3, 48);
    }

    private static void Dots4x16(ref float x, int dim, ref float t, int padded, int j0, ref float d, int stride)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        for (int k = 0; k < dim; k++)
        {
            var c = Vector512.LoadUnsafe(ref Unsafe.Add(ref t, k * padded + j0));
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, k)), c, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, dim + k)), c, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 2 * dim + k)), c, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(Unsafe.Add(ref x, 3 * dim + k)), c, a3);
        }
        a0.StoreUnsafe(ref d); a1.StoreUnsafe(ref Unsafe.Add(ref d, stride));
        a2.StoreUnsafe(ref Unsafe.Add(ref d, 2 * stride)); a3.StoreUnsafe(ref Unsafe.Add(ref d, 3 * stride));
    }

    // Eight accumulators of 8 vectors each, in registers; x[k] broadcast once per row.
    private static void Dots64(ReadOnlySpan<float> x, ref float t, int dim, int padded, int j0, Span<float> dots)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        for (int k = 0; k < dim; k++)
        {
            var xk = Vector256.Create(x[k]);
            ref float row = ref Unsafe.Add(ref t, k * padded + j0);
            a0 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 0), a0);
            a1 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 8), a1);
            a2 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 16), a2);
            a3 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 24), a3);
            a4 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 32), a4);
            a5 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 40), a5);
            a6 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 48), a6);
            a7 = Vector256.FusedMultiplyAdd(xk, Vector256.LoadUnsafe(ref row, 56), a7);
        }
        a0.CopyTo(dots); a1.CopyTo(dots[8..]); a2.CopyTo(dots[16..]); a3.CopyTo(dots[24..]);
        a4.CopyTo(dots[32..]); a5.CopyTo(dots[40..]); a6.CopyTo(dots[48..]); a7.CopyTo(dots[56..]);
    }
}
