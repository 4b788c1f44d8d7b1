using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Matching;

namespace R2D2.Localization.Evaluation;

/// <summary>Which keypoint coordinates the homography is applied to.</summary>
public enum CoordinateConvention
{
    /// <summary>The official R2D2 numbers, x = i·W/w (what published MMA figures use).</summary>
    Official,
    /// <summary>The project's pixel-centre coordinates, x = (i + 0.5)·W/w − 0.5.</summary>
    Centre,
}

public sealed record MmaRow(string Label, double[] Mma, double MeanMatches, double MeanKeypoints, int Pairs);

/// <summary>MMA of mutual-NN matches over homography pairs (features extracted once per image).</summary>
public static class HomographyEvaluation
{
    public static List<MmaRow> Run(IReadOnlyList<HomographyPair> pairs, Func<string, FeatureSet> extract,
        IReadOnlyList<CoordinateConvention> conventions, string label, IReadOnlyList<int> thresholds, TorchSharp.torch.Device? device = null)
    {
        var sums = conventions.Select(_ => new double[thresholds.Count]).ToArray();
        double matches = 0, keypoints = 0;
        var cache = new Dictionary<string, FeatureSet>();
        FeatureSet Get(string p) => cache.TryGetValue(p, out var f) ? f : cache[p] = extract(p);
        foreach (var pair in pairs)
        {
            var f1 = Get(pair.Image1);
            var f2 = Get(pair.Image2);
            var m = MutualNearestNeighbours.Match(f1.Descriptors, f1.Count, f2.Descriptors, f2.Count, f1.Dim, device);
            matches += m.Count;
            keypoints += (f1.Count + f2.Count) / 2.0;
            for (int c = 0; c < conventions.Count; c++)
            {
                var acc = conventions[c] == CoordinateConvention.Official
                    ? MatchingAccuracy.OfPair(m, f1.OfficialX, f1.OfficialY, f2.OfficialX, f2.OfficialY, pair.H, thresholds)
                    : MatchingAccuracy.OfPair(m, f1.X, f1.Y, f2.X, f2.Y, pair.H, thresholds);
                for (int t = 0; t < thresholds.Count; t++) sums[c][t] += acc[t];
            }
        }
        int n = Math.Max(pairs.Count, 1);
        return conventions.Select((c, i) => new MmaRow($"{label} ({c.ToString().ToLowerInvariant()} coordinates)",
            sums[i].Select(s => s / n).ToArray(), matches / n, keypoints / n, pairs.Count)).ToList();
    }
}
