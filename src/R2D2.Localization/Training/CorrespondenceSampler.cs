using R2D2.Localization.Features;
using TorchSharp;
using static TorchSharp.torch;

namespace R2D2.Localization.Training;

/// <summary>Where queries, positives and negatives are drawn (pixels).</summary>
public sealed record SamplerSettings
{
    /// <summary>Queries on a grid of this step in image 1 (dense pairs), with a random offset per batch.</summary>
    public int QueryStep { get; init; } = 8;
    /// <summary>Queries and their targets stay this far from the image borders.</summary>
    public int Border { get; init; } = 16;
    /// <summary>Positives: image-2 pixels within this radius of the true position; the best one counts
    /// (the correspondence is only known to a pixel or two).</summary>
    public int PositiveRadius { get; init; } = 3;
    /// <summary>Hard negatives: image-2 pixels at distance in [NegativeRadius, NeighbourhoodRadius] of the target.</summary>
    public int NegativeRadius { get; init; } = 5;
    public int NeighbourhoodRadius { get; init; } = 7;
    /// <summary>Distractors: image-2 pixels of every pair of the batch on a grid of this step (those
    /// nearer than NegativeRadius to the target are left out).</summary>
    public int DistractorStep { get; init; } = 8;
    /// <summary>Sparse pairs: at most this many queries per pair.</summary>
    public int MaxSparseQueries { get; init; } = 400;
}

/// <summary>The similarities of each query to its candidates (column 0: the positive).</summary>
public sealed record SampledScores(Tensor Scores, Tensor Labels, Tensor Weights, Tensor Reliability, int Queries);

/// <summary>
/// Draws query pixels in image 1 and, from the correspondence field, the positive and many
/// negatives in image 2: a ring of hard negatives just outside the positive's radius, and
/// distractors all over the batch's images 2.
/// </summary>
public sealed class CorrespondenceSampler
{
    private readonly SamplerSettings _s;
    private readonly (int Dx, int Dy)[] _positive, _ring;

    public CorrespondenceSampler(SamplerSettings? settings = null)
    {
        _s = settings ?? new SamplerSettings();
        var pos = new List<(int, int)>();
        var ring = new List<(int, int)>();
        int r = _s.NeighbourhoodRadius;
        for (int dy = -r; dy <= r; dy++)
            for (int dx = -r; dx <= r; dx++)
            {
                int d2 = dx * dx + dy * dy;
                if (d2 <= _s.PositiveRadius * _s.PositiveRadius) pos.Add((dx, dy));
                else if (d2 >= _s.NegativeRadius * _s.NegativeRadius && d2 <= r * r) ring.Add((dx, dy));
            }
        _positive = pos.ToArray();
        _ring = ring.ToArray();
    }

    public SamplerSettings Settings => _s;

    /// <summary>
    /// Scores for a batch. Descriptors B×D×H×W (both images the same size), reliabilities B×1×H×W,
    /// flows as the pairs give them (2×H×W per pair, on the CPU). Random choices come from
    /// <paramref name="rng"/> only.
    /// </summary>
    public SampledScores Sample(Tensor desc1, Tensor desc2, Tensor rel1, Tensor rel2, IReadOnlyList<TrainingPair> pairs, Rng rng)
    {
        long b = desc1.shape[0], d = desc1.shape[1], h = desc1.shape[2], w = desc1.shape[3];
        int border = _s.Border, margin = Math.Max(border, _s.NeighbourhoodRadius);
        var qIdx = new List<long>();
        var tIdx = new List<long>();
        var tPos = new List<(int B, int X, int Y)>();
        int ox = rng.Next(_s.QueryStep), oy = rng.Next(_s.QueryStep);
        for (int i = 0; i < b; i++)
        {
            var p = pairs[i];
            var candidates = new List<(int X, int Y)>();
            if (p.Dense)
            {
                for (int y = border + oy; y < h - border; y += _s.QueryStep)
                    for (int x = border + ox; x < w - border; x += _s.QueryStep) candidates.Add((x, y));
            }
            else
            {
                for (int y = border; y < h - border; y++)
                    for (int x = border; x < w - border; x++)
                        if (!float.IsNaN(p.Flow[y * w + x])) candidates.Add((x, y));
                Shuffle(candidates, rng);
                if (candidates.Count > _s.MaxSparseQueries) candidates.RemoveRange(_s.MaxSparseQueries, candidates.Count - _s.MaxSparseQueries);
            }
            foreach (var (x, y) in candidates)
            {
                float fx = p.Flow[y * w + x], fy = p.Flow[h * w + y * w + x];
                if (float.IsNaN(fx) || float.IsNaN(fy)) continue;
                int tx = (int)Math.Round(fx), ty = (int)Math.Round(fy);
                if (tx < margin || ty < margin || tx >= w - margin || ty >= h - margin) continue;
                qIdx.Add(i * h * w + (long)y * w + x);
                tIdx.Add(i * h * w + (long)ty * w + tx);
                tPos.Add((i, tx, ty));
            }
        }
        int nq = qIdx.Count;
        var dev = desc1.device;
        if (nq == 0)
            return new SampledScores(zeros(0, 1, device: dev), zeros(0, 1, device: dev), zeros(0, 1, device: dev), zeros(0, device: dev), 0);
        using var scope = NewDisposeScope();

        // Distractors: a grid over every image 2 of the batch.
        int gx = rng.Next(_s.DistractorStep), gy = rng.Next(_s.DistractorStep);
        var dIdx = new List<long>();
        var dPos = new List<(int B, int X, int Y)>();
        for (int i = 0; i < b; i++)
            for (int y = gy; y < h; y += _s.DistractorStep)
                for (int x = gx; x < w; x += _s.DistractorStep)
                {
                    dIdx.Add(i * h * w + (long)y * w + x);
                    dPos.Add((i, x, y));
                }

        // Offsets of positives and ring negatives are index offsets in the flattened image (the
        // margin keeps them inside the target's image).
        long[] Offsets((int Dx, int Dy)[] o) => o.Select(v => (long)v.Dy * w + v.Dx).ToArray();
        var qi = tensor(qIdx.ToArray(), device: dev);
        var ti = tensor(tIdx.ToArray(), device: dev);
        var posIdx = ti.unsqueeze(1).Add(tensor(Offsets(_positive), device: dev).unsqueeze(0));   // Q×P
        var ringIdx = ti.unsqueeze(1).Add(tensor(Offsets(_ring), device: dev).unsqueeze(0));      // Q×R

        var flat1 = desc1.permute(0, 2, 3, 1).reshape(-1, d);
        var flat2 = desc2.permute(0, 2, 3, 1).reshape(-1, d);
        var q = flat1.index_select(0, qi);                                                        // Q×D
        var qv = q.unsqueeze(1);
        var sPos = flat2.index_select(0, posIdx.flatten()).view(nq, _positive.Length, d).mul(qv).sum(2).amax(new long[] { 1 }, keepdim: true);
        var sRing = flat2.index_select(0, ringIdx.flatten()).view(nq, _ring.Length, d).mul(qv).sum(2);
        var sDist = q.matmul(flat2.index_select(0, tensor(dIdx.ToArray(), device: dev)).t());    // Q×M

        // Distractors near the target (same image) are not negatives.
        Tensor Column(IEnumerable<int> v) => tensor(v.ToArray(), device: dev);
        var (tb, tgx, tgy) = (Column(tPos.Select(t => t.B)).unsqueeze(1), Column(tPos.Select(t => t.X)).unsqueeze(1), Column(tPos.Select(t => t.Y)).unsqueeze(1));
        var (db, dx, dy) = (Column(dPos.Select(t => t.B)).unsqueeze(0), Column(dPos.Select(t => t.X)).unsqueeze(0), Column(dPos.Select(t => t.Y)).unsqueeze(0));
        var near = tb.eq(db).logical_and(tgx.sub(dx).Square().Add(tgy.sub(dy).Square()).Lt(_s.NegativeRadius * _s.NegativeRadius));
        var mask = near.logical_not().to(desc1.dtype);
        var scores = cat(new[] { sPos, sRing, sDist }, 1);
        var labels = zeros_like(scores);
        labels.narrow(1, 0, 1).FillInPlace(1);
        var weights = cat(new[] { ones_like(sPos), ones_like(sRing), mask }, 1);
        var reliability = rel1.flatten().index_select(0, qi).Add(rel2.flatten().index_select(0, ti)).Mul(0.5);
        return new SampledScores(scores.MoveToOuterDisposeScope(), labels.MoveToOuterDisposeScope(), weights.MoveToOuterDisposeScope(),
            reliability.MoveToOuterDisposeScope(), nq);
    }

    private static void Shuffle<T>(List<T> list, Rng rng)
    {
        for (int i = list.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (list[i], list[j]) = (list[j], list[i]);
        }
    }
}
