using System.CommandLine;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize extract`: features of many images, one file per image or into a database
/// (the library's <see cref="ExtractRunner"/>).</summary>
internal static class ExtractCommand
{
    private sealed class Options
    {
        public readonly NetworkOptionSet Net = new();
        public readonly ExtractionOptionSet Extraction = new();
        public readonly Option<string[]> Images = new("--images")
        {
            Description = "image files, folders (searched recursively) or .txt lists of image paths",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        public readonly Option<string?> OutDir = new("--out") { Description = "output folder for one feature file per image" };
        public readonly Option<string?> Database = new("--database") { Description = "feature database (SQLite, COLMAP-compatible) to store the features in; created if missing" };
        public readonly Option<string> Format = new("--format")
        {
            Description = "safetensors (this project's, pixel-centre coordinates) or r2d2 (the official .r2d2 npz)",
            DefaultValueFactory = _ => "safetensors",
        };
        public readonly Option<bool> Overwrite = new("--overwrite") { Description = "extract again even when an up-to-date output exists" };
        public readonly Option<string?> Stats = new("--stats") { Description = "write timing and memory statistics to this JSON file" };
        public readonly Option<int> Warmup = new Option<int>("--warmup") { Description = "untimed extra runs on the first image before timing (benchmarks)" }.AtLeast(0);
        public readonly ShardOption Shard = new();

        public void AddTo(Command cmd)
        {
            Format.AcceptOnlyFromAmong("safetensors", "r2d2");
            Net.AddTo(cmd); Extraction.AddTo(cmd);
            foreach (var o in new Option[] { Images, OutDir, Database, Format, Overwrite, Stats, Warmup }) cmd.Options.Add(o);
            Shard.AddTo(cmd);
        }
    }

    public static Command Create()
    {
        var o = new Options();
        var cmd = new Command("extract", "Extract R2D2 keypoints and descriptors, one feature file per image.");
        o.AddTo(cmd);
        // A .r2d2 file records no settings, so nothing tells a finished one from another run's: not resumed.
        cmd.SetAction(r => CommandErrors.Guard(() => Run(r, o), onInterrupt: r.GetValue(o.Format) == "r2d2"
            ? "a rerun extracts every image again: .r2d2 files record no settings to resume by (--format safetensors or --database resume)"
            : "run the same command again to continue: images already extracted are kept"));
        return cmd;
    }

    private static int Run(ParseResult r, Options o)
    {
        var settings = o.Extraction.Get(r);
        bool database = r.GetValue(o.Database) != null;
        // These shape feature files only: with a database they were ignored without a word.
        if (database && new Option[] { o.Format, o.Overwrite, o.Stats, o.Warmup }.FirstOrDefault(x => r.GetResult(x) is { Implicit: false }) is { } fileOnly)
            throw new UsageException($"{fileOnly.Name} is for feature files (--out DIR); a database keeps what it stores and is resumed instead");
        var job = new ExtractJob
        {
            Images = r.GetValue(o.Images)!, Database = r.GetValue(o.Database), Shard = o.Shard.Get(r),
            Files = r.GetValue(o.OutDir) is { } outDir ? new ExtractOptions
            {
                OutputDir = outDir, Format = r.GetValue(o.Format) == "r2d2" ? FeatureFileFormat.R2d2 : FeatureFileFormat.Safetensors,
                Overwrite = r.GetValue(o.Overwrite), StatsPath = r.GetValue(o.Stats), Warmup = r.GetValue(o.Warmup),
            } : null,
        };
        // A line per image: a status per image in a database, each feature file's line.
        IProgressSink progress = database ? new ConsoleProgress("extract", logEvery: 1, stageTimes: false) : new ConsoleItemProgress("extract");
        var summary = ExtractRunner.Run(job, o.Net.Spec(r, settings, o.Extraction), progress);
        return summary.HasErrors ? 1 : 0;
    }
}
