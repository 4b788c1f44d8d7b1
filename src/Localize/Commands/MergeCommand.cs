using System.CommandLine;
using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize merge`: the shards' databases into one, or the shards' query outputs into one submission.</summary>
internal static class MergeCommand
{
    public static Command Create()
    {
        var databases = new Option<string[]>("--databases")
        {
            Description = "databases to merge: the shards of `build-map --stage extract|match --shard` (all of each stage), and a merged database they build on",
            AllowMultipleArgumentsPerToken = true,
        };
        var queries = new Option<string?>("--queries") { Description = "the query list the shards ran (`query --shard`): the merged outputs follow its order" };
        var outputs = new Option<string[]>("--outputs") { Description = "the shards' submissions (their .csv, .inliers.txt, .matches.txt and .run.json beside them; the merged ones are written likewise)", AllowMultipleArgumentsPerToken = true };
        var output = new Option<string>("--out") { Description = "the merged database, or the merged submission (with its .csv and .inliers.txt)", Required = true };
        var cmd = new Command("merge", "Merge the outputs of shards (--shard, e.g. a Slurm array job) into what one process writes: "
            + "databases (--databases) or query outputs in the list's order (--queries, --outputs). Atomic: a killed merge leaves --out as it was.");
        foreach (var o in new Option[] { databases, queries, outputs, output }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var dbs = r.GetValue(databases) ?? Array.Empty<string>();
            var outs = r.GetValue(outputs) ?? Array.Empty<string>();
            var outPath = r.GetValue(output)!;
            if ((dbs.Length > 0) == (outs.Length > 0 || r.GetValue(queries) != null))
                throw new UsageException("give --databases A.db B.db ..., or --queries LIST with --outputs A.txt B.txt ...");
            if (dbs.Length > 0)
            {
                var s = MergeRunner.Databases(dbs, outPath, new ConsoleProgress("merge", stageTimes: false));
                Console.WriteLine($"merge: {Counted.Of(dbs.Length, "database")} → {s.Merged}");
                return 0;
            }
            if (r.GetValue(queries) is not { } list) throw new UsageException("--outputs needs --queries LIST (the order of the merged outputs)");
            int n = MergeRunner.QueryOutputs(list, outs, outPath);
            Console.WriteLine($"merge: {n} queries from {Counted.Of(outs.Length, "output")} → {outPath} (+ .csv, .inliers.txt, .matches.txt, .run.json)");
            return 0;
        }));
        return cmd;
    }
}
