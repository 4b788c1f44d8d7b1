using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;

namespace R2D2.Localization.Evaluation;

/// <summary>
/// Mean matching accuracy (the HPatches protocol of D2-Net and R2D2): for an image pair with a
/// ground-truth homography, the share of matches whose keypoint in image 1, mapped by H, lands
/// within t px of its match in image 2; averaged over pairs.
/// </summary>
public static class MatchingAccuracy
{
    public static readonly int[] DefaultThresholds = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

    /// <summary>Per threshold, the share of correct matches of one pair (0 when there are no matches).</summary>
    public static double[] OfPair(IReadOnlyList<Match> matches, float[] x1, float[] y1, float[] x2, float[] y2,
        ReadOnlySpan<double> h, IReadOnlyList<int> thresholds)
    {
        var r = new double[thresholds.Count];
        if (matches.Count == 0) return r;
        foreach (var m in matches)
        {
            var (px, py) = Homography.Apply(h, x1[m.I], y1[m.I]);
            double d = Math.Sqrt((px - x2[m.J]) * (px - x2[m.J]) + (py - y2[m.J]) * (py - y2[m.J]));
            for (int t = 0; t < thresholds.Count; t++) if (d <= thresholds[t]) r[t]++;
        }
        for (int t = 0; t < r.Length; t++) r[t] /= matches.Count;
        return r;
    }
}
