using R2D2.Localization.Geometry;

namespace R2D2.Localization.Localization;

/// <summary>Pose-guided re-matching after a first PnP (see <see cref="GuidedMatching"/>).</summary>
public sealed record GuidedMatchingOptions
{
    /// <summary>Rounds of guided matching + PnP after the first pose (0: off).</summary>
    public int Rounds { get; init; } = 0;
    /// <summary>A point is compared only with keypoints within this distance of its projection (undistorted
    /// px of the largest pyramid level: the localizer scales it as PnP's threshold, <c>Localizer.DetectionScale</c>).</summary>
    public double RadiusPx { get; init; } = 8;
    /// <summary>Lowe's ratio on descriptor distances between the best and second-best keypoint in the radius.</summary>
    public double Ratio { get; init; } = 0.9;
    /// <summary>Least descriptor similarity (dot product of L2-normalized descriptors) of a guided match.</summary>
    public float MinSimilarity { get; init; } = 0.5f;
    /// <summary>A database image whose points are searched must observe at least this many of the first pose's inlier points.</summary>
    public int MinImageVotes { get; init; } = 3;
}

/// <summary>
/// Guided matching (as in active search and COLMAP's guided matching): once a pose is known, each
/// candidate map point is projected into the query and compared only with the keypoints near its
/// projection, so a descriptor that lost the global mutual-nearest-neighbour contest at night (to a
/// twin facade elsewhere in the map, or to a slightly closer wrong point) is still matched where
/// the geometry says it must be. More correct matches make the refined pose more precise. Pure: no
/// I/O; points and descriptors are passed in.
/// </summary>
public static class GuidedMatching
{
    /// <param name="keypointsX">undistorted keypoint coordinates (the pinhole <paramref name="k"/>'s pixels)</param>
    /// <param name="queryDescriptors">row-major count × dim, L2-normalized</param>
    /// <param name="candidates">indices of the points to project</param>
    /// <param name="positions">per point its world position (x, y, z), indexed by the candidates</param>
    /// <param name="pointDescriptors">row-major points × dim (the map's float16 descriptors)</param>
    /// <returns>one match per keypoint at most and per point at most; J indexes the points</returns>
    public static List<Match> Find(Pose worldToCamera, PinholeIntrinsics k, int width, int height,
        float[] keypointsX, float[] keypointsY, float[] queryDescriptors, int dim,
        IReadOnlyList<int> candidates, Func<int, (double X, double Y, double Z)> positions, ReadOnlySpan<Half> pointDescriptors,
        GuidedMatchingOptions o)
    {
        int n = keypointsX.Length;
        double r = o.RadiusPx, r2 = r * r;
        // Keypoints bucketed on a grid of cell size r: a projection's neighbours are in its 3×3 cells.
        int gw = Math.Max(1, (int)Math.Ceiling(width / r) + 1), gh = Math.Max(1, (int)Math.Ceiling(height / r) + 1);
        var cellStart = new int[gw * gh + 1];
        var cellOf = new int[n];
        for (int i = 0; i < n; i++)
        {
            int cx = Math.Clamp((int)Math.Floor(keypointsX[i] / r), 0, gw - 1), cy = Math.Clamp((int)Math.Floor(keypointsY[i] / r), 0, gh - 1);
            cellOf[i] = cy * gw + cx;
            cellStart[cellOf[i] + 1]++;
        }
        for (int c = 0; c < gw * gh; c++) cellStart[c + 1] += cellStart[c];
        var byCell = new int[n];
        var fill = (int[])cellStart.Clone();
        for (int i = 0; i < n; i++) byCell[fill[cellOf[i]]++] = i;

        var bestForKeypoint = new Match[n];
        for (int i = 0; i < n; i++) bestForKeypoint[i] = new Match(i, -1, float.NegativeInfinity);
        var rot = worldToCamera.Rotation;
        var t = worldToCamera.Translation;
        var pd = new float[dim];
        foreach (int j in candidates)
        {
            var (x, y, z) = positions(j);
            double zc = rot[6] * x + rot[7] * y + rot[8] * z + t[2];
            if (zc <= 1e-6) continue;
            double u = k.Fx * (rot[0] * x + rot[1] * y + rot[2] * z + t[0]) / zc + k.Cx;
            double v = k.Fy * (rot[3] * x + rot[4] * y + rot[5] * z + t[1]) / zc + k.Cy;
            if (u < -r || v < -r || u > width + r || v > height + r) continue;
            int pcx = (int)Math.Floor(u / r), pcy = (int)Math.Floor(v / r);
            for (int c = 0; c < dim; c++) pd[c] = (float)pointDescriptors[j * dim + c];
            float s1 = float.NegativeInfinity, s2 = float.NegativeInfinity;
            int best = -1;
            for (int cy = Math.Max(0, pcy - 1); cy <= Math.Min(gh - 1, pcy + 1); cy++)
                for (int cx = Math.Max(0, pcx - 1); cx <= Math.Min(gw - 1, pcx + 1); cx++)
                {
                    int cell = cy * gw + cx;
                    for (int e = cellStart[cell]; e < cellStart[cell + 1]; e++)
                    {
                        int i = byCell[e];
                        double dx = keypointsX[i] - u, dy = keypointsY[i] - v;
                        if (dx * dx + dy * dy > r2) continue;
                        float s = Matching.Similarity.Dot(queryDescriptors.AsSpan(i * dim, dim), pd);
                        if (s > s1) { s2 = s1; s1 = s; best = i; }
                        else if (s > s2) s2 = s;
                    }
                }
            if (best < 0 || s1 < o.MinSimilarity) continue;
            // Distances of unit vectors: d² = 2 − 2s.
            if (s2 > float.NegativeInfinity && Math.Sqrt(Math.Max(0, 2 - 2 * s1)) > o.Ratio * Math.Sqrt(Math.Max(0, 2 - 2 * s2))) continue;
            if (s1 > bestForKeypoint[best].Similarity) bestForKeypoint[best] = new Match(best, j, s1);
        }
        return bestForKeypoint.Where(m => m.J >= 0).ToList();
    }
}
