using System.Diagnostics;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;
using R2D2.Localization.Synthesis;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Pipeline;

public sealed record MapBenchOptions
{
    /// <summary>The database to write (deleted first).</summary>
    public required string Database { get; init; }
    public SyntheticStreetOptions Street { get; init; } = MapBenchRunner.Street(1000, 5000);
    public int PairsPerImage { get; init; } = 20;
    public TorchSharp.torch.Device? Device { get; init; }
}

/// <summary>A bench-map run: the seconds per stage in order, the pairs, the map, the peak RSS of the
/// map stages (null where the system does not tell) and the database's bytes (with its WAL).</summary>
public sealed record MapBenchResult(IReadOnlyDictionary<string, double> Seconds, int Pairs, TriangulationStats Stats, double? PeakRssMb, long DatabaseBytes);

/// <summary>
/// `localize bench-map`: the map stages (match, verify, triangulate, store) in one process on the
/// scale benchmark's synthetic street (<see cref="SyntheticStreet"/>), its features written as
/// <see cref="ScaleBenchRunner"/> writes them; the peak-RSS mark is reset after them, so the peak
/// is the map stages'.
/// </summary>
public static class MapBenchRunner
{
    /// <summary>bench-map's street: 400 facade points per metre on each side, each seen point detected
    /// in half the images, descriptor noise of standard deviation 0.0144 per component, seed 1.</summary>
    public static SyntheticStreetOptions Street(int images, int keypoints) => new()
    {
        Images = images, Keypoints = keypoints, PointsPerMetre = 400, Detection = 0.5, DescriptorNoise = 0.05 / Math.Sqrt(12), Seed = 1,
    };

    /// <summary>Runs the stages; <paramref name="progress"/> gets a line per stage (its seconds and the peak RSS so far).</summary>
    public static MapBenchResult Run(MapBenchOptions o, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        var street = new SyntheticStreet(o.Street);
        OutputFile.CreateFolder(Path.GetDirectoryName(Path.GetFullPath(o.Database))!);
        foreach (var f in new[] { o.Database, o.Database + "-wal", o.Database + "-shm" }) File.Delete(f);
        var seconds = new Dictionary<string, double>();
        var sw = Stopwatch.StartNew();
        void Done(string s)
        {
            seconds[s] = sw.Elapsed.TotalSeconds;
            progress.Info($"{s} {seconds[s]:F1} s, peak RSS {ExtractRunner.PeakRssMb():F0} MB");
            sw.Restart();
        }

        using var db = FeatureDatabase.Open(o.Database);
        ScaleBenchRunner.WriteFeatures(db, street, ProgressSink.None);
        // Reset the peak-RSS mark so it measures the map stages, not the generator.
        ScaleBenchRunner.ResetPeakRss();
        Done("write synthetic features");
        var pairs = PairsRunner.Run(PairSpec.FromPoses(o.PairsPerImage), street.Images);
        MatchRunner.Run(db, pairs, new MatchOptions { Device = o.Device });
        Done("match");
        var byName = street.Images.ToDictionary(p => p.Name);
        Verification.Run(db, pairs, new VerifyOptions { Poses = byName });
        Done("verify");
        var (points, stats) = TriangulationRunner.Run(db, byName, new TriangulationOptions());
        Done("triangulate");
        db.WriteMap(points, MapExport.SummaryJson(stats, street.Images.Count, seconds));
        Done("store");
        return new MapBenchResult(seconds, pairs.Count, stats, ExtractRunner.PeakRssMb(), ScaleBenchRunner.DatabaseBytes(o.Database));
    }
}
