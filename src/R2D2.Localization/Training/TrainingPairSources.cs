namespace R2D2.Localization.Training;

/// <summary>Pairs taken in turn from several sources: pair i is source (i mod n)'s pair i / n.</summary>
public sealed class MixedPairSource : ITrainingPairSource
{
    private readonly IReadOnlyList<ITrainingPairSource> _sources;
    public MixedPairSource(IReadOnlyList<ITrainingPairSource> sources) =>
        _sources = sources.Count > 0 ? sources : throw new ArgumentException("no pair source");
    public TrainingPair Get(long index) => _sources[(int)(index % _sources.Count)].Get(index / _sources.Count);
    public string Describe() => string.Join(" + ", _sources.Select(s => s.Describe()));
}

/// <summary>The pair sources `localize train --pairs` names.</summary>
public static class TrainingPairSources
{
    public static ITrainingPairSource Parse(IReadOnlyList<string> specs, int crop, long seed, PhotometricSettings? photometric = null)
    {
        var sources = specs.Select((s, i) => ParseOne(s, crop, seed + 1000 * i, photometric ?? new PhotometricSettings())).ToList();
        return sources.Count == 1 ? sources[0] : new MixedPairSource(sources);
    }

    /// <summary>The files and folders the specs read (photos, a map and its images, a scene file):
    /// inputs a command's outputs must not replace.</summary>
    public static IEnumerable<(string Role, string? Path)> InputsOf(IEnumerable<string> specs)
    {
        foreach (var spec in specs)
        {
            if (spec.StartsWith("images:", StringComparison.Ordinal)) yield return ("pair photos folder", spec["images:".Length..]);
            else if (spec.StartsWith("map:", StringComparison.Ordinal) && spec.Split(':', 3) is [_, var db, var images])
            {
                yield return ("pair map database", db);
                yield return ("pair map's image folder", images);
            }
            else if (spec.StartsWith("rendered:", StringComparison.Ordinal) && SplitRendered(spec).Scene is { Length: > 0 } scene)
                yield return ("scene file", scene);
        }
    }

    private static readonly Dictionary<string, RenderedLighting> Lightings = new()
    {
        ["day-day"] = RenderedLighting.DayDay, ["day-night"] = RenderedLighting.DayNight, ["night-night"] = RenderedLighting.NightNight, ["mixed"] = RenderedLighting.Mixed,
    };

    private static ITrainingPairSource ParseOne(string spec, int crop, long seed, PhotometricSettings photometric)
    {
        if (spec == "generated")
            return new HomographyPairSource(new ProceduralImageSource(), seed, crop, photometric: photometric);
        if (spec.StartsWith("images:", StringComparison.Ordinal))
        {
            var dir = spec["images:".Length..];
            if (!Directory.Exists(dir)) throw new R2D2Exception(File.Exists(dir) ? $"--pairs {spec}: {dir} is a file: images: takes a folder of photos" : $"--pairs {spec}: folder {dir} not found");
            return new HomographyPairSource(new FolderImageSource(dir), seed, crop, photometric: photometric);
        }
        if (spec.StartsWith("map:", StringComparison.Ordinal))
        {
            var parts = spec.Split(':', 3);
            if (parts.Length != 3 || parts[1].Length == 0 || parts[2].Length == 0)
                throw new UsageException($"--pairs {spec}: expected map:DATABASE:IMAGE_FOLDER");
            if (!File.Exists(parts[1])) throw new R2D2Exception($"--pairs {spec}: map database {parts[1]} not found");
            return new MapPairSource(parts[1], parts[2], seed, new MapPairSettings { CropSize = crop, Photometric = photometric });
        }
        if (spec == "rendered" || spec.StartsWith("rendered:", StringComparison.Ordinal))
            return new RenderedPairSource(seed, ParseRendered(spec, crop, photometric));
        throw new UsageException($"--pairs {spec}: unknown pair source (expected generated, images:DIR, map:DB:IMAGES or rendered[:LIGHTING][:SCENE_FILE])");
    }

    /// <summary>rendered[:day-day|day-night|night-night][:SCENE_FILE]: generated scenes unless a scene file is named.</summary>
    private static RenderedPairSettings ParseRendered(string spec, int crop, PhotometricSettings photometric)
    {
        var s = new RenderedPairSettings { Width = crop, Height = crop, Photometric = photometric };
        var (lighting, rest) = SplitRendered(spec);
        if (lighting is { } l) s = s with { Lighting = l };
        if (rest.Length > 0)
        {
            // A word that names no file is a mistyped lighting (a usage error); a path, a missing file.
            if (!File.Exists(rest))
                throw rest.Contains('/') || Path.HasExtension(rest)
                    ? new Formats.FileFormatException(rest, 0, $"--pairs {spec}: scene file not found")
                    : new UsageException($"--pairs {spec}: '{rest}' is neither a lighting (day-day, day-night, night-night, mixed) nor a scene file");
            s = s with { SceneFile = rest };
        }
        return s;
    }

    /// <summary>rendered[:LIGHTING][:SCENE_FILE] as its lighting (null: not given) and what follows it ("" for none).</summary>
    private static (RenderedLighting? Lighting, string Scene) SplitRendered(string spec)
    {
        var rest = spec.Length > "rendered".Length ? spec["rendered:".Length..] : "";
        int colon = rest.IndexOf(':');
        return Lightings.TryGetValue(colon >= 0 ? rest[..colon] : rest, out var l) ? (l, colon >= 0 ? rest[(colon + 1)..] : "") : (null, rest);
    }
}
