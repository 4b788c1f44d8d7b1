using System.CommandLine;
using System.Globalization;
using R2D2.Localization.Evaluation;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize strecha-loc`: the strecha-loc protocol end to end, one table per run: for each
/// model and scene the map-build runner, then the query-set runner by day and by night.</summary>
internal static class StrechaLocCommand
{
    public static Command Create()
    {
        var scenes = new Option<string[]>("--scenes") { Description = "Strecha scene folders (images/, night/, cameras/)", Required = true, AllowMultipleArgumentsPerToken = true };
        var models = new Option<string[]>("--model") { Description = "checkpoints and/or 'rootsift'", Required = true, AllowMultipleArgumentsPerToken = true };
        var work = new Option<string>("--work") { Description = "folder for the maps, SCENE/MODEL.db (reused when their images, poses and features are the same; other extraction settings get a map of their own)", DefaultValueFactory = _ => "out/strecha-loc" };
        var hardware = new DeviceOptionSet();
        var ex = new ExtractionOptionSet();
        var cmd = new Command("strecha-loc", "The strecha-loc protocol: map from even images with true poses, localize the odd ones by day and (simulated) night.");
        foreach (var o in new Option[] { scenes, models, work }) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        ex.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var result = StrechaLocRunner.Run(r.GetValue(scenes)!, r.GetValue(models)!,
                new StrechaLocOptions { WorkFolder = r.GetValue(work)!, Device = hardware.Resolve(r), Extraction = ex.Get(r) },
                new StrechaLocReport
                {
                    MapBuilt = BuildMapCommand.PrintSummary,
                    QueryLine = Console.WriteLine, // no bar: the lines are the protocol's log
                    Error = Reporter.Error,
                    Warning = Reporter.Warn,
                }, new ConsoleProgress("strecha-loc"));
            Print(result.Rows, result.Scenes);
            return result.HasErrors ? 1 : 0;
        }, onInterrupt: "run the same command again to continue: the maps in --work are kept"));
        return cmd;
    }

    private static void Print(IReadOnlyList<StrechaLocRow> rows, IReadOnlyList<string> scenes)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine();
        Console.WriteLine($"strecha-loc on {string.Join(", ", scenes)}: map = even images with true poses; queries = odd images (night: simulated)");
        var th = ThresholdSet.Aachen.Thresholds.Concat(new[] { StrechaLoc.Fine }).ToList();
        string header = $"{"condition",-19}{"features",-20}" + string.Concat(th.Select(t => $"{t,14}")) + $"{"median pos",12}{"median rot",12}{"med inliers",12}{"reproj@GT",11}";
        Console.WriteLine(header);
        Console.WriteLine(new string('-', header.Length));
        foreach (var row in rows.OrderBy(x => x.Condition).ThenBy(x => x.Model))
            Console.WriteLine($"{row.Condition,-19}{row.Model,-20}" + string.Concat(th.Select(t => $"{row.Result.ShareWithin(t).ToString("P0", inv),14}"))
                + $"{(row.Result.MedianPositionMetres * 100).ToString("F2", inv) + " cm",12}{(row.Result.MedianRotationRadians * 180 / Math.PI).ToString("F3", inv) + "°",12}"
                + $"{row.MedianInliers,12:F0}{row.MedianTrueReprojPx.ToString("F2", inv) + " px",11}");
        Console.WriteLine("reproj@GT: median reprojection error of the PnP-inlier map points under the queries' true poses (points checked against cameras the map never saw)");
    }
}
