using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Storage;
using R2D2.Localization.Tests.Pipeline;
using Xunit;

namespace R2D2.Localization.Tests.Localization;

/// <summary>Retrieval on a built synthetic map: the ASMK index built with the map and resumable,
/// relevance from the true poses, recall, the 2D–2D scheme, pairs files and global features.</summary>
public class RetrievalTests
{
    [Fact]
    public void EachImageIsItsOwnBestAsmkMatchAndTheMostRelevantToItsOwnPose()
    {
        var (s, map) = SyntheticMap.Built(11);
        Assert.NotNull(map.Asmk);
        foreach (var (id, (name, pose)) in map.Images)
        {
            Assert.Equal(id, map.RetrieveAsmk(SyntheticMap.Stored(s.DbPath, id), 3)[0]);
            var shared = RetrievalEvaluation.SharedPoints(map, SyntheticMap.Camera, pose);
            var ranking = RetrievalEvaluation.RelevantRanking(shared);
            Assert.Contains(id, ranking); // relevant to its own pose (in a random cloud, without surfaces, the depth buffer hides some of its points, so not always first)
            Assert.InRange(shared[id], 20, map.PointsByImage[id].Count); // its points are in its own view, some hidden behind nearer ones
        }
    }

    [Fact]
    public void RecallCountsQueriesWithARelevantImageAmongTheFirstK()
    {
        var q = new List<(IReadOnlyList<int>, IReadOnlySet<int>)>
        {
            (new[] { 1, 2, 3 }, new HashSet<int> { 1 }),
            (new[] { 4, 5, 6 }, new HashSet<int> { 6 }),
            (new[] { 7 }, new HashSet<int>()), // no relevant image: left out
        };
        Assert.Equal(new[] { 0.5, 0.5, 1.0 }, RetrievalEvaluation.RecallAt(q, new[] { 1, 2, 3 }));
    }

    [Fact]
    public void TwoDTwoDMatchingLocalizesAsWellAsTwoDThreeD()
    {
        var (s, map) = SyntheticMap.Built(12);
        int id = map.Images.Keys.Min();
        var f = SyntheticMap.Stored(s.DbPath, id);
        foreach (var scheme in new[] { MatchingScheme.PointDescriptors, MatchingScheme.ImagePairs })
            foreach (bool clusters in new[] { false, true })
            {
                var res = Localizer.Localize("q", f, 0, SyntheticMap.Camera, map, null,
                    new LocalizerOptions { Matching = scheme, RetrievedImages = 3, CovisibilityClusters = clusters, RetrievalMethod = ImageRetrieval.Create("asmk", map) });
                Assert.True(res.Localized, res.Warning);
                Assert.InRange(PoseEvaluation.PositionError(res.Pose, map.Images[id].Pose), 0, 0.05);
            }
        Assert.Single(map.CovisibilityClusters(map.Images.Keys.ToList()));
    }

    /// <summary>Visibility over a list of points is the whole map's when the list holds every
    /// point; over one image's points it still finds that image.</summary>
    [Fact]
    public void VisibilityOverAListOfPointsIsTheWholeMapsWhenItHoldsThemAll()
    {
        var (_, map) = SyntheticMap.Built(16);
        foreach (var (id, (_, pose)) in map.Images)
        {
            var all = PoseVisibility.SharedPoints(map, SyntheticMap.Camera, pose);
            var listed = PoseVisibility.SharedPoints(map, SyntheticMap.Camera, pose, null, Enumerable.Range(0, map.Points.Count).ToList());
            Assert.Equal(all.OrderBy(kv => kv.Key), listed.OrderBy(kv => kv.Key));
            var own = PoseVisibility.SharedPoints(map, SyntheticMap.Camera, pose, null, map.PointsByImage[id]);
            Assert.Equal(id, PoseVisibility.Ranking(own)[0]);
        }
    }

    /// <summary>PnP's pixels are the largest pyramid level's: 1 up to the extractor's max size,
    /// the ratio above it; settings without a max size (or not JSON) leave the image's pixels.</summary>
    [Theory]
    [InlineData(512, 384, 1024, 1.0)]
    [InlineData(1024, 768, 1024, 1.0)]
    [InlineData(3072, 2048, 1024, 3.0)]
    [InlineData(1200, 1600, 1024, 1.5625)]
    [InlineData(3072, 2048, 0, 1.0)]
    public void DetectionScaleIsTheImageOverTheLargestLevel(int width, int height, int maxSize, double expected)
    {
        var none = Array.Empty<float>();
        var f = new FeatureSet { ImageWidth = width, ImageHeight = height, X = none, Y = none, OfficialX = none, OfficialY = none, Scale = none, Score = none, Reliability = none, Repeatability = none, Descriptors = none, Dim = 128 };
        var identity = ExtractorIdentity.ForRootSift(new R2D2.Localization.Features.RootSiftSettings { MaxSize = maxSize }.ToJson());
        Assert.Equal(expected, Localizer.DetectionScale(f, identity), 9);
        Assert.Equal(1.0, Localizer.DetectionScale(f, ExtractorIdentity.ForRootSift("not json")));
        // hloc's features are taken as detected at 1,024 px, whatever the file's path in the settings.
        Assert.Equal(Math.Max(1.0, Math.Max(width, height) / 1024.0), Localizer.DetectionScale(f, ExtractorIdentity.ForHloc("/data/feats-superpoint.h5", 256)), 9);
    }

    /// <summary>Verifying the cluster poses against the map around them keeps a correct pose and
    /// never loses inliers (a candidate replaces the pose only with more), whatever share of the
    /// best's inliers a candidate needs to be verified (0: all, 1: the best only); off for a pairs file.</summary>
    [Fact]
    public void VerifiedCandidatesKeepTheTruePoseWithAtLeastAsManyInliers()
    {
        var (s, map) = SyntheticMap.Built(17);
        foreach (int id in map.Images.Keys)
        {
            var f = SyntheticMap.Stored(s.DbPath, id);
            QueryResult Run(int? verified, double share) => Localizer.Localize("q", f, 0, SyntheticMap.Camera, map, null,
                new LocalizerOptions { RetrievedImages = 2, VerifiedCandidates = verified, VerifyMinShare = share, RetrievalMethod = ImageRetrieval.Create("asmk", map) });
            var off = Run(0, 0.5);
            foreach (double share in new[] { 0.5, 0, 1 })
            {
                var on = Run(null, share);
                Assert.True(on.Localized, on.Warning);
                Assert.InRange(PoseEvaluation.PositionError(on.Pose, map.Images[id].Pose), 0, 0.05);
                Assert.True(on.Inliers >= off.Inliers, $"image {id}, share {share}: {on.Inliers} inliers verified, {off.Inliers} without");
            }
        }
    }

    /// <summary>The search within vocabulary cells: with every cell listed per point it finds the
    /// exact search's matches; with a few it localizes; auto keeps a small map's search exact.</summary>
    [Fact]
    public void TheSearchWithinCellsFindsTheExactMatchesWhenEveryCellIsListedAndLocalizes()
    {
        var (s, map) = SyntheticMap.Built(15);
        int id = map.Images.Keys.Min();
        var f = SyntheticMap.Stored(s.DbPath, id);
        var ids = map.Images.Keys.ToList();
        int cellCount = map.Asmk!.Codebook.CoarseCells;
        var exact = map.MatchToPointsOf(f, ids, null).Select(m => (m.I, m.J)).ToHashSet();
        var everyCell = map.MatchToPointsOf(f, ids, null, cells: map.QueryCells(f, cellCount)).Select(m => (m.I, m.J)).ToHashSet();
        Assert.Equal(exact, everyCell);
        // More cells than the vocabulary has are all of them (int.MaxValue overflowed the cache's size).
        var huge = map.QueryCells(f, int.MaxValue)!;
        Assert.Equal(cellCount, huge.CellsPerPoint);
        Assert.Equal(exact, map.MatchToPointsOf(f, ids, null, cells: huge).Select(m => (m.I, m.J)).ToHashSet());
        Assert.Null(map.QueryCells(f, 0));
        Assert.Equal(0, Localizer.PointCells(f, ids, map, new LocalizerOptions())); // a few hundred points: exact
        Assert.Equal(2, Localizer.PointCells(f, ids, map, new LocalizerOptions { PointCells = 2 }));
        var res = Localizer.Localize("q", f, 0, SyntheticMap.Camera, map, null,
            new LocalizerOptions { RetrievedImages = 3, PointCells = 2, RetrievalMethod = ImageRetrieval.Create("asmk", map) });
        Assert.True(res.Localized, res.Warning);
        Assert.InRange(PoseEvaluation.PositionError(res.Pose, map.Images[id].Pose), 0, 0.05);
    }

    [Fact]
    public void AsmkTrainingResumesFromTheStoredPartsAndRestartsForOtherSettings()
    {
        var s = new SyntheticMap(13, cameras: 4, points: 200);
        using var db = FeatureDatabase.Open(s.DbPath);
        var o = new AsmkOptions { Words = 64 };
        var first = AsmkIndexRunner.Train(db, o, ProgressSink.None)!;
        var marker = Enumerable.Repeat(0.5f, 128).ToArray();
        db.WriteAsmkPart(3, marker); // as if a killed run had stored this part
        var resumed = AsmkIndexRunner.Train(db, o, ProgressSink.None)!;
        Assert.Equal(first.Coarse, resumed.Coarse);
        Assert.Equal(marker, resumed.Fine[3]);
        var other = AsmkIndexRunner.Train(db, o with { Words = 100 }, ProgressSink.None)!;
        Assert.NotEqual(marker, other.Fine[3]);
        Assert.Equal(10, other.Coarse.Length / 128);
    }

    /// <summary>A rebuild whose vocabulary cannot be trained (more words than descriptors) is
    /// refused before the index is touched: it used to empty the stored index and codebook first.</summary>
    [Fact]
    public void ARebuildThatCannotTrainLeavesTheMapAsItWas()
    {
        var (s, _) = SyntheticMap.Built(21);
        var before = Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(File.ReadAllBytes(s.DbPath)));
        var e = Assert.Throws<FeatureDatabaseException>(() => AsmkIndexRunner.AddToMap(s.DbPath, new AsmkOptions { Words = 100_000_000 }));
        Assert.Contains("too few for 10000×10000 visual words", e.Message);
        // More words than descriptors: refused too (a word per sample at least; it trained for hours).
        e = Assert.Throws<FeatureDatabaseException>(() => AsmkIndexRunner.AddToMap(s.DbPath, new AsmkOptions { Words = 40_000 }));
        Assert.Contains("too few for 200×200 visual words", e.Message);
        Assert.Equal(before, Convert.ToHexString(System.Security.Cryptography.SHA1.HashData(File.ReadAllBytes(s.DbPath))));
        using var db = FeatureDatabase.OpenReadOnly(s.DbPath);
        Assert.Equal(6, db.ReadAsmkIndex()!.Count);
    }

    /// <summary>A retraining with other settings killed half-way leaves the previous index whole and
    /// usable (it deleted the index and its codebook at the start: every query then failed); the
    /// finished retraining replaces both, and a rebuild with the index's settings trains nothing.</summary>
    [Fact]
    public void AKilledRetrainingKeepsThePreviousIndexUntilTheNewOneIsWhole()
    {
        var (s, map) = SyntheticMap.Built(22);
        var words = map.Asmk!.Codebook.Words;
        using (var db = FeatureDatabase.Open(s.DbPath))
        {
            db.BeginAsmkTraining("{\"other\":1}");
            db.WriteAsmkPart(-1, new float[128 * 4]); // the first part of a training killed after it
        }
        using (var db = FeatureDatabase.OpenReadOnly(s.DbPath))
        {
            Assert.Equal(6, db.ReadAsmkIndex()!.Count);
            var kept = MapIndex.Load(db);
            Assert.Equal(words, kept.Asmk!.Codebook.Words);
            Assert.Equal(map.Asmk.Codebook.Coarse, kept.Asmk.Codebook.Coarse);
        }
        Assert.Equal((6, 100), AsmkIndexRunner.AddToMap(s.DbPath, new AsmkOptions { Words = 100 }));
        using (var db = FeatureDatabase.OpenReadOnly(s.DbPath))
        {
            var rebuilt = MapIndex.Load(db);
            Assert.Equal(100, rebuilt.Asmk!.Codebook.Words);
            Assert.Empty(db.ReadAsmkParts()); // taken over by the index
        }
        // The same settings again: the training starts from the index's codebook, complete.
        using (var db = FeatureDatabase.Open(s.DbPath))
        {
            var codebook = AsmkIndexRunner.Train(db, new AsmkOptions { Words = 100 }, ProgressSink.None)!;
            Assert.Equal(11, db.ReadAsmkParts().Count);
            Assert.Equal(db.ReadAsmkCodebook()[-1], codebook.Coarse);
        }
    }

    /// <summary>A --set whose paths hold ':' is split where the three paths exist (such folders
    /// could not be given); an ambiguous or non-existent split is the usage error it was.</summary>
    [Fact]
    public void AQuerySetWithColonsInItsPathsIsSplitWhereThePathsExist()
    {
        var dir = Path.Combine(TempDir.Create(), "a:b");
        var images = Path.Combine(dir, "img:night");
        Directory.CreateDirectory(images);
        var list = Path.Combine(dir, "list.txt");
        File.WriteAllText(list, "q.jpg PINHOLE 100 100 50 50 50 50\n");
        var truth = Path.Combine(dir, "gt.txt");
        File.WriteAllText(truth, "q.jpg 1 0 0 0 0 0 0\n");
        var set = R2D2.Localization.Pipeline.RetrievalQuerySet.Parse($"night:{list}:{images}:{truth}");
        Assert.Equal(("night", images, 1), (set.Label, set.ImageRoot, set.Queries.Count));
        var e = Assert.Throws<UsageException>(() => R2D2.Localization.Pipeline.RetrievalQuerySet.Parse($"night:{list}:{images}x:{truth}"));
        Assert.Contains("the three paths must exist", e.Message);
    }

    [Fact]
    public void PairsFilesOfHlocAndKaptureAreReadBestFirst()
    {
        var dir = TempDir.Create();
        var hloc = Path.Combine(dir, "pairs.txt");
        File.WriteAllText(hloc, "# hloc\nquery/night/a.jpg db/2.jpg\nquery/night/a.jpg db/1.jpg\n\nquery/night/b.jpg db/3.jpg\n");
        var p = RetrievalPairs.Read(hloc);
        Assert.Equal(new[] { "db/2.jpg", "db/1.jpg" }, p["query/night/a.jpg"]);
        var kapture = Path.Combine(dir, "kpairs.txt");
        File.WriteAllText(kapture, "# kapture format: 1.1\nq.jpg, db/1.jpg, 0.2\nq.jpg, db/2.jpg, 0.9\nq.jpg, db/3.jpg, 0.5\n");
        Assert.Equal(new[] { "db/2.jpg", "db/3.jpg", "db/1.jpg" }, RetrievalPairs.Read(kapture)["q.jpg"]);
        File.WriteAllText(kapture, "q.jpg, db/1.jpg, 0.2\nq.jpg, db/2.jpg, high\n");
        var e = Assert.Throws<FileFormatException>(() => RetrievalPairs.Read(kapture));
        Assert.Contains(kapture + ":2", e.Message);
    }

    [Fact]
    public void KaptureGlobalFeaturesRankTheDatabaseByDotProduct()
    {
        var (_, map) = SyntheticMap.Built(14);
        var root = Path.Combine(TempDir.Create(), "global_features", "gem");
        var files = Path.Combine(root, "global_features");
        Directory.CreateDirectory(files);
        File.WriteAllText(Path.Combine(root, "global_features.txt"), "# kapture format: 1.1\n# name, dtype, dsize, metric_type\ngem, float32, 4, L2\n");
        void Write(string name, float[] v) { var f = Path.Combine(files, name + ".gfeat"); Directory.CreateDirectory(Path.GetDirectoryName(f)!); File.WriteAllBytes(f, v.SelectMany(BitConverter.GetBytes).ToArray()); }
        var ids = map.Images.Keys.Order().ToList();
        for (int i = 0; i < ids.Count; i++) Write(map.Images[ids[i]].Name, new float[] { i, 1, 0, 0 });
        Write("query/q.jpg", new float[] { 2, 1, 0, 0 });
        var method = ImageRetrieval.Create("global:" + files, map);
        Assert.Equal(ids[2], method.Retrieve("query/q.jpg", null!, 1)[0]);
        // A query is not another folder's image of its name (b/q.jpg took query/q.jpg's descriptor).
        Assert.Equal(new[] { "b/q.jpg" }, method.Lacking(new[] { "query/q.jpg", "b/q.jpg" }));
        File.WriteAllBytes(Path.Combine(files, "bad.gfeat"), new byte[3]);
        var e = Assert.Throws<FileFormatException>(() => KaptureGlobalFeatures.Read(files));
        Assert.Contains("bad.gfeat", e.Message);
        // A size whose bytes overflow an int is refused at its line (it read as 8 bytes after allocating 2 GB).
        File.WriteAllText(Path.Combine(root, "global_features.txt"), "gem, float64, 536870913, L2\n");
        e = Assert.Throws<FileFormatException>(() => KaptureGlobalFeatures.Read(files));
        Assert.StartsWith(Path.Combine(root, "global_features.txt") + ":1: dsize 536870913", e.Message);
    }

    /// <summary>A pairs file naming an image the map lacks is refused at its line (the message had no line).</summary>
    [Fact]
    public void APairsFileNamingAnotherImageIsRefusedAtItsLine()
    {
        var (_, map) = SyntheticMap.Built(15);
        var known = map.Images.Values.First().Name;
        var pairs = Path.Combine(TempDir.Create(), "pairs.txt");
        File.WriteAllText(pairs, $"# retrieval\nq.jpg {known}\nq.jpg elsewhere.jpg\n");
        var e = Assert.Throws<FileFormatException>(() => ImageRetrieval.Create("pairs:" + pairs, map));
        Assert.StartsWith($"{pairs}:3: 'elsewhere.jpg' is not an image of the map", e.Message);
        Assert.StartsWith($"{pairs}:3: 'elsewhere.jpg' is not an image of the map",
            Assert.Throws<FileFormatException>(() => R2D2.Localization.Pipeline.QueryInputs.ReadPairs(pairs, map)).Message);
    }

    /// <summary>hloc's global-feats-*.h5 as `global:FILE`: ranked by cosine, so a descriptor's
    /// length does not count; a value that is not finite, or a file that is not HDF5, is refused
    /// naming the file.</summary>
    [Fact]
    public void HlocGlobalFeaturesRankTheDatabaseByCosine()
    {
        var (_, map) = SyntheticMap.Built(14);
        var dir = TempDir.Create();
        var h5 = Path.Combine(dir, "global-feats-netvlad.h5");
        var ids = map.Images.Keys.Order().ToList();
        // Database image i points at (i, 1): the query's (2, 1) direction is image 2's, whatever the lengths.
        var entries = ids.Select((id, i) => (map.Images[id].Name, new float[] { i * (i + 1f), i + 1f, 0 }))
            .Append(("query/night/q.jpg", new float[] { 10, 5, 0 }));
        Hloc.WriteGlobal(h5, entries);
        var method = ImageRetrieval.Create("global:" + h5, map);
        Assert.Equal(ids[2], method.Retrieve("query/night/q.jpg", null!, 1)[0]);
        Assert.Equal(ids[2], method.Retrieve("q.jpg", null!, 1)[0]); // by base name, as pairs files
        Assert.Null(method.Note);
        // A map image the file lacks is said (it is never retrieved); a query's feature of another size is refused at once, not at that query.
        Hloc.WriteGlobal(h5, entries.Skip(1));
        Assert.Contains($"no global feature for 1 of the map's {ids.Count} images (first: '{map.Images[ids[0]].Name}')", ImageRetrieval.Create("global:" + h5, map).Note);
        Hloc.WriteGlobal(h5, entries.Append(("query/night/r.jpg", new float[] { 1, 2 })));
        Assert.Contains("the global feature of 'query/night/r.jpg' has 2 values", Assert.Throws<FileFormatException>(() => ImageRetrieval.Create("global:" + h5, map)).Message);
        Hloc.WriteGlobal(h5, new[] { (map.Images[ids[0]].Name, new[] { 1f, float.NaN, 0 }) });
        var e = Assert.Throws<FileFormatException>(() => ImageRetrieval.Create("global:" + h5, map));
        Assert.Contains(h5, e.Message);
        Assert.Contains("not finite", e.Message);
        var text = Path.Combine(dir, "global.h5");
        File.WriteAllText(text, "not hdf5\n");
        Assert.Contains("not an HDF5 file", Assert.Throws<FileFormatException>(() => ImageRetrieval.Create("global:" + text, map)).Message);
    }
}
