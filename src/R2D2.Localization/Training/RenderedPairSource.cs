using System.Collections.Concurrent;
using R2D2.Localization.Geometry;
using R2D2.Localization.Synthesis;

namespace R2D2.Localization.Training;

/// <summary>Which lightings the two images of a rendered pair have.</summary>
public enum RenderedLighting
{
    /// <summary>Day/night 50%, day/day 25%, night/night 25%.</summary>
    Mixed,
    DayDay,
    DayNight,
    NightNight,
}

public sealed record RenderedPairSettings
{
    public int Width { get; init; } = 192;
    public int Height { get; init; } = 192;
    public RenderedLighting Lighting { get; init; } = RenderedLighting.Mixed;
    /// <summary>Pairs drawn from one scene's views before the next scene (rendering is the cost: views are reused).</summary>
    public int PairsPerScene { get; init; } = 48;
    /// <summary>Per scene: groups of <see cref="CamerasPerGroup"/> cameras looking at a common facade point.</summary>
    public int GroupsPerScene { get; init; } = 4;
    public int CamerasPerGroup { get; init; } = 3;
    public int Supersampling { get; init; } = 2;
    /// <summary>Horizontal field of view of each camera, uniform in this range (degrees).</summary>
    public double MinFovDeg { get; init; } = 40;
    public double MaxFovDeg { get; init; } = 75;
    /// <summary>A scene file rendered instead of generated scenes (e.g. maps/demo-square.scene).</summary>
    public string? SceneFile { get; init; }
    public PhotometricSettings Photometric { get; init; } = new();
    /// <summary>Scenes whose views are kept in memory (≈ 7 MB each at 192×192).</summary>
    public int CachedScenes { get; init; } = 12;
}

/// <summary>A rendered pair with how it was made.</summary>
public sealed record RenderedPairSample(TrainingPair Pair, long SceneSeed, Pose Pose1, Pose Pose2, double Focal1, double Focal2, bool Night1, bool Night2);

/// <summary>
/// Dense training pairs from rendered scenes (<see cref="GeneratedScenes.Square"/>, or a scene
/// file): two cameras looking at a common facade point from different places, distances, zooms and
/// rolls, each image rendered by day or by night (<see cref="SceneRenderer.RenderView"/>: lamps,
/// sensor noise), then jittered photometrically. The flow comes from image 1's depth and the two
/// poses; a pixel gets one only if its point lands inside image 2 and agrees there with image 2's
/// own depth (else it is hidden in image 2, or sky): occlusions are masked.
/// Cost: rendering. A scene renders G groups × K cameras × its lightings once, at the pair size,
/// and serves <see cref="RenderedPairSettings.PairsPerScene"/> pairs (index / PairsPerScene is the
/// scene); the last scenes' views are cached. Everything is a function of (seed, index).
/// Training scenes have seeds ≥ 0; <see cref="Validation"/> uses negative seeds, so the two never meet.
/// </summary>
public sealed class RenderedPairSource : ITrainingPairSource
{
    private readonly ulong _seed;
    private readonly RenderedPairSettings _s;
    private readonly DemoScene? _fixedScene;
    private readonly Lazy<(PlaceableScene, SceneRenderer)>? _fixed;
    private readonly ConcurrentDictionary<long, Lazy<ScenePool>> _cache = new();

    public RenderedPairSource(long seed, RenderedPairSettings? settings = null)
    {
        _s = settings ?? new RenderedPairSettings();
        if (_s.Width < 8 || _s.Height < 8) throw new ArgumentOutOfRangeException(nameof(settings), "rendered pairs need at least 8 pixels a side");
        if (_s.PairsPerScene < 1 || _s.GroupsPerScene < 1 || _s.CamerasPerGroup < 2) throw new ArgumentOutOfRangeException(nameof(settings), "pairs per scene ≥ 1, groups ≥ 1, cameras per group ≥ 2");
        Seed = seed; _seed = unchecked((ulong)seed);
        if (_s.SceneFile != null)
        {
            _fixedScene = DemoScene.Load(_s.SceneFile);
            _fixed = new Lazy<(PlaceableScene, SceneRenderer)>(() => (GeneratedScenes.FromScene(_fixedScene), new SceneRenderer(_fixedScene)));
        }
    }

    public long Seed { get; }
    public RenderedPairSettings Settings => _s;

    public string Describe() =>
        $"rendered {LightingName(_s.Lighting)} pairs of {(_fixedScene != null ? "scene " + _fixedScene.Name : "generated scenes")} (seed {Seed}, {_s.Width}×{_s.Height}, {_s.PairsPerScene} pairs per scene)";

    public static string LightingName(RenderedLighting l) => l switch
    {
        RenderedLighting.DayDay => "day-day", RenderedLighting.DayNight => "day-night", RenderedLighting.NightNight => "night-night", _ => "day/night-mixed",
    };

    public TrainingPair Get(long index) => Sample(index).Pair;

    public RenderedPairSample Sample(long index)
    {
        long sceneIndex = index / _s.PairsPerScene;
        return MakePair(PoolOf(sceneIndex), new Rng(Rng.Hash(_seed, (ulong)index, 0xA1)), new Rng(Rng.Hash(_seed, (ulong)index, 0xA2)), _s.Lighting, _s.Photometric);
    }

    /// <summary>A fixed set of day (image 1) / night (image 2) pairs of scenes of seeds −1, −2, …
    /// (never a training scene), two pairs per scene, no photometric jitter: for validation.</summary>
    public static IReadOnlyList<RenderedPairSample> Validation(int count, int width = 384, int height = 288)
    {
        var s = new RenderedPairSettings { Width = width, Height = height, Lighting = RenderedLighting.DayNight, GroupsPerScene = 2, CamerasPerGroup = 2, Photometric = PhotometricSettings.Off };
        var source = new RenderedPairSource(0, s);
        var pairs = new RenderedPairSample[count];
        Parallel.For(0, count, i =>
        {
            long sceneSeed = -1 - i / 2;
            var pool = source.BuildPool(sceneSeed);
            // Group i mod 2, its two cameras, day then night (a map photo and a night query).
            pairs[i] = source.PairOf(pool, pool.Views[ViewIndex(s, i % 2, 0, false)], pool.Views[ViewIndex(s, i % 2, 1, true)], PhotometricSettings.Off, new Rng(1), new Rng(2));
        });
        return pairs;
    }

    private sealed record ScenePool(long SceneSeed, RenderedView[] Views);

    /// <summary>The seed of training scene i (≥ 0; for a scene file, i itself: only the cameras change).</summary>
    private long SceneSeed(long sceneIndex) => _fixedScene != null ? sceneIndex : (long)(Rng.Hash(_seed, (ulong)sceneIndex, 0xC3) >> 2);

    private ScenePool PoolOf(long sceneIndex)
    {
        var lazy = _cache.GetOrAdd(sceneIndex, i => new Lazy<ScenePool>(() => BuildPool(SceneSeed(i))));
        // The next scene is built in the background while this one serves pairs (training asks in order).
        if (!_cache.ContainsKey(sceneIndex + 1))
        {
            var next = new Lazy<ScenePool>(() => BuildPool(SceneSeed(sceneIndex + 1)));
            if (_cache.TryAdd(sceneIndex + 1, next)) Task.Run(() => next.Value);
        }
        if (_cache.Count > _s.CachedScenes)
            foreach (var k in _cache.Keys)
                if (k < sceneIndex - _s.CachedScenes / 2 || k > sceneIndex + _s.CachedScenes / 2) _cache.TryRemove(k, out _);
        return lazy.Value;
    }

    private static int ViewIndex(RenderedPairSettings s, int group, int camera, bool night) => (group * s.CamerasPerGroup + camera) * 2 + (night ? 1 : 0);

    private bool NeedsDay => _s.Lighting != RenderedLighting.NightNight;
    private bool NeedsNight => _s.Lighting != RenderedLighting.DayDay;

    private ScenePool BuildPool(long sceneSeed)
    {
        var (placeable, renderer) = _fixed != null ? _fixed.Value : Generated(sceneSeed);
        var rng = new Rng(Rng.Hash(_seed, unchecked((ulong)sceneSeed), 0xB7));
        int g = _s.GroupsPerScene, k = _s.CamerasPerGroup;
        var cams = new (Pose Pose, double Focal)[g * k];
        for (int i = 0; i < g; i++)
        {
            var group = PlaceGroup(placeable, renderer, rng, k);
            for (int j = 0; j < k; j++) cams[i * k + j] = group[j];
        }
        var views = new RenderedView[g * k * 2];
        Parallel.For(0, g * k * 2, v =>
        {
            bool night = v % 2 == 1;
            if (night ? !NeedsNight : !NeedsDay) return;
            var (pose, focal) = cams[v / 2];
            int noiseSeed = (int)(Rng.Hash(unchecked((ulong)sceneSeed), (ulong)v, 0xD1) & 0x7FFFFFFF);
            views[v] = renderer.RenderView(pose, focal, _s.Width, _s.Height, night, noiseSeed, _s.Supersampling, parallel: false);
        });
        return new ScenePool(sceneSeed, views);
    }

    private static (PlaceableScene, SceneRenderer) Generated(long sceneSeed)
    {
        var p = GeneratedScenes.Square(sceneSeed);
        return (p, new SceneRenderer(p.Scene));
    }

    /// <summary>K cameras looking at (about) one facade point, from 4–18 m, up to ±55° off the
    /// facade's normal for the first, within ±40° of the first for the others (distance ×0.65–1.5),
    /// eye heights 1.2–7 m, roll ±8°, the field of view of the settings; each sees the point (no
    /// obstacle in between).</summary>
    private (Pose, double)[] PlaceGroup(PlaceableScene p, SceneRenderer renderer, Rng rng, int k)
    {
        var result = new (Pose, double)[k];
        for (int attempt = 0; ; attempt++)
        {
            var t = p.Targets[rng.Next(p.Targets.Count)];
            var f = t.Facade;
            double along = rng.Uniform(0.15, 0.85), ux = (f.X1 - f.X0), uz = (f.Z1 - f.Z0);
            double[] target = { f.X0 + along * ux, rng.Uniform(1.0, Math.Max(1.5, Math.Min(f.Height - 0.5, 9))), f.Z0 + along * uz };
            double theta0 = 0, d0 = 0;
            int placed = 0;
            for (int j = 0; j < k; j++)
            {
                for (int tries = 0; tries < 30; tries++)
                {
                    double theta = j == 0 ? rng.Uniform(-55, 55) : Math.Clamp(theta0 + rng.Uniform(-40, 40), -70, 70);
                    double d = j == 0 ? rng.LogUniform(4, 18) : Math.Clamp(d0 * rng.LogUniform(0.65, 1.5), 3, 25);
                    double a = theta * Math.PI / 180;
                    double dx = t.NormalX * Math.Cos(a) - t.NormalZ * Math.Sin(a), dz = t.NormalX * Math.Sin(a) + t.NormalZ * Math.Cos(a);
                    double[] c = { target[0] + d * dx, rng.Uniform(1.2, 7), target[2] + d * dz };
                    if (!p.Free(c[0], c[2])) continue;
                    double[] toTarget = { target[0] - c[0], target[1] - c[1], target[2] - c[2] };
                    if (renderer.HitDistance(c, toTarget) < 0.999) continue; // something in between
                    // Look near the point (it is off centre by up to 1.5 m), upright but for the roll.
                    double[] look = { toTarget[0] + rng.Uniform(-1.5, 1.5), toTarget[1] + rng.Uniform(-1, 1), toTarget[2] + rng.Uniform(-1.5, 1.5) };
                    double len = Math.Sqrt(look[0] * look[0] + look[1] * look[1] + look[2] * look[2]);
                    double yaw = Math.Atan2(look[0], look[2]) * 180 / Math.PI, pitch = Math.Clamp(Math.Asin(look[1] / len) * 180 / Math.PI, -60, 60);
                    var upright = DemoScene.LookAlong(c[0], c[1], c[2], yaw, pitch);
                    double roll = rng.Uniform(-8, 8) * Math.PI / 180, cr = Math.Cos(roll), sr = Math.Sin(roll);
                    var rot = Rotations.Multiply(new[] { cr, -sr, 0, sr, cr, 0, 0, 0, 1 }, upright.Rotation);
                    double fov = rng.Uniform(_s.MinFovDeg, _s.MaxFovDeg) * Math.PI / 180;
                    result[j] = (Pose.FromCameraCenter(rot, c), (_s.Width / 2.0) / Math.Tan(fov / 2));
                    if (j == 0) { theta0 = theta; d0 = d; }
                    placed++;
                    break;
                }
                if (placed <= j) break;
            }
            if (placed == k) return result;
            if (attempt > 200) throw new R2D2Exception($"{p.Scene.Name}: no place for {k} cameras looking at a common facade point (the scene's facades too small or too close together for the pair cameras)");
        }
    }

    private RenderedPairSample MakePair(ScenePool pool, Rng rng, Rng photometricRng, RenderedLighting lighting, PhotometricSettings photometric)
    {
        int g = rng.Next(_s.GroupsPerScene), k = _s.CamerasPerGroup;
        bool n1, n2;
        double u = rng.NextDouble();
        var kind = lighting != RenderedLighting.Mixed ? lighting : u < 0.5 ? RenderedLighting.DayNight : u < 0.75 ? RenderedLighting.DayDay : RenderedLighting.NightNight;
        if (kind == RenderedLighting.DayNight) { n1 = rng.Chance(0.5); n2 = !n1; }
        else n1 = n2 = kind == RenderedLighting.NightNight;
        int c1 = rng.Next(k);
        // Another camera, or (day/night only, 15%) the same one: a pure change of light.
        int c2 = n1 != n2 && rng.Chance(0.15) ? c1 : (c1 + 1 + rng.Next(k - 1)) % k;
        var v1 = pool.Views[ViewIndex(_s, g, c1, n1)];
        var v2 = pool.Views[ViewIndex(_s, g, c2, n2)];
        return PairOf(pool, v1, v2, photometric, photometricRng, new Rng(Rng.Hash(photometricRng.NextUInt64(), 7)));
    }

    private RenderedPairSample PairOf(ScenePool pool, RenderedView v1, RenderedView v2, PhotometricSettings photometric, Rng rng1, Rng rng2)
    {
        int w = v1.Width, h = v1.Height;
        var img1 = (float[])v1.Rgb.Clone();
        var img2 = (float[])v2.Rgb.Clone();
        if (photometric.Enabled)
        {
            Photometric.Jitter(img1, w, h, rng1, photometric);
            Photometric.Jitter(img2, w, h, rng2, photometric);
        }
        else
        {
            PlanarImage.Quantize(img1);
            PlanarImage.Quantize(img2);
        }
        var flow = FlowOf(v1, v2);
        return new RenderedPairSample(new TrainingPair(img1, img2, flow, h, w, Dense: true), pool.SceneSeed, v1.Pose, v2.Pose, v1.Focal, v2.Focal, v1.Night, v2.Night);
    }

    /// <summary>Where each pixel of view 1 lies in view 2 (planar 2×H×W), from view 1's depth and
    /// the poses; NaN for the sky, outside view 2 (between its outer pixel centres), behind it, or
    /// where view 2 sees something else in front (its depth at the 2×2 pixels around the point, widened
    /// by 1% + 2 cm, does not reach the point's depth: hidden).</summary>
    public static float[] FlowOf(RenderedView v1, RenderedView v2)
    {
        int w1 = v1.Width, h1 = v1.Height, w2 = v2.Width, h2 = v2.Height, n = w1 * h1;
        var flow = new float[2 * n];
        Array.Fill(flow, float.NaN);
        var relative = Pose.Relative(v1.Pose, v2.Pose); // camera 1 → camera 2
        var r = relative.Rotation; var t = relative.Translation;
        double cx1 = (w1 - 1) / 2.0, cy1 = (h1 - 1) / 2.0, cx2 = (w2 - 1) / 2.0, cy2 = (h2 - 1) / 2.0;
        for (int y = 0; y < h1; y++)
            for (int x = 0; x < w1; x++)
            {
                float z1 = v1.Depth[y * w1 + x];
                if (!float.IsFinite(z1)) continue;
                double px = (x - cx1) / v1.Focal * z1, py = (y - cy1) / v1.Focal * z1, pz = z1;
                double qx = r[0] * px + r[1] * py + r[2] * pz + t[0], qy = r[3] * px + r[4] * py + r[5] * pz + t[1], qz = r[6] * px + r[7] * py + r[8] * pz + t[2];
                if (qz <= 1e-6) continue;
                double u = v2.Focal * qx / qz + cx2, v = v2.Focal * qy / qz + cy2;
                if (!(u >= 0 && v >= 0 && u <= w2 - 1 && v <= h2 - 1)) continue;
                int x0 = Math.Min((int)u, w2 - 2), y0 = Math.Min((int)v, h2 - 2);
                float max = Math.Max(Math.Max(v2.Depth[y0 * w2 + x0], v2.Depth[y0 * w2 + x0 + 1]), Math.Max(v2.Depth[(y0 + 1) * w2 + x0], v2.Depth[(y0 + 1) * w2 + x0 + 1]));
                float min = Math.Min(Math.Min(v2.Depth[y0 * w2 + x0], v2.Depth[y0 * w2 + x0 + 1]), Math.Min(v2.Depth[(y0 + 1) * w2 + x0], v2.Depth[(y0 + 1) * w2 + x0 + 1]));
                double tol = 0.01 * qz + 0.02;
                if (qz > max + tol || qz < min - tol) continue;
                flow[y * w1 + x] = (float)u;
                flow[n + y * w1 + x] = (float)v;
            }
        return flow;
    }
}
