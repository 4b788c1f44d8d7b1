using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

public sealed record TriangulationResult(List<MapPoint> Points, TriangulationStats Stats);

/// <summary>
/// The triangulate stage: tracks from the verified matches the database holds (union-find over the
/// matched keypoints only, <see cref="TrackSet"/>), each triangulated on its own with the known
/// poses (<see cref="TrackTriangulation"/>, in parallel), and each point given the normalized mean
/// of its observations' descriptors. The tracks' keypoints are undistorted with their camera
/// first; keypoints no track names are never held. Reads the database, writes nothing.
/// </summary>
public static class TriangulationRunner
{
    public static TriangulationResult Run(FeatureDatabase db, IReadOnlyDictionary<string, PosedImage> posed, TriangulationOptions o,
        IProgressSink? progress = null)
    {
        TriangulationResult result = null!;
        // One snapshot of the database: the tracks read the matches twice, then the keypoints and
        // descriptors they name, and a writer between the reads made them disagree.
        (progress ?? ProgressSink.None).Stage("triangulate", 1, advance => db.ReadConsistent(() =>
        {
            var images = db.ReadImages().Where(i => posed.ContainsKey(i.Name)).ToList();
            var tracks = Tracks(db, images);
            var views = Views(db, images, posed, tracks, out var xy);
            var points = TriangulateAll(tracks, views, xy, o, out int noConsensus, out int smallAngle);
            views = null!; xy = null!;
            var mapPoints = WithMeanDescriptors(db, points);
            var stats = new TriangulationStats(tracks.Count, mapPoints.Count, noConsensus, smallAngle, points.Sum(p => p.Completed),
                mapPoints.Count == 0 ? 0 : mapPoints.Average(p => p.Track.Length), mapPoints.Count == 0 ? 0 : mapPoints.Average(p => p.Error));
            result = new TriangulationResult(mapPoints, stats);
            advance($"{tracks.Count} tracks: {mapPoints.Count} points");
            return 0;
        }));
        return result;
    }

    /// <summary>The tracks of the verified matches between the given images; the matches are read
    /// from the database twice (see <see cref="TrackSet.Build"/>), never held.</summary>
    private static TrackSet Tracks(FeatureDatabase db, List<DatabaseImage> images)
    {
        var byId = images.Select(i => i.Id).ToHashSet();
        var pairs = db.ListGeometryPairs().Where(p => byId.Contains(p.ImageId1) && byId.Contains(p.ImageId2)).ToList();
        return TrackSet.Build(add =>
        {
            foreach (var pair in pairs)
            {
                var g = db.ReadTwoViewGeometry(pair.ImageId1, pair.ImageId2);
                if (g == null) continue;
                foreach (var m in g.Inliers) add(pair.ImageId1, m.I, pair.ImageId2, m.J);
            }
        });
    }

    /// <summary>An image's projection matrix and camera centre.</summary>
    private sealed record View(double[] Projection, double[] Centre);

    /// <summary>
    /// The undistorted pixels of the tracks' observations (<paramref name="xy"/>: x, y of each of the
    /// tracks' elements, then of their conflicts), one image's keypoints read at a time: only the
    /// keypoints the tracks name are kept (8 bytes each), not every keypoint of every image. Images
    /// without keypoints get no view, and their observations are left out, as before.
    /// </summary>
    private static Dictionary<int, View> Views(FeatureDatabase db, List<DatabaseImage> images, IReadOnlyDictionary<string, PosedImage> posed,
        TrackSet tracks, out float[] xy)
    {
        int n = tracks.ElementCount + tracks.ConflictCount;
        TrackElement At(int i) => i < tracks.ElementCount ? tracks.AllElements[i] : tracks.AllConflicts[i - tracks.ElementCount];
        // The observations grouped by image (counting sort), so each image's keypoints are read once.
        var count = new Dictionary<int, int>();
        for (int i = 0; i < n; i++) { int im = At(i).ImageId; count[im] = count.GetValueOrDefault(im) + 1; }
        var first = new Dictionary<int, int>();
        int total = 0;
        foreach (var (im, c) in count) { first[im] = total; total += c; }
        var byImage = new int[n];
        var fill = new Dictionary<int, int>(first);
        for (int i = 0; i < n; i++) byImage[fill[At(i).ImageId]++] = i;

        xy = new float[2 * n];
        var views = new Dictionary<int, View>();
        foreach (var im in images)
        {
            if (!count.TryGetValue(im.Id, out int c)) continue;
            var at = byImage.AsSpan(first[im.Id], c);
            var keypoints = new int[c];
            for (int j = 0; j < c; j++) keypoints[j] = At(at[j]).KeypointIndex;
            var x = new float[c]; var y = new float[c];
            if (!db.ReadKeypointPixels(im.Id, keypoints, x, y)) continue;
            var pi = posed[im.Name];
            var (ux, uy) = pi.Camera.UndistortPixels(x, y);
            for (int j = 0; j < c; j++) { xy[2 * at[j]] = ux[j]; xy[2 * at[j] + 1] = uy[j]; }
            views[im.Id] = new View(pi.Camera.ProjectionMatrix(pi.Pose), pi.Pose.CameraCenter);
        }
        return views;
    }

    /// <summary>The tracks' points in track order (the seed of track t is t, so the result does not depend on the threads).</summary>
    private static List<TriangulatedTrack> TriangulateAll(TrackSet tracks, Dictionary<int, View> views, float[] xy,
        TriangulationOptions o, out int noConsensus, out int smallAngle)
    {
        var results = new TriangulatedTrack?[tracks.Count];
        int[] rejected = new int[3];
        Parallel.For(0, tracks.Count, t =>
        {
            List<TrackObservation> Observe(ReadOnlySpan<TrackElement> elements, int offset)
            {
                var l = new List<TrackObservation>(elements.Length);
                for (int i = 0; i < elements.Length; i++)
                    if (views.TryGetValue(elements[i].ImageId, out var v))
                        l.Add(new TrackObservation(elements[i], new Observation(v.Projection, xy[2 * (offset + i)], xy[2 * (offset + i) + 1]), v.Centre));
                return l;
            }
            var outcome = TrackTriangulation.Triangulate(Observe(tracks.Track(t), tracks.StartOf(t)),
                Observe(tracks.Conflicts(t), tracks.ElementCount + tracks.ConflictStartOf(t)), o, new Rng(Rng.Hash((ulong)t)));
            if (outcome.Point != null) results[t] = outcome.Point;
            else Interlocked.Increment(ref rejected[(int)outcome.Rejection]);
        });
        noConsensus = rejected[(int)TrackRejection.NoConsensus];
        smallAngle = rejected[(int)TrackRejection.SmallAngle];
        return results.OfType<TriangulatedTrack>().ToList();
    }

    /// <summary>The map points (ids from 1, grey) with the normalized mean descriptor of their observations, one image's observed descriptors in memory at a time.</summary>
    private static List<MapPoint> WithMeanDescriptors(FeatureDatabase db, List<TriangulatedTrack> points)
    {
        var sums = new float[points.Count][];
        var byImage = new Dictionary<int, List<(int Point, int Keypoint)>>();
        for (int p = 0; p < points.Count; p++)
            foreach (var e in points[p].Track)
            {
                if (!byImage.TryGetValue(e.ImageId, out var l)) byImage[e.ImageId] = l = new();
                l.Add((p, e.KeypointIndex));
            }
        foreach (var (imageId, obs) in byImage)
        {
            // Only the observed keypoints' descriptors (not the image's 20,000 in float32).
            var rows = db.ReadDescriptorRows(imageId, obs.Select(o => o.Keypoint).ToArray(), out int dim);
            if (rows == null) continue;
            for (int i = 0; i < obs.Count; i++)
            {
                var s = sums[obs[i].Point] ??= new float[dim];
                var d = rows.AsSpan(i * dim, dim);
                for (int j = 0; j < s.Length; j++) s[j] += d[j];
            }
        }
        var mapPoints = new List<MapPoint>(points.Count);
        for (int p = 0; p < points.Count; p++)
        {
            var s = sums[p];
            if (s != null)
            {
                double n = Math.Sqrt(s.Sum(v => (double)v * v));
                if (n > 0) for (int j = 0; j < s.Length; j++) s[j] = (float)(s[j] / n);
            }
            var r = points[p];
            mapPoints.Add(new MapPoint(p + 1, r.Point[0], r.Point[1], r.Point[2], 128, 128, 128, r.Error, r.Track, s));
        }
        return mapPoints;
    }
}
