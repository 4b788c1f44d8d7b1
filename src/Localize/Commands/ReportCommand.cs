using System.CommandLine;
using R2D2.Localization.Evaluation;
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
            var x = ReportRunner.Run(new ReportRunOptions
            {
                MapPath = r.GetValue(map)!, PosesPath = r.GetValue(poses)!, TruthPath = r.GetValue(truth), QueryImages = r.GetValue(queryImages),
                MapImages = r.GetValue(mapImages), Title = r.GetValue(title), OutputPath = r.GetValue(output)!, MaxPictureCards = r.GetValue(maxPictures),
            }, new ReportProgress());
            Console.WriteLine($"report: {x.Path} ({Counted.Of(x.Queries, "query", "queries")}, {Counted.Of(x.MapPoints, "map point")}, {x.Bytes / 1024} KiB)");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The report's warnings as `report: warning: …` on stderr (what the run's files lack).</summary>
    private sealed class ReportProgress() : ConsoleProgress("report")
    {
        public override void Warning(string message) => Console.Error.WriteLine($"report: warning: {message}");
    }
}
