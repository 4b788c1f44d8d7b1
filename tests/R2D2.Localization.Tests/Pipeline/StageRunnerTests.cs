using R2D2.Localization.Mapping;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Storage;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

/// <summary>The mapping stage runners one by one on a database of known synthetic features, and the pair spec.</summary>
public class StageRunnerTests
{
    [Theory]
    [InlineData("exhaustive", PairSourceKind.Exhaustive, 0, 90)]
    [InlineData("poses:20", PairSourceKind.Poses, 20, 90)]
    [InlineData("poses:6:60", PairSourceKind.Poses, 6, 60)]
    [InlineData("poses:3:12.5", PairSourceKind.Poses, 3, 12.5)]
    [InlineData("covisibility:7", PairSourceKind.Covisibility, 7, 90)]
    [InlineData("pairs/db-pairs.txt", PairSourceKind.File, 0, 90)]
    [InlineData("poses.txt", PairSourceKind.File, 0, 90)]
    public void PairSpecsParse(string text, PairSourceKind kind, int k, double angle)
    {
        var spec = PairSpec.Parse(text);
        Assert.Equal((kind, k, angle, text), (spec.Kind, spec.K, spec.MaxViewAngleDeg, spec.ToString()));
    }

    [Theory]
    [InlineData("poses:")]
    [InlineData("poses:0")]
    [InlineData("poses:x")]
    [InlineData("poses:5:wide")]
    [InlineData("poses:5:60:1")]
    [InlineData("poses:2:500")] // accepted: no pair of views is more than 180° apart
    [InlineData("poses:2:NaN")]
    [InlineData("covisibility:")]
    [InlineData("covisibility:-2")]
    public void MalformedPairSpecsAreRefused(string text)
    {
        var e = Assert.Throws<UsageException>(() => PairSpec.Parse(text));
        Assert.Contains(text, e.Message);
    }

    [Fact]
    public void PairsFromThePosesGivenAndFromTheDatabasesPriorsAreTheSame()
    {
        var s = new SyntheticMap(seed: 21, cameras: 8, points: 40);
        Assert.Equal("poses:6:60", PairSpec.FromPoses(6, 60).ToString());
        using var db = FeatureDatabase.Open(s.DbPath);
        var spec = PairSpec.Parse("poses:2");
        var fromInputs = PairsRunner.Run(spec, s.Images);
        Assert.InRange(fromInputs.Count, 8, 16);
        Assert.Equal(fromInputs, PairsRunner.Run(spec, db));
        Assert.Equal(28, PairsRunner.Run(PairSpec.Exhaustive, s.Images).Count);
        Assert.Equal(PairsRunner.Run(PairSpec.Exhaustive, s.Images), PairsRunner.Run(PairSpec.Exhaustive, db));
        // Covisibility needs a map: none among posed images, none yet in the database.
        Assert.Contains("covisibility needs a map", Assert.Throws<UsageException>(() => PairsRunner.Run(PairSpec.Parse("covisibility:2"), s.Images)).Message);
        Assert.Contains("holds no map", Assert.Throws<UsageException>(() => PairsRunner.Run(PairSpec.Parse("covisibility:2"), db)).Message);
        // A pairs file names images of the list only.
        var file = Path.Combine(s.Folder, "pairs.txt");
        File.WriteAllText(file, "cam00.jpg cam01.jpg\ncam00.jpg other.jpg\n");
        Assert.Contains("unknown image 'other.jpg'", Assert.Throws<R2D2.Localization.Formats.FileFormatException>(() => PairsRunner.Run(PairSpec.Parse(file), db)).Message);
    }

    [Fact]
    public void MatchVerifyAndTriangulateStepByStepAreResumableAndDeterministic()
    {
        var s = new SyntheticMap(seed: 22, cameras: 5, points: 120);
        using var db = FeatureDatabase.Open(s.DbPath);
        var pairs = PairsRunner.Run(PairSpec.Exhaustive, db);

        var progress = new RecordingProgress();
        var m = MatchRunner.Run(db, pairs, new MatchOptions(), progress);
        Assert.Equal((10, 0), (m.Matched, m.Skipped));
        Assert.True(m.MeanMatches > 70, $"{m.MeanMatches} matches per pair");
        Assert.Equal(10, progress.Lines.Count);
        Assert.Equal((0, 10), (MatchRunner.Run(db, pairs, new MatchOptions()).Matched, MatchRunner.Run(db, pairs, new MatchOptions()).Skipped));

        // Verification with the database's pose priors keeps the true matches (the same point in both images).
        Assert.Equal(10, Verification.Run(db, pairs, new VerifyOptions()));
        Assert.Equal(0, Verification.Run(db, pairs, new VerifyOptions())); // verified pairs are skipped
        var index = db.ReadImages().ToDictionary(i => i.Id, i => s.Images.FindIndex(p => p.Name == i.Name));
        int right = 0, kept = 0;
        foreach (var pair in db.ListGeometryPairs())
            foreach (var match in db.ReadTwoViewGeometry(pair.ImageId1, pair.ImageId2)!.Inliers)
            {
                kept++;
                int p1 = s.PointOf[index[pair.ImageId1]][match.I], p2 = s.PointOf[index[pair.ImageId2]][match.J];
                if (p1 >= 0 && p1 == p2) right++;
            }
        Assert.True(right >= 0.98 * kept, $"{right} of {kept} verified matches right");

        var posed = s.Images.ToDictionary(p => p.Name);
        var t1 = TriangulationRunner.Run(db, posed, new TriangulationOptions());
        var t2 = TriangulationRunner.Run(db, posed, new TriangulationOptions());
        Assert.Equal(t1.Stats, t2.Stats);
        Assert.Equal(t1.Points.Select(p => (p.X, p.Y, p.Z)), t2.Points.Select(p => (p.X, p.Y, p.Z)));
        Assert.Equal(Enumerable.Range(1, t1.Points.Count).Select(i => (long)i), t1.Points.Select(p => p.Id));
        Assert.InRange(t1.Stats.Points, 100, 130);
    }

    [Fact]
    public void VerificationWithoutPosesFitsAFundamentalMatrix()
    {
        var s = new SyntheticMap(seed: 23, cameras: 3, points: 150);
        using var db = FeatureDatabase.Open(s.DbPath);
        var pairs = PairsRunner.Run(PairSpec.Exhaustive, db);
        MatchRunner.Run(db, pairs, new MatchOptions());
        Assert.Equal(3, Verification.Run(db, pairs, new VerifyOptions { Method = VerifyMethod.Fundamental }));
        foreach (var pair in db.ListGeometryPairs())
        {
            var g = db.ReadTwoViewGeometry(pair.ImageId1, pair.ImageId2)!;
            Assert.Equal(TwoViewConfiguration.Uncalibrated, g.Config);
            Assert.True(g.Inliers.Count > 70, $"{g.Inliers.Count} inliers");
        }
    }

    [Fact]
    public void TheRetrievalIndexHasADescriptorPerImageAndNoneWithoutEnoughDescriptors()
    {
        var s = new SyntheticMap(seed: 24, cameras: 4, points: 100);
        using var db = FeatureDatabase.Open(s.DbPath);
        var progress = new RecordingProgress();
        var index = RetrievalIndexRunner.Run(db, new RetrievalIndexOptions { Clusters = 16 }, progress)!;
        Assert.Equal(16, index.Clusters);
        Assert.Equal(db.ImagesWithFeatures().OrderBy(i => i), index.Descriptors.Keys.OrderBy(i => i));
        Assert.Equal(1 + 4, progress.Lines.Count); // the codebook, then each image
        Assert.Null(RetrievalIndexRunner.Run(db, new RetrievalIndexOptions { Clusters = 100_000 }));
    }

    [Fact]
    public void TheRetrievalIndexEncodedInParallelBatchesEqualsEachImageEncodedAlone()
    {
        // More images than one batch (4 per core), so that batches follow each other.
        var s = new SyntheticMap(seed: 25, cameras: 4 * Environment.ProcessorCount + 3, points: 60);
        using var db = FeatureDatabase.Open(s.DbPath);
        var index = RetrievalIndexRunner.Run(db, new RetrievalIndexOptions { Clusters = 8 })!;
        foreach (var id in db.ImagesWithFeatures())
            Assert.Equal(Vlad.Encode(db.ReadFeatures(id)!, index.Codebook, index.Clusters), index.Descriptors[id]);
    }
}
