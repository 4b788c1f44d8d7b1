using System.CommandLine;
using System.Text.Json;
using R2D2.Localization.Geometry;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize bench-pnp`: PnP-RANSAC time on synthetic matches, ours against OpenCV's solvePnPRansac (P3P) in the same run.</summary>
internal static class BenchPnpCommand
{
    public static Command Create()
    {
        var d = new PnpBenchOptions();
        var matches = new Option<int>("--matches") { Description = "2D–3D matches per query (≥ 4)", DefaultValueFactory = _ => d.Matches }.AtLeast(4);
        var outliers = new Option<double>("--outliers") { Description = "share of wrong matches, in [0, 1)", DefaultValueFactory = _ => d.Outliers }.Between(0, 0.999);
        var queries = new Option<int>("--queries") { Description = "synthetic queries", DefaultValueFactory = _ => d.Queries }.AtLeast(1);
        var threshold = new Option<double>("--threshold") { Description = "inlier threshold (px) of both solvers", DefaultValueFactory = _ => new PnpOptions().ThresholdPx }.Above(0);
        var cmd = new Command("bench-pnp", "Benchmark: PnP-RANSAC on synthetic 2D–3D matches (±0.5 px noise), ours vs OpenCV (JSON on stdout).");
        foreach (var o in new Option[] { matches, outliers, queries, threshold }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var o = new PnpBenchOptions { Matches = r.GetValue(matches), Outliers = r.GetValue(outliers), Queries = r.GetValue(queries), ThresholdPx = r.GetValue(threshold) };
            var x = PnpBenchRunner.Run(o);
            // A median error is null where half the queries or more have no pose (JSON has no infinity).
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["matches"] = o.Matches, ["outliers"] = o.Outliers, ["queries"] = o.Queries, ["threshold_px"] = o.ThresholdPx,
                ["ours_median_ms"] = x.OursMedianMs, ["opencv_median_ms"] = x.OpenCvMedianMs,
                ["ours_median_position_error_m"] = x.OursMedianErrorMetres, ["opencv_median_position_error_m"] = x.OpenCvMedianErrorMetres,
                ["ours_no_pose"] = x.OursNoPose, ["opencv_no_pose"] = x.OpenCvNoPose,
            }));
            return 0;
        }));
        return cmd;
    }
}
