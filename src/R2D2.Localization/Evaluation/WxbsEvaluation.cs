using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Evaluation;

/// <summary>One method on a set of WxBS pairs: the share of pairs solved at each threshold (of
/// <see cref="WxbsEvaluation.Summarize"/>'s), the mean recall of ground-truth correspondences over
/// 1–20 px, the median over pairs of the pair's mean ground-truth error (px; +∞ when more than
/// half the pairs have no F), and, for a matching method, the medians and means of its counts
/// (null for the labelling's own reference row).</summary>
public sealed record WxbsSummary(string Label, int Pairs, double[] Solved, double Recall, double MedianError,
    double? MedianInliers = null, double? MeanMatches = null, double? MeanKeypoints = null);

/// <summary>
/// The WxBS protocol (Mishkin et al., BMVC 2015), pure: a method estimates the fundamental matrix
/// F of a pair from its own matches, and F is judged by the pair's hand-labelled correspondences.
/// The error of a correspondence is its symmetric epipolar distance under F (below); a pair is
/// solved at threshold t when the mean error of its correspondences is below t px (the mean, as
/// the paper's curves of pairs against the mean error: one wrong label is enough to push a pair
/// out, which the labelling's own leave-one-out errors bound, see <see cref="WxbsPairs"/>). The
/// recall is the WxBS benchmark code's second measure: the share of correspondences within t px,
/// here averaged over t = 1…20 px and over pairs.
/// </summary>
public static class WxbsEvaluation
{
    /// <summary>Thresholds of the solved-pairs curve (px); the paper plots 1–20.</summary>
    public static readonly int[] DefaultThresholds = { 1, 2, 3, 5, 10, 15, 20 };

    /// <summary>The largest threshold of <see cref="Recall"/> (px; thresholds 1, 2, …, this).</summary>
    public const int RecallMaxThreshold = 20;

    /// <summary>
    /// The error of each correspondence under <paramref name="f"/> (x₂ᵀ·F·x₁ = 0; null: no F was
    /// found, every error +∞).
    /// The error is the symmetric epipolar distance √(d₁² + d₂²), d₁ and d₂ the distances of each
    /// point to the epipolar line of the other (<see cref="EpipolarVerification.SymmetricDistance"/>):
    /// what the WxBS benchmark code computes (kornia's symmetrical_epipolar_distance, squared=False)
    /// and what the dataset's crossval_errors.txt holds, rather than a transfer error, which needs a
    /// point-to-point map (a homography) that a general scene with F does not have.
    /// </summary>
    public static double[] Errors(double[]? f, IReadOnlyList<Correspondence> correspondences)
    {
        var e = new double[correspondences.Count];
        for (int i = 0; i < e.Length; i++)
        {
            var c = correspondences[i];
            e[i] = f == null ? double.PositiveInfinity : EpipolarVerification.SymmetricDistance(f, c.X1, c.Y1, c.X2, c.Y2);
            if (double.IsNaN(e[i])) e[i] = double.PositiveInfinity;
        }
        return e;
    }

    /// <summary>A pair's error: the mean of its correspondences' errors (+∞ when any is).</summary>
    public static double PairError(IReadOnlyList<double> errors) => errors.Count == 0 ? double.PositiveInfinity : errors.Average();

    /// <summary>Whether a pair of error <paramref name="pairError"/> counts as solved at <paramref name="thresholdPx"/>.</summary>
    public static bool Solved(double pairError, double thresholdPx) => pairError < thresholdPx;

    /// <summary>The share of <paramref name="errors"/> at most t, averaged over t = 1…<see cref="RecallMaxThreshold"/> px.</summary>
    public static double Recall(IReadOnlyList<double> errors)
    {
        if (errors.Count == 0) return 0;
        double sum = 0;
        for (int t = 1; t <= RecallMaxThreshold; t++) sum += errors.Count(e => e <= t) / (double)errors.Count;
        return sum / RecallMaxThreshold;
    }

    /// <summary>The solved shares, recall and median error of one method over pairs (each pair's
    /// correspondence errors); the counts of a matching method are filled in by its caller.</summary>
    public static WxbsSummary Summarize(string label, IReadOnlyList<IReadOnlyList<double>> errorsPerPair, IReadOnlyList<int> thresholds)
    {
        var pairErrors = errorsPerPair.Select(PairError).ToArray();
        int n = Math.Max(pairErrors.Length, 1);
        var solved = thresholds.Select(t => pairErrors.Count(e => Solved(e, t)) / (double)n).ToArray();
        double recall = errorsPerPair.Count == 0 ? 0 : errorsPerPair.Average(Recall);
        return new WxbsSummary(label, pairErrors.Length, solved, recall, Statistics.Median(pairErrors));
    }
}
