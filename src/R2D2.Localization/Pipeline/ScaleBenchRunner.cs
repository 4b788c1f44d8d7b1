using System.Diagnostics;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;
using R2D2.Localization.Synthesis;

namespace R2D2.Localization.Pipeline;

public enum ScaleStage
{
    /// <summary>A fresh database: the posed images registered and their synthetic features written, as extraction writes them.</summary>
    Features,
    /// <summary>Mutual-NN matching of the pairs from poses (the first <see cref="ScaleBenchOptions.MaxPairs"/> in matching order).</summary>
    Match,
    /// <summary>Verification with the poses of the pairs matched.</summary>
    Verify,
    /// <summary>The true correspondences of every pair not verified yet, written as its verified matches (when matching all pairs does not fit in the time).</summary>
    TrueMatches,
    /// <summary>Tracks and triangulation, then the retrieval index and the map stored.</summary>
    Triangulate,
    /// <summary>Queries against the stored map (retrieval, 2D–3D matching, PnP); extraction excluded.</summary>
    Query,
}

public sealed record ScaleBenchOptions
{
    public required string Database { get; init; }
    public SyntheticStreetOptions Street { get; init; } = new();
    public int PairsPerImage { get; init; } = 20;
    /// <summary>Match and verify only the first this many pairs (0: all).</summary>
    public int MaxPairs { get; init; }
    public int Queries { get; init; } = 20;
    public int RetrievedImages { get; init; } = Retrieval.AutoImages;
    public TorchSharp.torch.Device? Device { get; init; }
    /// <summary>The queries' localizer settings (PnP, verification, search within cells); the
    /// retrieval method and <see cref="RetrievedImages"/> are the benchmark's.</summary>
    public LocalizerOptions Localizer { get; init; } = new();
}

/// <summary>One measured stage: its work (<see cref="Units"/> of <see cref="Unit"/>), seconds, the
/// process's peak RSS during it, the database's bytes after it, and a free-text note.</summary>
public sealed record ScaleStageResult(string Stage, int Images, long Units, string Unit, double Seconds, double PeakRssMb, long DatabaseBytes, string Note)
{
    public const string Header = "stage\timages\tunits\tunit\tseconds\tpeak_rss_mb\tdatabase_bytes\tnote";

    /// <summary>Seconds per unit. The query row's seconds are per query already (the median of its
    /// queries, the figure the targets are about), not its queries' total.</summary>
    public double SecondsPerUnit => Unit == "queries" ? Seconds : Units > 0 ? Seconds / Units : 0;

    public string ToTsv() => string.Join('\t', Stage, Images, Units, Unit, Seconds.ToString("F3", CultureInfo.InvariantCulture),
        PeakRssMb.ToString("F0", CultureInfo.InvariantCulture), DatabaseBytes, Note.Replace('\t', ' '));

    public static ScaleStageResult FromTsv(string line, string file, int lineNo)
    {
        var f = line.Split('\t');
        if (f.Length != 8 || !int.TryParse(f[1], out int images) || !long.TryParse(f[2], out long units)
            || !double.TryParse(f[4], CultureInfo.InvariantCulture, out double s) || !double.TryParse(f[5], CultureInfo.InvariantCulture, out double rss)
            || !long.TryParse(f[6], out long bytes))
            throw new FileFormatException(file, lineNo, $"expected {Header.Replace('\t', ' ')}");
        return new ScaleStageResult(f[0], images, units, f[3], s, rss, bytes, f[7]);
    }
}

/// <summary>
/// The scale benchmark's stages (tools/bench/scale/run): synthetic features of a street of any size
/// (<see cref="SyntheticStreet"/>) through the real database, matching, verification, triangulation,
/// map store and queries. One stage per call, so that a benchmark running each in its own process
/// gets each stage's own peak memory.
/// </summary>
public static class ScaleBenchRunner
{
    public static List<ScaleStageResult> Run(ScaleStage stage, ScaleBenchOptions o, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        var street = new SyntheticStreet(o.Street);
        var sw = Stopwatch.StartNew();
        var results = new List<ScaleStageResult>();
        FeatureDatabase? db = null;
        void Result(string name, long units, string unit, string note, double? seconds = null)
        {
            double s = seconds ?? sw.Elapsed.TotalSeconds, rss = ExtractRunner.PeakRssMb() ?? 0;
            // The file as the stage leaves it on disk: closing checkpoints the write-ahead log into
            // it and deletes the log (an open writer's log holds its last transactions, ~6 MB here).
            db!.Checkpoint();
            var r = new ScaleStageResult(name, o.Street.Images, units, unit, s, rss, DatabaseBytes(o.Database), note);
            results.Add(r);
            ResetPeakRss();
            sw.Restart();
        }
        if (stage == ScaleStage.Features)
        {
            OutputFile.CreateFolder(Path.GetDirectoryName(Path.GetFullPath(o.Database))!);
            foreach (var f in new[] { o.Database, o.Database + "-wal", o.Database + "-shm" }) File.Delete(f);
        }
        // A later stage on a missing database created an empty one and failed on its first pair.
        else if (!File.Exists(o.Database))
            throw new FileFormatException(o.Database, 0, "not found: run --stage features first (the same --database, --images, --keypoints and --seed)");
        using var opened = db = stage == ScaleStage.Query ? FeatureDatabase.OpenReadOnly(o.Database) : FeatureDatabase.Open(o.Database);
        if (stage == ScaleStage.Query && !db.HasMap)
            throw new FeatureDatabaseException(o.Database, "holds no map: run --stage triangulate first (it stores the map)");
        var pairs = stage is ScaleStage.Match or ScaleStage.Verify or ScaleStage.TrueMatches ? Pairs(db, street, o) : new List<ImagePair>();
        ResetPeakRss();
        sw.Restart();
        switch (stage)
        {
            case ScaleStage.Features:
                WriteFeatures(db, street, progress);
                Result("features", o.Street.Images, "images", $"{o.Street.Keypoints} keypoints per image");
                break;
            case ScaleStage.Match:
                var m = MatchRunner.Run(db, pairs, new MatchOptions { Device = o.Device }, progress);
                string where = o.Device is { } d && d.type != TorchSharp.DeviceType.CPU ? d.ToString() : $"cpu, {TorchSharp.torch.get_num_threads()} threads";
                Result(o.Device is { } dv && dv.type != TorchSharp.DeviceType.CPU ? "match (gpu)" : "match (cpu)", m.Matched, "pairs", $"{m.MeanMatches:F0} matches per pair, {where}");
                break;
            case ScaleStage.Verify:
                int v = Verification.Run(db, pairs, new VerifyOptions { Poses = street.Images.ToDictionary(i => i.Name) }, progress);
                Result("verify", v, "pairs", "epipolar, 4 px");
                break;
            case ScaleStage.TrueMatches:
                int t = WriteTrueMatches(db, street, pairs, progress);
                Result("true matches", t, "pairs", "synthetic verified matches");
                break;
            case ScaleStage.Triangulate:
                var byName = street.Images.ToDictionary(i => i.Name);
                var (points, stats) = TriangulationRunner.Run(db, byName, new TriangulationOptions(), progress);
                Result("triangulate", db.ListGeometryPairs().Count, "pairs",
                    $"{stats.Points} points, track {stats.MeanTrackLength:F2}, {stats.MeanReprojectionErrorPx:F2} px");
                var retrieval = RetrievalIndexRunner.Run(db, new RetrievalIndexOptions(), progress);
                Result("retrieval index", o.Street.Images, "images", "VLAD, 64 words");
                // ASMK as build-map makes it (auto words): the index queries retrieve with by default.
                var asmk = AsmkIndexRunner.Run(db, new AsmkOptions(), progress);
                Result("ASMK index", o.Street.Images, "images", asmk == null ? "too few descriptors" : $"ASMK, {AsmkCodebook.FromParts(SyntheticStreet.Dim, db.ReadAsmkParts())?.Words} words");
                db.WriteMap(points, MapExport.SummaryJson(stats, o.Street.Images, new Dictionary<string, double>()), retrieval, asmk);
                Result("store", points.Count, "points", "");
                break;
            case ScaleStage.Query:
                Query(db, street, o, Result);
                break;
        }
        return results;
    }

    private static List<ImagePair> Pairs(FeatureDatabase db, SyntheticStreet street, ScaleBenchOptions o)
    {
        var pairs = PairsRunner.Run(PairSpec.FromPoses(o.PairsPerImage), street.Images);
        if (o.MaxPairs <= 0 || o.MaxPairs >= pairs.Count) return pairs;
        // The first pairs in the order matching takes them (by image id), so the subset reuses images as the whole run would.
        var ids = db.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        return pairs.OrderBy(p => ids[p.Name1]).ThenBy(p => ids[p.Name2]).Take(o.MaxPairs).ToList();
    }

    /// <summary>Registers the street's posed images and writes their synthetic features, as extraction writes them.</summary>
    internal static void WriteFeatures(FeatureDatabase db, SyntheticStreet street, IProgressSink progress)
    {
        var identity = ExtractorIdentity.ForR2D2("synthetic", "Quad_L2Net_ConfCFS()", "0000000000000000", new ExtractionSettings());
        ImageRegistration.RegisterImages(db, street.Images);
        var ids = db.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        progress.Stage("features", street.Images.Count, advance =>
        {
            // Generated in parallel a batch at a time (the generator is pure), written in order: memory stays one batch.
            int batch = 2 * Environment.ProcessorCount;
            for (int start = 0; start < street.Images.Count; start += batch)
            {
                var features = new FeatureSet[Math.Min(batch, street.Images.Count - start)];
                Parallel.For(0, features.Length, i => features[i] = street.Features(start + i));
                for (int i = 0; i < features.Length; i++)
                {
                    db.WriteFeatures(ids[street.Images[start + i].Name], features[i], identity);
                    advance(street.Images[start + i].Name);
                }
            }
        });
    }

    /// <summary>Each pair's true correspondences stored as its verified matches (with the poses'
    /// F and relative pose), for pairs without a verified geometry yet. The point ids of every
    /// image's detected facade points are generated first, in parallel (the generator is pure):
    /// 16 bytes per true keypoint, ~35 MB per 1,000 images, the one table of this benchmark's own
    /// scaffolding that grows with the street.</summary>
    private static int WriteTrueMatches(FeatureDatabase db, SyntheticStreet street, List<ImagePair> pairs, IProgressSink progress)
    {
        var ids = db.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        var index = street.Images.Select((im, c) => (im.Name, c)).ToDictionary(x => x.Name, x => x.c);
        var trueIds = new long[street.Images.Count][];
        Parallel.For(0, trueIds.Length, c =>
        {
            var p = street.PointIds(c);
            // Clutter (−1) kept out: (keypoint, point) pairs of the detected facade points only.
            var kept = new List<long>();
            for (int k = 0; k < p.Length; k++) if (p[k] >= 0) { kept.Add(k); kept.Add(p[k]); }
            trueIds[c] = kept.ToArray();
        });
        long[] FullIds(int c) // every keypoint's point id again (−1: clutter)
        {
            var full = new long[street.Options.Keypoints];
            Array.Fill(full, -1);
            for (int i = 0; i < trueIds[c].Length; i += 2) full[trueIds[c][i]] = trueIds[c][i + 1];
            return full;
        }
        int n = 0;
        progress.Stage("true matches", pairs.Count, advance =>
        {
            foreach (var pair in pairs.OrderBy(p => ids[p.Name1]))
            {
                int a = ids[pair.Name1], b = ids[pair.Name2];
                if (db.HasTwoViewGeometry(a, b)) { advance("stored"); continue; }
                // The database stores a pair with the smaller id first; the matches follow that order.
                var (ia, ib) = a < b ? (index[pair.Name1], index[pair.Name2]) : (index[pair.Name2], index[pair.Name1]);
                var m = SyntheticStreet.TrueMatches(FullIds(ia), FullIds(ib));
                var c1 = street.Images[ia]; var c2 = street.Images[ib];
                var rel = Pose.Relative(c1.Pose, c2.Pose);
                db.WriteTwoViewGeometry(Math.Min(a, b), Math.Max(a, b), new TwoViewGeometry(m.Count > 0 ? TwoViewConfiguration.Calibrated : TwoViewConfiguration.Degenerate, m,
                    F: EpipolarVerification.FundamentalFromPoses(c1.Pose, c1.Camera.Pinhole, c2.Pose, c2.Camera.Pinhole), Rotation: rel.Quaternion, Translation: rel.Translation));
                n++;
                advance($"{pair.Name1} {pair.Name2}: {m.Count}");
            }
        });
        return n;
    }

    private static void Query(FeatureDatabase db, SyntheticStreet street, ScaleBenchOptions o,
        Action<string, long, string, string, double?> result)
    {
        using var map = MapIndex.Load(db);
        result("load map", map.Points.Count, "points", $"{map.Retrieval?.Descriptors.Count ?? 0} VLAD images, {map.Asmk?.Images.Count ?? 0} ASMK images", null);
        var retrieval = ImageRetrieval.Create("auto", map);
        var options = o.Localizer with { RetrievedImages = o.RetrievedImages, RetrievalMethod = retrieval };
        var main = RunQueries(street, map, o, options);
        // The reference in the same process: the exact search, when the options' search was not exact.
        var probe = street.Query(0).Features;
        int cells = Localizer.PointCells(probe, Localizer.DatabaseImages("probe", probe, map, options) ?? new List<int>(), map, options);
        var exact = cells > 0 ? RunQueries(street, map, o, options with { PointCells = 0 }) : null;
        string search = cells > 0 ? $"search within {cells} cells per point" : "exact search";
        string reference = exact == null ? "" : $"; exact search: median {exact.Median:F3} s (ratio {main.Median / exact.Median:F2}), {exact.Localized}/{o.Queries} localized, median inliers {exact.MedianInliers:F0}";
        // Seconds of the row: the median per query (the figure the target is about), the total and the parts' medians in the note.
        result("query", o.Queries, "queries", $"median of {o.Queries} queries (match + PnP, {retrieval.Name} retrieval {o.RetrievedImages}, {search}, "
            + $"PnP {options.Pnp.ThresholdPx.ToString(CultureInfo.InvariantCulture)} px, verified candidates {(options.VerifiedCandidates?.ToString(CultureInfo.InvariantCulture) ?? "default")} with ≥ {options.VerifyMinShare.ToString(CultureInfo.InvariantCulture)} of the best's inliers, total {main.Total:F1} s; "
            + $"medians: retrieval {main.Retrieval:F3} s, retrieval + matching {main.Matching:F3} s, PnP {main.Pnp:F3} s); "
            + $"{main.Localized}/{o.Queries} localized, median position error {main.MedianError:F3} m, median inliers {main.MedianInliers:F0}{reference}", main.Median);
        // A row of its own, after the query row: its bandwidth probe and query features are not the query's memory.
        if (map.Asmk is { } asmk) AsmkParts(street, asmk, o.Queries, result);
    }

    /// <summary>ASMK's query side alone, back to back for each query (its seconds: the median of
    /// encode + search): the encoding, the posting walk, the bytes the walk reads and the machine's
    /// read bandwidth on the search's threads, over which those bytes are a floor on the walk's time.</summary>
    private static void AsmkParts(SyntheticStreet street, AsmkIndex asmk, int queries, Action<string, long, string, string, double?> result)
    {
        var encode = new List<double>();
        var search = new List<double>();
        var both = new List<double>();
        var megabytes = new List<double>();
        for (int q = 0; q < queries; q++)
        {
            var f = street.Query(q).Features;
            var sw = Stopwatch.StartNew();
            var e = Asmk.Encode(f.Descriptors, f.Count, asmk.Codebook);
            double enc = sw.Elapsed.TotalSeconds;
            sw.Restart();
            asmk.Search(e, 20);
            double s = sw.Elapsed.TotalSeconds;
            encode.Add(enc); search.Add(s); both.Add(enc + s);
            megabytes.Add(asmk.WalkBytes(e) / 1e6);
        }
        int threads = AsmkIndex.SearchThreads();
        double gbs = ReadBandwidth.GBs(threads);
        double mb = Statistics.Median(megabytes), searchSeconds = Statistics.Median(search);
        result("ASMK query side", queries, "queries", FormattableString.Invariant(
            $"medians: encode {Statistics.Median(encode):F3} s + search {searchSeconds:F3} s; {mb:F0} MB of postings per query, read at {mb / 1e3 / searchSeconds:F1} GB/s; the machine reads {gbs:F1} GB/s on {threads} threads (the walk's floor: {mb / 1e3 / gbs:F3} s)"),
            Statistics.Median(both));
    }

    private sealed record QueryRun(double Median, double Total, double Retrieval, double Matching, double Pnp, int Localized, double MedianError, double MedianInliers);

    private static QueryRun RunQueries(SyntheticStreet street, MapIndex map, ScaleBenchOptions o, LocalizerOptions options)
    {
        var perQuery = new List<double>();
        var retrieve = new List<double>();
        var match = new List<double>();
        var pnp = new List<double>();
        var errors = new List<double>();
        var inliers = new List<double>();
        int localized = 0;
        for (int q = 0; q < o.Queries; q++)
        {
            var (name, truth, f) = street.Query(q);
            // Retrieval on its own first (its time is inside the localizer's matching time too): the row's breakdown.
            // On another FeatureSet object with the same arrays: MapIndex keeps a query's coarse cells
            // per feature set object, and the localizer's own retrieval must not find them computed.
            var sw = Stopwatch.StartNew();
            options.RetrievalMethod!.Retrieve(name, SameFeatures(f), o.RetrievedImages);
            retrieve.Add(sw.Elapsed.TotalSeconds);
            var r = Localizer.Localize(name, f, 0, SyntheticStreet.Camera, map, o.Device, options);
            perQuery.Add(r.MatchSeconds + r.PnpSeconds);
            match.Add(r.MatchSeconds);
            pnp.Add(r.PnpSeconds);
            inliers.Add(r.Inliers);
            if (r.Localized) localized++;
            errors.Add(r.Localized ? PoseEvaluation.PositionError(r.Pose, truth) : double.PositiveInfinity);
        }
        double Median(List<double> v) => v.Count > 0 ? Statistics.Median(v) : 0;
        return new QueryRun(Median(perQuery), perQuery.Sum(), Median(retrieve), Median(match), Median(pnp), localized,
            errors.Count > 0 ? Median(errors) : double.PositiveInfinity, Median(inliers));
    }

    private static FeatureSet SameFeatures(FeatureSet f) => new()
    {
        ImageWidth = f.ImageWidth, ImageHeight = f.ImageHeight, X = f.X, Y = f.Y, OfficialX = f.OfficialX, OfficialY = f.OfficialY,
        Scale = f.Scale, Score = f.Score, Reliability = f.Reliability, Repeatability = f.Repeatability, Descriptors = f.Descriptors, Dim = f.Dim,
    };

    internal static long DatabaseBytes(string path) =>
        new[] { path, path + "-wal" }.Where(File.Exists).Sum(f => new FileInfo(f).Length);

    /// <summary>Resets the process's peak-RSS mark (Linux: clear_refs 5) so the next stage's peak is its own.</summary>
    internal static void ResetPeakRss()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    /// <summary>The benchmark's table from its stage rows (TSV of <see cref="ScaleStageResult"/>), and the plot.</summary>
    public static string Report(string tsvPath, string? pngPath)
    {
        var rows = new List<ScaleStageResult>();
        int lineNo = 0;
        foreach (var line in File.ReadLines(tsvPath))
        {
            lineNo++;
            if (line.Length == 0 || line.StartsWith("stage\t")) continue;
            rows.Add(ScaleStageResult.FromTsv(line, tsvPath, lineNo));
        }
        var w = new StringWriter { NewLine = "\n" };
        w.WriteLine($"{"stage",-16}{"images",8}{"units",12} {"unit",-8}{"seconds",10}{"s/unit",10}{"peak RSS MB",13}{"DB MB",10}{"DB MB/img",11}  note");
        foreach (var r in rows)
            w.WriteLine($"{r.Stage,-16}{r.Images,8}{r.Units,12} {r.Unit,-8}{r.Seconds,10:F3}{r.SecondsPerUnit,10:F4}{r.PeakRssMb,13:F0}"
                + $"{r.DatabaseBytes / 1e6,10:F0}{r.DatabaseBytes / 1e6 / r.Images,11:F2}  {r.Note}");
        if (pngPath != null) ScalePlot.Write(pngPath, rows.Select(r => new ScalePlotRow(r.Stage, r.Images, r.Seconds, r.PeakRssMb)).ToList());
        return w.ToString();
    }
}
