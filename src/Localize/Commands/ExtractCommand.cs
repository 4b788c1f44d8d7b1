using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize extract`: features of many images, one file per image.</summary>
internal static class ExtractCommand
{
    public static Command Create()
    {
        var net = new NetworkOptionSet();
        var ex = new ExtractionOptionSet();
        var images = new Option<string[]>("--images")
        {
            Description = "image files, folders (searched recursively) or .txt lists of image paths",
            Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var outDir = new Option<string?>("--out") { Description = "output folder for one feature file per image" };
        var database = new Option<string?>("--database") { Description = "feature database (SQLite, COLMAP-compatible) to store the features in; created if missing" };
        var format = new Option<string>("--format")
        {
            Description = "safetensors (this project's, pixel-centre coordinates) or r2d2 (the official .r2d2 npz)",
            DefaultValueFactory = _ => "safetensors",
        };
        format.AcceptOnlyFromAmong("safetensors", "r2d2");
        var overwrite = new Option<bool>("--overwrite") { Description = "extract again even when an up-to-date output exists" };
        var stats = new Option<string?>("--stats") { Description = "write timing and memory statistics to this JSON file" };
        var warmup = new Option<int>("--warmup") { Description = "untimed extra runs on the first image before timing (benchmarks)" }.AtLeast(0);

        var cmd = new Command("extract", "Extract R2D2 keypoints and descriptors, one feature file per image.");
        net.AddTo(cmd); ex.AddTo(cmd);
        foreach (var o in new Option[] { images, outDir, database, format, overwrite, stats, warmup }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var settings = ex.Get(r);
            var inputs = ImageList.Resolve(r.GetValue(images)!);
            if (inputs.Count == 0) throw new ArgumentException("no images found in --images");
            OutputFile.RefuseInputs(new[] { ("feature database", r.GetValue(database)), ("statistics file", r.GetValue(stats)) },
                inputs.Select(i => ("image", (string?)i.Path)));
            if (r.GetValue(database) is { } dbPath)
            {
                if (r.GetValue(outDir) != null) throw new ArgumentException("give --out or --database, not both");
                return ExtractIntoDatabase(r, net, settings, inputs, dbPath);
            }
            if (r.GetValue(outDir) == null) throw new ArgumentException("give --out DIR (feature files) or --database DB (feature database)");
            if (net.IsRootSift(r)) throw new ArgumentException("RootSIFT features go into a database (--database); feature files are for R2D2");
            var fmt = r.GetValue(format) == "r2d2" ? FeatureFileFormat.R2d2 : FeatureFileFormat.Safetensors;
            var modelPath = r.GetValue(net.Model)!;
            using var network = net.Load(r);
            var extractor = new MultiScaleExtractor(network, settings);
            var job = new FeatureExtraction(extractor, ModelLoader.ModelName(modelPath));
            var output = r.GetValue(outDir)!;
            Directory.CreateDirectory(output);

            for (int i = 0; i < r.GetValue(warmup); i++)
            {
                try { extractor.ExtractFile(inputs[0].Path); } catch (Exception e) when (e is ImageFileException or ImageTooSmallException) { }
            }

            Console.WriteLine($"extract: {inputs.Count} image(s), model {ModelLoader.ModelName(modelPath)} ({network.Architecture.Net}) on {network.Device}, "
                + $"{TorchSharp.torch.get_num_threads()} thread(s), format {fmt.ToString().ToLowerInvariant()}");
            var outcomes = new List<ImageOutcome>();
            var total = Stopwatch.StartNew();
            Reporter.ForEach("extract", inputs, i => i.Name, img =>
            {
                var o = job.Run(img, output, fmt, r.GetValue(overwrite));
                outcomes.Add(o);
                if (o.Error != null) { Reporter.Error(o.Error); return null; }
                return o.Skipped ? $"{img.Name}: up to date, skipped" : $"{img.Name}: {o.Keypoints} keypoints in {o.Seconds:F2} s" + Note(o);
            });

            var done = outcomes.Where(o => o.Error == null && !o.Skipped).ToList();
            var failed = outcomes.Where(o => o.Error != null).ToList();
            Console.WriteLine($"extract: {done.Count} extracted, {outcomes.Count(o => o.Skipped)} skipped (up to date), {failed.Count} failed, "
                + $"{total.Elapsed.TotalSeconds:F1} s in all; output in {output}");
            if (r.GetValue(stats) is { } statsPath) WriteStats(statsPath, done);
            if (failed.Count > 0)
            {
                Reporter.Error($"{failed.Count} of {outcomes.Count} image(s) failed: {string.Join(", ", failed.Select(f => f.Image.Path))}");
                return 1;
            }
            return 0;
        }));
        return cmd;
    }

    private static int ExtractIntoDatabase(ParseResult r, NetworkOptionSet net, ExtractionSettings settings, List<ImageInput> inputs, string dbPath)
    {
        using var source = net.LoadSource(r, settings);
        using var db = Storage.FeatureDatabase.Open(dbPath);
        Console.WriteLine($"extract: {inputs.Count} image(s) into {dbPath}, {source.Description}");
        var total = Stopwatch.StartNew();
        var outcomes = new List<ImageOutcome>();
        Reporter.Track("extract", inputs.Count, advance =>
            outcomes = DatabaseExtraction.Run(db, inputs, source, onImage: o =>
            {
                if (o.Error != null) Reporter.Error(o.Error);
                advance(o.Error != null ? $"{o.Image.Name}: failed" : o.Skipped ? $"{o.Image.Name}: stored already, skipped"
                    : $"{o.Image.Name}: {o.Keypoints} keypoints in {o.Seconds:F2} s" + Note(o));
            }), logEvery: 1);
        var failed = outcomes.Where(o => o.Error != null).ToList();
        Console.WriteLine($"extract: {outcomes.Count(o => o.Error == null && !o.Skipped)} extracted, {outcomes.Count(o => o.Skipped)} skipped (stored), "
            + $"{failed.Count} failed, {total.Elapsed.TotalSeconds:F1} s; {db.Summary()}");
        if (failed.Count > 0)
        {
            Reporter.Error($"{failed.Count} of {outcomes.Count} image(s) failed: {string.Join(", ", failed.Select(f => f.Image.Path))}");
            return 1;
        }
        return 0;
    }

    private static string Note(ImageOutcome o) => o.ReductionNote is { } n ? $" ({n})" : "";

    private static void WriteStats(string path, List<ImageOutcome> done)
    {
        // No image extracted: no median (NaN is not JSON).
        double? median = done.Count > 0 ? Evaluation.PoseEvaluation.Median(done.Select(o => o.Seconds)) : null;
        var json = new Dictionary<string, object?>
        {
            ["tool"] = "r2d2.localization",
            ["torch"] = "libtorch " + TorchSharp.torch.__version__,
            ["threads"] = TorchSharp.torch.get_num_threads(),
            ["images"] = done.Select(o => new Dictionary<string, object> { ["name"] = o.Image.Name, ["seconds"] = o.Seconds, ["keypoints"] = o.Keypoints }).ToList(),
            ["median_seconds_per_image"] = median,
            ["peak_rss_mb"] = PeakRssMb(),
        };
        OutputFile.WriteAllText(path, JsonSerializer.Serialize(json, new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>VmHWM from /proc/self/status (Linux), in MB.</summary>
    internal static double? PeakRssMb()
    {
        try
        {
            var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:"));
            if (line == null) return null;
            return double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        }
        catch (IOException) { return null; }
    }
}
