using R2D2.Localization.Geometry;
using R2D2.Localization.Imaging;

namespace R2D2.Localization.Synthesis;

/// <summary>A view rendered at any size and focal length with its depth: what training pairs need.
/// <see cref="Rgb"/>: planar 3×H×W sRGB in [0, 1] (not quantized); <see cref="Depth"/>: H×W, the
/// z coordinate in the camera of the surface at each pixel centre, +∞ for the sky. The PINHOLE
/// camera has its principal point at the image centre ((W − 1)/2, (H − 1)/2).</summary>
public sealed record RenderedView(float[] Rgb, float[] Depth, int Width, int Height, Pose Pose, double Focal, bool Night);

// Views at a chosen size with depth (training pairs). Kept apart from the fixed-size images of
// SceneRenderer.cs: the lighting is the same model (day: Lambert sun + sky; night: ambient, lamps,
// tint, blur, auto-exposure, noise), applied per ray through Trace.
public sealed partial class SceneRenderer
{
    /// <summary>Renders from <paramref name="pose"/> with a W×H PINHOLE camera of focal
    /// <paramref name="focal"/>, S×S rays per pixel; the depth comes from the ray through the pixel
    /// centre (exact, for correspondences). Night: the scene's (or the given) night settings;
    /// <paramref name="seed"/> drives the noise. Deterministic; rows traced in parallel when
    /// <paramref name="parallel"/>.</summary>
    public RenderedView RenderView(Pose pose, double focal, int width, int height, bool night, int seed,
        int supersampling = 2, NightSettings? nightSettings = null, bool parallel = true)
    {
        if (width < 1 || height < 1 || !(focal > 0) || supersampling < 1) throw new ArgumentOutOfRangeException(nameof(width), "a view needs a positive size, focal and supersampling");
        var n = nightSettings ?? _scene.Night;
        int w = width, h = height, ss = supersampling;
        var depth = new float[w * h];
        var lin = RenderLinear(pose, new PinholeIntrinsics(focal, focal, (w - 1) / 2.0, (h - 1) / 2.0), w, h, ss, night, n, depth, parallel);
        if (night) NightOptics(lin, w, h, n, seed);
        int np = w * h;
        var rgb = new float[3 * np];
        for (int p = 0; p < np; p++)
            for (int ch = 0; ch < 3; ch++) rgb[ch * np + p] = Srgb.FromLinear(Math.Clamp(lin[3 * p + ch], 0f, 1f));
        return new RenderedView(rgb, depth, w, h, pose, focal, night);
    }

    /// <summary>The distance along the ray C + s·d to the nearest surface (+∞: the sky); d need not be unit.</summary>
    public double HitDistance(ReadOnlySpan<double> c, ReadOnlySpan<double> d)
    {
        Span<float> a = stackalloc float[3];
        if (Trace(c[0], c[1], c[2], d[0], d[1], d[2], a, out var px, out var py, out var pz, out _, out _) == Surface.Sky) return double.PositiveInfinity;
        double len = Math.Sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        return Math.Sqrt((px - c[0]) * (px - c[0]) + (py - c[1]) * (py - c[1]) + (pz - c[2]) * (pz - c[2])) / len;
    }

    // The ray of normalized image point (x, y, 1) in world coordinates: d = Rᵀ·(x, y, 1); its hit's z in
    // the camera is the ray parameter s (the camera z of C + s·d is s, as R's third row has unit length).
    private float DepthAlong(double[] c, double[] r, double x, double y, Span<float> albedo)
    {
        double dx = r[0] * x + r[3] * y + r[6], dy = r[1] * x + r[4] * y + r[7], dz = r[2] * x + r[5] * y + r[8];
        if (Trace(c[0], c[1], c[2], dx, dy, dz, albedo, out var px, out var py, out var pz, out _, out _) == Surface.Sky) return float.PositiveInfinity;
        return (float)(r[6] * (px - c[0]) + r[7] * (py - c[1]) + r[8] * (pz - c[2]));
    }
}
