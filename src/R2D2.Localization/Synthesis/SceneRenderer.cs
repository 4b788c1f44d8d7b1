using R2D2.Localization.Imaging;
using OpenCvSharp;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Synthesis;

/// <summary>
/// Renders the demo scene by ray casting: per pixel S×S rays (supersampling against aliasing),
/// each hitting the nearest facade or the ground (or the sky), with bilinear texture sampling.
/// The project's conventions: poses world→camera, the centre of the top-left pixel at (0, 0), so a
/// world point X appears at <c>camera.Project(pose.ToCamera(X))</c>.
/// <list type="bullet">
/// <item>Day: the albedo under a sun (Lambert) and sky light, sRGB, JPEG.</item>
/// <item>Night, in linear light: low ambient light plus the street lamps' gaussian pools, a sodium
/// tint, a box blur (optics), auto-exposure to a mean level, photon and read noise, sRGB, JPEG
/// (as ../shared's simulated-night Strecha queries).</item>
/// </list>
/// Deterministic: the same scene, pose and seed give the same bytes (rows are traced in parallel,
/// each pixel independently; the noise is a hash of the seed and the pixel index).
/// </summary>
public sealed partial class SceneRenderer
{
    private readonly DemoScene _scene;
    private readonly Texture[] _facadeTextures;
    private readonly Texture? _groundTexture;

    public SceneRenderer(DemoScene scene)
    {
        _scene = scene;
        _facadeTextures = new Texture[scene.Facades.Count];
        if (scene.Styles is { } styles)
        {
            // One texture per style, shared by its facades: memory grows with the styles, not the buildings.
            var styleTextures = new Texture[styles.Count];
            Parallel.For(0, styles.Count, i => styleTextures[i] = ProceduralTextures.Facade(styles[i], scene.TexelsPerMetre));
            for (int i = 0; i < scene.Facades.Count; i++)
                _facadeTextures[i] = scene.Facades[i].Style is int k && k >= 0 && k < styles.Count ? styleTextures[k]
                    : throw new ArgumentException($"facade {i}: style {scene.Facades[i].Style} is not one of the scene's {styles.Count}");
        }
        else Parallel.For(0, scene.Facades.Count, i => _facadeTextures[i] = ProceduralTextures.Facade(scene.Facades[i], scene.TexelsPerMetre));
        _groundTexture = scene.Ground is { } g
            ? ProceduralTextures.Ground(g.Tile > 0 ? g with { X0 = 0, Z0 = 0, X1 = g.Tile, Z1 = g.Tile } : g, scene.TexelsPerMetre) : null;
        _grid = BuildGrid(scene);
    }

    /// <summary>With given textures (one per facade): for tests. <paramref name="bruteForce"/>: every
    /// ray tests every facade and every lamp (the reference the grid must equal).</summary>
    internal SceneRenderer(DemoScene scene, Texture[] facadeTextures, Texture? groundTexture, bool bruteForce = false)
    {
        _scene = scene; _facadeTextures = facadeTextures; _groundTexture = groundTexture;
        _grid = bruteForce ? null : BuildGrid(scene);
    }

    /// <summary>The same scene and textures traced by brute force (every facade, every lamp per ray): the grid's reference, for tests.</summary>
    internal SceneRenderer BruteForce() => new(_scene, _facadeTextures, _groundTexture, bruteForce: true);

    /// <summary>The acceleration grid; null: brute force (tests).</summary>
    private readonly Grid? _grid;

    public DemoScene Scene => _scene;

    private enum Surface { Sky, Facade, Ground }

    /// <summary>The nearest surface along the ray C + s·d (s &gt; 0): its albedo, the point and its normal (facing the ray).</summary>
    private Surface Trace(double cx, double cy, double cz, double dx, double dy, double dz, Span<float> albedo, out double px, out double py, out double pz, out double nx, out double nz)
    {
        double best = double.PositiveInfinity;
        int hit = -1;
        double hs = 0, ht = 0;
        // The ground's hit, when inside it: no facade beyond it can win, so the grid walk stops there.
        double groundS = double.PositiveInfinity;
        if (_scene.Ground is { } g0 && dy < -1e-12)
        {
            double s = -cy / dy, hx = cx + s * dx, hz = cz + s * dz;
            if (s > 1e-6 && hx >= g0.X0 && hx <= g0.X1 && hz >= g0.Z0 && hz <= g0.Z1) groundS = s;
        }
        if (_grid != null) WalkGrid(cx, cy, cz, dx, dy, dz, groundS, ref best, ref hit, ref hs, ref ht);
        else
            for (int i = 0; i < _scene.Facades.Count; i++) TestFacade(i, cx, cy, cz, dx, dy, dz, ref best, ref hit, ref hs, ref ht);
        if (_scene.Ground is { } g && groundS < best)
        {
            double hx = cx + groundS * dx, hz = cz + groundS * dz;
            px = hx; py = 0; pz = hz; nx = 0; nz = 0;
            if (_groundTexture != null)
            {
                double u = hx - g.X0, v = hz - g.Z0;
                // A tiled ground repeats one tile's texture.
                if (g.Tile > 0) { u -= g.Tile * Math.Floor(u / g.Tile); v -= g.Tile * Math.Floor(v / g.Tile); }
                _groundTexture.Sample(u * _scene.TexelsPerMetre - 0.5, v * _scene.TexelsPerMetre - 0.5, albedo);
            }
            return Surface.Ground;
        }
        if (hit < 0) { px = py = pz = nx = nz = 0; return Surface.Sky; }
        var fh = _scene.Facades[hit];
        double fw = fh.Width;
        nx = (fh.Z1 - fh.Z0) / fw; nz = -(fh.X1 - fh.X0) / fw;
        if (nx * dx + nz * dz > 0) { nx = -nx; nz = -nz; }
        px = cx + best * dx; py = cy + best * dy; pz = cz + best * dz;
        _facadeTextures[hit].Sample((hs + fh.TextureOffset) * _scene.TexelsPerMetre - 0.5, ht * _scene.TexelsPerMetre - 0.5, albedo);
        return Surface.Facade;
    }

    /// <summary>Facade <paramref name="i"/> against the ray: when hit at 1e-6 &lt; s and nearer than
    /// <paramref name="best"/> (or as near, with a lower index: the brute-force loop's order), it
    /// becomes the hit, with its texture coordinates (metres from its start and from its top).</summary>
    private void TestFacade(int i, double cx, double cy, double cz, double dx, double dy, double dz, ref double best, ref int hit, ref double hs, ref double ht)
    {
        var f = _scene.Facades[i];
        double w = f.Width, ux = (f.X1 - f.X0) / w, uz = (f.Z1 - f.Z0) / w;
        // Plane normal (uz, 0, −ux); distance along the ray to it.
        double den = dx * uz - dz * ux;
        if (Math.Abs(den) < 1e-12) return;
        double s = ((f.X0 - cx) * uz - (f.Z0 - cz) * ux) / den;
        if (s <= 1e-6 || s > best || (s == best && i > hit)) return;
        double hx = cx + s * dx, hy = cy + s * dy, hz = cz + s * dz;
        double a = (hx - f.X0) * ux + (hz - f.Z0) * uz;
        if (a < 0 || a > w || hy < 0 || hy > f.Height) return;
        best = s; hit = i; hs = a; ht = f.Height - hy;
    }

    /// <summary>The distance along the ray C + s·d (d need not be unit: s in its units) to the
    /// nearest surface, or +∞ for the sky: the tracing entry point for depth and other tools.</summary>
    private double TraceDistance(double cx, double cy, double cz, double dx, double dy, double dz)
    {
        Span<float> a = stackalloc float[3];
        if (Trace(cx, cy, cz, dx, dy, dz, a, out var x, out var y, out var z, out _, out _) == Surface.Sky) return double.PositiveInfinity;
        double ex = x - cx, ey = y - cy, ez = z - cz;
        return Math.Sqrt((ex * ex + ey * ey + ez * ez) / (dx * dx + dy * dy + dz * dz));
    }

    /// <summary>The world point seen at pixel (u, v), or null for the sky (for tests and tools).</summary>
    public double[]? PointAt(Pose pose, double u, double v)
    {
        var (c, d) = Ray(pose, u, v);
        Span<float> a = stackalloc float[3];
        return Trace(c[0], c[1], c[2], d[0], d[1], d[2], a, out var x, out var y, out var z, out _, out _) == Surface.Sky ? null : new[] { x, y, z };
    }

    private (double[] C, double[] D) Ray(Pose pose, double u, double v)
    {
        var k = _scene.Camera().Pinhole;
        double x = (u - k.Cx) / k.Fx, y = (v - k.Cy) / k.Fy;
        var r = pose.Rotation;
        // d = Rᵀ·(x, y, 1)
        return (pose.CameraCenter, new[] { r[0] * x + r[3] * y + r[6], r[1] * x + r[4] * y + r[7], r[2] * x + r[5] * y + r[8] });
    }

    /// <summary>Linear radiance, H×W×3, averaged over the S×S rays of each pixel, of the scene's camera.</summary>
    private float[] RenderLinear(Pose pose, bool night) =>
        RenderLinear(pose, _scene.Camera().Pinhole, _scene.Width, _scene.Height, _scene.Supersampling, night, _scene.Night, depth: null, parallel: true);

    /// <summary>Linear radiance, H×W×3, averaged over the S×S rays of each pixel, of any pinhole camera;
    /// with <paramref name="depth"/>, also the camera z of the surface at each pixel centre (+∞: the sky).</summary>
    private float[] RenderLinear(Pose pose, PinholeIntrinsics k, int w, int h, int ss, bool night, NightSettings n, float[]? depth, bool parallel)
    {
        var img = new float[w * h * 3];
        var r = pose.Rotation;
        var c = pose.CameraCenter;
        void Row(int row)
        {
            Span<float> albedo = stackalloc float[3];
            Span<double> acc = stackalloc double[3];
            for (int col = 0; col < w; col++)
            {
                acc.Clear();
                for (int sy = 0; sy < ss; sy++)
                    for (int sx = 0; sx < ss; sx++)
                    {
                        double u = col + (sx + 0.5) / ss - 0.5, v = row + (sy + 0.5) / ss - 0.5;
                        AddRadiance(c, r, (u - k.Cx) / k.Fx, (v - k.Cy) / k.Fy, night, n, albedo, acc);
                    }
                int i = (row * w + col) * 3;
                for (int ch = 0; ch < 3; ch++) img[i + ch] = (float)(acc[ch] / (ss * ss));
                if (depth != null) depth[row * w + col] = DepthAlong(c, r, (col - k.Cx) / k.Fx, (row - k.Cy) / k.Fy, albedo);
            }
        }
        if (parallel) Parallel.For(0, h, Row);
        else for (int row = 0; row < h; row++) Row(row);
        return img;
    }

    /// <summary>Adds to <paramref name="acc"/> the linear radiance of the ray through normalized image point (x, y, 1):
    /// the sky, or the hit surface's albedo under the sun (day) or the lamps' pools and the ambient light with the sodium tint (night).</summary>
    private void AddRadiance(double[] c, double[] r, double x, double y, bool night, NightSettings n, Span<float> albedo, Span<double> acc)
    {
        double dx = r[0] * x + r[3] * y + r[6], dy = r[1] * x + r[4] * y + r[7], dz = r[2] * x + r[5] * y + r[8];
        var surface = Trace(c[0], c[1], c[2], dx, dy, dz, albedo, out var px, out var py, out var pz, out var nx, out var nz);
        if (surface == Surface.Sky)
        {
            double len = Math.Sqrt(dx * dx + dy * dy + dz * dz), up = Math.Max(0, dy / len);
            if (night) { acc[0] += 0.004; acc[1] += 0.003; acc[2] += 0.003; }
            else { acc[0] += 0.55 - 0.35 * up; acc[1] += 0.65 - 0.3 * up; acc[2] += 0.85 - 0.1 * up; }
            return;
        }
        double light;
        if (!night)
        {
            var sun = _scene.SunDirection;
            double cos = surface == Surface.Ground ? sun[1] : nx * sun[0] + nz * sun[2];
            light = 0.45 + 0.75 * Math.Max(0, cos);
        }
        else
        {
            light = n.Ambient;
            int cell = _grid?.CellOf(px, pz) ?? -1;
            int from = cell >= 0 ? _grid!.LampStart[cell] : 0, to = cell >= 0 ? _grid!.LampStart[cell + 1] : _scene.Lamps.Count;
            for (int k = from; k < to; k++)
            {
                var lamp = _scene.Lamps[cell >= 0 ? _grid!.LampItems[k] : k];
                double ex = px - lamp.X, ey = py - lamp.Y, ez = pz - lamp.Z;
                light += lamp.Intensity * Math.Exp(-(ex * ex + ey * ey + ez * ez) / (2 * lamp.Sigma * lamp.Sigma));
            }
        }
        for (int ch = 0; ch < 3; ch++) acc[ch] += albedo[ch] * light * (night ? n.Tint[ch] : 1);
    }

    public RgbImage RenderDay(Pose pose) => ToSrgb(RenderLinear(pose, night: false));

    /// <summary>The night version: see the class summary; <paramref name="seed"/> drives the noise.</summary>
    public RgbImage RenderNight(Pose pose, int seed)
    {
        var n = _scene.Night;
        var lin = RenderLinear(pose, night: true);
        NightOptics(lin, _scene.Width, _scene.Height, n, seed);
        return ToSrgb(lin);
    }

    /// <summary>In place on linear radiance (H×W×3): the lens's box blur, then the night sensor.</summary>
    private static void NightOptics(float[] lin, int w, int h, NightSettings n, int seed)
    {
        Blur.Box(lin, PixelLayout.Packed(w, h), n.Blur);
        Sensor.Expose(lin, Sensor.AutoExposureGain(lin, n.Exposure), n.FullWell, n.ReadNoise, seed);
    }

    private RgbImage ToSrgb(float[] lin)
    {
        var px = new byte[lin.Length];
        for (int i = 0; i < lin.Length; i++) px[i] = (byte)Math.Clamp((int)Math.Round(255 * Srgb.FromLinear(Math.Clamp(lin[i], 0f, 1f))), 0, 255);
        return new RgbImage(_scene.Width, _scene.Height, px);
    }

    /// <summary>A stable seed for a name (string.GetHashCode differs between runs).</summary>
    public static int SeedOf(string name)
    {
        ulong h = 1469598103934665603UL;
        foreach (char ch in name) { h ^= ch; h *= 1099511628211UL; }
        return (int)(h & 0x7FFFFFFF);
    }
}
