using R2D2.Localization.Evaluation;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Pipeline;

/// <summary>The files of a `localize query` run to report (see <see cref="ReportRunner"/>).</summary>
public sealed record ReportRunOptions
{
    public required string MapPath { get; init; }
    /// <summary>The submission; its CSV, inliers, matches and run description are read from beside it.</summary>
    public required string PosesPath { get; init; }
    public string? TruthPath { get; init; }
    /// <summary>The folder the query names are relative to, for the query pictures.</summary>
    public string? QueryImages { get; init; }
    /// <summary>The map's photos (default: the folder build-map recorded).</summary>
    public string? MapImages { get; init; }
    public string? Title { get; init; }
    /// <summary>The HTML file (self-contained); its name must end in .html or .htm.</summary>
    public required string OutputPath { get; init; }
    public int MaxPictureCards { get; init; } = new ReportOptions().MaxPictureCards;
}

/// <summary>What a report holds and its size.</summary>
public sealed record ReportRunResult(string Path, int Queries, int MapPoints, long Bytes);

/// <summary>
/// The report stage: a run's files read (<see cref="HtmlReport.Load"/>: what they lack is said on
/// <see cref="IProgressSink.Warning"/>) and its HTML page written as it is rendered, a "query cards"
/// stage step per card. The output is checked first: an .html name (the report reads photos, and
/// no photo is named so) that is none of the run's files.
/// </summary>
public static class ReportRunner
{
    public static ReportRunResult Run(ReportRunOptions o, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        var path = o.OutputPath;
        OutputFile.RefuseInputs(new[] { ("report", (string?)path) }, HtmlReport.InputsOf(o.MapPath, o.PosesPath, o.TruthPath));
        if (!(path.EndsWith(".html", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".htm", StringComparison.OrdinalIgnoreCase)))
            throw new UsageException($"--output {path}: the report is an HTML file: give a name ending in .html (nothing was written)");
        OutputFile.RefuseAsOutputFiles(new[] { ("report", (string?)path) });
        var data = HtmlReport.Load(o.MapPath, o.PosesPath, o.TruthPath, o.QueryImages, o.MapImages, o.Title);
        foreach (var w in data.Warnings) progress.Warning(w);
        data = data with { Options = data.Options with { MaxPictureCards = o.MaxPictureCards } };
        progress.Stage("query cards", data.Queries.Count, advance => HtmlReport.Write(path, data, (i, _) => advance(data.Queries[i].Name)));
        return new ReportRunResult(path, data.Queries.Count, data.Points.Count, new FileInfo(path).Length);
    }
}
