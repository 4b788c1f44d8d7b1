using System.CommandLine;
using R2D2.Localization.Evaluation;
using R2D2.Localization;
using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize report`: the HTML report of a run of `localize query` (what `localize demo` writes for its own run).</summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        var map = new Option<string>("--map") { Description = "the map database the queries were localized against", Required = true };
        var poses = new Option<string>("--poses") { Description = "the submission `localize query` wrote (its .csv, .inliers.txt, .matches.txt and .run.json are read from beside it)", Required = true };
        var truth = new Option<string?>("--ground-truth") { Description = "true poses (submission format): errors, thresholds table and error plot" };
        var queryImages = new Option<string?>("--query-images") { Description = "folder the query names are relative to (the query's --images), for the query pictures" };
        var mapImages = new Option<string?>("--map-images") { Description = "folder of the map's images (default: the one build-map recorded)" };
        var output = new Option<string>("--output") { Description = "the HTML file (self-contained: images inline)", DefaultValueFactory = _ => "report.html" };
        var title = new Option<string?>("--title") { Description = "the page's title" };
        var maxPictures = new Option<int>("--max-pictures") { Description = "query cards with pictures, those not localized or outside (0.25 m, 2°) first (the others' cards are text)",
            DefaultValueFactory = _ => new ReportOptions().MaxPictureCards }.AtLeast(0);
        var cmd = new Command("report", "Write a self-contained HTML report of a localization run: thresholds, error plot, the map from above "
            + "with true and estimated positions, each query with its inliers and its matched database image.");
        foreach (var o in new Option[] { map, poses, truth, queryImages, mapImages, output, title, maxPictures }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var path = r.GetValue(output)!;
            OutputFile.RefuseInputs(new[] { ("report", (string?)path) }, HtmlReport.InputsOf(r.GetValue(map)!, r.GetValue(poses)!, r.GetValue(truth)));
            // The report reads query and map photos: an .html name keeps it off every one of them.
            if (!(path.EndsWith(".html", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".htm", StringComparison.OrdinalIgnoreCase)))
                throw new UsageException($"--output {path}: the report is an HTML file: give a name ending in .html (nothing was written)");
            OutputFile.RefuseAsOutputFiles(new[] { ("report", (string?)path) });
            var data = HtmlReport.Load(r.GetValue(map)!, r.GetValue(poses)!, r.GetValue(truth), r.GetValue(queryImages), r.GetValue(mapImages), r.GetValue(title));
            foreach (var w in data.Warnings) Console.Error.WriteLine($"report: warning: {w}");
            data = data with { Options = data.Options with { MaxPictureCards = r.GetValue(maxPictures) } };
            new ConsoleProgress("report").Stage("query cards", data.Queries.Count, advance => HtmlReport.Write(path, data, (i, _) => advance(data.Queries[i].Name)));
            Console.WriteLine($"report: {path} ({Counted.Of(data.Queries.Count, "query", "queries")}, {Counted.Of(data.Points.Count, "map point")}, {new FileInfo(path).Length / 1024} KiB)");
            return 0;
        }));
        return cmd;
    }
}
