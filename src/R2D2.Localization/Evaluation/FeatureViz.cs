using OpenCvSharp;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Evaluation;

/// <summary>Pictures of what the extractor sees: keypoints over the image, and the
/// repeatability and reliability maps as colour heatmaps beside it.</summary>
public static class FeatureViz
{
    /// <summary>Draws each keypoint as a circle whose radius follows its scale (32/s px at the
    /// original resolution ↔ 4 px drawn at full scale) and whose colour follows its score
    /// (blue = low, red = high, turbo colour map).</summary>
    public static void WriteKeypoints(RgbImage image, FeatureSet f, string pngPath)
    {
        using var canvas = ImageFile.ToBgrMat(image);
        using var lut = TurboLut();
        float lo = f.Count > 0 ? f.Score.Min() : 0, hi = f.Count > 0 ? f.Score.Max() : 1;
        const int shift = 4; // sub-pixel drawing: coordinates in 1/16 px
        // Draw worst first so the best end up on top.
        for (int i = f.Count - 1; i >= 0; i--)
        {
            double t = hi > lo ? (f.Score[i] - lo) / (hi - lo) : 1;
            var c = lut.At<Vec3b>(0, (int)Math.Round(t * 255));
            var centre = new Point((int)Math.Round(f.X[i] * (1 << shift)), (int)Math.Round(f.Y[i] * (1 << shift)));
            int radius = (int)Math.Round(f.Scale[i] / 8.0 * (1 << shift));
            Cv2.Circle(canvas, centre, Math.Max(radius, 1 << shift), new Scalar(c.Item0, c.Item1, c.Item2), 1, LineTypes.AntiAlias, shift);
        }
        Write(pngPath, canvas);
    }

    /// <summary>Image | repeatability | reliability, side by side, maps in [0, 1] coloured with
    /// the turbo map and their thresholds marked in the caption.</summary>
    public static void WriteHeatmaps(RgbImage image, float[] repeatability, float[] reliability, int mapWidth, int mapHeight, string pngPath)
    {
        using var src = ImageFile.ToBgrMat(image);
        using var img = new Mat();
        Cv2.Resize(src, img, new Size(mapWidth, mapHeight), 0, 0, InterpolationFlags.Area);
        using var rep = ColourMap(repeatability, mapWidth, mapHeight);
        using var rel = ColourMap(reliability, mapWidth, mapHeight);
        using var row = new Mat();
        Cv2.HConcat(new[] { img, rep, rel }, row);
        int band = 28;
        using var canvas = new Mat(row.Rows + band, row.Cols, MatType.CV_8UC3, Scalar.All(255));
        row.CopyTo(canvas[new Rect(0, band, row.Cols, row.Rows)]);
        string[] labels = { "image", "repeatability", "reliability" };
        for (int k = 0; k < 3; k++)
            Cv2.PutText(canvas, labels[k], new Point(k * mapWidth + 6, 20), HersheyFonts.HersheySimplex, 0.6, Scalar.All(0), 1, LineTypes.AntiAlias);
        Write(pngPath, canvas);
    }

    private static Mat ColourMap(float[] values, int w, int h)
    {
        using var f = new Mat(h, w, MatType.CV_32FC1);
        System.Runtime.InteropServices.Marshal.Copy(values, 0, f.Data, values.Length);
        using var u8 = new Mat();
        f.ConvertTo(u8, MatType.CV_8UC1, 255.0);
        var c = new Mat();
        Cv2.ApplyColorMap(u8, c, ColormapTypes.Turbo);
        return c;
    }

    private static Mat TurboLut()
    {
        using var ramp = new Mat(1, 256, MatType.CV_8UC1);
        for (int i = 0; i < 256; i++) ramp.Set(0, i, (byte)i);
        var lut = new Mat();
        Cv2.ApplyColorMap(ramp, lut, ColormapTypes.Turbo);
        return lut;
    }

    private static void Write(string path, Mat m) => OutputFile.WriteImage(path, m);
}
