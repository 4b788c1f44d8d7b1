using System.Globalization;
using System.Text;

namespace R2D2.Localization.Evaluation;

/// <summary>One set of estimated poses under evaluation, with the label tables and plots show.</summary>
public sealed record EvaluatedRun(string Label, PoseEvaluationResult Result);

/// <summary>Plain-text tables of pose evaluations, columns aligned, one row per run.</summary>
public static class PoseEvaluationTable
{
    /// <summary>The share of queries within each threshold of the set, in percent with one
    /// decimal as visuallocalization.net prints it; missing queries count as failures.</summary>
    public static string Thresholds(ThresholdSet set, IReadOnlyList<EvaluatedRun> runs)
    {
        var header = new[] { set.Name }.Concat(set.Thresholds.Select(t => t.ToString())).ToArray();
        var rows = runs.Select(r => new[] { r.Label }
            .Concat(set.Thresholds.Select(t => Invariant($"{100 * r.Result.ShareWithin(t):F1}%"))).ToArray());
        return Align(header, rows);
    }

    /// <summary>Counts ("posed": queries with a pose in the run, fallbacks included: a submission does
    /// not say which poses are fallbacks) and median errors. The medians are over every ground-truth query with the
    /// missing ones counted as infinitely wrong (consistent with the threshold shares), so they read
    /// "inf" once half the queries or more are missing.</summary>
    public static string Summary(IReadOnlyList<EvaluatedRun> runs)
    {
        var header = new[] { "run", "queries", "posed", "missing", "median position", "median rotation" };
        var rows = runs.Select(r => new[]
        {
            r.Label,
            r.Result.Queries.Count.ToString(CultureInfo.InvariantCulture),
            r.Result.LocalizedCount.ToString(CultureInfo.InvariantCulture),
            r.Result.MissingCount.ToString(CultureInfo.InvariantCulture),
            Error(r.Result.MedianPositionMetres, "F3", " m"),
            Error(r.Result.MedianRotationRadians * 180 / Math.PI, "F3", "°"),
        });
        return Align(header, rows);
    }

    private static string Error(double v, string format, string unit) =>
        double.IsPositiveInfinity(v) ? "inf" : double.IsNaN(v) ? "-" : v.ToString(format, CultureInfo.InvariantCulture) + unit;

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>The first column left-aligned (labels), the others right-aligned (numbers), two
    /// spaces between columns, a rule under the header.</summary>
    internal static string Align(string[] header, IEnumerable<string[]> rows)
    {
        var all = new List<string[]> { header };
        all.AddRange(rows);
        var widths = Enumerable.Range(0, header.Length).Select(c => all.Max(r => r[c].Length)).ToArray();
        var sb = new StringBuilder();
        for (int i = 0; i < all.Count; i++)
        {
            var cells = all[i].Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]));
            sb.Append(string.Join("  ", cells).TrimEnd()).Append('\n');
            if (i == 0) sb.Append(new string('-', widths.Sum() + 2 * (widths.Length - 1))).Append('\n');
        }
        return sb.ToString();
    }
}
