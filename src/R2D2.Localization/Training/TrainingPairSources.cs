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
    public static ITrainingPairSource Parse(IReadOnlyList<string> specs, int crop, long seed)
    {
        var sources = specs.Select((s, i) => ParseOne(s, crop, seed + 1000 * i)).ToList();
        return sources.Count == 1 ? sources[0] : new MixedPairSource(sources);
    }

    private static ITrainingPairSource ParseOne(string spec, int crop, long seed)
    {
        throw new ArgumentException($"--pairs {spec}: unknown pair source (expected generated, images:DIR or map:DB:IMAGES)");
    }
}
