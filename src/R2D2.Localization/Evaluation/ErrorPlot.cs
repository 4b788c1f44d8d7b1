using System.Globalization;
using R2D2.Localization.Formats;
using ScottPlot;

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
/// The cumulative distribution of position errors, drawn with ScottPlot (as PNG or SVG): x =
/// position error, y = share of the ground-truth queries localized within it (missing queries never
/// arrive, so a curve ends below 100% by their share), one curve per run. The rotation error does
/// not enter the curve; the dots on each threshold line give the share within both bounds, the
/// benchmark's number.
/// </summary>
public static class ErrorPlot
{
    /// <summary>Matplotlib's tab10 palette: distinct, and readable on white.</summary>
    public static readonly string[] Palette =
        { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };

    /// <summary>A sans-serif family Skia finds (ScottPlot's own guess can be a serif one on Linux);
    /// the PNG's text needs one installed (Debian's fonts-dejavu-core, which tools/setup installs).</summary>
    private static readonly Lazy<string> SansFont = new(() =>
    {
        var families = SkiaSharp.SKFontManager.Default.GetFontFamilies();
        return new[] { "DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica", "FreeSans" }.FirstOrDefault(families.Contains) ?? Fonts.Sans;
    });

    /// <summary>Writes the plot as PNG or SVG, by the path's extension.</summary>
    public static void Write(string path, IReadOnlyList<EvaluatedRun> runs, ErrorPlotSettings? settings = null)
    {
        var s = settings ?? new ErrorPlotSettings();
        if (CheckPath(path) == ".svg") OutputFile.WriteAllText(path, Svg(runs, s));
        else OutputFile.WriteAllBytes(path, Png(runs, s));
    }

    /// <summary>Whether a plot can be written at <paramref name="path"/>: its name ends in .png or .svg.</summary>
    public static bool IsPlotPath(string path) => Path.GetExtension(path).ToLowerInvariant() is ".png" or ".svg";

    /// <summary>The extension of a plot's path: .png or .svg, else an error naming the path.</summary>
    public static string CheckPath(string path) => IsPlotPath(path) ? Path.GetExtension(path).ToLowerInvariant()
        : throw new R2D2Exception(path, 0, "a plot is written here, so the name must end in .png or .svg");

    public static byte[] Png(IReadOnlyList<EvaluatedRun> runs, ErrorPlotSettings s)
    {
        using var plot = Build(runs, s);
        return plot.GetImageBytes(s.Width, s.Height, ScottPlot.ImageFormat.Png);
    }

    /// <summary>The plot as an SVG document (text as text: the browser's fonts draw it).</summary>
    public static string Svg(IReadOnlyList<EvaluatedRun> runs, ErrorPlotSettings s)
    {
        using var plot = Build(runs, s);
        return plot.GetSvgXml(s.Width, s.Height);
    }

    private static Plot Build(IReadOnlyList<EvaluatedRun> runs, ErrorPlotSettings s)
    {
        s.Validate();
        var plot = new Plot();
        plot.Font.Set(SansFont.Value, FontWeight.Normal, FontSlant.Upright, FontSpacing.Normal);
        bool log = s.Scale == ErrorScale.Log;
        double min = log ? s.MinMetres : 0, max = s.MaxMetres;
        double X(double metres) => log ? Math.Log10(metres) : metres;

        var grey = Color.FromHex("#6e6e6e");
        var markers = s.Markers.Where(t => t.PositionMetres >= min && t.PositionMetres <= max).OrderBy(t => t.PositionMetres).ToList();
        // Threshold lines and labels first, so the curves are drawn over them; labels step down so
        // neighbouring thresholds (0.25 m and 0.5 m) do not overlap, and come after every line, so
        // that their white ground hides the next threshold's line (it struck "0.25 m, 2°" through).
        foreach (var t in markers)
            plot.Add.VerticalLine(X(t.PositionMetres), 1, grey, LinePattern.Dashed).LegendText = "";
        for (int m = 0; m < markers.Count; m++)
        {
            bool right = markers[m].PositionMetres < min + 0.85 * (max - min) && (!log || X(markers[m].PositionMetres) < X(min) + 0.85 * (X(max) - X(min)));
            var label = plot.Add.Text(markers[m].ToString(), X(markers[m].PositionMetres), 98 - 6 * m);
            label.LabelFontSize = 12;
            label.LabelFontColor = grey;
            label.LabelBackgroundColor = Colors.White;
            label.LabelAlignment = right ? Alignment.UpperLeft : Alignment.UpperRight;
            label.OffsetX = right ? 4 : -4;
        }
        for (int i = 0; i < runs.Count; i++)
        {
            var (xs, ys) = Curve(runs[i].Result, min, max);
            var curve = plot.Add.Scatter(xs.Select(X).ToArray(), ys);
            curve.ConnectStyle = ConnectStyle.StepHorizontal;
            curve.Color = Color.FromHex(Palette[i % Palette.Length]);
            curve.LineWidth = 2;
            curve.MarkerSize = 0;
            curve.LegendText = $"{runs[i].Label} ({runs[i].Result.LocalizedCount}/{runs[i].Result.Queries.Count} with a pose)";
        }
        // Per run and threshold, a dot at the share within both bounds: on or below the curve, by
        // the queries whose rotation is off.
        for (int i = 0; i < runs.Count; i++)
            foreach (var t in markers)
            {
                var dot = plot.Add.Marker(X(t.PositionMetres), 100 * runs[i].Result.ShareWithin(t), MarkerShape.FilledCircle, 10, Color.FromHex(Palette[i % Palette.Length]));
                dot.LegendText = "";
            }
        if (markers.Count > 0 && runs.Count > 0)
        {
            var legendDot = plot.Add.Marker(double.NaN, double.NaN, MarkerShape.FilledCircle, 10, grey);
            legendDot.LegendText = "share within position and rotation bound";
        }

        plot.Axes.SetLimits(X(min), X(max), -2, 102);
        plot.Axes.Bottom.TickGenerator = XTicks(log, min, max);
        var yTicks = new ScottPlot.TickGenerators.NumericManual();
        for (int pct = 0; pct <= 100; pct += 10) yTicks.AddMajor(pct, pct.ToString(CultureInfo.InvariantCulture) + " %");
        plot.Axes.Left.TickGenerator = yTicks;
        int queries = runs.Count == 0 ? 0 : runs.Max(r => r.Result.Queries.Count);
        plot.Title($"{s.Title} ({queries} queries)", 16);
        plot.XLabel(log ? "position error (log scale)" : "position error", 13);
        plot.YLabel("queries localized within the error", 13);
        // Lower right is where a rising curve is not; a run that stays low is there, and upper left is free.
        if (runs.Count > 0) plot.ShowLegend(runs.Max(r => r.Result.Queries.Count == 0 ? 0 : Curve(r.Result, min, max).Percent.Max()) < 60 ? Alignment.UpperLeft : Alignment.LowerRight);
        return plot;
    }

    /// <summary>A step curve (percent): the share rises by 1/N at each query's error; errors left
    /// of the axis are already counted at its left end, those right of it (and missing queries) never.</summary>
    internal static (double[] Metres, double[] Percent) Curve(PoseEvaluationResult result, double min, double max)
    {
        int n = result.Queries.Count;
        if (n == 0) return (new[] { Math.Max(min, 1e-12), max }, new[] { 0.0, 0.0 });
        var errors = result.Queries.Select(q => q.PositionMetres).Where(double.IsFinite).OrderBy(e => e).ToArray();
        int count = errors.Count(e => e <= min);
        var xs = new List<double> { min > 0 ? min : 0 };
        var ys = new List<double> { 100.0 * count / n };
        foreach (var e in errors.Where(e => e > min && e <= max))
        {
            count++;
            xs.Add(e);
            ys.Add(100.0 * count / n);
        }
        xs.Add(max);
        ys.Add(100.0 * count / n);
        return (xs.ToArray(), ys.ToArray());
    }

    /// <summary>Labelled decades with unlabelled 2–9 minor ticks on a log axis, round steps on a linear one.</summary>
    private static ScottPlot.TickGenerators.NumericManual XTicks(bool log, double min, double max)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        if (log)
        {
            for (int e = (int)Math.Floor(Math.Log10(min)); e <= (int)Math.Ceiling(Math.Log10(max)); e++)
                for (int k = 1; k <= 9; k++)
                {
                    double v = k * Math.Pow(10, e);
                    if (v < min * (1 - 1e-9) || v > max * (1 + 1e-9)) continue;
                    if (k == 1) ticks.AddMajor(Math.Log10(v), Metres(v));
                    else ticks.AddMinor(Math.Log10(v));
                }
        }
        else
        {
            double step = NiceNumbers.AtLeast(max / 10);
            for (int i = 0; i * step <= max * (1 + 1e-9); i++) ticks.AddMajor(i * step, Metres(i * step));
        }
        return ticks;
    }

    /// <summary>"1 cm", "10 cm", "1 m", "2.5 m": centimetres below a metre read better on a log axis.</summary>
    internal static string Metres(double v) =>
        v > 0 && v < 1 ? (v * 100).ToString("0.##", CultureInfo.InvariantCulture) + " cm" : v.ToString("0.##", CultureInfo.InvariantCulture) + " m";
}
