using System.Globalization;
using System.Text;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Evaluation;

/// <summary>Estimated poses in submission files against a ground-truth file, as
/// visuallocalization.net scores them: one <see cref="EvaluatedRun"/> per file, labelled by its name
/// or by the label given; and each run's errors query by query as CSV (<see cref="WriteErrorsCsv"/>).</summary>
public static class PoseFilesEvaluation
{
    /// <param name="labels">One label per poses file, or null: each file's name (<see cref="Labels"/>).</param>
    /// <param name="info">Gets a line about the ground truth and one per poses file (poses read, missing).</param>
    /// <param name="warning">Gets a line per poses file that names images not in the ground truth, and one per file with quaternions off unit length.</param>
    public static List<EvaluatedRun> Run(string truthPath, IReadOnlyList<string> posePaths, Action<string>? info = null, Action<string>? warning = null,
        IReadOnlyList<string>? labels = null)
    {
        if (labels != null && labels.Count != posePaths.Count)
            throw new UsageException($"{Counted.Of(labels.Count, "label")} for {Counted.Of(posePaths.Count, "poses file")}: give one --label per --poses file, in the same order");
        if (labels != null && labels.FirstOrDefault(l => string.IsNullOrWhiteSpace(l) || l.Any(char.IsControl)) is { } bad)
            throw new UsageException($"label '{bad}' is empty or holds a control character");
        // Two rows of one name could not be told apart in the table, the plot or the CSV.
        if (labels != null && labels.GroupBy(l => l).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new UsageException($"label '{twice.Key}' is given {twice.Count()} times: one label per poses file, each its own");
        var gt = Submission.Read(truthPath, warning);
        if (gt.Count == 0) throw new Formats.FileFormatException(truthPath, 0, "no poses in the ground truth");
        labels ??= Labels(posePaths);
        var runs = new List<EvaluatedRun>();
        info?.Invoke($"ground truth: {truthPath}, {gt.Count} queries");
        for (int i = 0; i < posePaths.Count; i++)
        {
            var estimates = Submission.Read(posePaths[i], warning);
            var result = PoseEvaluation.Evaluate(estimates, gt);
            runs.Add(new EvaluatedRun(labels[i], result));
            info?.Invoke($"{labels[i]}: {posePaths[i]}, {estimates.Count} poses; {result.LocalizedCount} of the {gt.Count} queries have one, "
                + $"{result.MissingCount} missing (counted as failures)");
            if (estimates.Count == 0)
                warning?.Invoke($"{posePaths[i]}: holds no poses, so every query counts as a failure (a run that localized none, or another file?)");
            if (result.Unmatched.Count > 0)
                warning?.Invoke($"{posePaths[i]}: {Counted.Of(result.Unmatched.Count, "pose")} for images not in the ground truth, ignored "
                    + $"(e.g. '{result.Unmatched[0]}'; names must match exactly, submissions use base names)");
        }
        return runs;
    }

    /// <summary>The per-query errors of a run beside its poses file: <c>poses.txt</c> → <c>poses.errors.csv</c>.</summary>
    public static string ErrorsCsvPathFor(string posesPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(posesPath))!, Path.GetFileNameWithoutExtension(posesPath) + ".errors.csv");

    /// <summary>One row per ground-truth query, in its order: name, whether the run has a pose,
    /// the position error (m) and rotation error (°) (empty for a missing query), and per threshold
    /// 1 when within both bounds, else 0. Written atomically.</summary>
    public static void WriteErrorsCsv(string path, EvaluatedRun run, IEnumerable<PoseThreshold> thresholds)
    {
        var inv = CultureInfo.InvariantCulture;
        var ts = thresholds.Distinct().ToList();
        var sb = new StringBuilder();
        sb.Append("name,run,has_pose,position_error_m,rotation_error_deg");
        foreach (var t in ts) sb.Append(",within_").Append(t.PositionMetres.ToString("0.###", inv)).Append("m_").Append(t.RotationDegrees.ToString("0.###", inv)).Append("deg");
        sb.Append('\n');
        foreach (var q in run.Result.Queries)
        {
            sb.Append(Csv.Field(q.Name)).Append(',').Append(Csv.Field(run.Label)).Append(',').Append(q.Missing ? "0" : "1").Append(',');
            if (!q.Missing) sb.Append(q.PositionMetres.ToString("R", inv)).Append(',').Append(q.RotationDegrees.ToString("R", inv));
            else sb.Append(',');
            foreach (var t in ts) sb.Append(',').Append(q.Within(t) ? '1' : '0');
            sb.Append('\n');
        }
        OutputFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>Each poses file's name without extension; the parent folder is added when two
    /// files share a name (run1/poses.txt, run2/poses.txt).</summary>
    public static string[] Labels(IReadOnlyList<string> paths)
    {
        var stems = paths.Select(Path.GetFileNameWithoutExtension).ToArray();
        return paths.Select((p, i) => stems.Count(s => s == stems[i]) > 1
            ? $"{Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(p)))}/{stems[i]}"
            : stems[i]!).ToArray();
    }
}
