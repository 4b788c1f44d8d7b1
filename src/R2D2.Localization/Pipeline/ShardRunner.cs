using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

/// <summary>The long stages of a map build, as shards a cluster runs at once (`build-map --stage`).</summary>
public enum MapStage { All, Extract, Match }

/// <summary>What a shard of a map stage did: its items, those done now and those stored already.</summary>
public sealed record ShardSummary(MapStage Stage, Shard Shard, int Items, int Done, int Stored, double Seconds);

/// <summary>
/// One shard of an extraction or a matching (of a map build, `build-map --stage`, or of
/// `extract --database` and `match`), into a database of its own that
/// `localize merge` joins (<see cref="MergeRunner"/>); the build then resumes on the merged
/// database and finds every image and pair stored. A shard registers every posed image, exactly as
/// the whole build does (same ids, cameras, pose priors), and works on its part of the items
/// (<see cref="Shard.Select{T}"/>): images by pixel count, pairs by the product of their keypoint
/// counts. It is resumable like the build, and records which shard of which job it is (a hash of
/// the stage, the items and the extractor), and when it is complete, for the merge to check.
/// </summary>
public static class ShardRunner
{
    /// <summary>Extracts shard <paramref name="shard"/> of the images (equal shares) into <paramref name="shardPath"/>,
    /// every image registered first in the list's order (camera guessed from the size in its header)
    /// as one process registers them when every image reads.</summary>
    public static ExtractSummary ExtractDatabase(IReadOnlyList<ImageInput> images, FeatureSource source, string shardPath, Shard shard, IProgressSink? progress = null)
    {
        var job = Job(MapStage.Extract, shard, source.Identity, images.Select(i => i.Name));
        using (var db = FeatureDatabase.Open(shardPath))
        {
            RefuseOtherShard(db, Describe(MapStage.Extract, shard, job));
            db.CheckExtractor(source.Identity);
            DatabaseExtraction.RegisterAll(db, images);
        }
        var summary = ExtractRunner.ToDatabase(shard.Take(images), source, shardPath, progress ?? ProgressSink.None);
        using (var db = FeatureDatabase.Open(shardPath)) db.WriteNote(ShardNote, $"{Describe(MapStage.Extract, shard, job)} done");
        return summary;
    }

    /// <summary>Matches shard <paramref name="shard"/> of the pairs (by cost, n1×n2 keypoints) of the
    /// database at <paramref name="featuresPath"/> (read only) into <paramref name="shardPath"/>, which
    /// gets its cameras and images (same ids).</summary>
    public static MatchSummary MatchDatabase(string featuresPath, PairSpec spec, string shardPath, MatchOptions o, Shard shard, IProgressSink? progress = null)
    {
        Formats.OutputFile.RefuseInputs(new[] { ("match shard database", (string?)shardPath) }, new[] { ("features database", (string?)featuresPath) });
        using var features = FeatureDatabase.OpenReadOnly(featuresPath);
        if (features.ReadNote(ShardNote) is { } note) throw new FeatureDatabaseException(featuresPath, $"is shard {note}; match from the merged database (localize merge)");
        var identity = features.Extractor ?? throw new FeatureDatabaseException(featuresPath, "holds no features (run extract first)");
        var pairs = PairsRunner.Run(spec, features);
        var counts = features.KeypointCounts();
        var ids = features.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        long Keypoints(string name) => ids.TryGetValue(name, out int id) ? counts.GetValueOrDefault(id) : 0;
        var mine = shard.Take(pairs, p => Keypoints(p.Name1) * Keypoints(p.Name2));
        var job = Job(MapStage.Match, shard, identity, pairs.Select(p => p.Name1 + "\t" + p.Name2));
        using var db = FeatureDatabase.Open(shardPath);
        RefuseOtherShard(db, Describe(MapStage.Match, shard, job));
        db.MergeFrom(features, new[] { "match_settings" }, registrationOnly: true);
        var m = MatchRunner.Run(db, mine, o, progress, features); // records match_settings, refusing a rerun with others
        db.WriteNote(ShardNote, $"{Describe(MapStage.Match, shard, job)} done");
        return m;
    }

    private static void RefuseOtherShard(FeatureDatabase db, string mine)
    {
        if (db.ReadNote(ShardNote) is { } note && note != mine && note != mine + " done")
            throw new FeatureDatabaseException(db.Path, $"is shard {note}, not {mine} (another stage, shard or input list): use one database per shard");
        if (db.ReadNote(ShardNote) == null) db.WriteNote(ShardNote, mine);
    }

    /// <summary>The note a shard database carries: "STAGE I/N JOB" and, once complete, " done".</summary>
    public const string ShardNote = FeatureDatabase.ShardNote;

    /// <summary>Extracts the features of shard <paramref name="shard"/> of the posed images into <paramref name="shardPath"/>.</summary>
    public static ShardSummary Extract(string shardPath, MapBuildInputs inputs, Shard shard, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        var sw = Stopwatch.StartNew();
        MapBuildRunner.RefuseOverwritingInputs(shardPath, inputs, new MapBuildOptions { ExportFolder = null });
        var mine = shard.Take(inputs.Images, p => (long)p.Camera.Width * p.Camera.Height);
        var job = Job(MapStage.Extract, shard, inputs.Source.Identity, inputs.Images.Select(i => i.Name));
        using var db = OpenShard(shardPath, inputs, MapStage.Extract, shard, job);
        var stored = db.ImagesWithFeatures();
        var names = mine.Select(m => m.Name).ToHashSet();
        int before = db.ReadImages().Count(i => stored.Contains(i.Id) && names.Contains(i.Name));
        progress.Info($"extract shard {shard}: {mine.Count} of {inputs.Images.Count} images, {inputs.Source.Description} → {shardPath}");
        MapBuildRunner.Extract(db, inputs, mine, inputs.Images.ToDictionary(p => p.Name), progress);
        db.WriteNote(ShardNote, $"{Describe(MapStage.Extract, shard, job)} done");
        return new ShardSummary(MapStage.Extract, shard, mine.Count, mine.Count - before, before, sw.Elapsed.TotalSeconds);
    }

    /// <summary>Matches shard <paramref name="shard"/> of the build's pairs, reading the descriptors from
    /// the merged features at <paramref name="featuresPath"/> (read only) into <paramref name="shardPath"/>.</summary>
    public static ShardSummary Match(string shardPath, string featuresPath, MapBuildInputs inputs, MapBuildOptions o, Shard shard, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        var sw = Stopwatch.StartNew();
        var pairs = PairsRunner.Run(o.Pairs, inputs.Images);
        MapBuildRunner.RefuseOverwritingInputs(shardPath, inputs, new MapBuildOptions { ExportFolder = null });
        Formats.OutputFile.RefuseInputs(new[] { ("match shard database", (string?)shardPath) }, new[] { ("features database", (string?)featuresPath) });
        FeatureDatabaseException.RequireFile(featuresPath, "no such database (merge the extraction shards first)");
        using var features = FeatureDatabase.OpenReadOnly(featuresPath);
        if (features.ReadNote(ShardNote) is { } note)
            throw new FeatureDatabaseException(featuresPath, $"is shard {note} of an extraction; match from the merged features (localize merge)");
        ImageRegistration.CheckResume(features, inputs.Images, inputs.Source.Identity);
        var ids = features.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        var counts = features.KeypointCounts();
        long Keypoints(string name) =>
            ids.TryGetValue(name, out int id) && counts.TryGetValue(id, out int n) ? n
            : throw new FeatureDatabaseException(featuresPath, $"image '{name}' has no features (did every extraction shard finish before the merge?)");
        var mine = shard.Take(pairs, p => Keypoints(p.Name1) * Keypoints(p.Name2));
        var job = Job(MapStage.Match, shard, inputs.Source.Identity, pairs.Select(p => p.Name1 + "\t" + p.Name2));
        using var db = OpenShard(shardPath, inputs, MapStage.Match, shard, job);
        db.UseExtractor(inputs.Source.Identity);
        progress.Info($"match shard {shard}: {mine.Count} of {pairs.Count} pairs ({o.Pairs}), features of {featuresPath} → {shardPath}");
        var m = MatchRunner.Run(db, mine, o.Match, progress, features);
        db.WriteNote(ShardNote, $"{Describe(MapStage.Match, shard, job)} done");
        return new ShardSummary(MapStage.Match, shard, mine.Count, m.Matched, m.Skipped, sw.Elapsed.TotalSeconds);
    }

    /// <summary>The shard database, refused when it is another shard or holds other images; the posed images registered.</summary>
    private static FeatureDatabase OpenShard(string path, MapBuildInputs inputs, MapStage stage, Shard shard, string job)
    {
        var db = FeatureDatabase.Open(path);
        try
        {
            ImageRegistration.CheckResume(db, inputs.Images, inputs.Source.Identity);
            RefuseOtherShard(db, Describe(stage, shard, job));
            MapBuildRunner.WriteNotes(db, inputs);
            ImageRegistration.RegisterImages(db, inputs.Images);
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    private static string Describe(MapStage stage, Shard shard, string job) => $"{stage.ToString().ToLowerInvariant()} {shard} {job}";

    /// <summary>The job a shard belongs to: a hash of the stage, the number of shards, the extractor and the item list.</summary>
    private static string Job(MapStage stage, Shard shard, ExtractorIdentity extractor, IEnumerable<string> items)
    {
        var text = new StringBuilder($"{stage}\n{shard.Count}\n{extractor.FeatureType}\n{extractor.Net}\n{extractor.WeightsHash}\n{extractor.Settings}\n");
        foreach (var i in items) text.Append(i).Append('\n');
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16].ToLowerInvariant();
    }

    /// <summary>A shard note read back: stage, shard, job and whether it is complete; null when not a shard note.</summary>
    public static (string Stage, Shard Shard, string Job, bool Done)? ParseNote(string note)
    {
        var f = note.Split(' ');
        if (f.Length is < 3 or > 4 || (f.Length == 4 && f[3] != "done")) return null;
        try
        {
            return (f[0], Shard.Parse(f[1], _ => null), f[2], f.Length == 4);
        }
        catch (UsageException) { return null; }
    }
}
