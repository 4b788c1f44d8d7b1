using R2D2.Localization.Imaging;
using R2D2.Localization.Geometry;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Training;

/// <summary>
/// Helpers on planar float RGB images (3×H×W, [0, 1]; pixel centres at integer coordinates) that
/// the pair sources share: conversion from and to 8-bit images and bilinear sampling through a
/// homography (blur: <see cref="Imaging.Blur"/>).
/// </summary>
public static class PlanarImage
{
    public static float[] FromRgb(RgbImage img)
    {
        int n = img.Width * img.Height;
        var f = new float[3 * n];
        var p = img.Pixels;
        const float s = 1f / 255;
        for (int i = 0; i < n; i++)
        {
            f[i] = p[3 * i] * s;
            f[n + i] = p[3 * i + 1] * s;
            f[2 * n + i] = p[3 * i + 2] * s;
        }
        return f;
    }

    public static RgbImage ToRgb(ReadOnlySpan<float> planes, int width, int height)
    {
        int n = width * height;
        var p = new byte[3 * n];
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < n; i++)
            {
                float v = planes[c * n + i];
                p[3 * i + c] = (byte)(float.IsNaN(v) ? 0 : Math.Clamp(MathF.Round(v * 255), 0, 255));
            }
        return new RgbImage(width, height, p);
    }

    /// <summary>Rounds to 1/255 steps and clips to [0, 1], as an 8-bit image would hold it.</summary>
    public static void Quantize(Span<float> planes)
    {
        for (int i = 0; i < planes.Length; i++) planes[i] = Math.Clamp(MathF.Round(planes[i] * 255f), 0f, 255f) * (1f / 255);
    }

    /// <summary>Bilinear warp that first blurs the source where the warp shrinks it (local
    /// magnification at (cx, cy) of the output above 1.05), so the output does not alias. The
    /// source is left as it was.</summary>
    public static void WarpAntiAliased(float[] source, int sw, int sh, double[] outToSource, float[] output, int ow, int oh, double cx, double cy)
    {
        double stretch = Homography.Stretch(outToSource, cx, cy);
        if (stretch > 1.05)
        {
            source = (float[])source.Clone();
            Blur.Gaussian(source, PixelLayout.Planar(sw, sh), 0.5 * Math.Sqrt(stretch * stretch - 1));
        }
        WarpBilinear(source, sw, sh, outToSource, output, ow, oh);
    }

    /// <summary>
    /// Output pixel (x, y) = the source bilinearly sampled at <paramref name="outToSource"/>·(x, y)
    /// (a 3×3 homography, row-major). Where that point is not inside the source (or behind the
    /// homography's horizon) the output gets <paramref name="fill"/>; returns how many pixels did.
    /// </summary>
    public static int WarpBilinear(float[] source, int sw, int sh, ReadOnlySpan<double> outToSource, float[] output, int ow, int oh, float fill = 0)
    {
        int sn = sw * sh, on = ow * oh, outside = 0;
        var h = outToSource;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++)
            {
                double w = h[6] * x + h[7] * y + h[8];
                double u = (h[0] * x + h[1] * y + h[2]) / w, v = (h[3] * x + h[4] * y + h[5]) / w;
                int o = y * ow + x;
                // Half a pixel of slack at the borders: those points still have a nearest pixel.
                if (w <= 0 || !(u >= -0.5 && v >= -0.5 && u <= sw - 0.5 && v <= sh - 0.5))
                {
                    output[o] = output[on + o] = output[2 * on + o] = fill;
                    outside++;
                    continue;
                }
                u = Math.Clamp(u, 0, sw - 1); v = Math.Clamp(v, 0, sh - 1);
                int x0 = Math.Min((int)u, sw - 2 < 0 ? 0 : sw - 2), y0 = Math.Min((int)v, sh - 2 < 0 ? 0 : sh - 2);
                int x1 = Math.Min(x0 + 1, sw - 1), y1 = Math.Min(y0 + 1, sh - 1);
                float fx = (float)(u - x0), fy = (float)(v - y0);
                int i00 = y0 * sw + x0, i01 = y0 * sw + x1, i10 = y1 * sw + x0, i11 = y1 * sw + x1;
                for (int c = 0; c < 3; c++)
                {
                    int b = c * sn;
                    float top = source[b + i00] + fx * (source[b + i01] - source[b + i00]);
                    float bottom = source[b + i10] + fx * (source[b + i11] - source[b + i10]);
                    output[c * on + o] = top + fy * (bottom - top);
                }
            }
        return outside;
    }
}
