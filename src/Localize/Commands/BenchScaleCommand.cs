using System.CommandLine;
using R2D2.Localization.Localization;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Synthesis;

namespace R2D2.Localization.Cli.Commands;

/// <summary>
/// `localize bench-scale`: one stage of the scale benchmark (tools/bench/scale/run runs each in its
/// own process, so each stage's peak RSS is its own) on a synthetic street of any size, printing
/// one TSV row per measured step; `--report` prints the table of collected rows and draws the plot.
/// </summary>
internal static class BenchScaleCommand
{
    public static Command Create()
    {
        var stage = new Option<string?>("--stage") { Description = "the stage to run (required unless --report)" }
            .AcceptOnlyFromAmong(Enum.GetNames<ScaleStage>().Select(n => n.ToLowerInvariant()).ToArray());
        var database = new Option<string?>("--database") { Description = "the benchmark's database (features: created anew; required unless --report)" };
        var images = new Option<int>("--images") { Description = "database images of the synthetic street", DefaultValueFactory = _ => 1000 }.AtLeast(2);
        var keypoints = new Option<int>("--keypoints") { Description = "keypoints per image", DefaultValueFactory = _ => 20_000 }.AtLeast(10);
        var pairsPerImage = new Option<int>("--pairs-per-image") { Description = "pairs from poses per image", DefaultValueFactory = _ => 20 }.AtLeast(1);
        var maxPairs = new Option<int>("--max-pairs") { Description = "match and verify only the first N pairs (0: all)", DefaultValueFactory = _ => 0 }.AtLeast(0);
        var queries = new Option<int>("--queries") { Description = "queries of the query stage", DefaultValueFactory = _ => 20 }.AtLeast(1);
        var seed = new Option<ulong>("--seed") { Description = "seed of the synthetic street", DefaultValueFactory = _ => 0 };
        var report = new Option<string?>("--report") { Description = "TSV of collected rows: print the table (and --plot PNG)" };
        var plot = new Option<string?>("--plot") { Description = "with --report: the plot of time and memory per stage against images (PNG)" };
        var pose = new QueryCommand.PoseOptions("as query's (default: the localizer's)");
        var hardware = new DeviceOptionSet("cpu");
        var cmd = new Command("bench-scale", "Benchmark: map and query stages at Aachen scale on synthetic features (one stage per run).");
        foreach (var o in new Option[] { stage, database, images, keypoints, pairsPerImage, maxPairs, queries, seed, report, plot }.Concat(pose.All)) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            if (r.GetValue(report) is { } tsv)
            {
                Console.Write(ScaleBenchRunner.Report(tsv, r.GetValue(plot)));
                return 0;
            }
            if (r.GetValue(stage) is not { } name || r.GetValue(database) is not { } db)
                throw new UsageException("bench-scale: --stage and --database are required (or --report)");
            var s = Enum.Parse<ScaleStage>(name, ignoreCase: true);
            var o = new ScaleBenchOptions
            {
                Database = db,
                Street = new SyntheticStreetOptions { Images = r.GetValue(images), Keypoints = r.GetValue(keypoints), Seed = r.GetValue(seed) },
                PairsPerImage = r.GetValue(pairsPerImage), MaxPairs = r.GetValue(maxPairs), Queries = r.GetValue(queries),
                Device = hardware.Resolve(r), Localizer = pose.Read(r),
            };
            // Rows prefixed so that the script finds them among the progress lines.
            foreach (var row in ScaleBenchRunner.Run(s, o, new ConsoleProgress("bench-scale"))) Console.WriteLine("bench-scale\t" + row.ToTsv());
            return 0;
        }));
        return cmd;
    }
}
