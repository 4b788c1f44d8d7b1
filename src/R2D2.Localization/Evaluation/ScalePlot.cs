using OpenCvSharp;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Evaluation;

/// <summary>One stage measured at one size of the scale benchmark.</summary>
public sealed record ScalePlotRow(string Stage, int Images, double Seconds, double PeakRssMb);

/// <summary>
/// The scale benchmark's plot: two log–log panels against the number of database images, the
/// seconds of each stage (a line of slope 1 is linear growth) and each stage's peak RSS (flat is
/// streaming), one colour per stage, with a dashed slope-1 guide.
/// </summary>
public static class ScalePlot
{
    private static readonly Scalar[] Palette =
    {
        new(180, 119, 31), new(14, 127, 255), new(44, 160, 44), new(40, 39, 214), new(189, 103, 148),
        new(75, 86, 140), new(194, 119, 227), new(127, 127, 127), new(34, 189, 188), new(207, 190, 23),
    };
    private static readonly Scalar Black = Scalar.All(0), Grid = Scalar.All(225);
    private const HersheyFonts Font = HersheyFonts.HersheySimplex;

    public static void Write(string pngPath, IReadOnlyList<ScalePlotRow> rows)
    {
        OutputFile.ImageExtension(pngPath);
        using var canvas = Render(rows);
        OutputFile.WriteImage(pngPath, canvas);
    }

    public static Mat Render(IReadOnlyList<ScalePlotRow> rows)
    {
        var canvas = new Mat(520, 1260, MatType.CV_8UC3, Scalar.All(255));
        var stages = rows.Select(r => r.Stage).Distinct().ToList();
        Panel(canvas, new Rect(80, 50, 440, 380), rows, stages, r => r.Seconds, "seconds per stage", slopeGuide: true);
        Panel(canvas, new Rect(640, 50, 440, 380), rows, stages, r => r.PeakRssMb / 1024, "peak RSS per stage (GB)", slopeGuide: false);
        for (int i = 0; i < stages.Count; i++)
        {
            var c = Palette[i % Palette.Length];
            int x = 1095, y = 60 + 20 * i;
            Cv2.Line(canvas, new Point(x, y - 4), new Point(x + 18, y - 4), c, 2);
            Cv2.PutText(canvas, Ascii(stages[i]), new Point(x + 22, y), Font, 0.4, Black, 1, LineTypes.AntiAlias);
        }
        return canvas;
    }

    private static void Panel(Mat canvas, Rect a, IReadOnlyList<ScalePlotRow> rows, List<string> stages, Func<ScalePlotRow, double> value, string title, bool slopeGuide)
    {
        var pts = rows.Where(r => r.Images > 0 && value(r) > 0).ToList();
        Cv2.Rectangle(canvas, a, Black, 1);
        Cv2.PutText(canvas, title, new Point(a.X, a.Y - 14), Font, 0.6, Black, 1, LineTypes.AntiAlias);
        Cv2.PutText(canvas, "database images (log)", new Point(a.X + a.Width / 2 - 90, a.Bottom + 44), Font, 0.5, Black, 1, LineTypes.AntiAlias);
        if (pts.Count == 0) return;
        double x0 = Math.Floor(Math.Log10(pts.Min(r => r.Images))), x1 = Math.Ceiling(Math.Log10(pts.Max(r => r.Images)));
        double y0 = Math.Floor(Math.Log10(pts.Min(value))), y1 = Math.Ceiling(Math.Log10(pts.Max(value)));
        if (x1 <= x0) x1 = x0 + 1;
        if (y1 <= y0) y1 = y0 + 1;
        Point P(double images, double v) => new(
            (int)Math.Round(a.X + (Math.Log10(images) - x0) / (x1 - x0) * a.Width),
            (int)Math.Round(a.Bottom - (Math.Log10(v) - y0) / (y1 - y0) * a.Height));
        for (double e = x0; e <= x1; e++)
        {
            var p = P(Math.Pow(10, e), Math.Pow(10, y0));
            Cv2.Line(canvas, new Point(p.X, a.Y), new Point(p.X, a.Bottom), Grid, 1);
            Cv2.PutText(canvas, Label(Math.Pow(10, e)), new Point(p.X - 12, a.Bottom + 20), Font, 0.45, Black, 1, LineTypes.AntiAlias);
        }
        for (double e = y0; e <= y1; e++)
        {
            var p = P(Math.Pow(10, x0), Math.Pow(10, e));
            Cv2.Line(canvas, new Point(a.X, p.Y), new Point(a.Right, p.Y), Grid, 1);
            Cv2.PutText(canvas, Label(Math.Pow(10, e)), new Point(a.X - 60, p.Y + 5), Font, 0.45, Black, 1, LineTypes.AntiAlias);
        }
        if (slopeGuide)
        {
            // Linear growth through the first rung's median stage time.
            double xs = Math.Pow(10, x0), v = pts.Where(r => r.Images == pts.Min(q => q.Images)).Select(value).OrderBy(t => t).ElementAt(0);
            double xm = pts.Min(r => r.Images);
            for (double x = xs; x < Math.Pow(10, x1); x *= 1.25)
            {
                double yv = v * x / xm, yv2 = v * x * 1.12 / xm;
                if (yv < Math.Pow(10, y0) || yv2 > Math.Pow(10, y1)) continue;
                Cv2.Line(canvas, P(x, yv), P(x * 1.12, yv2), Scalar.All(150), 1, LineTypes.AntiAlias);
            }
        }
        for (int i = 0; i < stages.Count; i++)
        {
            var line = pts.Where(r => r.Stage == stages[i]).OrderBy(r => r.Images).ToList();
            var c = Palette[i % Palette.Length];
            for (int k = 0; k < line.Count; k++)
            {
                var p = P(line[k].Images, value(line[k]));
                Cv2.Circle(canvas, p, 4, c, -1, LineTypes.AntiAlias);
                if (k > 0) Cv2.Line(canvas, P(line[k - 1].Images, value(line[k - 1])), p, c, 2, LineTypes.AntiAlias);
            }
        }
    }

    private static string Label(double v) => v >= 1000 ? $"{v / 1000:G3}k" : v >= 1 ? $"{v:G3}" : $"{v:G2}";

    private static string Ascii(string s) => new(s.Select(ch => ch < 128 ? ch : '?').ToArray());
}
