using System.Globalization;
using OpenCvSharp;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Evaluation;

public enum ErrorScale { Log, Linear }

/// <summary>How <see cref="ErrorPlot"/> draws. The defaults suit Aachen: position errors from
/// 1 cm to 10 m on a log axis (the thresholds span 0.25–5 m, good poses are centimetres off).</summary>
public sealed record ErrorPlotSettings
{
    public ErrorScale Scale { get; init; } = ErrorScale.Log;
    /// <summary>Left end of a log axis (metres); a linear axis starts at 0.</summary>
    public double MinMetres { get; init; } = 0.01;
    public double MaxMetres { get; init; } = 10;
    /// <summary>Thresholds marked by a dashed line at their position bound, with a dot per run
    /// at the share of queries within both bounds.</summary>
    public IReadOnlyList<PoseThreshold> Markers { get; init; } = ThresholdSet.Aachen.Thresholds;
    public int Width { get; init; } = 1000;
    public int Height { get; init; } = 640;
    public string Title { get; init; } = "Cumulative position error";

    public void Validate()
    {
        if (!(MaxMetres > 0) || Scale == ErrorScale.Log && !(MinMetres > 0 && MinMetres < MaxMetres))
            throw new ArgumentException($"error plot: the axis range {MinMetres}..{MaxMetres} m is empty (a log axis needs 0 < min < max)");
        if (Width < 400 || Height < 300) throw new ArgumentException($"error plot: {Width}x{Height} is too small (at least 400x300)");
    }
}

/// <summary>
/// The cumulative distribution of position errors as a PNG: x = position error, y = share of the
/// ground-truth queries localized within it (missing queries never arrive, so a curve ends below
/// 100% by their share), one curve per run. The rotation error does not enter the curve; the dots
/// on each threshold line give the share within both bounds, the benchmark's number.
/// </summary>
public static class ErrorPlot
{
    // Matplotlib's tab10 palette (BGR): distinct, and readable on white.
    private static readonly Scalar[] Palette =
    {
        new(180, 119, 31), new(14, 127, 255), new(44, 160, 44), new(40, 39, 214), new(189, 103, 148),
        new(75, 86, 140), new(194, 119, 227), new(127, 127, 127), new(34, 189, 188), new(207, 190, 23),
    };
    private const HersheyFonts Font = HersheyFonts.HersheySimplex;
    private const int Shift = 4; // sub-pixel drawing: coordinates in 1/16 px
    private static readonly Scalar Black = Scalar.All(0), Grid = Scalar.All(225), MinorGrid = Scalar.All(242), MarkerGrey = Scalar.All(110);

    public static void Write(string pngPath, IReadOnlyList<EvaluatedRun> runs, ErrorPlotSettings? settings = null)
    {
        OutputFile.ImageExtension(pngPath);
        using var canvas = Render(runs, settings ?? new ErrorPlotSettings());
        OutputFile.WriteImage(pngPath, canvas);
    }

    /// <summary>The plot as a BGR image.</summary>
    public static Mat Render(IReadOnlyList<EvaluatedRun> runs, ErrorPlotSettings s)
    {
        s.Validate();
        var canvas = new Mat(s.Height, s.Width, MatType.CV_8UC3, Scalar.All(255));
        var area = new Rect(80, 46, s.Width - 80 - 28, s.Height - 46 - 62);
        var axis = new Axis(s, area);

        DrawGrid(canvas, axis, s);
        // Threshold lines and labels under the curves (a label must not hide a curve), dots over them.
        var markers = s.Markers.Where(t => t.PositionMetres >= axis.Min && t.PositionMetres <= axis.Max).OrderBy(t => t.PositionMetres).ToList();
        DrawMarkerLines(canvas, axis, markers);
        for (int i = 0; i < runs.Count; i++) DrawCurve(canvas, axis, runs[i].Result, Palette[i % Palette.Length]);
        DrawMarkerDots(canvas, axis, runs, markers);
        Cv2.Rectangle(canvas, area, Black, 1);
        DrawLegend(canvas, area, runs, s.Markers.Count > 0);

        int queries = runs.Count == 0 ? 0 : runs.Max(r => r.Result.Queries.Count);
        Text(canvas, Ascii($"{s.Title} ({queries} queries)"), new Point(area.X, 30), 0.65, 1, Black);
        string xLabel = s.Scale == ErrorScale.Log ? "position error (log scale)" : "position error";
        var size = TextSize(xLabel, 0.55, 1);
        Text(canvas, xLabel, new Point(area.X + (area.Width - size.Width) / 2, s.Height - 16), 0.55, 1, Black);
        DrawVerticalText(canvas, "queries localized within the error (%)", new Point(20, area.Y + area.Height / 2), 0.55);
        return canvas;
    }

    /// <summary>Maps metres and shares to pixels.</summary>
    private sealed class Axis
    {
        private readonly ErrorPlotSettings _s;
        public readonly Rect Area;
        public double Min => _s.Scale == ErrorScale.Log ? _s.MinMetres : 0;
        public double Max => _s.MaxMetres;

        public Axis(ErrorPlotSettings s, Rect area) { _s = s; Area = area; }

        public double X(double metres)
        {
            double f = _s.Scale == ErrorScale.Log
                ? (Math.Log10(metres) - Math.Log10(Min)) / (Math.Log10(Max) - Math.Log10(Min))
                : metres / Max;
            return Area.X + f * Area.Width;
        }

        public double Y(double share) => Area.Y + (1 - share) * Area.Height;
    }

    private static void DrawGrid(Mat canvas, Axis axis, ErrorPlotSettings s)
    {
        var a = axis.Area;
        // Minor lines first so the major ones and the curves are drawn over them.
        foreach (var (metres, label) in XTicks(axis, s).Where(t => t.Label == null))
            VLine(canvas, axis.X(metres), a, MinorGrid);
        foreach (var (metres, label) in XTicks(axis, s).Where(t => t.Label != null))
        {
            double x = axis.X(metres);
            VLine(canvas, x, a, Grid);
            var size = TextSize(label!, 0.45, 1);
            Text(canvas, label!, new Point((int)Math.Round(x) - size.Width / 2, a.Bottom + 20), 0.45, 1, Black);
        }
        for (int pct = 0; pct <= 100; pct += 10)
        {
            int y = (int)Math.Round(axis.Y(pct / 100.0));
            Cv2.Line(canvas, new Point(a.X, y), new Point(a.Right, y), Grid, 1);
            var label = pct.ToString(CultureInfo.InvariantCulture) + "%";
            var size = TextSize(label, 0.45, 1);
            Text(canvas, label, new Point(a.X - 8 - size.Width, y + size.Height / 2), 0.45, 1, Black);
        }
    }

    /// <summary>Tick positions; labelled ones are major (decades on a log axis, round steps on a
    /// linear one), unlabelled ones minor (2–9 × each decade).</summary>
    private static IEnumerable<(double Metres, string? Label)> XTicks(Axis axis, ErrorPlotSettings s)
    {
        if (s.Scale == ErrorScale.Log)
        {
            for (int e = (int)Math.Floor(Math.Log10(axis.Min)); e <= (int)Math.Ceiling(Math.Log10(axis.Max)); e++)
                for (int k = 1; k <= 9; k++)
                {
                    double v = k * Math.Pow(10, e);
                    if (v < axis.Min * (1 - 1e-9) || v > axis.Max * (1 + 1e-9)) continue;
                    yield return (v, k == 1 ? Metres(v) : null);
                }
        }
        else
        {
            double step = NiceNumbers.AtLeast(axis.Max / 10);
            for (int i = 0; i * step <= axis.Max * (1 + 1e-9); i++) yield return (i * step, Metres(i * step));
        }
    }

    /// <summary>"1 cm", "10 cm", "1 m", "2.5 m": centimetres below a metre read better on a log axis.</summary>
    private static string Metres(double v) =>
        v > 0 && v < 1 ? (v * 100).ToString("0.##", CultureInfo.InvariantCulture) + " cm" : v.ToString("0.##", CultureInfo.InvariantCulture) + " m";

    /// <summary>A step curve: the share rises by 1/N at each query's error; errors left of the
    /// axis are already counted at its left end, those right of it (and missing queries) never.</summary>
    private static void DrawCurve(Mat canvas, Axis axis, PoseEvaluationResult result, Scalar colour)
    {
        int n = result.Queries.Count;
        if (n == 0) return;
        var errors = result.Queries.Select(q => q.PositionMetres).Where(double.IsFinite).OrderBy(e => e).ToArray();
        int count = errors.Count(e => e <= axis.Min);
        var points = new List<Point> { P(axis.X(axis.Min), axis.Y((double)count / n)) };
        foreach (var e in errors.Where(e => e > axis.Min && e <= axis.Max))
        {
            points.Add(P(axis.X(e), axis.Y((double)count / n)));
            count++;
            points.Add(P(axis.X(e), axis.Y((double)count / n)));
        }
        points.Add(P(axis.X(axis.Max), axis.Y((double)count / n)));
        Cv2.Polylines(canvas, new[] { points }, false, colour, 2, LineTypes.AntiAlias, Shift);
    }

    private static void DrawMarkerLines(Mat canvas, Axis axis, IReadOnlyList<PoseThreshold> markers)
    {
        var a = axis.Area;
        for (int m = 0; m < markers.Count; m++)
        {
            double x = axis.X(markers[m].PositionMetres);
            for (int y = a.Y; y < a.Bottom; y += 10) // dashed: 6 px on, 4 off
                Cv2.Line(canvas, P(x, y), P(x, Math.Min(y + 6, a.Bottom)), MarkerGrey, 1, LineTypes.AntiAlias, Shift);
            // Labels step down so neighbouring thresholds (0.25 m and 0.5 m) do not overlap.
            var label = Ascii(markers[m].ToString());
            var size = TextSize(label, 0.42, 1);
            int lx = (int)Math.Round(x) + 4;
            if (lx + size.Width > a.Right - 2) lx = (int)Math.Round(x) - 4 - size.Width;
            var origin = new Point(lx, a.Y + 16 + 18 * m);
            Cv2.Rectangle(canvas, new Rect(origin.X - 2, origin.Y - size.Height - 3, size.Width + 4, size.Height + 7), Scalar.All(255), -1);
            Text(canvas, label, origin, 0.42, 1, MarkerGrey);
        }
    }

    /// <summary>Per run and threshold, a dot at the share within both bounds: on or below the
    /// curve, by the queries whose rotation is off.</summary>
    private static void DrawMarkerDots(Mat canvas, Axis axis, IReadOnlyList<EvaluatedRun> runs, IReadOnlyList<PoseThreshold> markers)
    {
        foreach (var t in markers)
            for (int i = 0; i < runs.Count; i++)
            {
                var centre = P(axis.X(t.PositionMetres), axis.Y(runs[i].Result.ShareWithin(t)));
                Cv2.Circle(canvas, centre, 6 << Shift, Scalar.All(255), -1, LineTypes.AntiAlias, Shift);
                Cv2.Circle(canvas, centre, 5 << Shift, Palette[i % Palette.Length], -1, LineTypes.AntiAlias, Shift);
            }
    }

    /// <summary>In the lower right of the plot, where cumulative curves leave room.</summary>
    private static void DrawLegend(Mat canvas, Rect area, IReadOnlyList<EvaluatedRun> runs, bool dots)
    {
        var lines = runs.Select((r, i) => (Text: Ascii($"{r.Label} ({r.Result.LocalizedCount}/{r.Result.Queries.Count} localized)"), Colour: Palette[i % Palette.Length], Dot: false)).ToList();
        if (dots) lines.Add(("share within position and rotation bound", MarkerGrey, true));
        if (lines.Count == 0) return;
        const double scale = 0.48;
        int rowH = 22, sample = 30;
        int w = lines.Max(l => TextSize(l.Text, scale, 1).Width) + sample + 24;
        int h = rowH * lines.Count + 10;
        var box = new Rect(area.Right - w - 12, area.Bottom - h - 12, w, h);
        Cv2.Rectangle(canvas, box, Scalar.All(255), -1);
        Cv2.Rectangle(canvas, box, Scalar.All(160), 1);
        for (int i = 0; i < lines.Count; i++)
        {
            int y = box.Y + 5 + rowH * i + rowH / 2;
            if (lines[i].Dot) Cv2.Circle(canvas, new Point(box.X + 8 + sample / 2, y), 5, lines[i].Colour, -1, LineTypes.AntiAlias);
            else Cv2.Line(canvas, new Point(box.X + 8, y), new Point(box.X + 8 + sample, y), lines[i].Colour, 2, LineTypes.AntiAlias);
            Text(canvas, lines[i].Text, new Point(box.X + 16 + sample, y + 5), scale, 1, Black);
        }
    }

    /// <summary>PutText writes horizontally only: draw on a strip, turn it, paste it.</summary>
    private static void DrawVerticalText(Mat canvas, string text, Point centre, double scale)
    {
        var size = TextSize(text, scale, 1);
        using var strip = new Mat(size.Height + 8, size.Width + 4, MatType.CV_8UC3, Scalar.All(255));
        Text(strip, text, new Point(2, size.Height + 2), scale, 1, Black);
        using var turned = new Mat();
        Cv2.Rotate(strip, turned, RotateFlags.Rotate90Counterclockwise);
        int x = Math.Max(0, centre.X - turned.Cols / 2), y = Math.Max(0, centre.Y - turned.Rows / 2);
        int rows = Math.Min(turned.Rows, canvas.Rows - y), cols = Math.Min(turned.Cols, canvas.Cols - x);
        using var src = turned[new Rect(0, 0, cols, rows)];
        using var dst = canvas[new Rect(x, y, cols, rows)];
        src.CopyTo(dst);
    }

    private static void VLine(Mat canvas, double x, Rect a, Scalar colour) =>
        Cv2.Line(canvas, P(x, a.Y), P(x, a.Bottom), colour, 1, LineTypes.Link8, Shift);

    private static Point P(double x, double y) => new((int)Math.Round(x * (1 << Shift)), (int)Math.Round(y * (1 << Shift)));

    private static void Text(Mat m, string text, Point origin, double scale, int thickness, Scalar colour) =>
        Cv2.PutText(m, text, origin, Font, scale, colour, thickness, LineTypes.AntiAlias);

    private static Size TextSize(string text, double scale, int thickness) => Cv2.GetTextSize(text, Font, scale, thickness, out _);

    /// <summary>Hershey fonts draw ASCII only: degrees become "deg", anything else '?'.</summary>
    private static string Ascii(string s) =>
        new(s.Replace("°", " deg").Select(c => c < 128 ? c : '?').ToArray());
}
