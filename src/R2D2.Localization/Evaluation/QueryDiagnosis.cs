using System.Globalization;
using System.Text;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;

namespace R2D2.Localization.Evaluation;

/// <summary>What became of a query with a true pose (<see cref="QueryDiagnoses.Diagnose"/>).</summary>
public enum QueryVerdict
{
    /// <summary>Within the threshold diagnosed against.</summary>
    Within,
    /// <summary>No pose (too few inliers).</summary>
    NotLocalized,
    /// <summary>None of the database images it was matched against is relevant to its true pose: retrieval's miss.</summary>
    NoRelevantImage,
    /// <summary>Posed far off (beyond the near bound) at a place where the query's features find at
    /// least as many pose-guided matches as at the true place: a look-alike the query cannot tell apart.</summary>
    LookAlike,
    /// <summary>Posed far off although the true place gives more pose-guided matches: the true place
    /// was not among the poses tried, or lost to fewer inliers.</summary>
    WrongPlace,
    /// <summary>Near but outside the threshold, and the true pose fits the estimate's inliers no
    /// better than the estimate (median reprojection error): the matches do not fix the pose closer.</summary>
    Undetermined,
    /// <summary>Near but outside the threshold while the true pose fits the estimate's inliers
    /// better: the estimate stopped short of the least-squares pose.</summary>
    Refinement,
}

/// <summary>One query's diagnosis: its errors, whether the images it was matched against held a
/// relevant one, the median reprojection error (px) of the estimate's inliers under the estimate and
/// under the true pose, and the pose-guided matches (<see cref="QueryDiagnoses.Evidence"/>) at the
/// estimate and at the true pose (−1 when not computed: only far-off poses need them).</summary>
public sealed record QueryDiagnosis(string Name, bool Localized, int Inliers, double PositionErrorMetres, double RotationErrorDegrees,
    int RelevantImages, int RelevantMatched, double ResidualAtEstimatePx, double ResidualAtTruthPx,
    int EvidenceAtEstimate, int EvidenceAtTruth, QueryVerdict Verdict);

/// <summary>One localized query of a set, retrieval method and matching scheme, diagnosed.</summary>
public sealed record QueryDiagnosisRow(string Set, string Method, MatchingScheme Scheme, QueryDiagnosis Query);

/// <summary>
/// Why a localized query missed, from its features, its result and its true pose: retrieval (no
/// relevant image), a look-alike place (posed far off where the query's keypoints find at least as
/// much support as at the true place, so no score over these features can prefer the truth), a
/// wrong place (the truth had more support), a pose the matches leave undetermined (near, and the
/// true pose fits the inliers as well), or a refinement that stopped short. Far off: beyond
/// <c>farMetres</c> or <c>farDegrees</c> (the coarsest Aachen threshold, 5 m and 10°). Pure: no I/O.
/// </summary>
public static class QueryDiagnoses
{
    /// <summary>The true pose must fit the estimate's inliers this much better (median error ratio)
    /// to call a near miss the refinement's, not the matches'.</summary>
    public const double RefinementRatio = 0.9;

    public static QueryDiagnosis Diagnose(QueryResult result, Pose truth, FeatureSet f, Camera camera, MapIndex map,
        IReadOnlyCollection<int> matchedImages, IReadOnlyList<int> relevantRanking, PoseThreshold within,
        double farMetres = 5, double farDegrees = 10)
    {
        var error = new QueryError(result.Name, PoseEvaluation.PositionError(result.Pose, truth), PoseEvaluation.RotationError(result.Pose, truth));
        double pos = error.PositionMetres, rot = error.RotationDegrees;
        var relevant = relevantRanking.ToHashSet();
        int relevantMatched = matchedImages.Count(relevant.Contains);
        double resEst = double.NaN, resTrue = double.NaN;
        int evEst = -1, evTrue = -1;
        QueryVerdict verdict;
        if (!result.Localized) verdict = QueryVerdict.NotLocalized;
        else
        {
            resEst = MedianResidual(result, result.Pose, camera, map);
            resTrue = MedianResidual(result, truth, camera, map);
            if (error.Within(within)) verdict = QueryVerdict.Within;
            else if (relevantMatched == 0) verdict = QueryVerdict.NoRelevantImage;
            else if (pos > farMetres || rot > farDegrees)
            {
                evEst = Evidence(result.Pose, f, camera, map, PoseVisibility.Ranking(PoseVisibility.SharedPoints(map, camera, result.Pose)));
                evTrue = Evidence(truth, f, camera, map, relevantRanking);
                verdict = evEst >= evTrue ? QueryVerdict.LookAlike : QueryVerdict.WrongPlace;
            }
            else verdict = resTrue < RefinementRatio * resEst ? QueryVerdict.Refinement : QueryVerdict.Undetermined;
        }
        return new QueryDiagnosis(result.Name, result.Localized, result.Inliers, pos, rot, relevant.Count, relevantMatched,
            resEst, resTrue, evEst, evTrue, verdict);
    }

    /// <summary>The support a pose finds among the query's keypoints: pose-guided matches
    /// (<see cref="GuidedMatching"/>, its default radius, ratio and similarity) against the points
    /// of the <paramref name="images"/> count first ones of <paramref name="ranking"/>, the database
    /// images that see most of what the pose sees.</summary>
    public static int Evidence(Pose pose, FeatureSet f, Camera camera, MapIndex map, IReadOnlyList<int> ranking, int images = 20)
    {
        var points = ranking.Take(images).Where(map.PointsByImage.ContainsKey).SelectMany(id => map.PointsByImage[id]).Distinct().ToArray();
        if (points.Length == 0 || f.Count == 0) return 0;
        var (ux, uy) = camera.UndistortPixels(f.X, f.Y);
        return GuidedMatching.Find(pose, camera.Pinhole, f.ImageWidth, f.ImageHeight, ux, uy, f.Descriptors, f.Dim,
            points, j => (map.Points[j].X, map.Points[j].Y, map.Points[j].Z), map.Descriptors, new GuidedMatchingOptions()).Count;
    }

    /// <summary>Median distance (px) between the result's inlier keypoints and their points projected
    /// with <paramref name="pose"/>; NaN without inliers, +∞ for a point behind the camera.</summary>
    public static double MedianResidual(QueryResult result, Pose pose, Camera camera, MapIndex map)
    {
        if (result.InlierPoints is not { Length: > 0 } ids || result.InlierXY == null) return double.NaN;
        var d = new double[ids.Length];
        for (int k = 0; k < ids.Length; k++)
        {
            var p = map.Points[ids[k]];
            var xc = pose.ToCamera(p.X, p.Y, p.Z);
            if (xc[2] <= 1e-9) { d[k] = double.PositiveInfinity; continue; }
            var (u, v) = camera.Project(xc[0], xc[1], xc[2]);
            d[k] = Math.Sqrt((u - result.InlierXY[2 * k]) * (u - result.InlierXY[2 * k]) + (v - result.InlierXY[2 * k + 1]) * (v - result.InlierXY[2 * k + 1]));
        }
        return Statistics.Median(d);
    }

    /// <summary>Per set, method and scheme: how many queries got each verdict.</summary>
    public static string Table(IEnumerable<QueryDiagnosisRow> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        var verdicts = Enum.GetValues<QueryVerdict>();
        var header = new[] { "set", "images from", "matching", "queries" }.Concat(verdicts.Select(Label)).ToArray();
        var lines = rows.GroupBy(d => (d.Set, d.Method, d.Scheme))
            .Select(g => new[] { g.Key.Set, g.Key.Method, MatchingSchemes.Name(g.Key.Scheme), g.Count().ToString(inv) }
                .Concat(verdicts.Select(v => g.Count(d => d.Query.Verdict == v).ToString(inv))).ToArray());
        return PoseEvaluationTable.Align(header, lines);
    }

    /// <summary>Every diagnosed query as CSV, one row each (empty fields: not computed).</summary>
    public static string Csv(IEnumerable<QueryDiagnosisRow> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        string Num(double v) => double.IsNaN(v) ? "" : double.IsPositiveInfinity(v) ? "inf" : v.ToString("R", inv);
        string Count(int v) => v < 0 ? "" : v.ToString(inv);
        var sb = new StringBuilder("set,method,matching,query,localized,inliers,position_error_m,rotation_error_deg,relevant_images,relevant_matched,"
            + "residual_px_estimate,residual_px_truth,evidence_estimate,evidence_truth,verdict\n");
        foreach (var d in rows)
        {
            var q = d.Query;
            sb.AppendJoin(',', Formats.Csv.Field(d.Set), Formats.Csv.Field(d.Method), MatchingSchemes.Name(d.Scheme), Formats.Csv.Field(q.Name), q.Localized ? "1" : "0",
                q.Inliers.ToString(inv), Num(q.PositionErrorMetres), Num(q.RotationErrorDegrees), q.RelevantImages.ToString(inv), q.RelevantMatched.ToString(inv),
                Num(q.ResidualAtEstimatePx), Num(q.ResidualAtTruthPx), Count(q.EvidenceAtEstimate), Count(q.EvidenceAtTruth), Label(q.Verdict)).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>The verdict as the tables and the CSV write it.</summary>
    public static string Label(QueryVerdict v) => v switch
    {
        QueryVerdict.Within => "within",
        QueryVerdict.NotLocalized => "not-localized",
        QueryVerdict.NoRelevantImage => "no-relevant-image",
        QueryVerdict.LookAlike => "look-alike",
        QueryVerdict.WrongPlace => "wrong-place",
        QueryVerdict.Undetermined => "undetermined",
        QueryVerdict.Refinement => "refinement",
        _ => v.ToString(),
    };
}
