using R2D2.Localization.Geometry;

namespace R2D2.Localization.Localization;

/// <summary>Which map points a camera with a given pose sees and which database images share them
/// (see <see cref="PoseVisibility"/>): the ground truth of retrieval recall, and the images a
/// candidate pose is verified against (<see cref="LocalizerOptions.VerifiedCandidates"/>).</summary>
public sealed record RelevanceOptions
{
    /// <summary>A database image is relevant when it observes at least this many of the map points the query sees.</summary>
    public int MinSharedPoints { get; init; } = 20;
    /// <summary>Largest angle (degrees) between the query's and the database image's rays to a shared point.</summary>
    public double MaxViewAngleDegrees { get; init; } = 60;
    /// <summary>Side (px) of the cells of the query's coarse depth buffer.</summary>
    public int DepthCellPx { get; init; } = 24;
    /// <summary>A point farther than this factor × the nearest point of its cell is hidden behind it.</summary>
    public double OcclusionFactor { get; init; } = 1.25;
}

/// <summary>
/// A map point is <em>seen</em> by a camera with a pose when it projects into the image with
/// positive depth and is not hidden: the image is cut into cells of
/// <see cref="RelevanceOptions.DepthCellPx"/> px, and a point more than
/// <see cref="RelevanceOptions.OcclusionFactor"/> × farther than the nearest map point of its cell
/// counts as behind a surface (a coarse depth buffer of the map's own points, since a map has no
/// surfaces). A database image <em>shares</em> a seen point when it observes it from within
/// <see cref="RelevanceOptions.MaxViewAngleDegrees"/> of the camera's ray (the other side of a wall
/// does not count). Pure: no I/O.
/// </summary>
public static class PoseVisibility
{
    /// <summary>Database images sharing points with the camera (image id → shared points).
    /// <paramref name="points"/>: the map points to consider (null: all of them).</summary>
    public static Dictionary<int, int> SharedPoints(MapIndex map, Camera camera, Pose worldToCamera, RelevanceOptions? options = null,
        IReadOnlyList<int>? points = null)
    {
        var o = options ?? new RelevanceOptions();
        int count = points?.Count ?? map.Points.Count;
        int cw = Math.Max(1, (camera.Width + o.DepthCellPx - 1) / o.DepthCellPx), ch = Math.Max(1, (camera.Height + o.DepthCellPx - 1) / o.DepthCellPx);
        var nearest = new double[cw * ch];
        Array.Fill(nearest, double.PositiveInfinity);
        var cell = new int[count];
        var depth = new double[count];
        for (int k = 0; k < count; k++)
        {
            cell[k] = -1;
            var pt = map.Points[points?[k] ?? k];
            var xc = worldToCamera.ToCamera(pt.X, pt.Y, pt.Z);
            if (xc[2] <= 1e-9) continue;
            var (u, v) = camera.Project(xc[0], xc[1], xc[2]);
            if (!(u >= -0.5 && v >= -0.5 && u < camera.Width - 0.5 && v < camera.Height - 0.5)) continue;
            int c = Math.Min(cw - 1, (int)((u + 0.5) / o.DepthCellPx)) + cw * Math.Min(ch - 1, (int)((v + 0.5) / o.DepthCellPx));
            cell[k] = c;
            depth[k] = xc[2];
            nearest[c] = Math.Min(nearest[c], xc[2]);
        }
        var qc = worldToCamera.CameraCenter;
        double cosMax = Math.Cos(o.MaxViewAngleDegrees * Math.PI / 180);
        var shared = new Dictionary<int, int>();
        var centres = new Dictionary<int, double[]?>();
        for (int k = 0; k < count; k++)
        {
            if (cell[k] < 0 || depth[k] > o.OcclusionFactor * nearest[cell[k]]) continue;
            var pt = map.Points[points?[k] ?? k];
            foreach (var e in pt.Track)
            {
                if (!centres.TryGetValue(e.ImageId, out var dc))
                    centres[e.ImageId] = dc = map.Images.TryGetValue(e.ImageId, out var im) ? im.Pose.CameraCenter : null;
                if (dc == null) continue;
                if (Cos(pt.X - qc[0], pt.Y - qc[1], pt.Z - qc[2], pt.X - dc[0], pt.Y - dc[1], pt.Z - dc[2]) < cosMax) continue;
                shared[e.ImageId] = shared.GetValueOrDefault(e.ImageId) + 1;
            }
        }
        return shared;
    }

    /// <summary>The images sharing at least <see cref="RelevanceOptions.MinSharedPoints"/> points, most first (ties by id).</summary>
    public static List<int> Ranking(Dictionary<int, int> shared, RelevanceOptions? options = null)
    {
        int min = (options ?? new RelevanceOptions()).MinSharedPoints;
        return shared.Where(kv => kv.Value >= min).OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Select(kv => kv.Key).ToList();
    }

    private static double Cos(double ax, double ay, double az, double bx, double by, double bz)
    {
        double n = Math.Sqrt((ax * ax + ay * ay + az * az) * (bx * bx + by * by + bz * bz));
        return n > 0 ? (ax * bx + ay * by + az * bz) / n : 1;
    }
}
