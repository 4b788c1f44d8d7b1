using R2D2.Localization.Evaluation;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Tests.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>Each verdict of <see cref="QueryDiagnoses"/> on a built synthetic map, from results
/// made to have it: a database image's own features localized (within), poses moved near and far,
/// inliers that fit the estimate or the truth exactly, no relevant image, no pose.</summary>
public class QueryDiagnosisTests
{
    private static readonly PoseThreshold Fine = ThresholdSet.Aachen.Thresholds[0];

    private static List<int> Relevant(MapIndex map, Pose pose) =>
        RetrievalEvaluation.RelevantRanking(RetrievalEvaluation.SharedPoints(map, SyntheticMap.Camera, pose));

    /// <summary>A localized result at <paramref name="estimate"/> whose inliers are the points of
    /// image <paramref name="id"/> that <paramref name="fitted"/> sees, at their exact projections under it.</summary>
    private static QueryResult Exact(MapIndex map, int id, Pose estimate, Pose fitted)
    {
        var ids = new List<int>();
        var xy = new List<float>();
        foreach (int j in map.PointsByImage[id])
        {
            var p = map.Points[j];
            var xc = fitted.ToCamera(p.X, p.Y, p.Z);
            if (xc[2] <= 0) continue;
            var (u, v) = SyntheticMap.Camera.Project(xc[0], xc[1], xc[2]);
            ids.Add(j); xy.Add((float)u); xy.Add((float)v);
        }
        return new QueryResult("q", estimate, true, 0, ids.Count, ids.Count, 0, 0, 0, null, null, xy.ToArray(), ids.ToArray());
    }

    private static Pose Moved(Pose p, double dx) => new(p.Rotation, new[] { p.Translation[0] + dx, p.Translation[1], p.Translation[2] });

    [Fact]
    public void AnImagesOwnFeaturesAreWithinAndFitTheTruePose()
    {
        var (s, map) = SyntheticMap.Built(21);
        int id = map.Images.Keys.Min();
        var truth = map.Images[id].Pose;
        var f = SyntheticMap.Stored(s.DbPath, id);
        var images = map.Images.Keys.ToList();
        var res = Localizer.Localize("q", f, 0, SyntheticMap.Camera, map, null, new LocalizerOptions { PairsByQuery = new R2D2.Localization.Formats.NameIndex<List<int>>(new Dictionary<string, List<int>> { ["q"] = images }) });
        var d = QueryDiagnoses.Diagnose(res, truth, f, SyntheticMap.Camera, map, images, Relevant(map, truth), Fine);
        Assert.Equal(QueryVerdict.Within, d.Verdict);
        Assert.InRange(d.ResidualAtTruthPx, 0, 1);
        Assert.Equal(d.RelevantImages, d.RelevantMatched);
        Assert.Equal(-1, d.EvidenceAtTruth); // support is only counted for far-off poses
    }

    [Fact]
    public void NearMissesAreTheRefinementsWhenTheTruthFitsBetterElseUndetermined()
    {
        var (s, map) = SyntheticMap.Built(21);
        int id = map.Images.Keys.Min();
        var truth = map.Images[id].Pose;
        var near = Moved(truth, 0.5);
        var f = SyntheticMap.Stored(s.DbPath, id);
        var relevant = Relevant(map, truth);
        var fitsTruth = QueryDiagnoses.Diagnose(Exact(map, id, near, truth), truth, f, SyntheticMap.Camera, map, relevant, relevant, Fine);
        Assert.Equal(QueryVerdict.Refinement, fitsTruth.Verdict);
        Assert.Equal(0, fitsTruth.ResidualAtTruthPx, 3);
        var fitsEstimate = QueryDiagnoses.Diagnose(Exact(map, id, near, near), truth, f, SyntheticMap.Camera, map, relevant, relevant, Fine);
        Assert.Equal(QueryVerdict.Undetermined, fitsEstimate.Verdict);
        Assert.Equal(0, fitsEstimate.ResidualAtEstimatePx, 3);
        Assert.True(fitsEstimate.ResidualAtTruthPx > 1);
    }

    /// <summary>Far off: a look-alike when the query's keypoints find as much support where it was
    /// posed as at the truth (here the features are those of the image it was posed at), a wrong
    /// place when the truth had more; without a relevant image among those matched, retrieval's miss.</summary>
    [Fact]
    public void FarPosesAreLookAlikesOrWrongPlacesByTheirSupportAndRetrievalsMissWithoutARelevantImage()
    {
        var (s, map) = SyntheticMap.Built(21);
        var ids = map.Images.Keys.Order().ToList();
        int a = ids[0], b = ids[^1];
        var poseA = map.Images[a].Pose;
        var poseB = map.Images[b].Pose;
        Assert.True(PoseEvaluation.PositionError(poseA, poseB) > 0.01);
        var fa = SyntheticMap.Stored(s.DbPath, a);
        var fb = SyntheticMap.Stored(s.DbPath, b);
        var relevantA = Relevant(map, poseA);
        // Far means beyond 1 cm here: the synthetic cameras are a few metres apart.
        QueryDiagnosis Far(FeatureSet f, IReadOnlyCollection<int> matched) =>
            QueryDiagnoses.Diagnose(Exact(map, b, poseB, poseB), poseA, f, SyntheticMap.Camera, map, matched, relevantA, Fine, farMetres: 0.01, farDegrees: 0.01);
        var lookAlike = Far(fb, relevantA);
        Assert.Equal(QueryVerdict.LookAlike, lookAlike.Verdict);
        Assert.True(lookAlike.EvidenceAtEstimate >= lookAlike.EvidenceAtTruth);
        var wrong = Far(fa, relevantA);
        Assert.Equal(QueryVerdict.WrongPlace, wrong.Verdict);
        Assert.True(wrong.EvidenceAtTruth > wrong.EvidenceAtEstimate);
        var unrelated = Enumerable.Range(10_000, 3).ToList(); // no such image: none relevant
        Assert.Equal(QueryVerdict.NoRelevantImage, Far(fa, unrelated).Verdict);
        Assert.Equal(0, Far(fa, unrelated).RelevantMatched);
    }

    [Fact]
    public void AQueryWithoutAPoseIsNotLocalizedAndItsResidualsAreLeftEmpty()
    {
        var (s, map) = SyntheticMap.Built(21);
        int id = map.Images.Keys.Min();
        var truth = map.Images[id].Pose;
        var res = new QueryResult("q", truth, false, 0, 3, 2, 0, 0, 0, "too few", null);
        var d = QueryDiagnoses.Diagnose(res, truth, SyntheticMap.Stored(s.DbPath, id), SyntheticMap.Camera, map, new[] { id }, Relevant(map, truth), Fine);
        Assert.Equal(QueryVerdict.NotLocalized, d.Verdict);
        Assert.True(double.IsNaN(d.ResidualAtEstimatePx) && double.IsNaN(d.ResidualAtTruthPx));
        var csv = QueryDiagnoses.Csv(new[] { new QueryDiagnosisRow("night", "asmk", MatchingScheme.PointDescriptors, d) }).Split('\n');
        Assert.StartsWith("set,method,matching,query,", csv[0]);
        var fields = csv[1].Split(',');
        Assert.Equal(new[] { "night", "asmk", "2d3d", "q", "0", "2" }, fields[..6]);
        Assert.Equal(new[] { "", "", "", "", "not-localized" }, fields[10..]);
    }
}
