using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using R2D2.Localization.Formats;
using R2D2.Localization.Training;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize make-pairs hpatches|preview`: generated evaluation sequences and pictures of training pairs.</summary>
internal static class MakePairsCommand
{
    public static Command Create()
    {
        var cmd = new Command("make-pairs", "Generate HPatches-style homography sequences from photos, or pictures of training pairs.");
        cmd.Subcommands.Add(HPatches());
        cmd.Subcommands.Add(Preview());
        cmd.Subcommands.Add(Procedural());
        return cmd;
    }

    private static Command Procedural()
    {
        var output = new Option<string>("--out") { Description = "folder for the images", Required = true };
        var count = new Option<int>("--count") { Description = "images to write", DefaultValueFactory = _ => 8 }.AtLeast(1);
        var seed = new Option<long>("--seed") { Description = "seed of the first image (image i has seed + i)", DefaultValueFactory = _ => 0 };
        var width = new Option<int>("--width") { Description = "image width (px)", DefaultValueFactory = _ => 512 }.Between(8, 8192);
        var height = new Option<int>("--height") { Description = "image height (px)", DefaultValueFactory = _ => 384 }.Between(8, 8192);
        var cmd = new Command("procedural", "Write procedural training images (the default model's only training data) as PNG, and time them.");
        foreach (var o in new Option[] { output, count, seed, width, height }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var outDir = r.GetValue(output)!;
            OutputFile.RefuseFileAsFolder(outDir, "--out");
            OutputFile.CreateFolder(outDir);
            int w = r.GetValue(width), h = r.GetValue(height);
            for (long s = r.GetValue(seed), end = s + r.GetValue(count); s < end; s++)
            {
                var sw = Stopwatch.StartNew();
                var img = ProceduralImages.Generate(s, w, h);
                double ms = sw.Elapsed.TotalMilliseconds;
                var png = Path.Combine(outDir, $"procedural_{s:D5}.png");
                PairViz.WriteImage(img, w, h, png);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{png}: {w}x{h}, {ms:F1} ms"));
            }
            return 0;
        }));
        return cmd;
    }

    private static Command HPatches()
    {
        var images = new Option<string[]>("--images")
        {
            Description = "photos and/or folders of photos (each photo becomes one sequence)", Required = true, AllowMultipleArgumentsPerToken = true,
        };
        var output = new Option<string>("--out") { Description = "folder to write the sequences to (one subfolder per photo)", Required = true };
        var seed = new Option<long>("--seed") { Description = "random seed (the same seed and photos give the same sequences)", DefaultValueFactory = _ => 0 };
        var warps = new Option<int>("--warps") { Description = "warped images per sequence (HPatches: 5)", DefaultValueFactory = _ => 5 }.Between(1, 1000);
        var maxSize = new Option<int>("--max-size") { Description = "downscale photos so the longer side is at most this (px)", DefaultValueFactory = _ => 1024 }.AtLeast(64);
        var night = new Option<double>("--night") { Description = "probability that a warped image is made night-like", DefaultValueFactory = _ => 0.25 }.Between(0.0, 1.0);
        var noJitter = new Option<bool>("--no-photometric") { Description = "geometric changes only (no brightness, blur, noise or night)" };
        var cmd = new Command("hpatches",
            "Write HPatches-style sequences (1.png, 2.png …, H_1_2 …; homographies in pixel-centre coordinates) from photos: random viewpoint " +
            "changes growing harder from 2 to the last, plus photometric changes. Evaluate with: localize eval-homography --pairs OUT --model …");
        foreach (var o in new Option[] { images, output, seed, warps, maxSize, night, noJitter }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var files = ExpandImages(r.GetValue(images)!);
            if (r.GetValue(warps) < 1) throw new UsageException("--warps must be at least 1");
            var photometric = r.GetValue(noJitter) ? PhotometricSettings.Off : new PhotometricSettings { NightProbability = r.GetValue(night) };
            var o = new HPatchesOptions { Seed = r.GetValue(seed), Warps = r.GetValue(warps), MaxSide = r.GetValue(maxSize), Photometric = photometric };
            var outDir = r.GetValue(output)!;
            OutputFile.RefuseFileAsFolder(outDir, "--out");
            int failed = 0;
            var sequences = HPatchesSequences.Write(files, outDir, o, s =>
                Console.WriteLine($"{Path.GetFileName(s.Folder)}: {s.Width}x{s.Height}, {s.H.Count} warps{Nights(s)} from {s.Source}"),
                (path, why) => { failed++; Reporter.Error(why.StartsWith(path, StringComparison.Ordinal) ? why : $"{path}: {why}"); });
            Console.WriteLine($"wrote {Counted.Of(sequences.Count, "sequence")} to {outDir} (seed {o.Seed})" + (failed > 0 ? $"; {Counted.Of(failed, "photo")} could not be read" : ""));
            return failed > 0 ? 1 : 0;
        }));
        return cmd;
    }

    private static Command Preview()
    {
        var output = new Option<string>("--out") { Description = "folder for the pictures", Required = true };
        var images = new Option<string?>("--images") { Description = "homography pairs from this folder of photos (default: procedural images)" };
        var map = new Option<string?>("--map") { Description = "map pairs from this map database (needs --map-images)" };
        var mapImages = new Option<string?>("--map-images") { Description = "the image folder the map was built from" };
        var count = new Option<int>("--count") { Description = "pairs to draw", DefaultValueFactory = _ => 8 }.AtLeast(1);
        var first = new Option<long>("--first") { Description = "index of the first pair", DefaultValueFactory = _ => 0 }.AtLeast(0L);
        var seed = new Option<long>("--seed") { Description = "the source's seed", DefaultValueFactory = _ => 0 };
        var crop = new Option<int>("--crop") { Description = "crop size (px)", DefaultValueFactory = _ => 192 }.Between(8, 2048);
        var noJitter = new Option<bool>("--no-photometric") { Description = "no photometric changes" };
        var spec = new Option<string?>("--pairs") { Description = "a `localize train --pairs` source instead (e.g. rendered:day-night)" };
        var throughput = new Option<int>("--throughput") { Description = "also time this many more pairs on all cores (pairs/s)", DefaultValueFactory = _ => 0 }.AtLeast(0);
        var lines = new Option<int>("--lines") { Description = "correspondences drawn per pair", DefaultValueFactory = _ => 40 }.AtLeast(0);
        var cmd = new Command("preview",
            "Write training pairs as pictures (image 1 | image 2, with lines from image-1 pixels to their flow targets) and time their generation.");
        foreach (var o in new Option[] { output, images, map, mapImages, count, first, seed, crop, noJitter, lines, spec, throughput }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var photometric = r.GetValue(noJitter) ? PhotometricSettings.Off : new PhotometricSettings();
            // One source: the others' options were ignored without a word (--images beside --pairs).
            var sourcesGiven = new[] { (spec.Name, r.GetValue(spec)), (map.Name, r.GetValue(map)), (images.Name, r.GetValue(images)) }.Where(g => g.Item2 != null).Select(g => g.Item1).ToList();
            if (sourcesGiven.Count > 1) throw new UsageException($"{string.Join(" and ", sourcesGiven)} are two sources of pairs: give one");
            ITrainingPairSource source;
            if (r.GetValue(spec) is { } pairsSpec)
                source = TrainingPairSources.Parse(new[] { pairsSpec }, r.GetValue(crop), r.GetValue(seed), photometric);
            else if (r.GetValue(map) is { } db)
            {
                var root = r.GetValue(mapImages) ?? throw new UsageException("--map needs --map-images");
                source = new MapPairSource(db, root, r.GetValue(seed), new MapPairSettings { CropSize = r.GetValue(crop), Photometric = photometric });
            }
            else
            {
                IImageSource imgs = r.GetValue(images) is { } folder ? new FolderImageSource(folder) : new ProceduralImageSource();
                source = new HomographyPairSource(imgs, r.GetValue(seed), r.GetValue(crop), photometric: photometric);
            }
            Console.WriteLine(source.Describe());
            OutputFile.RefuseFileAsFolder(r.GetValue(output)!, "--out");
            var previews = PairPreviews.Write(source, r.GetValue(output)!, r.GetValue(first), r.GetValue(count), r.GetValue(lines), p => Console.WriteLine(p.Line));
            var times = previews.Select(p => p.Milliseconds).ToList();
            if (PairPreviews.Others(r.GetValue(output)!, previews) is { Count: > 0 } others)
                Reporter.Warn($"{r.GetValue(output)} also holds {Counted.Of(others.Count, "other pair picture")} (first: {others[0]}) of an earlier run, not of this one");
            if (times.Count > 1)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Get: median {times.Order().ElementAt(times.Count / 2):F1} ms, first {times[0]:F1} ms (one thread)"));
            if (r.GetValue(throughput) > 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"throughput: {PairPreviews.Throughput(source, r.GetValue(first) + r.GetValue(count), r.GetValue(throughput)):F1} pairs/s on {Environment.ProcessorCount} cores"));
            return 0;
        }));
        return cmd;
    }

    private static string Nights(HPatchesSequence s)
    {
        var night = s.Night.Select((n, i) => (n, i)).Where(t => t.n).Select(t => $"{t.i + 2}.png").ToList();
        return night.Count == 0 ? "" : $" (night-like: {string.Join(", ", night)})";
    }

    private static List<string> ExpandImages(IEnumerable<string> inputs)
    {
        var files = new List<string>();
        foreach (var p in inputs)
        {
            if (Directory.Exists(p)) files.AddRange(Directory.GetFiles(p).Where(ImageFile.IsImagePath).OrderBy(f => f, StringComparer.Ordinal));
            else if (File.Exists(p)) files.Add(p);
            else throw new R2D2Exception(p, 0, "no such image or folder");
        }
        if (files.Count == 0) throw new UsageException("no images found in --images");
        return files;
    }
}
