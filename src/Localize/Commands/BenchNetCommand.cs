using System.CommandLine;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>
/// `localize bench-net`: the network's FLOP efficiency (<see cref="NetworkBenchRunner"/>), written
/// as JSON; the FLOP half of tools/bench/extract.
/// </summary>
internal static class BenchNetCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "checkpoint", DefaultValueFactory = _ => "default" };
        var images = new Option<string[]>("--images") { Description = "images whose pyramids are counted (and timed by --compare)", Required = true, AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores)", DefaultValueFactory = _ => 0 }.Between(0, 1024);
        var sgemm = new Option<int>("--sgemm") { Description = "side of the sgemm measuring the CPU's peak (0: skip)", DefaultValueFactory = _ => 4096 }.AtLeast(0);
        var profile = new Option<int>("--profile-rounds") { Description = "forward passes per profiled size (0: no per-layer profile)", DefaultValueFactory = _ => 2 }.AtLeast(0);
        var compare = new Option<string[]>("--compare")
        {
            Description = "network variants to time against each other in interleaved rounds: " + string.Join(", ", NetworkBenchRunner.Variants.Keys),
            AllowMultipleArgumentsPerToken = true,
        };
        var rounds = new Option<int>("--rounds") { Description = "timed rounds of --compare (0: only its per-layer profile)", DefaultValueFactory = _ => 3 }.AtLeast(0);
        var json = new Option<string>("--json") { Description = "output JSON file (none: the table only)" };
        var ex = new ExtractionOptionSet();
        var cmd = new Command("bench-net", "Benchmark: sgemm peak, pyramid FLOPs, per-layer profile, variant A/B (JSON).");
        foreach (var o in new Option[] { model, images, threads, sgemm, profile, compare, rounds, json }) cmd.Options.Add(o);
        ex.AddTo(cmd);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            Features.TorchRuntime.SetThreads(r.GetValue(threads));
            NetworkBenchRunner.Run(new NetworkBenchOptions
            {
                Model = r.GetValue(model)!, Images = r.GetValue(images)!, Extraction = ex.Get(r),
                SgemmSize = r.GetValue(sgemm), ProfileRounds = r.GetValue(profile),
                Compare = r.GetValue(compare) ?? Array.Empty<string>(), Rounds = r.GetValue(rounds), JsonPath = r.GetValue(json),
            }, new ConsoleProgress("bench-net"));
            return 0;
        }));
        return cmd;
    }
}
