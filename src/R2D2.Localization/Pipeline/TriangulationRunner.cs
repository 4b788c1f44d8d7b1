using System.Collections.Concurrent;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

public sealed record TriangulationResult(List<MapPoint> Points, TriangulationStats Stats);

/// <summary>
/// The triangulate stage: tracks from the verified matches the database holds (union-find), each
/// triangulated on its own with the known poses (<see cref="TrackTriangulation"/>, in parallel),
/// and each point given the normalized mean of its observations' descriptors. Keypoints are
/// undistorted with their camera first. Reads the database, writes nothing.
/// </summary>
public static class TriangulationRunner
{
    public static TriangulationResult Run(FeatureDatabase db, IReadOnlyDictionary<string, PosedImage> posed, TriangulationOptions o,
        IProgressSink? progress = null)
    {
        TriangulationResult result = null!;
        (progress ?? ProgressSink.None).Stage("triangulate", 1, advance =>
        {
            var images = db.ReadImages().Where(i => posed.ContainsKey(i.Name)).ToList();
            var tracks = Tracks(db, images);
            var views = Views(db, images, posed);
            var points = TriangulateAll(tracks, views, o, out int noConsensus, out int smallAngle);
            var mapPoints = WithMeanDescriptors(db, points);
            var stats = new TriangulationStats(tracks.Count, mapPoints.Count, noConsensus, smallAngle, points.Sum(p => p.Completed),
                mapPoints.Count == 0 ? 0 : mapPoints.Average(p => p.Track.Length), mapPoints.Count == 0 ? 0 : mapPoints.Average(p => p.Error));
            result = new TriangulationResult(mapPoints, stats);
            advance($"{tracks.Count} tracks: {mapPoints.Count} points");
        });
        return result;
    }

    private static List<(TrackElement[] Track, TrackElement[] Conflicts)> Tracks(FeatureDatabase db, List<DatabaseImage> images)
    {
        var byId = images.Select(i => i.Id).ToHashSet();
        var builder = new TrackBuilder();
        foreach (var pair in db.ListGeometryPairs())
        {
            if (!byId.Contains(pair.ImageId1) || !byId.Contains(pair.ImageId2)) continue;
            var g = db.ReadTwoViewGeometry(pair.ImageId1, pair.ImageId2);
            if (g == null) continue;
            foreach (var m in g.Inliers) builder.AddMatch(pair.ImageId1, m.I, pair.ImageId2, m.J);
        }
        return builder.BuildWithConflicts();
    }

    /// <summary>Undistorted keypoints, projection matrix and camera centre of every image with keypoints (keypoints only: ~8 bytes each).</summary>
    private sealed record View(float[] X, float[] Y, double[] Projection, double[] Centre)
    {
        public TrackObservation Observe(TrackElement e) => new(e, new Observation(Projection, X[e.KeypointIndex], Y[e.KeypointIndex]), Centre);
    }

    private static Dictionary<int, View> Views(FeatureDatabase db, List<DatabaseImage> images, IReadOnlyDictionary<string, PosedImage> posed)
    {
        var views = new Dictionary<int, View>();
        foreach (var im in images)
        {
            var kp = db.ReadKeypoints(im.Id);
            if (kp == null) continue;
            var pi = posed[im.Name];
            var (ux, uy) = pi.Camera.UndistortPixels(kp.X, kp.Y);
            views[im.Id] = new View(ux, uy, pi.Camera.ProjectionMatrix(pi.Pose), pi.Pose.CameraCenter);
        }
        return views;
    }

    /// <summary>The tracks' points in track order (the seed of track t is t, so the result does not depend on the threads).</summary>
    private static List<TriangulatedTrack> TriangulateAll(List<(TrackElement[] Track, TrackElement[] Conflicts)> tracks, Dictionary<int, View> views,
        TriangulationOptions o, out int noConsensus, out int smallAngle)
    {
        var results = new ConcurrentBag<(int Index, TriangulatedTrack Point)>();
        int[] rejected = new int[3];
        Parallel.For(0, tracks.Count, t =>
        {
            var (track, conflicts) = tracks[t];
            var outcome = TrackTriangulation.Triangulate(
                track.Where(e => views.ContainsKey(e.ImageId)).Select(e => views[e.ImageId].Observe(e)).ToList(),
                conflicts.Where(e => views.ContainsKey(e.ImageId)).Select(e => views[e.ImageId].Observe(e)).ToList(), o, new Random(t));
            if (outcome.Point != null) results.Add((t, outcome.Point));
            else Interlocked.Increment(ref rejected[(int)outcome.Rejection]);
        });
        noConsensus = rejected[(int)TrackRejection.NoConsensus];
        smallAngle = rejected[(int)TrackRejection.SmallAngle];
        return results.OrderBy(r => r.Index).Select(r => r.Point).ToList();
    }

    /// <summary>The map points (ids from 1, grey) with the normalized mean descriptor of their observations, one image's features in memory at a time.</summary>
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
            var f = db.ReadFeatures(imageId);
            if (f == null) continue;
            foreach (var (p, k) in obs)
            {
                var s = sums[p] ??= new float[f.Dim];
                var d = f.Descriptor(k);
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
