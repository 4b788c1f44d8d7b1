using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Pipeline;

/// <summary>A scoring of poses files against one ground truth (`localize evaluate`).</summary>
public sealed record PoseEvaluationOptions
{
    public required string TruthPath { get; init; }
    /// <summary>The runs' submissions, one run each.</summary>
    public required IReadOnlyList<string> PosePaths { get; init; }
    /// <summary>The runs' names in the tables (null: from the files).</summary>
    public IReadOnlyList<string>? Labels { get; init; }
    /// <summary>Thresholds beyond Aachen's, in their own table, CSV columns and plot markers.</summary>
    public IReadOnlyList<PoseThreshold> Extra { get; init; } = Array.Empty<PoseThreshold>();
    /// <summary>The cumulative error plot (.png or .svg); null: &lt;first poses file&gt;.errors.png beside it, unless <see cref="NoPlot"/>.</summary>
    public string? PlotPath { get; init; }
    public bool NoPlot { get; init; }
    /// <summary>No per-query CSV (default: &lt;poses file&gt;.errors.csv beside each).</summary>
    public bool NoCsv { get; init; }
    public ErrorScale Scale { get; init; } = ErrorScale.Log;
}

/// <summary>The runs scored, and the files written: a per-query CSV per run (none with NoCsv) and the plot (null: none).</summary>
public sealed record PoseEvaluationRun(IReadOnlyList<EvaluatedRun> Runs, ThresholdSet Extra, IReadOnlyList<string> CsvPaths, string? PlotPath);

/// <summary>
/// The evaluate stage: each poses file scored against the ground truth
/// (<see cref="PoseFilesEvaluation"/>: missing queries count as failures), its errors query by query
/// written as CSV, and the runs' cumulative errors plotted. The outputs are checked first: none may
/// be an input, and two runs' CSVs may not be one file.
/// </summary>
public static class PoseEvaluationRunner
{
    /// <param name="scored">told the scored runs and the extra thresholds before the files are written
    /// (the command prints its tables there: a write that fails leaves them said)</param>
    public static PoseEvaluationRun Run(PoseEvaluationOptions o, IProgressSink? progress = null, Action<IReadOnlyList<EvaluatedRun>, ThresholdSet>? scored = null)
    {
        progress ??= ProgressSink.None;
        var extra = new ThresholdSet("extra", o.Extra.ToList());
        if (o.Extra.GroupBy(t => t).FirstOrDefault(g => g.Count() > 1) is { } again)
            throw new UsageException($"--extra-threshold: {again.Key} is given twice");
        if (o.PosePaths.GroupBy(Path.GetFullPath).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new UsageException($"--poses: {twice.First()} is given {twice.Count()} times (each file is one run: its rows, its curve, its per-query CSV)");
        var plotPath = o.NoPlot ? null : o.PlotPath ?? DefaultPlotPath(o.PosePaths[0]);
        var csvPaths = o.NoCsv ? Array.Empty<string>() : o.PosePaths.Select(PoseFilesEvaluation.ErrorsCsvPathFor).ToArray();
        if (plotPath != null && !ErrorPlot.IsPlotPath(plotPath))
            throw new UsageException($"--plot {plotPath}: a plot is written there, so the name must end in .png or .svg");
        // Each CSV named with its poses file: two poses files may share one (a.txt and a.csv: a.errors.csv).
        var outputs = csvPaths.Select((p, i) => ($"per-query CSV of {o.PosePaths[i]}", (string?)p)).Append(("plot", plotPath)).ToList();
        OutputFile.RefuseInputs(outputs, o.PosePaths.Select(p => ("poses", (string?)p)).Append(("ground truth", o.TruthPath)));
        OutputFile.RefuseAsOutputFiles(outputs);

        var runs = PoseFilesEvaluation.Run(o.TruthPath, o.PosePaths, progress.Info, progress.Warning, o.Labels);
        scored?.Invoke(runs, extra);
        var thresholds = ThresholdSet.Aachen.Thresholds.Concat(ThresholdSet.AachenV1_0.Thresholds).Concat(extra.Thresholds).ToList();
        for (int i = 0; i < csvPaths.Length; i++) PoseFilesEvaluation.WriteErrorsCsv(csvPaths[i], runs[i], thresholds);
        if (plotPath != null)
            ErrorPlot.Write(plotPath, runs, new ErrorPlotSettings { Scale = o.Scale, Markers = ThresholdSet.Aachen.Thresholds.Concat(extra.Thresholds).ToList() });
        return new PoseEvaluationRun(runs, extra, csvPaths, plotPath);
    }

    private static string DefaultPlotPath(string posesPath) =>
        Path.Combine(Path.GetDirectoryName(Path.GetFullPath(posesPath))!, Path.GetFileNameWithoutExtension(posesPath) + ".errors.png");
}
