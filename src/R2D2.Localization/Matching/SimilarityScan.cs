using System.Numerics;
using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace R2D2.Localization.Matching;

/// <summary>
/// The best match of every row and every column of the similarity matrix A·Bᵀ, on the CPU.
/// Blocks of rows are multiplied by libtorch (its BLAS) into one reused buffer; each block is then
/// scanned once, while it is still in cache, by SIMD code that updates the row maxima and the
/// running column maxima together. libtorch's own max over dim 0 (with indices) walks the matrix
/// across its rows and costs several times the product; a second pass would also re-read the
/// block from memory.
/// </summary>
internal static class SimilarityScan
{
    /// <summary>Per row of A its best column and similarity; per column of B its best row (−1: none).</summary>
    internal sealed record Best(float[] RowMax, int[] RowArg, int[] ColumnArg);

    public static unsafe Best Run(float[] desc1, int n1, float[] desc2, int n2, int dim, int blockRows)
    {
        if (desc1.Length < (long)n1 * dim || desc2.Length < (long)n2 * dim) throw new ArgumentException("descriptor arrays are shorter than n × dim");
        var rowMax = new float[n1];
        var rowArg = new int[n1];
        var colMax = new float[n2];
        var colArg = new int[n2];
        Array.Fill(colMax, float.NegativeInfinity);
        Array.Fill(colArg, -1);

        using var _ = no_grad();
        using var a = Features.TorchScalars.Copied<float>(desc1.AsSpan(0, n1 * dim), new long[] { n1, dim }, float32);
        using var b = Features.TorchScalars.Copied<float>(desc2.AsSpan(0, n2 * dim), new long[] { n2, dim }, float32);
        using var bt = b.t();
        blockRows = Math.Min(blockRows, n1);
        using var buffer = empty(blockRows, n2, dtype: float32);

        // Column ranges, one per thread, whole SIMD vectors each; the row partial maxima of each
        // range are merged in range order so that ties keep the first column.
        int threads = Math.Max(1, Math.Min(get_num_threads(), n2 / (4 * Vector<float>.Count)));
        var bounds = new int[threads + 1];
        for (int t = 1; t <= threads; t++) bounds[t] = t == threads ? n2 : (int)((long)n2 * t / threads / Vector<float>.Count * Vector<float>.Count);
        var partMax = new float[threads][];
        var partArg = new int[threads][];
        for (int t = 0; t < threads; t++) { partMax[t] = new float[blockRows]; partArg[t] = new int[blockRows]; }

        fixed (float* colMaxPtr = colMax)
        fixed (int* colArgPtr = colArg)
        {
            nint cm = (nint)colMaxPtr, ca = (nint)colArgPtr;
            for (int start = 0; start < n1; start += blockRows)
            {
                int rows = Math.Min(blockRows, n1 - start);
                using var a1 = a.narrow(0, start, rows);
                using var s = buffer.narrow(0, 0, rows);
                s.addmm_(a1, bt, beta: 0, alpha: 1); // beta = 0: the buffer's old contents are ignored
                fixed (float* sp = MemoryMarshal.Cast<byte, float>(s.bytes))
                {
                    nint block = (nint)sp;
                    int first = start;
                    Parallel.For(0, threads, new ParallelOptions { MaxDegreeOfParallelism = threads }, t =>
                        ScanRange((float*)block, rows, n2, bounds[t], bounds[t + 1], first,
                            (float*)cm, (int*)ca, partMax[t], partArg[t]));
                }
                for (int r = 0; r < rows; r++)
                {
                    float m = partMax[0][r]; int arg = partArg[0][r];
                    for (int t = 1; t < threads; t++)
                        if (partMax[t][r] > m) { m = partMax[t][r]; arg = partArg[t][r]; }
                    rowMax[start + r] = m;
                    rowArg[start + r] = arg;
                }
            }
        }
        return new Best(rowMax, rowArg, colArg);
    }

    /// <summary>
    /// Scans columns [c0, c1) of a rows × n2 block whose first row is row <paramref name="rowOffset"/>
    /// of the matrix: the best of each row within the range (−1 when every value is NaN) and the
    /// running best row of each column. Strict comparisons, rows in order, and the lowest column
    /// among equal lanes keep the first index on ties, as argmax does.
    /// </summary>
    private static unsafe void ScanRange(float* block, int rows, int n2, int c0, int c1, int rowOffset,
        float* colMax, int* colArg, float[] rowMaxOut, int[] rowArgOut)
    {
        int w = Vector<float>.Count;
        var laneOffsets = new int[w];
        for (int l = 0; l < w; l++) laneOffsets[l] = l;
        var lanes = new Vector<int>(laneOffsets);
        var step = new Vector<int>(w);
        var negInf = new Vector<float>(float.NegativeInfinity);
        int vecEnd = c0 + (c1 - c0) / w * w;
        for (int r = 0; r < rows; r++)
        {
            float* row = block + (long)r * n2;
            var rowIndex = new Vector<int>(rowOffset + r);
            var bestV = negInf;
            var bestJ = new Vector<int>(-1);
            var j = lanes + new Vector<int>(c0);
            for (int c = c0; c < vecEnd; c += w, j += step)
            {
                var v = *(Vector<float>*)(row + c);
                var cmv = *(Vector<float>*)(colMax + c);
                var colBetter = Vector.GreaterThan(v, cmv);
                *(Vector<float>*)(colMax + c) = Vector.ConditionalSelect(colBetter, v, cmv);
                *(Vector<int>*)(colArg + c) = Vector.ConditionalSelect(colBetter, rowIndex, *(Vector<int>*)(colArg + c));
                var rowBetter = Vector.GreaterThan(v, bestV);
                bestV = Vector.ConditionalSelect(rowBetter, v, bestV);
                bestJ = Vector.ConditionalSelect(rowBetter, j, bestJ);
            }
            float m = float.NegativeInfinity;
            int arg = -1;
            for (int l = 0; l < w; l++)
            {
                int jl = bestJ[l];
                if (jl < 0) continue;
                float vl = bestV[l];
                if (vl > m || (vl == m && jl < arg)) { m = vl; arg = jl; }
            }
            for (int c = vecEnd; c < c1; c++) // the tail: columns after every vector lane's
            {
                float v = row[c];
                if (v > colMax[c]) { colMax[c] = v; colArg[c] = rowOffset + r; }
                if (v > m) { m = v; arg = c; }
            }
            rowMaxOut[r] = m;
            rowArgOut[r] = arg;
        }
    }
}
