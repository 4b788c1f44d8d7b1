using System.CommandLine;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>
/// `localize bench-map`: the map stages (match, verify, triangulate, store) at scale on the scale
/// benchmark's synthetic street (<see cref="MapBenchRunner"/>) — cameras along a street looking at
/// its facades, each keypoint the noisy projection of a facade point with that point's noisy
/// descriptor, plus clutter — reporting seconds per image per stage, peak memory and database size.
/// </summary>
internal static class BenchMapCommand
{
    public static Command Create()
    {
        var images = new Option<int>("--images") { Description = "synthetic posed images", DefaultValueFactory = _ => 1000 }.AtLeast(2);
        var keypoints = new Option<int>("--keypoints") { Description = "keypoints per image", DefaultValueFactory = _ => 5000 }.AtLeast(10);
        var pairsPerImage = new Option<int>("--pairs-per-image") { Description = "pairs per image", DefaultValueFactory = _ => 20 }.AtLeast(1);
        var work = new Option<string>("--work") { Description = "folder of the benchmark's database", DefaultValueFactory = _ => Path.Combine(Path.GetTempPath(), "r2d2-bench-map") };
        var hardware = new DeviceOptionSet("cpu");
        var cmd = new Command("bench-map", "Benchmark: map stages on synthetic posed images and features (peak memory, seconds per image).");
        foreach (var o in new Option[] { images, keypoints, pairsPerImage, work }) cmd.Options.Add(o);
        hardware.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            int n = r.GetValue(images), k = r.GetValue(keypoints), perImage = r.GetValue(pairsPerImage);
            var o = new MapBenchOptions
            {
                Database = Path.Combine(r.GetValue(work)!, $"synthetic-{n}x{k}.db"), Street = MapBenchRunner.Street(n, k), PairsPerImage = perImage,
                Device = hardware.Resolve(r),
            };
            var result = MapBenchRunner.Run(o, new ConsoleProgress("bench-map"));
            var st = result.Stats;
            Console.WriteLine();
            Console.WriteLine($"machine : {MachineLine.Describe()}");
            Console.WriteLine($"settings: {n} images × {k} keypoints, {result.Pairs} pairs ({perImage} per image)");
            Console.WriteLine($"{"stage",-26}{"seconds",10}{"s / image",12}");
            foreach (var (stage, s) in result.Seconds) Console.WriteLine($"{stage,-26}{s,10:F1}{s / n,12:F4}");
            Console.WriteLine($"map: {st.Points} points, mean track length {st.MeanTrackLength:F2}, mean reprojection error {st.MeanReprojectionErrorPx:F2} px");
            Console.WriteLine($"peak RSS of the map stages {result.PeakRssMb:F0} MB; database {result.DatabaseBytes / 1e6:F0} MB ({result.DatabaseBytes / (double)n / 1e6:F2} MB per image)");
            return 0;
        }));
        return cmd;
    }
}
