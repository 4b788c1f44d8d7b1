using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace R2D2.Localization.Features;

/// <summary>
/// A stride-1, same-size convolution with a 3×3 or 2×2 kernel (any dilation) on a channels-last
/// map, by Winograd's minimal filtering on 4×4 input tiles: F(2×2, 3×3) or F(3×3, 2×2)
/// (Lavin and Gray, CVPR 2016). Each tile of m×m outputs (m = 2 for 3×3, 3 for 2×2) takes 16
/// products per input and output channel instead of 36: the input tiles and the kernels are
/// transformed (Bᵀ d B, G g Gᵀ), the 16 transformed points are 16 independent matrix products
/// over the channels, and Aᵀ M A gives the outputs. Both sizes share Bᵀ (interpolation points
/// 0, 1, −1, ∞, whose transforms only add and halve), so the results differ from the direct
/// convolution by float rounding only (a few ulps more than another summation order: see
/// <c>WinogradConvolutionTests</c>). With dilation d the tile's taps and outputs are d apart.
/// <para>Tiles are taken a block at a time: a block's transformed inputs and products (16 × 48
/// tiles × channels) stay in the core's L2 cache, the products run in register blocks of 6
/// tiles × 64 output channels (AVX-512) or 6 × 16 (AVX2). Both widths sum in the same order, so
/// they give the same bits, on any number of threads.</para>
/// </summary>
public sealed unsafe class WinogradConvolution : IDisposable
{
    private const int Points = 16;      // transformed points per tile (4 × 4)
    private const int Rows = 6;         // tiles per register block
    private const int Cols = 64;        // output channels per register block (4 × 16 lanes; the last block may be narrower)
    private const int BlockTiles = 48;  // tiles per block (a multiple of Rows)

    private readonly float* _u;         // transformed kernels: [point][block of ≤ 64 output channels][Cin][the block's width]
    private readonly float* _zeros;     // Cin zeros: the taps outside the map
    private readonly int _lanes;        // float lanes of the vectors the transforms and products run on: 16 or 8
    private readonly float[] _bias;

    public int InChannels { get; }
    public int OutChannels { get; }
    public int Kernel { get; }
    public int Padding { get; }
    public int Dilation { get; }
    /// <summary>Outputs per tile side: 2 for 3×3 kernels, 3 for 2×2.</summary>
    public int TileSize => 5 - Kernel;

    /// <summary>Whether the CPU runs this code's vectors natively (AVX-512, or AVX2 with FMA);
    /// elsewhere it runs, exactly but slowly, on emulated vectors.</summary>
    public static bool Accelerated => Vector512.IsHardwareAccelerated || (Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported);

    /// <summary>Whether a convolution can run here: 2×2 or 3×3, output of the input's size,
    /// channels in multiples of 16.</summary>
    public static bool Supports(int inChannels, int outChannels, int kernel, int padding, int dilation) =>
        (kernel == 2 || kernel == 3) && dilation >= 1 && 2 * padding == dilation * (kernel - 1)
        && inChannels % 16 == 0 && inChannels > 0 && outChannels % 16 == 0 && outChannels > 0;

    /// <summary>Output channels of register block <paramref name="block"/>: 64, or fewer for the last.</summary>
    private int BlockWidth(int block) => Math.Min(Cols, OutChannels - block * Cols);

    /// <param name="weight">Cout × Cin × k × k, row-major (torch's layout)</param>
    /// <param name="bias">Cout</param>
    /// <param name="vectorBits">512 or 256: the vectors to compute on (tests run both); 0: 512
    /// where the CPU runs them natively (AVX-512), else 256 (AVX2)</param>
    public WinogradConvolution(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int outChannels, int inChannels, int kernel, int padding, int dilation, int vectorBits = 0)
    {
        if (vectorBits is not (0 or 256 or 512)) throw new ArgumentException("vector bits: 0, 256 or 512", nameof(vectorBits));
        _lanes = (vectorBits == 0 ? (Vector512.IsHardwareAccelerated ? 512 : 256) : vectorBits) / 32;
        if (!Supports(inChannels, outChannels, kernel, padding, dilation))
            throw new ArgumentException($"Winograd convolution needs a 2×2 or 3×3 same-size kernel and channels in multiples of 16 (got {outChannels}×{inChannels}×{kernel}×{kernel}, padding {padding}, dilation {dilation})");
        if (weight.Length != outChannels * inChannels * kernel * kernel || bias.Length != outChannels)
            throw new ArgumentException("weight or bias of the wrong size");
        InChannels = inChannels; OutChannels = outChannels; Kernel = kernel; Padding = padding; Dilation = dilation;
        _bias = bias.ToArray();
        _zeros = (float*)NativeMemory.AlignedAlloc((nuint)(inChannels * sizeof(float)), 64);
        new Span<float>(_zeros, inChannels).Clear();
        // G: kernel values at the points 0, 1, −1, ∞, with the ½ of the interpolation folded in.
        double[,] g = kernel == 3
            ? new double[,] { { 1, 0, 0 }, { 0.5, 0.5, 0.5 }, { 0.5, -0.5, 0.5 }, { 0, 0, 1 } }
            : new double[,] { { 1, 0 }, { 0.5, 0.5 }, { 0.5, -0.5 }, { 0, 1 } };
        _u = (float*)NativeMemory.AlignedAlloc((nuint)(Points * outChannels * inChannels * sizeof(float)), 64);
        for (int o = 0; o < outChannels; o++)
            for (int c = 0; c < inChannels; c++)
            {
                int w0 = (o * inChannels + c) * kernel * kernel;
                for (int a = 0; a < 4; a++)
                    for (int b = 0; b < 4; b++)
                    {
                        double s = 0; // (G w Gᵀ)[a, b], in double, rounded once
                        for (int k = 0; k < kernel; k++)
                            for (int l = 0; l < kernel; l++)
                                s += g[a, k] * weight[w0 + k * kernel + l] * g[b, l];
                        // Point-major, then blocks of output channels, each Cin rows of its width.
                        _u[((long)(a * 4 + b) * outChannels + o / Cols * Cols) * inChannels + (long)c * BlockWidth(o / Cols) + o % Cols] = (float)s;
                    }
            }
    }

    /// <summary>y = conv(x) + bias (then max(·, 0) when <paramref name="relu"/>), both maps
    /// H × W × C row-major (channels last), y of Cout channels.</summary>
    public void Run(float* x, float* y, int height, int width, bool relu, int threads)
    {
        var tiles = new TileGrid(height, width, Dilation, TileSize);
        long blocks = (tiles.Count + BlockTiles - 1) / BlockTiles;
        nint xp = (nint)x, yp = (nint)y;
        Parallel.For(0L, blocks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) },
            () => (nint)NativeMemory.AlignedAlloc((nuint)(ScratchFloats * sizeof(float)), 64),
            (block, _, scratch) =>
            {
                if (_lanes == 16) RunBlock<Vector512<float>, Lanes16>((float*)xp, (float*)yp, height, width, relu, tiles, block * BlockTiles, (float*)scratch);
                else RunBlock<Vector256<float>, Lanes8>((float*)xp, (float*)yp, height, width, relu, tiles, block * BlockTiles, (float*)scratch);
                return scratch;
            },
            scratch => NativeMemory.AlignedFree((void*)scratch));
    }

    /// <summary>The output tiles of an H×W map, m×m outputs d apart each, numbered super-tile by
    /// super-tile (row-major squares of m·d × m·d outputs), and within one by phase (py, px): the
    /// tile with origin (Y·m·d + py, X·m·d + px). Consecutive tiles of a dilated convolution then
    /// read neighbouring pixels. A tile whose origin lies outside the map (in the last row or
    /// column of super-tiles) is empty.</summary>
    private readonly struct TileGrid
    {
        private readonly int _d, _span, _across, _height, _width;
        public readonly long Count;

        public TileGrid(int height, int width, int dilation, int m)
        {
            _height = height; _width = width; _d = dilation; _span = m * dilation;
            _across = (width + _span - 1) / _span;
            Count = (long)((height + _span - 1) / _span) * _across * dilation * dilation;
        }

        /// <summary>The output origin (row, column) of tile <paramref name="index"/>; false when it is empty.</summary>
        public bool Origin(long index, out int y, out int x)
        {
            long super = index / (_d * _d);
            int phase = (int)(index % (_d * _d));
            y = (int)(super / _across) * _span + phase / _d;
            x = (int)(super % _across) * _span + phase % _d;
            return y < _height && x < _width;
        }
    }

    /// <summary>Floats between two transformed points' planes in a block's scratch: a block's
    /// tiles plus one cache line, so the 16 planes a tile writes (and the output transform reads)
    /// do not fall into the same L1 set, as they would at a multiple of 4 kB.</summary>
    private static int PlaneStride(int channels) => BlockTiles * channels + 16;

    private int ScratchFloats => Points * (PlaneStride(InChannels) + PlaneStride(OutChannels));

    private void RunBlock<TV, TO>(float* x, float* y, int height, int width, bool relu, TileGrid tiles, long first, float* scratch)
        where TV : struct where TO : struct, ILanes<TV>
    {
        int cin = InChannels, cout = OutChannels, n = (int)Math.Min(BlockTiles, tiles.Count - first);
        int vStride = PlaneStride(cin), mStride = PlaneStride(cout);
        float* v = scratch;                    // [point][tile][Cin]
        float* m = scratch + Points * vStride; // [point][tile][Cout]
        Span<int> oy = stackalloc int[BlockTiles], ox = stackalloc int[BlockTiles];
        Span<bool> inside = stackalloc bool[BlockTiles];
        var taps = stackalloc float*[16];
        int rows = (n + Rows - 1) / Rows * Rows;
        for (int t = 0; t < rows; t++)
        {
            inside[t] = t < n && tiles.Origin(first + t, out oy[t], out ox[t]);
            if (inside[t])
            {
                Taps(x, height, width, oy[t], ox[t], taps);
                InputTile<TV, TO>(taps, v + t * cin, vStride);
            }
            else
                for (int p = 0; p < Points; p++) new Span<float>(v + p * vStride + t * cin, cin).Clear();
        }
        int blocks = (cout + Cols - 1) / Cols;
        for (int p = 0; p < Points; p++)
            for (int b = 0; b < blocks; b++)
            {
                float* u = _u + ((long)p * cout + b * Cols) * cin;
                int bw = BlockWidth(b);
                for (int t = 0; t < rows; t += Rows)
                {
                    float* vt = v + p * vStride + t * cin, mt = m + p * mStride + t * cout + b * Cols;
                    if (TO.Count == 8) { for (int q = 0; q < bw; q += 16) Product8(vt, cin, u + q, bw, mt + q, cout); continue; }
                    switch (bw) // 6 tiles × the block's width (RegisterBlock)
                    {
                        case 64: RegisterBlock.Product<RegisterBlock.Six, RegisterBlock.Four>(vt, cin, u, bw, cin, mt, cout); break;
                        case 48: RegisterBlock.Product<RegisterBlock.Six, RegisterBlock.Three>(vt, cin, u, bw, cin, mt, cout); break;
                        case 32: RegisterBlock.Product<RegisterBlock.Six, RegisterBlock.Two>(vt, cin, u, bw, cin, mt, cout); break;
                        default: RegisterBlock.Product<RegisterBlock.Six, RegisterBlock.One>(vt, cin, u, bw, cin, mt, cout); break;
                    }
                }
            }
        fixed (float* bias = _bias)
            for (int t = 0; t < n; t++)
            {
                if (!inside[t]) continue;
                int y0 = oy[t], x0 = ox[t];
                // Outputs of the tile inside the map, per axis.
                int rowsIn = Math.Min(TileSize, (height - 1 - y0) / Dilation + 1), colsIn = Math.Min(TileSize, (width - 1 - x0) / Dilation + 1);
                float* origin = y + ((long)y0 * width + x0) * cout;
                long rowStep = (long)Dilation * width * cout, colStep = (long)Dilation * cout;
                if (Kernel == 3) OutputTile2<TV, TO>(m + t * cout, mStride, bias, origin, rowStep, colStep, rowsIn, colsIn, relu);
                else OutputTile3<TV, TO>(m + t * cout, mStride, bias, origin, rowStep, colStep, rowsIn, colsIn, relu);
            }
    }

    /// <summary>The 4×4 input taps of the tile whose first output is (y0, x0): row j, column k
    /// at taps[4j + k], the channels of pixel (y0 − p + d·j, x0 − p + d·k), or zeros outside the map.</summary>
    private void Taps(float* x, int height, int width, int y0, int x0, float** taps)
    {
        int d = Dilation, cin = InChannels;
        for (int j = 0; j < 4; j++)
        {
            int yy = y0 - Padding + d * j;
            for (int k = 0; k < 4; k++)
            {
                int xx = x0 - Padding + d * k;
                taps[j * 4 + k] = yy >= 0 && yy < height && xx >= 0 && xx < width ? x + ((long)yy * width + xx) * cin : _zeros;
            }
        }
    }

    /// <summary>Bᵀ d B of one 4×4 input tile, a vector of channels at a time, into v[point · stride + c].</summary>
    private void InputTile<TV, TO>(float** taps, float* v, int stride) where TV : struct where TO : struct, ILanes<TV>
    {
        float* v0 = v, v1 = v + stride, v2 = v + 2 * stride, v3 = v + 3 * stride, v4 = v + 4 * stride, v5 = v + 5 * stride, v6 = v + 6 * stride, v7 = v + 7 * stride;
        float* v8 = v + 8 * stride, v9 = v + 9 * stride, v10 = v + 10 * stride, v11 = v + 11 * stride, v12 = v + 12 * stride, v13 = v + 13 * stride, v14 = v + 14 * stride, v15 = v + 15 * stride;
        for (int c = 0; c < InChannels; c += TO.Count)
        {
            // Bᵀ down each column k (rows j = 0..3), then along each resulting row.
            Line<TV, TO>(TO.Load(taps[0] + c), TO.Load(taps[4] + c), TO.Load(taps[8] + c), TO.Load(taps[12] + c), out var a0, out var b0, out var c0, out var d0);
            Line<TV, TO>(TO.Load(taps[1] + c), TO.Load(taps[5] + c), TO.Load(taps[9] + c), TO.Load(taps[13] + c), out var a1, out var b1, out var c1, out var d1);
            Line<TV, TO>(TO.Load(taps[2] + c), TO.Load(taps[6] + c), TO.Load(taps[10] + c), TO.Load(taps[14] + c), out var a2, out var b2, out var c2, out var d2);
            Line<TV, TO>(TO.Load(taps[3] + c), TO.Load(taps[7] + c), TO.Load(taps[11] + c), TO.Load(taps[15] + c), out var a3, out var b3, out var c3, out var d3);
            Line<TV, TO>(a0, a1, a2, a3, out var e0, out var e1, out var e2, out var e3);
            TO.Store(v0 + c, e0); TO.Store(v1 + c, e1); TO.Store(v2 + c, e2); TO.Store(v3 + c, e3);
            Line<TV, TO>(b0, b1, b2, b3, out e0, out e1, out e2, out e3);
            TO.Store(v4 + c, e0); TO.Store(v5 + c, e1); TO.Store(v6 + c, e2); TO.Store(v7 + c, e3);
            Line<TV, TO>(c0, c1, c2, c3, out e0, out e1, out e2, out e3);
            TO.Store(v8 + c, e0); TO.Store(v9 + c, e1); TO.Store(v10 + c, e2); TO.Store(v11 + c, e3);
            Line<TV, TO>(d0, d1, d2, d3, out e0, out e1, out e2, out e3);
            TO.Store(v12 + c, e0); TO.Store(v13 + c, e1); TO.Store(v14 + c, e2); TO.Store(v15 + c, e3);
        }
    }

    /// <summary>Bᵀ of one line of 4 taps (points 0, 1, −1, ∞).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Line<TV, TO>(TV d0, TV d1, TV d2, TV d3, out TV t0, out TV t1, out TV t2, out TV t3) where TV : struct where TO : struct, ILanes<TV>
    {
        t0 = TO.Sub(d0, d2); t1 = TO.Add(d1, d2); t2 = TO.Sub(d2, d1); t3 = TO.Sub(d3, d1);
    }

    /// <summary>Aᵀ M A of one tile for 3×3 kernels (2×2 outputs) from its 16 points
    /// (m[point · stride + o]), plus the bias, into the outputs inside the map:
    /// output (i, j) at origin + i·rowStep + j·colStep.</summary>
    private void OutputTile2<TV, TO>(float* m, int stride, float* bias, float* origin, long rowStep, long colStep, int rowsIn, int colsIn, bool relu)
        where TV : struct where TO : struct, ILanes<TV>
    {
        for (int o = 0; o < OutChannels; o += TO.Count)
        {
            float* s = m + o;
            // Along each row a of points: r_a = (s0 + s1 + s2, s1 − s2 + s3).
            Row2<TV, TO>(s, stride, out var r00, out var r01); s += 4 * stride;
            Row2<TV, TO>(s, stride, out var r10, out var r11); s += 4 * stride;
            Row2<TV, TO>(s, stride, out var r20, out var r21); s += 4 * stride;
            Row2<TV, TO>(s, stride, out var r30, out var r31);
            var b = TO.Load(bias + o);
            float* q = origin + o;
            Put<TV, TO>(q, TO.Add(TO.Add(TO.Add(r00, r10), r20), b), relu);
            if (colsIn > 1) Put<TV, TO>(q + colStep, TO.Add(TO.Add(TO.Add(r01, r11), r21), b), relu);
            if (rowsIn > 1)
            {
                Put<TV, TO>(q + rowStep, TO.Add(TO.Add(TO.Sub(r10, r20), r30), b), relu);
                if (colsIn > 1) Put<TV, TO>(q + rowStep + colStep, TO.Add(TO.Add(TO.Sub(r11, r21), r31), b), relu);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row2<TV, TO>(float* s, int stride, out TV r0, out TV r1) where TV : struct where TO : struct, ILanes<TV>
    {
        var p0 = TO.Load(s); var p1 = TO.Load(s + stride); var p2 = TO.Load(s + 2 * stride); var p3 = TO.Load(s + 3 * stride);
        r0 = TO.Add(TO.Add(p0, p1), p2);
        r1 = TO.Add(TO.Sub(p1, p2), p3);
    }

    /// <summary>Aᵀ M A of one tile for 2×2 kernels (3×3 outputs); as <see cref="OutputTile2"/>.</summary>
    private void OutputTile3<TV, TO>(float* m, int stride, float* bias, float* origin, long rowStep, long colStep, int rowsIn, int colsIn, bool relu)
        where TV : struct where TO : struct, ILanes<TV>
    {
        for (int o = 0; o < OutChannels; o += TO.Count)
        {
            float* s = m + o;
            // Along each row a of points: r_a = (s0 + s1 + s2, s1 − s2, s1 + s2 + s3).
            Row3<TV, TO>(s, stride, out var r00, out var r01, out var r02); s += 4 * stride;
            Row3<TV, TO>(s, stride, out var r10, out var r11, out var r12); s += 4 * stride;
            Row3<TV, TO>(s, stride, out var r20, out var r21, out var r22); s += 4 * stride;
            Row3<TV, TO>(s, stride, out var r30, out var r31, out var r32);
            var b = TO.Load(bias + o);
            float* q = origin + o;
            // Down the columns: output row 0 = r0 + r1 + r2, row 1 = r1 − r2, row 2 = r1 + r2 + r3.
            var c0 = TO.Add(r10, r20); var c1 = TO.Add(r11, r21); var c2 = TO.Add(r12, r22);
            Put<TV, TO>(q, TO.Add(TO.Add(r00, c0), b), relu);
            if (colsIn > 1) Put<TV, TO>(q + colStep, TO.Add(TO.Add(r01, c1), b), relu);
            if (colsIn > 2) Put<TV, TO>(q + 2 * colStep, TO.Add(TO.Add(r02, c2), b), relu);
            if (rowsIn > 1)
            {
                q += rowStep;
                Put<TV, TO>(q, TO.Add(TO.Sub(r10, r20), b), relu);
                if (colsIn > 1) Put<TV, TO>(q + colStep, TO.Add(TO.Sub(r11, r21), b), relu);
                if (colsIn > 2) Put<TV, TO>(q + 2 * colStep, TO.Add(TO.Sub(r12, r22), b), relu);
            }
            if (rowsIn > 2)
            {
                q += rowStep;
                Put<TV, TO>(q, TO.Add(TO.Add(c0, r30), b), relu);
                if (colsIn > 1) Put<TV, TO>(q + colStep, TO.Add(TO.Add(c1, r31), b), relu);
                if (colsIn > 2) Put<TV, TO>(q + 2 * colStep, TO.Add(TO.Add(c2, r32), b), relu);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row3<TV, TO>(float* s, int stride, out TV r0, out TV r1, out TV r2) where TV : struct where TO : struct, ILanes<TV>
    {
        var p0 = TO.Load(s); var p1 = TO.Load(s + stride); var p2 = TO.Load(s + 2 * stride); var p3 = TO.Load(s + 3 * stride);
        var sum = TO.Add(p1, p2);
        r0 = TO.Add(p0, sum); r1 = TO.Sub(p1, p2); r2 = TO.Add(sum, p3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<TV, TO>(float* q, TV value, bool relu) where TV : struct where TO : struct, ILanes<TV> =>
        TO.Store(q, relu ? TO.Relu(value) : value);

    /// <summary>The vector operations of the transforms, one struct per width, so that the JIT
    /// compiles each instantiation to plain vector instructions.</summary>
    private interface ILanes<TV> where TV : struct
    {
        static abstract int Count { get; }
        static abstract TV Load(float* p);
        static abstract void Store(float* p, TV v);
        static abstract TV Add(TV a, TV b);
        static abstract TV Sub(TV a, TV b);
        static abstract TV Relu(TV a);
    }

    private struct Lanes16 : ILanes<Vector512<float>>
    {
        public static int Count => 16;
        public static Vector512<float> Load(float* p) => Vector512.Load(p);
        public static void Store(float* p, Vector512<float> v) => v.Store(p);
        public static Vector512<float> Add(Vector512<float> a, Vector512<float> b) => a + b;
        public static Vector512<float> Sub(Vector512<float> a, Vector512<float> b) => a - b;
        public static Vector512<float> Relu(Vector512<float> a) => Vector512.Max(a, Vector512<float>.Zero);
    }

    private struct Lanes8 : ILanes<Vector256<float>>
    {
        public static int Count => 8;
        public static Vector256<float> Load(float* p) => Vector256.Load(p);
        public static void Store(float* p, Vector256<float> v) => v.Store(p);
        public static Vector256<float> Add(Vector256<float> a, Vector256<float> b) => a + b;
        public static Vector256<float> Sub(Vector256<float> a, Vector256<float> b) => a - b;
        public static Vector256<float> Relu(Vector256<float> a) => Vector256.Max(a, Vector256<float>.Zero);
    }

    /// <summary>m[r][0..16) = Σ_c v[r][c] · u[c][0..16) for 6 rows in 8-lane vectors (AVX2: 12
    /// accumulators of its 16 registers); u rows <paramref name="uStride"/> apart. The AVX-512 blocks
    /// are <see cref="RegisterBlock.Product"/>'s.</summary>
    private static void Product8(float* v, int cin, float* u, int uStride, float* m, int mStride)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        float* v1 = v + cin, v2 = v1 + cin, v3 = v2 + cin, v4 = v3 + cin, v5 = v4 + cin;
        for (int c = 0; c < cin; c++)
        {
            var u0 = Vector256.Load(u); var u1 = Vector256.Load(u + 8);
            u += uStride;
            var b = Vector256.Create(v[c]);
            c00 = Vector256.FusedMultiplyAdd(b, u0, c00); c01 = Vector256.FusedMultiplyAdd(b, u1, c01);
            b = Vector256.Create(v1[c]);
            c10 = Vector256.FusedMultiplyAdd(b, u0, c10); c11 = Vector256.FusedMultiplyAdd(b, u1, c11);
            b = Vector256.Create(v2[c]);
            c20 = Vector256.FusedMultiplyAdd(b, u0, c20); c21 = Vector256.FusedMultiplyAdd(b, u1, c21);
            b = Vector256.Create(v3[c]);
            c30 = Vector256.FusedMultiplyAdd(b, u0, c30); c31 = Vector256.FusedMultiplyAdd(b, u1, c31);
            b = Vector256.Create(v4[c]);
            c40 = Vector256.FusedMultiplyAdd(b, u0, c40); c41 = Vector256.FusedMultiplyAdd(b, u1, c41);
            b = Vector256.Create(v5[c]);
            c50 = Vector256.FusedMultiplyAdd(b, u0, c50); c51 = Vector256.FusedMultiplyAdd(b, u1, c51);
        }
        c00.Store(m); c01.Store(m + 8); m += mStride;
        c10.Store(m); c11.Store(m + 8); m += mStride;
        c20.Store(m); c21.Store(m + 8); m += mStride;
        c30.Store(m); c31.Store(m + 8); m += mStride;
        c40.Store(m); c41.Store(m + 8); m += mStride;
        c50.Store(m); c51.Store(m + 8);
    }


    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NativeMemory.AlignedFree(_u);
        NativeMemory.AlignedFree(_zeros);
    }

    private bool _disposed;
}
