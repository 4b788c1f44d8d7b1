using System.Collections.Concurrent;
using System.Text.Json;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Mapping;

public sealed record MapBuildOptions
{
    /// <summary>Pairs per image from poses: the k nearest camera centres.</summary>
    public int PairsPerImage { get; init; } = 20;
    /// <summary>Pairs from poses whose viewing directions differ by more than this are dropped (degrees).</summary>
    public double MaxViewAngleDeg { get; init; } = 90;
    /// <summary>Matches farther than this from their epipolar line (known poses) are dropped (px).</summary>
    public double EpipolarPx { get; init; } = 4;
    public double MaxReprojectionPx { get; init; } = 4;
    public double MinTriangulationAngleDeg { get; init; } = 1.5;
    public float MinSimilarity { get; init; } = float.NegativeInfinity;
    /// <summary>Store a map without points instead of failing (<see cref="EmptyMapException"/>).</summary>
    public bool AllowEmpty { get; init; }
}

/// <summary>A build that ends with no 3D point: the reason (no pairs, no verified matches, every
/// track filtered) is in the message. Nothing is stored as the map; what the stages stored stays.</summary>
public sealed class EmptyMapException : R2D2Exception
{
    public EmptyMapException(string database, string reason)
        : base(database, 0, $"the map would hold no 3D point: {reason}. Nothing was stored as the map (pass --allow-empty to store it anyway)") { }
}

public sealed record TriangulationStats(int Tracks, int Points, int RejectedNoConsensus, int RejectedAngle, int CompletedObservations,
    double MeanTrackLength, double MeanReprojectionErrorPx);

/// <summary>
/// The mapping stages, each a function from what the database holds to what it writes there
/// (hloc-style), so `build-map` can run, resume and report them one by one:
/// register posed images → (extract, pairs, match: Features/Matching stages) → verify with the
/// known poses → tracks → triangulation (RANSAC over observations, refinement, filters,
/// completion) → the map stored in the database.
/// Keypoints are undistorted with their camera before any geometry.
/// </summary>
public static class MapBuilder
{
    /// <summary>Adds the cameras and images (with their poses as COLMAP pose priors). Images
    /// already there (a resumed build) must have the input's camera and pose: the stored features,
    /// verified matches and map were computed with those. Checks every input before writing anything.</summary>
    public static void RegisterImages(FeatureDatabase db, IReadOnlyList<PosedImage> images)
    {
        var existing = CheckRegistered(db, images);
        foreach (var im in images)
        {
            if (existing.Contains(im.Name)) continue;
            int cam = db.FindCamera(im.Camera) ?? db.AddCamera(im.Camera);
            db.AddImage(new DatabaseImage(0, im.Name, cam, im.Pose.Quaternion, im.Pose.Translation));
        }
    }

    /// <summary>Throws, writing nothing, when the database cannot go on with this build: features of
    /// another extractor, or images stored with another camera or pose (see <see cref="RegisterImages"/>).
    /// A resumed build calls it before it writes anything.</summary>
    public static void CheckResume(FeatureDatabase db, IReadOnlyList<PosedImage> images, ExtractorIdentity extractor)
    {
        db.CheckExtractor(extractor);
        CheckRegistered(db, images);
    }

    /// <summary>Refuses names the database cannot hold and images stored with another camera or
    /// pose; returns the names already stored.</summary>
    private static HashSet<string> CheckRegistered(FeatureDatabase db, IReadOnlyList<PosedImage> images)
    {
        foreach (var im in images)
            if (FeatureDatabase.ImageNameProblem(im.Name) is { } problem) throw new R2D2Exception(problem);
        var existing = db.ReadImages().ToDictionary(i => i.Name);
        var changes = new List<string>();
        foreach (var im in images)
        {
            if (!existing.TryGetValue(im.Name, out var e)) continue;
            var how = new List<string>();
            if (!db.IsCamera(e.CameraId, im.Camera)) how.Add($"camera {Describe(db.ReadCamera(e.CameraId))} in the database, {Describe(im.Camera)} now");
            if (PoseChange(e, im.Pose) is { } pose) how.Add($"pose {pose}");
            if (how.Count > 0) changes.Add($"'{im.Name}': {string.Join(", ", how)}");
        }
        if (changes.Count > 0)
            throw new FeatureDatabaseException(db.Path, $"holds {changes.Count} image(s) whose camera or pose differs from what --poses/--intrinsics give now: "
                + string.Join("; ", changes.Take(3)) + (changes.Count > 3 ? "; …" : "")
                + ". Its features, matches and map were computed with the stored ones: use a new database, or the inputs it was built with");
        return existing.Keys.ToHashSet();
    }

    private static string Describe(Camera? c) => c == null ? "(missing)"
        : $"{c.Model.Name} {c.Width}×{c.Height} [{string.Join(", ", c.Params.Select(v => v.ToString("G7", System.Globalization.CultureInfo.InvariantCulture)))}]";

    // Stored as COLMAP pose priors (a unit quaternion): a slightly non-orthonormal input rotation
    // (Strecha's files are orthonormal to ~1e-6) comes back orthonormalized, hence the tolerance.
    private static string? PoseChange(DatabaseImage stored, Pose now)
    {
        if (stored.PriorRotation == null || stored.PriorTranslation == null) return "missing in the database";
        var was = Pose.FromQuaternion(stored.PriorRotation, stored.PriorTranslation);
        double angle = Rotations.AngleBetweenRotations(was.Rotation, now.Rotation);
        bool moved = was.Translation.Zip(now.Translation, (x, y) => Math.Abs(x - y) / (1 + Math.Abs(x))).Max() >= 1e-5;
        if (angle < 1e-5 && !moved) return null;
        double shift = Math.Sqrt(was.CameraCenter.Zip(now.CameraCenter, (x, y) => (x - y) * (x - y)).Sum());
        return string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"differs: rotated by {angle * 180 / Math.PI:G3}°, camera centre moved by {shift:G3}");
    }

    public static List<ImagePair> PairsFromPoses(IReadOnlyList<PosedImage> images, MapBuildOptions o) =>
        PairSources.FromPoses(images.Select(i => (i.Name, i.Pose)).ToList(), o.PairsPerImage, o.MaxViewAngleDeg * Math.PI / 180);

    /// <summary>Keeps, for each matched pair without a verified geometry, the matches within
    /// EpipolarPx of the epipolar lines given by the known poses (undistorted keypoints), and
    /// stores them as the pair's two-view geometry (with F). Resumable.</summary>
    public static int VerifyWithPoses(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, IReadOnlyDictionary<string, PosedImage> posed,
        MapBuildOptions o, Action<ImagePair, int>? onPair = null)
    {
        var ids = db.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        var undistorted = new Dictionary<int, (float[] X, float[] Y)>();
        (float[] X, float[] Y) Keypoints(string name)
        {
            int id = ids[name];
            if (undistorted.TryGetValue(id, out var k)) return k;
            if (undistorted.Count > 256) undistorted.Clear(); // bounded memory on large maps
            var kp = db.ReadKeypoints(id) ?? throw new FeatureDatabaseException(db.Path, $"image '{name}' has no keypoints");
            return undistorted[id] = Undistort(posed[name].Camera, kp.X, kp.Y);
        }
        int verified = 0;
        foreach (var p in pairs.OrderBy(p => ids[p.Name1]))
        {
            int a = ids[p.Name1], b = ids[p.Name2];
            if (db.HasTwoViewGeometry(a, b)) continue;
            var matches = db.ReadMatches(a, b);
            if (matches == null) continue;
            var (x1, y1) = Keypoints(p.Name1);
            var (x2, y2) = Keypoints(p.Name2);
            var c1 = posed[p.Name1]; var c2 = posed[p.Name2];
            var f = EpipolarVerification.FundamentalFromPoses(c1.Pose, c1.Camera.Pinhole, c2.Pose, c2.Camera.Pinhole);
            var kept = EpipolarVerification.KeepConsistent(x1, y1, x2, y2, matches, f, o.EpipolarPx);
            var rel = Pose.Relative(c1.Pose, c2.Pose);
            db.WriteTwoViewGeometry(a, b, new TwoViewGeometry(kept.Count > 0 ? TwoViewConfiguration.Calibrated : TwoViewConfiguration.Degenerate,
                kept, F: f, Rotation: rel.Quaternion, Translation: rel.Translation));
            verified++;
            onPair?.Invoke(p, kept.Count);
        }
        return verified;
    }

    /// <summary>Undistorted keypoints (pixels of the camera's pinhole part).</summary>
    public static (float[] X, float[] Y) Undistort(Camera camera, float[] x, float[] y)
    {
        if (!camera.HasDistortion) return (x, y);
        var ux = new float[x.Length]; var uy = new float[y.Length];
        for (int i = 0; i < x.Length; i++)
        {
            var (a, b) = camera.UndistortPixel(x[i], y[i]);
            ux[i] = (float)a; uy[i] = (float)b;
        }
        return (ux, uy);
    }

    /// <summary>
    /// Tracks from the verified matches (union-find), then per track: DLT inside a RANSAC over its
    /// observations, robust refinement with the poses fixed, filters (reprojection error ≤
    /// MaxReprojectionPx in every kept observation, positive depth, triangulation angle ≥
    /// MinTriangulationAngleDeg), and completion: of the keypoints dropped as ambiguous in an
    /// image, the one reprojecting best within the threshold is restored. Each point gets the
    /// normalized mean of its observations' descriptors.
    /// </summary>
    public static (List<MapPoint> Points, TriangulationStats Stats) Triangulate(FeatureDatabase db, IReadOnlyDictionary<string, PosedImage> posed, MapBuildOptions o)
    {
        var images = db.ReadImages().Where(i => posed.ContainsKey(i.Name)).ToList();
        var byId = images.ToDictionary(i => i.Id);
        var builder = new TrackBuilder();
        foreach (var pair in db.ListGeometryPairs())
        {
            if (!byId.ContainsKey(pair.ImageId1) || !byId.ContainsKey(pair.ImageId2)) continue;
            var g = db.ReadTwoViewGeometry(pair.ImageId1, pair.ImageId2);
            if (g == null) continue;
            foreach (var m in g.Inliers) builder.AddMatch(pair.ImageId1, m.I, pair.ImageId2, m.J);
        }
        var tracks = builder.BuildWithConflicts();

        // Undistorted keypoints and projection data of every image (keypoints only: ~8 bytes each).
        var kx = new Dictionary<int, float[]>(); var ky = new Dictionary<int, float[]>();
        var proj = new Dictionary<int, double[]>(); var centre = new Dictionary<int, double[]>();
        foreach (var im in images)
        {
            var kp = db.ReadKeypoints(im.Id);
            if (kp == null) continue;
            var pi = posed[im.Name];
            var (ux, uy) = Undistort(pi.Camera, kp.X, kp.Y);
            kx[im.Id] = ux; ky[im.Id] = uy;
            proj[im.Id] = pi.Camera.ProjectionMatrix(pi.Pose);
            centre[im.Id] = pi.Pose.CameraCenter;
        }

        double minAngle = o.MinTriangulationAngleDeg * Math.PI / 180;
        var results = new ConcurrentBag<(int Index, double[] X, TrackElement[] Track, double Error, int Completed)>();
        int noConsensus = 0, smallAngle = 0;
        Parallel.For(0, tracks.Count, t =>
        {
            var (track, conflicts) = tracks[t];
            var obs = track.Where(e => kx.ContainsKey(e.ImageId))
                .Select(e => new Observation(proj[e.ImageId], kx[e.ImageId][e.KeypointIndex], ky[e.ImageId][e.KeypointIndex])).ToList();
            var els = track.Where(e => kx.ContainsKey(e.ImageId)).ToList();
            var r = Triangulation.Ransac(obs, o.MaxReprojectionPx, minInliers: 2, rng: new Random(t));
            if (r == null) { Interlocked.Increment(ref noConsensus); return; }
            var inl = r.Value.Inliers.Select(i => obs[i]).ToList();
            var x = Triangulation.Refine(inl, r.Value.Point);
            var keep = Enumerable.Range(0, obs.Count).Where(i => Triangulation.ReprojectionError(obs[i], x) <= o.MaxReprojectionPx).ToList();
            if (keep.Count < 2) { Interlocked.Increment(ref noConsensus); return; }
            if (Triangulation.MaxTriangulationAngle(keep.Select(i => centre[els[i].ImageId]).ToList(), x) < minAngle) { Interlocked.Increment(ref smallAngle); return; }
            var kept = keep.Select(i => els[i]).ToList();
            // Completion: restore the best-reprojecting keypoint of each image dropped as ambiguous.
            int completed = 0;
            foreach (var g in conflicts.Where(c => kx.ContainsKey(c.ImageId)).GroupBy(c => c.ImageId))
            {
                var best = g.Select(c => (c, e: Triangulation.ReprojectionError(new Observation(proj[c.ImageId], kx[c.ImageId][c.KeypointIndex], ky[c.ImageId][c.KeypointIndex]), x)))
                    .OrderBy(v => v.e).First();
                if (best.e <= o.MaxReprojectionPx) { kept.Add(best.c); completed++; }
            }
            double err = kept.Average(e => Triangulation.ReprojectionError(new Observation(proj[e.ImageId], kx[e.ImageId][e.KeypointIndex], ky[e.ImageId][e.KeypointIndex]), x));
            results.Add((t, x, kept.OrderBy(e => e.ImageId).ToArray(), err, completed));
        });

        var ordered = results.OrderBy(r => r.Index).ToList();
        var points = new List<MapPoint>(ordered.Count);
        var sums = new float[ordered.Count][];
        var byImage = new Dictionary<int, List<(int Point, int Keypoint)>>();
        for (int p = 0; p < ordered.Count; p++)
            foreach (var e in ordered[p].Track)
            {
                if (!byImage.TryGetValue(e.ImageId, out var l)) byImage[e.ImageId] = l = new();
                l.Add((p, e.KeypointIndex));
            }
        // Mean descriptors, one image's features in memory at a time.
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
        for (int p = 0; p < ordered.Count; p++)
        {
            var s = sums[p];
            if (s != null)
            {
                double n = Math.Sqrt(s.Sum(v => (double)v * v));
                if (n > 0) for (int j = 0; j < s.Length; j++) s[j] = (float)(s[j] / n);
            }
            var r = ordered[p];
            points.Add(new MapPoint(p + 1, r.X[0], r.X[1], r.X[2], 128, 128, 128, r.Error, r.Track, s));
        }
        var stats = new TriangulationStats(tracks.Count, points.Count, noConsensus, smallAngle, ordered.Sum(r => r.Completed),
            points.Count == 0 ? 0 : points.Average(p => p.Track.Length), points.Count == 0 ? 0 : points.Average(p => p.Error));
        return (points, stats);
    }

    /// <summary>
    /// The retrieval index: a VLAD codebook (k-means of descriptors sampled from up to 500
    /// images) and the VLAD descriptor of every image with features; null when the images have
    /// too few descriptors for the codebook. Stored with the map (<see cref="FeatureDatabase.WriteMap"/>).
    /// </summary>
    public static RetrievalIndex? BuildRetrieval(FeatureDatabase db, int clusters = 64, int samplesPerImage = 200, int seed = 0)
    {
        var ids = db.ImagesWithFeatures().OrderBy(i => i).ToList();
        var rng = new Random(seed);
        var sampleImages = ids.OrderBy(_ => rng.Next()).Take(500).ToList();
        var samples = new List<float>();
        int dim = 0;
        foreach (var id in sampleImages)
        {
            var f = db.ReadFeatures(id);
            if (f == null || f.Count == 0) continue;
            dim = f.Dim;
            for (int k = 0; k < Math.Min(samplesPerImage, f.Count); k++)
                samples.AddRange(f.Descriptor(rng.Next(f.Count)).ToArray());
        }
        if (dim == 0 || samples.Count / dim < clusters) return null;
        var codebook = Vlad.TrainCodebook(samples.ToArray(), dim, clusters, seed: seed);
        var vlads = new Dictionary<int, float[]>();
        foreach (var id in ids)
        {
            var f = db.ReadFeatures(id);
            if (f != null) vlads[id] = Vlad.Encode(f, codebook, clusters);
        }
        return new RetrievalIndex(vlads, codebook, clusters);
    }

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

    /// <summary>The map as a COLMAP text model (every keypoint as a 2D point, observed ones with their point id) and a PLY cloud.</summary>
    public static void Export(FeatureDatabase db, IReadOnlyList<MapPoint> points, IReadOnlyDictionary<string, PosedImage> posed, string colmapFolder, string? plyPath)
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
        var index2d = new Dictionary<(int, int), int>();
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
            var pi = posed[im.Name];
            colmapImages.Add(new ColmapImage(im.Id, pi with { Camera = cam }, xy, ids));
        }
        var colmapPoints = points.Select(p => new ColmapPoint(p.Id, p.X, p.Y, p.Z, p.R, p.G, p.B, p.Error,
            p.Track.SelectMany(e => new[] { e.ImageId, e.KeypointIndex }).ToArray())).ToList();
        ColmapText.WriteModel(colmapFolder, new ColmapModel(cameras.Values.OrderBy(c => c.Id).ToList(), colmapImages, colmapPoints));
        if (plyPath != null) Ply.Write(plyPath, points.Select(p => (p.X, p.Y, p.Z, p.R, p.G, p.B)).ToList());
    }

    /// <summary>Why a build gave no point, from what its stages stored for these pairs: no pairs,
    /// no matches, no match consistent with the poses, or every track rejected by the filters.</summary>
    public static string WhyEmpty(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, TriangulationStats stats, MapBuildOptions o)
    {
        if (pairs.Count == 0)
            return $"no overlapping pairs (no two images look within {o.MaxViewAngleDeg:G4}° of the same direction, or the pairs file lists none)";
        var ids = db.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        var keys = pairs.Select(p => ImagePairs.PairId(ids[p.Name1], ids[p.Name2])).ToHashSet();
        long Sum(List<PairCount> counts) => counts.Where(c => keys.Contains(ImagePairs.PairId(c.ImageId1, c.ImageId2))).Sum(c => (long)c.Count);
        long matches = Sum(db.ListMatchedPairs());
        if (matches == 0) return $"no matches (in {pairs.Count} pair(s): do the images overlap?)";
        if (Sum(db.ListGeometryPairs()) == 0)
            return $"no verified matches (none of the {matches} matches of {pairs.Count} pair(s) lies within {o.EpipolarPx:G4} px of its epipolar line: "
                + "do the poses and intrinsics fit the images?)";
        return $"all {stats.Tracks} tracks were filtered ({stats.RejectedNoConsensus} without a triangulation within {o.MaxReprojectionPx:G4} px in two images, "
            + $"{stats.RejectedAngle} with a triangulation angle under {o.MinTriangulationAngleDeg:G4}°)";
    }

    public static string SummaryJson(TriangulationStats s, int images, IReadOnlyDictionary<string, double> secondsPerStage) =>
        JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["images"] = images, ["points"] = s.Points, ["tracks"] = s.Tracks, ["mean_track_length"] = s.MeanTrackLength,
            ["mean_reprojection_error_px"] = s.MeanReprojectionErrorPx, ["rejected_no_consensus"] = s.RejectedNoConsensus,
            ["rejected_angle"] = s.RejectedAngle, ["completed_observations"] = s.CompletedObservations, ["seconds"] = secondsPerStage,
        });
}
