using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

using R2D2.Localization.Features;

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
        // Four vectors × 64 (then 16) columns: RegisterBlock's kernel, the block's rows loaded once for the four.
        int j = 0;
        unsafe
        {
            fixed (float* x = xs, t = block, d = dots)
            {
                for (; j + 64 <= width; j += 64)
                    RegisterBlock.Product<RegisterBlock.Four, RegisterBlock.Four>(x, dim, t + j0 + j, padded, dim, d + j, stride);
                for (; j + 16 <= width; j += 16)
                    RegisterBlock.Product<RegisterBlock.Four, RegisterBlock.One>(x, dim, t + j0 + j, padded, dim, d + j, stride);
            }
        }
        for (; j < width; j += 8)
            for (int r = 0; r < 4; r++) Dots(xs.Slice(r * dim, dim), block, padded, j0 + j, 8, dots.Slice(r * stride + j, 8));
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
