using R2D2.Localization.Formats;

namespace R2D2.Localization.Evaluation;

/// <summary>Estimated poses in submission files against a ground-truth file, as
/// visuallocalization.net scores them: one <see cref="EvaluatedRun"/> per file, labelled by its name.</summary>
public static class PoseFilesEvaluation
{
    /// <param name="info">Gets a line about the ground truth and one per poses file (poses read, missing).</param>
    /// <param name="warning">Gets a line per poses file that names images not in the ground truth.</param>
    public static List<EvaluatedRun> Run(string truthPath, IReadOnlyList<string> posePaths, Action<string>? info = null, Action<string>? warning = null)
    {
        var gt = Submission.Read(truthPath);
        if (gt.Count == 0) throw new Formats.FileFormatException(truthPath, 0, "no poses in the ground truth");
        var labels = Labels(posePaths);
        var runs = new List<EvaluatedRun>();
        info?.Invoke($"ground truth: {truthPath}, {gt.Count} queries");
        for (int i = 0; i < posePaths.Count; i++)
        {
            var estimates = Submission.Read(posePaths[i]);
            var result = PoseEvaluation.Evaluate(estimates, gt);
            runs.Add(new EvaluatedRun(labels[i], result));
            info?.Invoke($"{labels[i]}: {posePaths[i]}, {estimates.Count} poses; {result.LocalizedCount} of the {gt.Count} queries have one, "
                + $"{result.MissingCount} missing (counted as failures)");
            if (result.Unmatched.Count > 0)
                warning?.Invoke($"{posePaths[i]}: {result.Unmatched.Count} pose(s) for images not in the ground truth, ignored "
                    + $"(e.g. '{result.Unmatched[0]}'; names must match exactly, submissions use base names)");
        }
        return runs;
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
