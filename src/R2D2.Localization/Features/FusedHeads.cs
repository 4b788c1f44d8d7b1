using System.Runtime.Intrinsics;

namespace R2D2.Localization.Features;

/// <summary>
/// R2D2's heads on the CPU in one pass over the trunk's features, for extraction: per pixel the
/// reliability softmax(clf(x²))[1], the repeatability softplus(u)/(1 + softplus(u)) with
/// u = sal(x²), and the descriptor norm ‖x‖. libtorch's heads pass over the 128-channel map four
/// times (x², the 1×1 convolution, the norm, the division) and write two maps of its size; here
/// it is read once and nothing of its size is written: the descriptors are normalized only at
/// the keypoints (<see cref="KeypointMaps.DescriptorsAt"/>). Same formulas; the channel sums
/// run in another order (float32, channel by channel), so results differ from libtorch's by
/// float rounding.
/// </summary>
internal static class FusedHeads
{
    /// <summary>Pixels per work item: its four accumulator rows (8 kB) stay in L1 while the
    /// channels stream through.</summary>
    private const int Chunk = 512;

    /// <param name="features">C×P float32, channel-major (one N=1 NCHW map, P = H·W pixels)</param>
    /// <param name="weight">3×C: the two reliability rows (clf), then the repeatability row (sal)</param>
    /// <param name="bias">3 biases in the same order</param>
    /// <param name="reliability">P outputs</param>
    /// <param name="repeatability">P outputs</param>
    /// <param name="norm">P outputs: ‖x‖ over the channels</param>
    public static unsafe void Run(float* features, int channels, long pixels, float[] weight, float[] bias,
        float* reliability, float* repeatability, float[] norm, int threads)
    {
        if (weight.Length != 3 * channels || bias.Length != 3) throw new ArgumentException("the heads need 3×C weights and 3 biases");
        if (norm.Length < pixels) throw new ArgumentException("norm buffer too small");
        long chunks = (pixels + Chunk - 1) / Chunk;
        nint x = (nint)features, rel = (nint)reliability, rep = (nint)repeatability;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, chunk =>
        {
            long p0 = chunk * Chunk;
            int n = (int)Math.Min(Chunk, pixels - p0);
            Span<float> acc = stackalloc float[4 * Chunk];
            acc.Clear();
            fixed (float* a = acc)
                Accumulate((float*)x + p0, channels, pixels, n, weight, a);
            for (int i = 0; i < n; i++)
                Finish(acc[i], acc[Chunk + i], acc[2 * Chunk + i], acc[3 * Chunk + i], bias, p0 + i, (float*)rel, (float*)rep, norm);
        });
    }

    /// <summary>The same heads on a channels-last map (P×C, a pixel's channels contiguous: the
    /// Winograd trunk's output), C a multiple of 16: each pixel's four sums over its channels in
    /// 16 lanes, then across the lanes.</summary>
    public static unsafe void RunChannelsLast(float* features, int channels, long pixels, float[] weight, float[] bias,
        float* reliability, float* repeatability, float[] norm, int threads)
    {
        if (weight.Length != 3 * channels || bias.Length != 3) throw new ArgumentException("the heads need 3×C weights and 3 biases");
        if (channels % 16 != 0) throw new ArgumentException("channels-last heads need a multiple of 16 channels");
        if (norm.Length < pixels) throw new ArgumentException("norm buffer too small");
        long chunks = (pixels + Chunk - 1) / Chunk;
        nint x = (nint)features, rel = (nint)reliability, rep = (nint)repeatability;
        Parallel.For(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, chunk =>
        {
            long p0 = chunk * Chunk, p1 = Math.Min(pixels, p0 + Chunk);
            fixed (float* w = weight)
                for (long p = p0; p < p1; p++)
                {
                    float* px = (float*)x + p * channels;
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int c = 0; c < channels; c += 16)
                    {
                        var v = Vector512.Load(px + c);
                        var sq = v * v;
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Load(w + c), sq, a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Load(w + channels + c), sq, a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 2 * channels + c), sq, a2);
                        a3 += sq;
                    }
                    Finish(Vector512.Sum(a0), Vector512.Sum(a1), Vector512.Sum(a2), Vector512.Sum(a3), bias, p, (float*)rel, (float*)rep, norm);
                }
        });
    }

    /// <summary>Pixel <paramref name="p"/>'s outputs from its sums Σw·x² (the three head rows,
    /// before the bias) and Σx².</summary>
    private static unsafe void Finish(float s0, float s1, float s2, float sumSquares, float[] bias, long p, float* rel, float* rep, float[] norm)
    {
        s0 += bias[0]; s1 += bias[1]; s2 += bias[2];
        // softmax over the two clf logits, channel 1 (as torch: shifted by the max)
        float m = MathF.Max(s0, s1);
        float e0 = MathF.Exp(s0 - m), e1 = MathF.Exp(s1 - m);
        rel[p] = e1 / (e0 + e1);
        // torch's softplus (beta 1, threshold 20)
        float sp = s2 > 20f ? s2 : LogOnePlusExp(s2);
        rep[p] = sp / (sp + 1f);
        norm[p] = MathF.Sqrt(sumSquares);
    }

    /// <summary>log(1 + eˣ) as log1p(exp(x)), in double so the small-x end keeps its digits.</summary>
    private static float LogOnePlusExp(float x)
    {
        double e = Math.Exp(x);
        return (float)(e < 1e-5 ? e - e * e / 2 : Math.Log(1 + e));
    }

    /// <summary>acc rows 0–2 += w_k,c · x_c², row 3 += x_c², for n pixels from <paramref name="x"/>
    /// (channel c at x + c·stride), channel after channel.</summary>
    private static unsafe void Accumulate(float* x, int channels, long stride, int n, float[] weight, float* acc)
    {
        float* a0 = acc, a1 = acc + Chunk, a2 = acc + 2 * Chunk, a3 = acc + 3 * Chunk;
        int vn = n & ~7;
        for (int c = 0; c < channels; c++)
        {
            float w0 = weight[c], w1 = weight[channels + c], w2 = weight[2 * channels + c];
            var v0 = Vector256.Create(w0); var v1 = Vector256.Create(w1); var v2 = Vector256.Create(w2);
            float* row = x + c * stride;
            int i = 0;
            for (; i < vn; i += 8)
            {
                var xv = Vector256.Load(row + i);
                var sq = xv * xv;
                Vector256.Store(Vector256.MultiplyAddEstimate(v0, sq, Vector256.Load(a0 + i)), a0 + i);
                Vector256.Store(Vector256.MultiplyAddEstimate(v1, sq, Vector256.Load(a1 + i)), a1 + i);
                Vector256.Store(Vector256.MultiplyAddEstimate(v2, sq, Vector256.Load(a2 + i)), a2 + i);
                Vector256.Store(Vector256.Load(a3 + i) + sq, a3 + i);
            }
            for (; i < n; i++)
            {
                float sq = row[i] * row[i];
                a0[i] = float.MultiplyAddEstimate(w0, sq, a0[i]);
                a1[i] = float.MultiplyAddEstimate(w1, sq, a1[i]);
                a2[i] = float.MultiplyAddEstimate(w2, sq, a2[i]);
                a3[i] += sq;
            }
        }
    }
}
