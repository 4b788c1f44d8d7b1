using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace R2D2.Localization.Features;

/// <summary>
/// Space-to-batch ("phase split") for dilated convolutions. With split factor f, pixel (y, x) of
/// an H×W map goes to sub-image (y mod f, x mod f) at position (y div f, x div f): f² sub-images,
/// each a subsampled copy of the map, stacked on the batch axis. A stride-1 convolution with
/// kernel k, padding p and dilation d whose output has the input's size (2p = d·(k−1)) equals,
/// when f divides both p and d, the convolution with padding p/f and dilation d/f of every
/// sub-image, the outputs interleaved back the same way: output (y, x) reads the inputs
/// (y − p + i·d, x − p + j·d), all in the same phase as (y, x) and (p/f − i·d/f) positions away
/// in its sub-image, and an input outside the map is outside the sub-image too (each sub-image
/// holds exactly the map's pixels of its phase), so the zero padding is the same. Same products,
/// so the results differ only by the kernels' summation order.
/// <para>When f does not divide H (or W), the first H mod f row phases are one pixel longer than
/// the others: sub-images of equal size form one <see cref="Block"/> (at most four), each a
/// separate tensor. Pointwise layers (batch norm, ReLU) apply to the parts as they are, and
/// consecutive convolutions with the same factor stay split, so the reshuffle costs one pass
/// before the first of them and one after the last.</para>
/// </summary>
public static class PhaseSplit
{
    /// <summary>Sub-images of one size: row phases [Row0, Row0 + Rows), each Height long, times
    /// column phases [Col0, Col0 + Cols), each Width long; their batch index is
    /// (i·Cols + j)·N + n for row phase Row0 + i, column phase Col0 + j, image n.</summary>
    public readonly record struct Block(int Row0, int Rows, long Height, int Col0, int Cols, long Width);

    /// <summary>The blocks of an H×W map split by <paramref name="factor"/> (empty ones left out).</summary>
    public static IReadOnlyList<Block> Blocks(long height, long width, int factor)
    {
        var blocks = new List<Block>();
        foreach (var (r0, rn, h) in Phases(height, factor))
            foreach (var (c0, cn, w) in Phases(width, factor))
                blocks.Add(new Block(r0, rn, h, c0, cn, w));
        return blocks;
    }

    /// <summary>Phases of one axis grouped by length: [0, n mod f) are ⌈n/f⌉ long, the rest ⌊n/f⌋.</summary>
    private static IEnumerable<(int Start, int Count, long Length)> Phases(long n, int f)
    {
        long q = n / f;
        int r = (int)(n % f);
        if (r > 0) yield return (0, r, q + 1);
        if (q > 0) yield return (r, f - r, q);
    }

    /// <summary>The largest power of two, at most <paramref name="max"/>, that divides both the
    /// padding and the dilation of a same-size stride-1 convolution (1: do not split).</summary>
    public static int Factor(long kernel, long padding, long dilation, int max)
    {
        if (max < 2 || 2 * padding != dilation * (kernel - 1)) return 1;
        int f = 1;
        while (2 * f <= max && dilation % (2 * f) == 0 && padding % (2 * f) == 0) f *= 2;
        return f;
    }

    /// <summary>Splits a dense N×C×H×W tensor into its blocks' sub-images (one contiguous
    /// tensor per <see cref="Blocks"/> entry, (Rows·Cols·N)×C×Height×Width).</summary>
    public static Tensor[] Split(Tensor x, int factor)
    {
        using var c = x.contiguous();
        long n = c.shape[0], ch = c.shape[1], h = c.shape[2], w = c.shape[3];
        var blocks = Blocks(h, w, factor);
        if (CopiesNatively(c))
        {
            var parts = blocks.Select(b => empty(new[] { b.Rows * b.Cols * n, ch, b.Height, b.Width }, dtype: c.dtype, device: c.device)).ToArray();
            Copy(c, parts, factor, toParts: true);
            return parts;
        }
        return blocks.Select(b =>
        {
            using var view = c.as_strided(new long[] { b.Rows, b.Cols, n, ch, b.Height, b.Width },
                new long[] { w, 1, ch * h * w, h * w, factor * w, factor }, c.storage_offset() + b.Row0 * w + b.Col0);
            using var dense = view.contiguous();
            return dense.view(b.Rows * b.Cols * n, ch, b.Height, b.Width);
        }).ToArray();
    }

    /// <summary>Interleaves the sub-images of <see cref="Split"/> (dense, any strides) back into
    /// one contiguous N×C×H×W tensor.</summary>
    public static Tensor Merge(IReadOnlyList<Tensor> parts, int factor, long height, long width)
    {
        var blocks = Blocks(height, width, factor);
        if (blocks.Count != parts.Count) throw new ArgumentException($"{parts.Count} parts, a {height}×{width} map split by {factor} has {blocks.Count}");
        long n = parts[0].shape[0] / (blocks[0].Rows * blocks[0].Cols), ch = parts[0].shape[1];
        var y = empty(new[] { n, ch, height, width }, dtype: parts[0].dtype, device: parts[0].device);
        if (CopiesNatively(y) && parts.All(p => p.is_contiguous() && CopiesNatively(p) && p.dtype == y.dtype))
        {
            Copy(y, parts, factor, toParts: false);
            return y;
        }
        for (int i = 0; i < parts.Count; i++)
        {
            var b = blocks[i];
            using var view = y.as_strided(new long[] { b.Rows, b.Cols, n, ch, b.Height, b.Width },
                new long[] { width, 1, ch * height * width, height * width, factor * width, factor }, b.Row0 * width + b.Col0);
            using var src = parts[i].reshape(b.Rows, b.Cols, n, ch, b.Height, b.Width);
            view.copy_(src);
        }
        return y;
    }

    /// <summary>Whether <see cref="Copy"/> handles the tensor: contiguous, on the CPU, 2, 4 or 8
    /// bytes an element. (libtorch's strided copy reads the phases with stride f in the
    /// innermost dimension, one element at a time: 5-10× the time of a plain copy.)</summary>
    private static bool CopiesNatively(Tensor t) =>
        t.device_type == TorchSharp.DeviceType.CPU && t.is_contiguous() && t.element_size() is 2 or 4 or 8 && t.NumberOfElements < int.MaxValue;

    /// <summary>Copies between a map and its phase sub-images, row by row of the map (each read
    /// or written once, sequentially) on the CPU's threads: the map's row y feeds row y div f of
    /// the sub-images of row phase y mod f, its element x going to column x div f of column
    /// phase x mod f.</summary>
    private static unsafe void Copy(Tensor map, IReadOnlyList<Tensor> parts, int f, bool toParts)
    {
        long n = map.shape[0], ch = map.shape[1], h = map.shape[2], w = map.shape[3];
        var blocks = Blocks(h, w, f);
        int colBlocks = blocks.Count(b => b.Row0 == blocks[0].Row0);
        // Per phase: which block it is in and its index there (rows and columns apart).
        var rowBlock = new int[f]; var rowIndex = new int[f]; var colBlock = new int[f]; var colIndex = new int[f];
        for (int bi = 0; bi < blocks.Count; bi++)
        {
            var b = blocks[bi];
            for (int i = 0; i < b.Rows; i++) { rowBlock[b.Row0 + i] = bi / colBlocks; rowIndex[b.Row0 + i] = i; }
            for (int j = 0; j < b.Cols; j++) { colBlock[b.Col0 + j] = bi % colBlocks; colIndex[b.Col0 + j] = j; }
        }
        int size = (int)map.element_size();
        nint mapPtr = Address(map);
        var partPtrs = parts.Select(Address).ToArray();
        {
            long planes = n * ch;
            int threads = Math.Max(1, Math.Min(get_num_threads(), Environment.ProcessorCount));
            Parallel.For(0, planes, new ParallelOptions { MaxDegreeOfParallelism = threads }, plane =>
            {
                long img = plane / ch, c = plane % ch;
                for (long y = 0; y < h; y++)
                {
                    int i = (int)(y % f);
                    long q = y / f;
                    nint row = mapPtr + (nint)(((plane * h) + y) * w * size);
                    for (int j = 0; j < f && j < w; j++)
                    {
                        int bi = rowBlock[i] * colBlocks + colBlock[j];
                        var b = blocks[bi];
                        long batch = ((long)rowIndex[i] * b.Cols + colIndex[j]) * n + img;
                        nint sub = partPtrs[bi] + (nint)((((batch * ch + c) * b.Height + q) * b.Width) * size);
                        long len = b.Width;
                        switch (size)
                        {
                            case 2: Strided((ushort*)row + j, (ushort*)sub, len, f, toParts); break;
                            case 4: Strided((float*)row + j, (float*)sub, len, f, toParts); break;
                            default: Strided((double*)row + j, (double*)sub, len, f, toParts); break;
                        }
                    }
                }
            });
        }
        GC.KeepAlive(map);
        GC.KeepAlive(parts);
    }

    /// <summary>The address of a contiguous CPU tensor's first element: libtorch's memory, which
    /// does not move while the tensor lives.</summary>
    private static unsafe nint Address(Tensor t)
    {
        fixed (byte* p = t.bytes) return (nint)p;
    }

    private static unsafe void Strided<T>(T* row, T* sub, long len, int f, bool toParts) where T : unmanaged
    {
        if (toParts) for (long r = 0; r < len; r++) sub[r] = row[r * f];
        else for (long r = 0; r < len; r++) row[r * f] = sub[r];
    }
}
