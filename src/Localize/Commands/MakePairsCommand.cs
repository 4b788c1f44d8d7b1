using System.CommandLine;
using System.Globalization;
using R2D2.Localization.Pipeline;
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
            TrainingPairsRunner.Procedural(r.GetValue(output)!, r.GetValue(seed), r.GetValue(count), r.GetValue(width), r.GetValue(height),
                x => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{x.Png}: {x.Width}x{x.Height}, {x.Milliseconds:F1} ms")));
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
            var photometric = r.GetValue(noJitter) ? PhotometricSettings.Off : new PhotometricSettings { NightProbability = r.GetValue(night) };
            var o = new HPatchesOptions { Seed = r.GetValue(seed), Warps = r.GetValue(warps), MaxSide = r.GetValue(maxSize), Photometric = photometric };
            var outDir = r.GetValue(output)!;
            int failed = 0;
            var sequences = TrainingPairsRunner.HPatches(r.GetValue(images)!, outDir, o, s =>
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
            var x = TrainingPairsRunner.Preview(new PairPreviewOptions
            {
                OutDir = r.GetValue(output)!, PairsSpec = r.GetValue(spec), MapPath = r.GetValue(map), MapImages = r.GetValue(mapImages), ImagesFolder = r.GetValue(images),
                First = r.GetValue(first), Count = r.GetValue(count), Seed = r.GetValue(seed), Crop = r.GetValue(crop), Photometric = !r.GetValue(noJitter),
                Lines = r.GetValue(lines), Throughput = r.GetValue(throughput),
            }, Console.WriteLine, p => Console.WriteLine(p.Line), Reporter.Warn);
            if (x.MedianMs is { } median)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"Get: median {median:F1} ms, first {x.Previews[0].Milliseconds:F1} ms (one thread)"));
            if (x.PairsPerSecond is { } rate)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"throughput: {rate:F1} pairs/s on {Environment.ProcessorCount} cores"));
            return 0;
        }));
        return cmd;
    }

    private static string Nights(HPatchesSequence s)
    {
        var night = s.Night.Select((n, i) => (n, i)).Where(t => t.n).Select(t => $"{t.i + 2}.png").ToList();
        return night.Count == 0 ? "" : $" (night-like: {string.Join(", ", night)})";
    }
}
