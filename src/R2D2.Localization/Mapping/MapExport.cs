using System.Text.Json;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Mapping;

/// <summary>A map's colours, its COLMAP text model and PLY cloud, and its summary note.</summary>
public static class MapExport
{
    /// <summary>Colours each point from the first image that observes it (each image read once).</summary>
    public static List<MapPoint> Colorize(FeatureDatabase db, List<MapPoint> points, Func<string, string> imagePath)
    {
        var names = db.ReadImages().ToDictionary(i => i.Id, i => i.Name);
        var result = points.ToArray();
        foreach (var g in Enumerable.Range(0, points.Count).GroupBy(p => points[p].Track[0].ImageId))
        {
            var kp = db.ReadKeypoints(g.Key);
            if (kp == null || !names.TryGetValue(g.Key, out var name)) continue;
            RgbImage img;
            try { img = ImageFile.ReadRgb(imagePath(name)); } catch (ImageFileException) { continue; }
            foreach (int p in g)
            {
                int k = points[p].Track[0].KeypointIndex;
                int x = Math.Clamp((int)Math.Round(kp.X[k]), 0, img.Width - 1), y = Math.Clamp((int)Math.Round(kp.Y[k]), 0, img.Height - 1);
                int o = 3 * (y * img.Width + x);
                result[p] = points[p] with { R = img.Pixels[o], G = img.Pixels[o + 1], B = img.Pixels[o + 2] };
            }
        }
        return result.ToList();
    }

    /// <summary>The map as a COLMAP model (text, or binary with <paramref name="binary"/>) (every keypoint as a 2D point, observed ones with their point id) and a PLY cloud.</summary>
    public static void Export(FeatureDatabase db, IReadOnlyList<MapPoint> points, IReadOnlyDictionary<string, PosedImage> posed, string colmapFolder, string? plyPath, bool binary = false)
    {
        var images = db.ReadImages().Where(i => posed.ContainsKey(i.Name)).ToList();
        var obs = new Dictionary<int, Dictionary<int, long>>();
        foreach (var p in points)
            foreach (var e in p.Track)
            {
                if (!obs.TryGetValue(e.ImageId, out var d)) obs[e.ImageId] = d = new();
                d[e.KeypointIndex] = p.Id;
            }
        var cameras = new Dictionary<int, Camera>();
        var colmapImages = new List<ColmapImage>();
        foreach (var im in images)
        {
            var cam = db.ReadCamera(im.CameraId)!;
            cameras[cam.Id] = cam;
            var kp = db.ReadKeypoints(im.Id);
            int n = kp?.Count ?? 0;
            var xy = new double[2 * n];
            var ids = new long[n];
            for (int k = 0; k < n; k++)
            {
                xy[2 * k] = kp!.X[k]; xy[2 * k + 1] = kp.Y[k];
                ids[k] = obs.TryGetValue(im.Id, out var d) && d.TryGetValue(k, out var pid) ? pid : -1;
            }
            colmapImages.Add(new ColmapImage(im.Id, posed[im.Name] with { Camera = cam }, xy, ids));
        }
        var colmapPoints = points.Select(p => new ColmapPoint(p.Id, p.X, p.Y, p.Z, p.R, p.G, p.B, p.Error,
            p.Track.SelectMany(e => new[] { e.ImageId, e.KeypointIndex }).ToArray())).ToList();
        ColmapModels.Write(colmapFolder, new ColmapModel(cameras.Values.OrderBy(c => c.Id).ToList(), colmapImages, colmapPoints), binary);
        if (plyPath != null) Ply.Write(plyPath, points.Select(p => (p.X, p.Y, p.Z, p.R, p.G, p.B)).ToList());
    }

    /// <summary>The map's summary as stored with it (<see cref="FeatureDatabase.WriteMap"/>).</summary>
    public static string SummaryJson(TriangulationStats s, int images, IReadOnlyDictionary<string, double> secondsPerStage) =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["images"] = images, ["points"] = s.Points, ["tracks"] = s.Tracks, ["mean_track_length"] = s.MeanTrackLength,
            ["mean_reprojection_error_px"] = s.MeanReprojectionErrorPx, ["rejected_no_consensus"] = s.RejectedNoConsensus,
            ["rejected_angle"] = s.RejectedAngle, ["completed_observations"] = s.CompletedObservations, ["seconds"] = secondsPerStage,
        });
}
