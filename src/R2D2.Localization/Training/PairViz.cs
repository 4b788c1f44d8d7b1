using OpenCvSharp;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Training;

/// <summary>Pictures of training pairs for eyeballing: image 1 | image 2 side by side with lines
/// from some image-1 pixels to their flow targets (a right line lands on the same content).</summary>
public static class PairViz
{
    public static void WritePair(TrainingPair p, string pngPath, int lines = 40, ulong seed = 0)
    {
        int w = p.Width, h = p.Height, n = w * h;
        using var a = ImageFile.ToBgrMat(PlanarImage.ToRgb(p.Image1, w, h));
        using var b = ImageFile.ToBgrMat(PlanarImage.ToRgb(p.Image2, w, h));
        using var gap = new Mat(h, 8, MatType.CV_8UC3, Scalar.All(255));
        using var canvas = new Mat();
        Cv2.HConcat(new[] { a, gap, b }, canvas);
        // The known pixels, then an evenly spread random subset of them.
        var known = new List<int>();
        for (int i = 0; i < n; i++) if (!float.IsNaN(p.Flow[i])) known.Add(i);
        var rng = new Rng(seed);
        int count = Math.Min(lines, known.Count);
        const int shift = 4;
        for (int k = 0; k < count; k++)
        {
            int i = known[p.Dense ? rng.Next(known.Count) : k * known.Count / count];
            double x1 = i % w, y1 = i / w, x2 = p.Flow[i] + w + 8, y2 = p.Flow[n + i];
            var colour = Colour(k);
            var p1 = new Point((int)Math.Round(x1 * 16), (int)Math.Round(y1 * 16));
            var p2 = new Point((int)Math.Round(x2 * 16), (int)Math.Round(y2 * 16));
            Cv2.Line(canvas, p1, p2, colour, 1, LineTypes.AntiAlias, shift);
            Cv2.Circle(canvas, p1, 2 * 16, colour, 1, LineTypes.AntiAlias, shift);
            Cv2.Circle(canvas, p2, 2 * 16, colour, 1, LineTypes.AntiAlias, shift);
        }
        OutputFile.WriteImage(pngPath, canvas);
    }

    public static void WriteImage(float[] planes, int w, int h, string pngPath)
    {
        using var m = ImageFile.ToBgrMat(PlanarImage.ToRgb(planes, w, h));
        OutputFile.WriteImage(pngPath, m);
    }

    private static Scalar Colour(int k)
    {
        // Distinct saturated hues (golden-angle steps).
        double hue = (k * 0.618034) % 1.0 * 6;
        int i = (int)hue;
        double f = hue - i;
        double r, g, b;
        switch (i)
        {
            case 0: r = 1; g = f; b = 0; break;
            case 1: r = 1 - f; g = 1; b = 0; break;
            case 2: r = 0; g = 1; b = f; break;
            case 3: r = 0; g = 1 - f; b = 1; break;
            case 4: r = f; g = 0; b = 1; break;
            default: r = 1; g = 0; b = 1 - f; break;
        }
        return new Scalar(255 * b, 255 * g, 255 * r);
    }
}
