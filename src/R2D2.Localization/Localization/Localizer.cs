using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Localization;

/// <summary>The outcome of one query; <see cref="Pose"/> is the fallback when not localized.
/// <see cref="InlierXY"/>/<see cref="InlierPoints"/> are the accepted pose's PnP inliers (null
/// when not localized); <see cref="MatchXY"/>/<see cref="MatchPoints"/>/<see cref="MatchInliers"/>
/// are all 2D–3D matches with RANSAC's verdict on each (also when too few were inliers), which
/// reports draw to show why a query failed. <see cref="DatabaseImages"/>: the database images it was
/// matched against (retrieved or listed; null: every map point, or not localized here).</summary>
public sealed record QueryResult(string Name, Pose Pose, bool Localized, int Keypoints, int Matches, int Inliers,
    double ExtractSeconds, double MatchSeconds, double PnpSeconds, string? Warning, string? FallbackImage,
    float[]? InlierXY = null, int[]? InlierPoints = null, float[]? MatchXY = null, int[]? MatchPoints = null, bool[]? MatchInliers = null,
    IReadOnlyList<int>? DatabaseImages = null);

public sealed record LocalizerOptions
{
    public PnpOptions Pnp { get; init; } = new();
    /// <summary>Fewer PnP inliers than this: not localized (fallback pose, warning).</summary>
    public int MinInliers { get; init; } = 12;
    public float MinSimilarity { get; init; } = float.NegativeInfinity;
    /// <summary>Match against the points of the k most similar database images (0: against all
    /// points). <see cref="Retrieval.Auto"/>: as <see cref="Localizer"/>'s AutoImages decides (the top 20 images of larger maps).</summary>
    public int RetrievedImages { get; init; } = Retrieval.Auto;
    /// <summary>Database images to match against, per query name (a user's pairs file); overrides retrieval.</summary>
    public NameIndex<List<int>>? PairsByQuery { get; init; }
    /// <summary>How the database images are picked when retrieving (null: the map's own, ASMK when it has the index, else VLAD,
    /// as `--retrieval-method auto`; the demo and every runner get the same choice as `localize query`).</summary>
    public IImageRetrieval? RetrievalMethod { get; init; }
    public MatchingScheme Matching { get; init; } = MatchingScheme.PointDescriptors;
    /// <summary>Split the database images into covisibility clusters (images sharing map points),
    /// run PnP on each cluster's matches and keep the pose with most inliers (hloc). Null (auto): on
    /// when the images were retrieved, off for a pairs file's (<see cref="PairsByQuery"/>): on the
    /// town, clusters put ASMK's top 20 ahead at every threshold at 300 and 1,000 images, while the
    /// ground truth's images, which all see the query's place, lose matches when split.</summary>
    public bool? CovisibilityClusters { get; init; }
    /// <summary>Re-match guided by the first pose and re-estimate (<see cref="GuidedMatching"/>).</summary>
    public GuidedMatchingOptions Guided { get; init; } = new();
    /// <summary>2D–3D search within vocabulary cells: each query descriptor is compared only with the
    /// candidate points that have its coarse ASMK cell among their this many nearest
    /// (<see cref="CellMutualNearestNeighbours"/>); 0: with every candidate point (exact); null
    /// (auto): <see cref="PointSearch.AutoCells"/> when the exact search would compare at least
    /// <see cref="PointSearch.AutoMinPairs"/> pairs, else exact. Needs the map's ASMK index (exact
    /// without it) and applies to retrieved or listed images' points.</summary>
    public int? PointCells { get; init; }
    /// <summary>Verify the retrieved images' best poses against the map around them: each of the
    /// (up to) this many cluster poses with most inliers (at least <see cref="MinInliers"/>) is
    /// matched again against the database images that see what it would see
    /// (<see cref="PoseVisibility"/>), then posed again; the pose with most inliers wins. Among
    /// repeated facades a twin's cluster can hold more inliers than the true place's, whose
    /// neighbouring buildings only the map around the true pose adds. 0: off; null (auto):
    /// <see cref="AutoVerifiedCandidates"/> for retrieved images, off for a pairs file's (the user's
    /// choice of images). On the town's 100 night queries at 1,000 images, 5 put 74 % within
    /// (0.25 m, 2°) against 70 % without (docs/results.md, "The town").</summary>
    public int? VerifiedCandidates { get; init; }

    public const int AutoVerifiedCandidates = 5;

    /// <summary>Of those candidates, only the ones with at least this share of the best
    /// candidate's inliers are verified (the best always is; 0: all of them), and an image set
    /// whose pose cannot reach it is given up early. On the town's 100 night queries at 1,000
    /// images 0.5 gives what 0 gives (74 % within (0.25 m, 2°)); on the scale benchmark's
    /// Aachen-size street, where one place dominates, the median query went from 0.93 to 0.30 s
    /// (docs/speed.md, "What the run shows").</summary>
    public double VerifyMinShare { get; init; } = 0.5;

    /// <summary>The query's 2D–2D matches with each database image made elsewhere (hloc's matches.h5
    /// of SuperGlue, LightGlue…), used by <see cref="MatchingScheme.ImagePairs"/> instead of mutual
    /// nearest neighbours of the descriptors; null: matched here.</summary>
    public IQueryImageMatches? ImportedMatches { get; init; }
}

/// <summary>A query's matches with database images, made elsewhere (see <see cref="LocalizerOptions.ImportedMatches"/>).</summary>
public interface IQueryImageMatches
{
    /// <summary>The matches of query <paramref name="query"/> (I: its keypoint in <paramref name="queryFeatures"/>)
    /// with database image <paramref name="imageId"/> (J: its keypoint in <paramref name="imageFeatures"/>).</summary>
    IEnumerable<Match> Between(string query, FeatureSet queryFeatures, int imageId, FeatureSet imageFeatures);
}

/// <summary>How a query's keypoints are matched to the map.</summary>
public enum MatchingScheme
{
    /// <summary>2D–3D: mutual nearest neighbours between the query's descriptors and the points' mean descriptors.</summary>
    PointDescriptors,
    /// <summary>2D–2D (hloc): mutual nearest neighbours between the query and each database image,
    /// lifted to 3D through the image's keypoints that observe map points.</summary>
    ImagePairs,
}

public static class Retrieval
{
    public const int Auto = -1;
    public const int AutoMaxPointsForDirect = 100_000;
    public const int AutoImages = 20;

    /// <summary>The --retrieval value: "auto" (<see cref="Auto"/>), "all" (0: every map point) or K (the points of the K most similar database images).</summary>
    public static int Parse(string text) => text switch
    {
        "auto" => Auto,
        "all" => 0,
        var v when int.TryParse(v, out int k) && k > 0 => k,
        var v => throw new UsageException($"--retrieval must be auto, all or a positive number, not '{v}'"),
    };
}

public static class PointSearch
{
    /// <summary>Cells per point of `--point-cells auto`. On the scale benchmark's street (256 cells,
    /// random descriptors, the hardest case) 10 keep 96 % of the exact search's PnP inliers (median)
    /// in 0.26× its query time; on the town at 1,000 images (121 cells, R2D2 night queries) the
    /// share of queries within each threshold is the exact search's to one or two queries of 30.</summary>
    public const int AutoCells = 10;
    /// <summary>`--point-cells auto` searches within cells from this many query × point pairs (20,000
    /// keypoints against 5,000 points): ~0.5 s of exact search on 2 cores.</summary>
    public const long AutoMinPairs = 100_000_000;

    /// <summary>The --point-cells value: "auto" (null) or N ≥ 0 (0: exact).</summary>
    public static int? Parse(string text) => text switch
    {
        "auto" => null,
        var v when int.TryParse(v, out int k) && k >= 0 => k,
        var v => throw new UsageException($"--point-cells must be auto or a number ≥ 0, not '{v}'"),
    };
}

/// <summary>
/// One query: features → 2D–3D matches against the map's points → keypoints undistorted with the
/// query camera → LO-RANSAC PnP (P3P, 12 px, Cauchy refinement) → pose (world→camera).
/// Fallback when it fails: the pose of the database image that observes most of the query's
/// matched points (or the first database image), flagged as not localized.
/// </summary>
public static class Localizer
{
    /// <summary>P3P needs three matches and a fourth to choose among its solutions: with fewer, PnP is not tried.</summary>
    public const int MinMatchesForPnp = 4;

    /// <summary>What the "auto" settings resolve by, in words: a run description records it, so that
    /// resuming a run with a build that decides otherwise is refused.</summary>
    public static string AutoRules => FormattableString.Invariant(
        $"retrieval: the top {Retrieval.AutoImages} images of maps of more than {Retrieval.AutoImages} images (vlad: of more than {Retrieval.AutoMaxPointsForDirect} points); ")
        + FormattableString.Invariant($"{LocalizerOptions.AutoVerifiedCandidates} verified candidates for retrieved images; covisibility clusters for retrieved images; ")
        + FormattableString.Invariant($"search within {PointSearch.AutoCells} cells from {PointSearch.AutoMinPairs} descriptor pairs");

    public static QueryResult Localize(string name, RgbImage image, Camera camera, FeatureSource source, MapIndex map,
        TorchSharp.torch.Device? device, LocalizerOptions? options = null)
    {
        var sw = Stopwatch.StartNew();
        var f = source.Extract(image);
        return Localize(name, f, sw.Elapsed.TotalSeconds, camera, map, device, options);
    }

    /// <summary>One query from its features (extracted elsewhere, in <paramref name="extractSeconds"/>): matching, PnP, fallback.</summary>
    public static QueryResult Localize(string name, FeatureSet f, double extractSeconds, Camera camera, MapIndex map,
        TorchSharp.torch.Device? device, LocalizerOptions? options = null)
    {
        var o = options ?? new LocalizerOptions();
        double te = extractSeconds;
        var sw = Stopwatch.StartNew();
        var images = DatabaseImages(name, f, map, o);
        var groups = Groups(images, map, o);
        var cells = o.Matching == MatchingScheme.PointDescriptors && images != null ? map.QueryCells(f, PointCells(f, images, map, o)) : null;
        var matchSets = groups.Select(g => MatchImages(name, f, g, map, device, o, cells)).ToList();
        double tm = sw.Elapsed.TotalSeconds; sw.Restart();
        List<Match> matches = matchSets.Count == 1 ? matchSets[0] : matchSets.SelectMany(m => m).Distinct().ToList();
        PnpResult? result = null;
        // The set with most matches first: its pose's inliers then bound the others', and a set that
        // cannot beat them is given up after a few RANSAC iterations (a wrong cluster of one image
        // ran all 10,000: 6 of them were half of a query's time on the scale benchmark's street).
        // Equal inlier counts keep the earlier set, so the larger one. When candidates are
        // verified, a set must beat the fewest inliers of the best VerifiedCandidates instead.
        int verified = images == null ? 0 : o.VerifiedCandidates ?? (o.PairsByQuery == null ? LocalizerOptions.AutoVerifiedCandidates : 0);
        bool verify = verified > 0;
        var candidates = new List<(PnpResult Pose, List<Match> Matches)>();
        // The fewest inliers a candidate needs to be verified, given the best pose's.
        int MinVerified(int best) => (int)Math.Ceiling(o.VerifyMinShare * best);
        double scale = DetectionScale(f, map.Extractor); // once per query: the settings' JSON is parsed here, not per PnP
        var pnp = scale == 1 ? o.Pnp : o.Pnp with { ThresholdPx = o.Pnp.ThresholdPx * scale, LossScalePx = o.Pnp.LossScalePx * scale };
        var guidedOptions = scale == 1 ? o.Guided : o.Guided with { RadiusPx = o.Guided.RadiusPx * scale };
        var order = Enumerable.Range(0, matchSets.Count).OrderByDescending(g => matchSets[g].Count).ToList();
        foreach (int g in order)
        {
            // With verification a set must still reach VerifyMinShare of the best set's inliers:
            // below that it is neither verified nor better (on the scale benchmark's street, the
            // small clusters' full RANSAC runs were 0.6 of a query's 0.9 s).
            int best = result?.Inliers.Length ?? 0;
            int toBeat = !verify ? best
                : Math.Max(candidates.Count >= verified ? candidates[verified - 1].Pose.Inliers.Length : 0, MinVerified(best) - 1);
            if (toBeat > 0 && matchSets[g].Count <= toBeat) continue;
            var r = Pnp(matchSets[g], f, camera, map, pnp, toBeat);
            var m = matchSets[g];
            for (int round = 0; round < o.Guided.Rounds && r != null && r.Inliers.Length >= o.MinInliers; round++)
            {
                var guided = Guided(f, camera, map, r, m, groups[g], guidedOptions);
                var r2 = Pnp(guided, f, camera, map, pnp, r.Inliers.Length);
                if (r2 == null || r2.Inliers.Length <= r.Inliers.Length) break;
                r = r2; m = guided;
            }
            if (r != null && (result == null || r.Inliers.Length > result.Inliers.Length)) { result = r; matches = m; }
            if (verify && r != null && r.Inliers.Length >= o.MinInliers)
            {
                // Kept sorted, most inliers first; equal counts keep the earlier (larger) set first.
                int at = candidates.FindIndex(c => c.Pose.Inliers.Length < r.Inliers.Length);
                candidates.Insert(at < 0 ? candidates.Count : at, (r, m));
            }
        }
        // Only candidates close to the best are verified: one with far fewer inliers rarely wins
        // after verification, and each costs a matching and a PnP.
        int minShared = MinVerified(result?.Inliers.Length ?? 0); // the best candidate's count, when there is one
        foreach (var (pose, poseMatches) in candidates.Take(verified).Where(c => c.Pose.Inliers.Length >= minShared))
        {
            var ids = ImagesSeeing(pose, poseMatches, camera, map, images!.Count);
            if (ids.Count == 0) continue;
            var around = MatchImages(name, f, ids, map, device, o, cells);
            var r = Pnp(around, f, camera, map, pnp, result!.Inliers.Length);
            if (r != null && r.Inliers.Length > result.Inliers.Length) { result = r; matches = around; }
        }
        double tp = sw.Elapsed.TotalSeconds;
        // Every match with RANSAC's verdict, kept whatever the outcome: what a report draws.
        var matchXY = matches.SelectMany(m => new[] { f.X[m.I], f.Y[m.I] }).ToArray();
        var matchPoints = matches.Select(m => m.J).ToArray();
        var matchInliers = new bool[matches.Count];
        if (result != null) foreach (var i in result.Inliers) matchInliers[i] = true;
        if (result != null && result.Inliers.Length >= o.MinInliers)
        {
            var inlierXY = result.Inliers.SelectMany(i => new[] { f.X[matches[i].I], f.Y[matches[i].I] }).ToArray();
            var inlierPoints = result.Inliers.Select(i => matches[i].J).ToArray();
            return new QueryResult(name, result.Pose, true, f.Count, matches.Count, result.Inliers.Length, te, tm, tp, null, null,
                inlierXY, inlierPoints, matchXY, matchPoints, matchInliers, images);
        }
        var (fallbackName, fallbackPose) = Fallback(map, matches);
        string why = result == null ? $"{matches.Count} 2D–3D matches, no pose found" : $"only {result.Inliers.Length} inliers (< {o.MinInliers})";
        return new QueryResult(name, fallbackPose, false, f.Count, matches.Count, result?.Inliers.Length ?? 0, te, tm, tp,
            $"{name}: not localized ({why}); written with the pose of database image {fallbackName}", fallbackName,
            MatchXY: matchXY, MatchPoints: matchPoints, MatchInliers: matchInliers, DatabaseImages: images);
    }

    private static PnpResult? Pnp(List<Match> matches, FeatureSet f, Camera camera, MapIndex map, PnpOptions pnp, int inliersToBeat)
    {
        if (matches.Count < MinMatchesForPnp || map.Points.Count == 0) return null;
        var px = new double[2 * matches.Count];
        var pw = new double[3 * matches.Count];
        for (int k = 0; k < matches.Count; k++)
        {
            var (ux, uy) = camera.UndistortPixel(f.X[matches[k].I], f.Y[matches[k].I]);
            px[2 * k] = ux; px[2 * k + 1] = uy;
            var p = map.Points[matches[k].J];
            pw[3 * k] = p.X; pw[3 * k + 1] = p.Y; pw[3 * k + 2] = p.Z;
        }
        return PnpRansac.Estimate(px, pw, camera.Pinhole, pnp, inliersToBeat);
    }

    private const int HlocDetectionSize = 1024;

    /// <summary>The image's pixels per pixel of the largest level its features were detected on:
    /// longer side / the extractor's max size when the image is larger, else 1. PnP's threshold and
    /// loss scale, and guided matching's radius, are in those pixels (a keypoint's error grows with it): 8 px is 8 px on the town's
    /// 512×384 photos, 12.5 px on Aachen's 1,600 px queries (hloc: 12), 24 px on Strecha's 3,072 px
    /// images, where a fixed 8 px lost a night query of strecha-loc within (0.05 m, 0.5°).</summary>
    public static double DetectionScale(FeatureSet f, ExtractorIdentity extractor)
    {
        int longer = Math.Max(f.ImageWidth, f.ImageHeight);
        // hloc's files do not say the size they were detected at; its Aachen settings detect at
        // 1,024 px (superpoint_aachen, r2d2) or 1,600: taken as 1,024, which gives its own 12 px on Aachen.
        if (extractor.FeatureType == ExtractorIdentity.HlocType) return longer > HlocDetectionSize ? (double)longer / HlocDetectionSize : 1;
        try
        {
            using var settings = System.Text.Json.JsonDocument.Parse(extractor.Settings);
            if (settings.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object
                && settings.RootElement.TryGetProperty("max_size", out var m) && m.TryGetInt32(out int max) && max > 0 && longer > max)
                return (double)longer / max;
        }
        catch (System.Text.Json.JsonException) { } // settings that are not JSON name no max size
        return 1;
    }

    /// <summary>The database images (at most <paramref name="count"/>, most shared points first)
    /// that see the map points the pose <paramref name="candidate"/> would see. Only points of
    /// images whose centres lie within 3× the median depth of its inliers are considered, so the
    /// cost follows the neighbourhood, not the map (scale-free: the radius is in the map's units).</summary>
    private static List<int> ImagesSeeing(PnpResult candidate, List<Match> matches, Camera camera, MapIndex map, int count)
    {
        var pose = candidate.Pose;
        var c = pose.CameraCenter;
        var depths = new List<double>();
        foreach (var i in candidate.Inliers) { var p = map.Points[matches[i].J]; depths.Add(pose.ToCamera(p.X, p.Y, p.Z)[2]); }
        if (depths.Count == 0) return new List<int>();
        depths.Sort();
        double radius = 3 * depths[depths.Count / 2];
        var near = map.CameraCentres.Where(e =>
        {
            var d = e.Centre;
            double dx = d[0] - c[0], dy = d[1] - c[1], dz = d[2] - c[2];
            return dx * dx + dy * dy + dz * dz <= radius * radius;
        }).Select(e => e.Id).ToList();
        var shared = PoseVisibility.SharedPoints(map, camera, pose, null, map.PointsObservedBy(near));
        return PoseVisibility.Ranking(shared).Take(count).ToList();
    }

    /// <summary>Cells per point of the 2D–3D search against <paramref name="images"/>' points (0: exact).</summary>
    public static int PointCells(FeatureSet f, IEnumerable<int> images, MapIndex map, LocalizerOptions o) =>
        o.PointCells ?? ((long)f.Count * map.PointsObservedBy(images).Length >= PointSearch.AutoMinPairs ? PointSearch.AutoCells : 0);

    /// <summary>The image sets the query is matched and posed against, each on its own: every point
    /// (null), the database images, or with clusters each covisibility cluster of them.</summary>
    private static List<List<int>?> Groups(List<int>? images, MapIndex map, LocalizerOptions o)
    {
        if (images == null) return new List<List<int>?> { null };
        if (!(o.CovisibilityClusters ?? o.PairsByQuery == null)) return new List<List<int>?> { images };
        return map.CovisibilityClusters(images).Select(c => (List<int>?)c).ToList();
    }

    /// <summary>Guided matches for the pose of <paramref name="first"/>: the points of the matched
    /// images and of every image that observes at least <see cref="GuidedMatchingOptions.MinImageVotes"/>
    /// of its inlier points (every point when the query was matched against all of them).</summary>
    private static List<Match> Guided(FeatureSet f, Camera camera, MapIndex map, PnpResult first, List<Match> matches,
        List<int>? images, GuidedMatchingOptions g)
    {
        IReadOnlyList<int> candidates;
        if (images == null) candidates = Enumerable.Range(0, map.Points.Count).ToArray();
        else
        {
            var votes = new Dictionary<int, int>();
            foreach (var i in first.Inliers)
                foreach (var e in map.Points[matches[i].J].Track) votes[e.ImageId] = votes.GetValueOrDefault(e.ImageId) + 1;
            candidates = images.Concat(votes.Where(v => v.Value >= g.MinImageVotes).Select(v => v.Key)).Distinct()
                .Where(map.PointsByImage.ContainsKey).SelectMany(id => map.PointsByImage[id]).Distinct().ToArray();
        }
        var (ux, uy) = camera.UndistortPixels(f.X, f.Y);
        return GuidedMatching.Find(first.Pose, camera.Pinhole, f.ImageWidth, f.ImageHeight, ux, uy, f.Descriptors, f.Dim,
            candidates, j => (map.Points[j].X, map.Points[j].Y, map.Points[j].Z), map.Descriptors, g);
    }

    /// <summary>The retrieval method the queries go through, or null when they match every map point or take their pairs from --pairs.</summary>
    public static IImageRetrieval? RetrievalUsed(MapIndex map, LocalizerOptions o)
    {
        if (o.PairsByQuery != null) return null;
        var method = o.RetrievalMethod ?? ImageRetrieval.Create("auto", map);
        return (o.RetrievedImages == Retrieval.Auto ? AutoImages(map, method) : o.RetrievedImages) == 0 ? null : method;
    }

    /// <summary>The database images a query is matched against, best first; null: every map point (2D–3D without retrieval).</summary>
    public static List<int>? DatabaseImages(string name, FeatureSet f, MapIndex map, LocalizerOptions o)
    {
        if (o.PairsByQuery != null) return o.PairsByQuery.Find(name) ?? new List<int>();
        if (RetrievalUsed(map, o) is not { } method) return o.Matching == MatchingScheme.ImagePairs ? map.Images.Keys.Order().ToList() : null;
        return method.Retrieve(name, f, o.RetrievedImages == Retrieval.Auto ? Retrieval.AutoImages : o.RetrievedImages).ToList();
    }

    /// <summary>--retrieval auto: the top <see cref="Retrieval.AutoImages"/> images whenever the map has
    /// more and they are picked by ASMK, a pairs file or global features; by VLAD, only above
    /// <see cref="Retrieval.AutoMaxPointsForDirect"/> points; else every point (0). On the town, ASMK's
    /// top 20 beat matching every point at 100 and 300 images (at 300: 63 % against 53 % within
    /// (0.25 m, 2°)): among repeated facades the mutual nearest neighbour over all points is often a twin.</summary>
    private static int AutoImages(MapIndex map, IImageRetrieval method)
    {
        if (map.Images.Count <= Retrieval.AutoImages) return 0;
        if (method.Name != "vlad") return Retrieval.AutoImages;
        return map.Retrieval != null && map.Points.Count > Retrieval.AutoMaxPointsForDirect ? Retrieval.AutoImages : 0;
    }

    /// <summary>2D–3D matches of the query against the given database images (null: every map point), by the options' scheme.</summary>
    private static List<Match> MatchImages(string name, FeatureSet f, List<int>? images, MapIndex map, TorchSharp.torch.Device? device, LocalizerOptions o, CellSearch? cells)
    {
        if (o.Matching == MatchingScheme.ImagePairs)
            return map.MatchThroughImages(f, images ?? map.Images.Keys.Order().ToList(), device, o.MinSimilarity,
                o.ImportedMatches is { } imported ? (id, image) => imported.Between(name, f, id, image) : null);
        return images == null ? map.MatchToPoints(f, device, o.MinSimilarity) : map.MatchToPointsOf(f, images, device, o.MinSimilarity, cells);
    }

    /// <summary>The fallback pose: that of the database image observing most of the matched
    /// points, or of the first database image when there are none.</summary>
    public static (string Name, Pose Pose) Fallback(MapIndex map, IReadOnlyList<Match> matches)
    {
        // A query without a pose gets a database image's: a map without posed images has none to give.
        if (map.Images.Count == 0) throw new FeatureDatabaseException(map.Path, "holds no posed database image, so a query without a pose has no fallback (rerun build-map)");
        var votes = new Dictionary<int, int>();
        foreach (var m in matches)
            foreach (var e in map.Points[m.J].Track)
                votes[e.ImageId] = votes.GetValueOrDefault(e.ImageId) + 1;
        int best = votes.Count > 0 ? votes.MaxBy(kv => kv.Value).Key : map.Images.Keys.Min();
        return map.Images.TryGetValue(best, out var im) ? im : map.Images.First().Value;
    }
}
