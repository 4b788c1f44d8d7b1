using R2D2.Localization.Features;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace R2D2.Localization.Training;

/// <summary>
/// The R2D2 losses, written from the paper's description (Revaud et al., NeurIPS 2019):
/// a differentiable average precision (He et al.'s quantized histogram), weighted by the
/// reliability; and, for the repeatability map, a local cosine-similarity loss plus a peakiness term.
/// </summary>
public static class Losses
{
    /// <summary>
    /// Soft assignment of similarities to <paramref name="bins"/> bins whose centres run from
    /// <paramref name="max"/> down to <paramref name="min"/> (highest first): triangular kernels of
    /// half-width Δ = (max − min)/(bins − 1), so the memberships of a score sum to 1; the first and
    /// last bins take everything above max or below min. Returns scores' shape + [bins].
    /// </summary>
    public static Tensor Quantize(Tensor scores, int bins, double min = 0, double max = 1)
    {
        if (bins < 2) throw new ArgumentOutOfRangeException(nameof(bins), "at least 2 bins");
        double delta = (max - min) / (bins - 1);
        using var scope = NewDisposeScope();
        var centres = linspace(max, min, bins, dtype: scores.dtype, device: scores.device);
        var s = scores.unsqueeze(-1);
        var q = s.sub(centres).abs().Div(delta).neg().Add(1).ClampMin(0);
        // Saturate the end bins: a score above the top centre belongs wholly to the top bin, one below
        // the bottom centre wholly to the bottom bin.
        var top = s.Ge(max).to(scores.dtype);
        var bottom = s.Le(min).to(scores.dtype);
        var ends = cat(new[] { top, zeros_like(q.narrow(-1, 1, bins - 2)), bottom }, -1);
        return q.maximum(ends).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Differentiable average precision of each row's ranking: scores Q×M, labels Q×M (1 for a
    /// correct match, 0 otherwise), optional weights Q×M (0 removes an entry). With the bins'
    /// histograms h (all entries) and r (correct ones), from the highest bin down:
    /// AP = Σ_k [Σ_{j≤k+1} r_j / Σ_{j≤k+1} h_j] · r_k / Σ r.
    /// The precision of bin k counts down to bin k+1: every score is shared between two neighbouring
    /// bins, and with He et al.'s count up to bin k an entry would be ranked with only part of
    /// itself, which biases the AP by a constant share of a rank however many bins there are. So
    /// counted, the AP tends to the exact AP as bins grow (entries closer than two bins tie).
    /// </summary>
    public static Tensor AveragePrecision(Tensor scores, Tensor labels, Tensor? weights = null, int bins = 20, double min = 0, double max = 1)
    {
        using var scope = NewDisposeScope();
        var w = weights is null ? ones_like(scores) : weights;
        var h = Histogram(scores, w, bins, min, max);                     // Q×K
        var r = Histogram(scores, w.mul(labels), bins, min, max);
        var precision = ThroughNextBin(r).div(ThroughNextBin(h).Add(1e-16));
        var recall = r.div(w.mul(labels).sum(1, keepdim: true).Add(1e-16));
        return precision.mul(recall).sum(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Σ_m weight·<see cref="Quantize"/>(score) per row, without the Q×M×K tensor of memberships:
    /// a score lies between two neighbouring centres and its two nonzero memberships are 1 − f and f
    /// (f its fractional position), so they are scattered into those two bins (Q×M memory, which
    /// matters with thousands of queries and candidates).
    /// </summary>
    public static Tensor Histogram(Tensor scores, Tensor weights, int bins, double min = 0, double max = 1)
    {
        double delta = (max - min) / (bins - 1);
        using var scope = NewDisposeScope();
        var pos = scores.neg().Add(max).Div(delta).Clamp(0, bins - 1);      // 0 at the top centre
        var lower = pos.detach().floor().to(int64);
        var f = pos.sub(lower.to(pos.dtype));                                 // in [0, 1)
        // One spare column takes the (zero) share of scores on the last centre.
        var h = zeros(scores.shape[0], bins + 1, dtype: scores.dtype, device: scores.device);
        h = h.scatter_add(1, lower, weights.mul(f.neg().Add(1))).scatter_add(1, lower.Add(1), weights.mul(f));
        return h.narrow(1, 0, bins).MoveToOuterDisposeScope();
    }

    /// <summary>Cumulative sums over bins 0..k+1 (the last bin: 0..last).</summary>
    private static Tensor ThroughNextBin(Tensor perBin)
    {
        using var scope = NewDisposeScope();
        var c = perBin.cumsum(1);
        long k = c.shape[1];
        return cat(new[] { c.narrow(1, 1, k - 1), c.narrow(1, k - 1, 1) }, 1).MoveToOuterDisposeScope();
    }

    /// <summary>The paper's reliability-weighted AP loss per query: 1 − [AP·R + κ(1 − R)], so an
    /// unreliable pixel (R → 0) costs 1 − κ whatever its AP, and learning R pays off where AP &gt; κ.</summary>
    public static Tensor ReliabilityWeightedAp(Tensor ap, Tensor reliability, double kappa = 0.5)
    {
        using var scope = NewDisposeScope();
        return ap.mul(reliability).Add(reliability.neg().Add(1).Mul(kappa)).neg().Add(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Repeatability similarity: 1 − mean cosine similarity between N×N windows (stride N/2) of the
    /// repeatability of image 1 and the repeatability of image 2 warped into image 1. Maps B×1×H×W;
    /// <paramref name="valid"/> (B×1×H×W, 1 where the correspondence is known) zeroes the rest, and
    /// windows less than half valid are left out.
    /// </summary>
    public static Tensor CosineSimilarity(Tensor rep1, Tensor rep2Warped, Tensor? valid = null, int n = 16)
    {
        using var scope = NewDisposeScope();
        var m = valid ?? ones_like(rep1);
        long stride = Math.Max(1, n / 2);
        Tensor Windows(Tensor t) => F.unfold(t, n, dilation: 1, padding: 0, stride: stride);   // B×N²×L
        var p1 = F.normalize(Windows(rep1.mul(m)), p: 2, dim: 1);
        var p2 = F.normalize(Windows(rep2Warped.mul(m)), p: 2, dim: 1);
        var cos = p1.mul(p2).sum(1);                                                  // B×L
        var keep = Windows(m).mean(new long[] { 1 }).Ge(0.5).to(cos.dtype);
        return cos.mul(keep).sum().div(keep.sum().ClampMin(1)).neg().Add(1).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Peakiness: 1 − mean over pixels of (max − mean) of the (3×3-smoothed) repeatability inside the
    /// (N+1)×(N+1) window around each pixel; low when each window holds a sharp peak.
    /// </summary>
    public static Tensor Peakiness(Tensor rep, int n = 16)
    {
        using var scope = NewDisposeScope();
        var smooth = F.avg_pool2d(rep, new long[] { 3, 3 }, new long[] { 1, 1 }, new long[] { 1, 1 });
        var k = new long[] { n + 1, n + 1 };
        var one = new long[] { 1, 1 };
        var pad = new long[] { n / 2, n / 2 };
        var peak = F.max_pool2d(smooth, k, one, pad);
        var mean = F.avg_pool2d(smooth, k, one, pad);
        return peak.sub(mean).mean().neg().Add(1).MoveToOuterDisposeScope();
    }

    /// <summary>Image 2's map sampled at the flow's positions (bilinear, pixel centres); zero where
    /// the flow is NaN. Returns the warped map and the validity mask, both B×C×H×W.</summary>
    public static (Tensor Warped, Tensor Valid) WarpByFlow(Tensor map2, Tensor flow)
    {
        long h2 = map2.shape[2], w2 = map2.shape[3];
        using var scope = NewDisposeScope();
        var valid = flow.isnan().any(1, keepdim: true).logical_not();
        var f = flow.nan_to_num(0);
        // grid_sample with align_corners=false: −1 and 1 are the outer edges of the border pixels.
        var gx = f.narrow(1, 0, 1).Add(0.5).Mul(2.0 / w2).Sub(1);
        var gy = f.narrow(1, 1, 1).Add(0.5).Mul(2.0 / h2).Sub(1);
        var grid = cat(new[] { gx, gy }, 1).permute(0, 2, 3, 1);
        var warped = F.grid_sample(map2, grid, mode: GridSampleMode.Bilinear, padding_mode: GridSamplePaddingMode.Zeros, align_corners: false);
        var v = valid.to(map2.dtype);
        return (warped.mul(v).MoveToOuterDisposeScope(), v.MoveToOuterDisposeScope());
    }
}
