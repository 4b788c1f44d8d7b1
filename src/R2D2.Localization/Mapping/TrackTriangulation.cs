using R2D2.Localization.Geometry;

namespace R2D2.Localization.Mapping;

/// <summary>The filters a track's point must pass.</summary>
public sealed record TriangulationOptions
{
    /// <summary>Largest reprojection error of a kept observation (px, undistorted).</summary>
    public double MaxReprojectionPx { get; init; } = 4;
    public double MinTriangulationAngleDeg { get; init; } = 1.5;
}

public sealed record TriangulationStats(int Tracks, int Points, int RejectedNoConsensus, int RejectedAngle, int CompletedObservations,
    double MeanTrackLength, double MeanReprojectionErrorPx);

/// <summary>One observation of a track: its keypoint, the keypoint's undistorted pixel with the
/// image's projection matrix, and the image's camera centre.</summary>
public readonly record struct TrackObservation(TrackElement Element, Observation Observation, double[] Centre);

public enum TrackRejection { None, NoConsensus, SmallAngle }

/// <summary>A track's 3D point: the observations kept (sorted by image), their mean reprojection
/// error, and how many of them completion restored.</summary>
public sealed record TriangulatedTrack(double[] Point, TrackElement[] Track, double Error, int Completed);

/// <summary>A track's point, or why it has none.</summary>
public readonly record struct TrackOutcome(TriangulatedTrack? Point, TrackRejection Rejection);

/// <summary>
/// One track → its 3D point or nothing, with the poses fixed: DLT inside a RANSAC over the
/// track's observations, robust refinement, filters (reprojection error ≤ MaxReprojectionPx in
/// every kept observation, positive depth, triangulation angle ≥ MinTriangulationAngleDeg), and
/// completion: of the keypoints dropped as ambiguous in an image (the track's conflicts), the one
/// reprojecting best within the threshold is restored. Pure: no I/O; the random generator is the
/// caller's (a seed per track makes a parallel run reproducible).
/// </summary>
public static class TrackTriangulation
{
    public static TrackOutcome Triangulate(IReadOnlyList<TrackObservation> track, IReadOnlyList<TrackObservation> conflicts,
        TriangulationOptions o, Rng rng)
    {
        var obs = track.Select(t => t.Observation).ToList();
        var r = Triangulation.Ransac(obs, o.MaxReprojectionPx, minInliers: 2, rng: rng);
        if (r == null) return new(null, TrackRejection.NoConsensus);
        var x = Triangulation.Refine(r.Value.Inliers.Select(i => obs[i]).ToList(), r.Value.Point);
        var keep = Enumerable.Range(0, obs.Count).Where(i => Triangulation.ReprojectionError(obs[i], x) <= o.MaxReprojectionPx).ToList();
        if (keep.Count < 2) return new(null, TrackRejection.NoConsensus);
        if (Triangulation.MaxTriangulationAngle(keep.Select(i => track[i].Centre).ToList(), x) < o.MinTriangulationAngleDeg * Math.PI / 180)
            return new(null, TrackRejection.SmallAngle);
        var kept = keep.Select(i => track[i]).ToList();
        int completed = 0;
        foreach (var image in conflicts.GroupBy(c => c.Element.ImageId))
        {
            var best = image.Select(c => (c, e: Triangulation.ReprojectionError(c.Observation, x))).OrderBy(v => v.e).First();
            if (best.e <= o.MaxReprojectionPx) { kept.Add(best.c); completed++; }
        }
        double err = kept.Average(k => Triangulation.ReprojectionError(k.Observation, x));
        return new(new TriangulatedTrack(x, kept.Select(k => k.Element).OrderBy(e => e.ImageId).ToArray(), err, completed), TrackRejection.None);
    }
}
