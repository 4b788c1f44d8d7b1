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
        Parallel.For(0, scene.Facades.Count, i => _facadeTextures[i] = ProceduralTextures.Facade(scene.Facades[i], scene.TexelsPerMetre));
        _groundTexture = scene.Ground is { } g ? ProceduralTextures.Ground(g, scene.TexelsPerMetre) : null;
    }

    /// <summary>With given textures (one per facade): for tests.</summary>
    internal SceneRenderer(DemoScene scene, Texture[] facadeTextures, Texture? groundTexture)
    {
        _scene = scene; _facadeTextures = facadeTextures; _groundTexture = groundTexture;
    }

    public DemoScene Scene => _scene;

    private enum Surface { Sky, Facade, Ground }

    /// <summary>The nearest surface along the ray C + s·d (s &gt; 0): its albedo, the point and its normal (facing the ray).</summary>
    private Surface Trace(double cx, double cy, double cz, double dx, double dy, double dz, Span<float> albedo, out double px, out double py, out double pz, out double nx, out double nz)
    {
        double best = double.PositiveInfinity;
        int hit = -1;
        double hs = 0, ht = 0;
        for (int i = 0; i < _scene.Facades.Count; i++)
        {
            var f = _scene.Facades[i];
            double w = f.Width, ux = (f.X1 - f.X0) / w, uz = (f.Z1 - f.Z0) / w;
            // Plane normal (uz, 0, −ux); distance along the ray to it.
            double den = dx * uz - dz * ux;
            if (Math.Abs(den) < 1e-12) continue;
            double s = ((f.X0 - cx) * uz - (f.Z0 - cz) * ux) / den;
            if (s <= 1e-6 || s >= best) continue;
            double hx = cx + s * dx, hy = cy + s * dy, hz = cz + s * dz;
            double a = (hx - f.X0) * ux + (hz - f.Z0) * uz;
            if (a < 0 || a > w || hy < 0 || hy > f.Height) continue;
            best = s; hit = i; hs = a; ht = f.Height - hy;
        }
        if (_scene.Ground is { } g && dy < -1e-12)
        {
            double s = -cy / dy;
            if (s > 1e-6 && s < best)
            {
                double hx = cx + s * dx, hz = cz + s * dz;
                if (hx >= g.X0 && hx <= g.X1 && hz >= g.Z0 && hz <= g.Z1)
                {
                    px = hx; py = 0; pz = hz; nx = 0; nz = 0;
                    if (_groundTexture != null) _groundTexture.Sample((hx - g.X0) * _scene.TexelsPerMetre - 0.5, (hz - g.Z0) * _scene.TexelsPerMetre - 0.5, albedo);
                    return Surface.Ground;
                }
            }
        }
        if (hit < 0) { px = py = pz = nx = nz = 0; return Surface.Sky; }
        var fh = _scene.Facades[hit];
        double fw = fh.Width;
        nx = (fh.Z1 - fh.Z0) / fw; nz = -(fh.X1 - fh.X0) / fw;
        if (nx * dx + nz * dz > 0) { nx = -nx; nz = -nz; }
        px = cx + best * dx; py = cy + best * dy; pz = cz + best * dz;
        _facadeTextures[hit].Sample(hs * _scene.TexelsPerMetre - 0.5, ht * _scene.TexelsPerMetre - 0.5, albedo);
        return Surface.Facade;
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

    /// <summary>Linear radiance, H×W×3, averaged over the S×S rays of each pixel.</summary>
    private float[] RenderLinear(Pose pose, bool night)
    {
        int w = _scene.Width, h = _scene.Height, ss = _scene.Supersampling;
        var img = new float[w * h * 3];
        var k = _scene.Camera().Pinhole;
        var r = pose.Rotation;
        var c = pose.CameraCenter;
        var sun = _scene.SunDirection;
        var n = _scene.Night;
        Parallel.For(0, h, row =>
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
                        double x = (u - k.Cx) / k.Fx, y = (v - k.Cy) / k.Fy;
                        double dx = r[0] * x + r[3] * y + r[6], dy = r[1] * x + r[4] * y + r[7], dz = r[2] * x + r[5] * y + r[8];
                        var surface = Trace(c[0], c[1], c[2], dx, dy, dz, albedo, out var px, out var py, out var pz, out var nx, out var nz);
                        if (surface == Surface.Sky)
                        {
                            double len = Math.Sqrt(dx * dx + dy * dy + dz * dz), up = Math.Max(0, dy / len);
                            if (night) { acc[0] += 0.004; acc[1] += 0.003; acc[2] += 0.003; }
                            else { acc[0] += 0.55 - 0.35 * up; acc[1] += 0.65 - 0.3 * up; acc[2] += 0.85 - 0.1 * up; }
                            continue;
                        }
                        double light;
                        if (!night)
                        {
                            double cos = surface == Surface.Ground ? sun[1] : nx * sun[0] + nz * sun[2];
                            light = 0.45 + 0.75 * Math.Max(0, cos);
                        }
                        else
                        {
                            light = n.Ambient;
                            foreach (var lamp in _scene.Lamps)
                            {
                                double ex = px - lamp.X, ey = py - lamp.Y, ez = pz - lamp.Z;
                                light += lamp.Intensity * Math.Exp(-(ex * ex + ey * ey + ez * ez) / (2 * lamp.Sigma * lamp.Sigma));
                            }
                        }
                        for (int ch = 0; ch < 3; ch++) acc[ch] += albedo[ch] * light * (night ? n.Tint[ch] : 1);
                    }
                int i = (row * w + col) * 3;
                for (int ch = 0; ch < 3; ch++) img[i + ch] = (float)(acc[ch] / (ss * ss));
            }
        });
        return img;
    }

    public RgbImage RenderDay(Pose pose) => ToSrgb(RenderLinear(pose, night: false));

    /// <summary>The night version: see the class summary; <paramref name="seed"/> drives the noise.</summary>
    public RgbImage RenderNight(Pose pose, int seed)
    {
        var n = _scene.Night;
        var lin = RenderLinear(pose, night: true);
        Blur.Box(lin, PixelLayout.Packed(_scene.Width, _scene.Height), n.Blur);
        Sensor.Expose(lin, Sensor.AutoExposureGain(lin, n.Exposure), n.FullWell, n.ReadNoise, seed);
        return ToSrgb(lin);
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
