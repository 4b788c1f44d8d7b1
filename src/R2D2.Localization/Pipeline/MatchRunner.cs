using System.Diagnostics;
using R2D2.Localization.Formats;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

public sealed record MatchOptions
{
    /// <summary>Where the nearest neighbours are searched (null: the CPU).</summary>
    public TorchSharp.torch.Device? Device { get; init; }
    /// <summary>Mutual matches whose descriptor similarity is below this are dropped.</summary>
    public float MinSimilarity { get; init; } = float.NegativeInfinity;
    /// <summary>Verify the pairs after matching (null: not here; build-map verifies as its own stage).</summary>
    public VerifyOptions? Verify { get; init; }
}

/// <summary>Pairs matched now and pairs whose stored matches were kept.</summary>
public sealed record MatchSummary(int Matched, int Skipped, long Matches, double Seconds)
{
    public double PairsPerSecond => Matched > 0 ? Matched / Seconds : 0;
    public double MeanMatches => Matched > 0 ? Matches / (double)Matched : 0;
    /// <summary>Pairs verified now (<see cref="MatchOptions.Verify"/>); null when not asked.</summary>
    public int? Verified { get; init; }
}

/// <summary>The match stage: mutual nearest neighbours of the pairs' descriptors into the
/// database (resumable: pairs with stored matches are skipped; see <see cref="DatabaseMatching"/>).</summary>
public static class MatchRunner
{
    /// <summary>`localize match`: the pairs of <paramref name="dbPath"/> matched into it, or with
    /// <paramref name="shard"/> one shard of them into the shard's own database <paramref name="shardOut"/>
    /// (the database read only; verified after the merge, whose database has the keypoints).</summary>
    public static MatchSummary RunDatabase(string dbPath, PairSpec spec, MatchOptions o, Shard? shard, string? shardOut,
        IProgressSink? progress = null, Action<int>? listed = null)
    {
        if ((shard != null) != (shardOut != null)) throw new UsageException("--shard and --out go together");
        if (shardOut == null) return RunDatabase(dbPath, spec, o, progress, listed);
        if (o.Verify != null) throw new UsageException("--verify runs after the merge (its database has the keypoints): match --database MERGED --pairs ... --verify ...");
        return ShardRunner.MatchDatabase(dbPath, spec, shardOut, o, shard!.Value, progress);
    }

    /// <summary>The pairs <paramref name="spec"/> gives in the database at <paramref name="dbPath"/>,
    /// matched (and verified when the options ask); <paramref name="listed"/> is told how many pairs
    /// there are before the work.</summary>
    public static MatchSummary RunDatabase(string dbPath, PairSpec spec, MatchOptions o, IProgressSink? progress = null, Action<int>? listed = null)
    {
        if (!File.Exists(dbPath)) throw new R2D2Exception(dbPath, 0, "database not found");
        using var db = FeatureDatabase.OpenExisting(dbPath);
        var pairs = PairsRunner.Run(spec, db);
        listed?.Invoke(pairs.Count);
        return Run(db, pairs, o, progress);
    }

    /// <param name="features">Where the descriptors are read (null: <paramref name="db"/>; see <see cref="DatabaseMatching.Run"/>).</param>
    public static MatchSummary Run(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, MatchOptions o, IProgressSink? progress = null, FeatureDatabase? features = null)
    {
        // What verification would refuse (images without poses) is said before the matching, not after it.
        if (o.Verify != null) Verification.Check(db, pairs, o.Verify);
        // As is a pair it cannot match: before the settings are recorded, so a refused run writes nothing.
        DatabaseMatching.Check(db, pairs, features);
        RecordSettings(db, o);
        var sw = Stopwatch.StartNew();
        int done = 0, skipped = 0;
        long matches = 0;
        (progress ?? ProgressSink.None).Stage("match", pairs.Count, advance =>
            DatabaseMatching.Run(db, pairs, o.Device, o.MinSimilarity, onPair: p =>
            {
                if (p.Skipped) skipped++; else { done++; matches += p.Matches; }
                advance($"{p.Pair.Name1} {p.Pair.Name2}: {(p.Skipped ? "stored" : p.Matches + " matches")}");
            }, features: features));
        double seconds = sw.Elapsed.TotalSeconds;
        return new MatchSummary(done, skipped, matches, seconds) { Verified = o.Verify == null ? null : Verification.Run(db, pairs, o.Verify, progress) };
    }

    /// <summary>
    /// The match stage from hloc's matches.h5 instead of matching (build-map --matches, with
    /// --model hloc:FILE, whose keypoints keep the file's order, so the indices are the file's):
    /// each pair's matches0 as the pair's matches, its matching_scores0 as their similarity.
    /// <paramref name="hlocName"/> gives an image's name in the file. A pair the file lacks, or an
    /// index beyond an image's keypoints, is refused before any pair is written (every pair is read
    /// twice: checked, then written); pairs with stored matches are skipped (resumable) once one of
    /// them is found equal to the file's, and the database records the file as its match settings,
    /// so matches of another file or of the matcher are not mixed in.
    /// </summary>
    public static MatchSummary Import(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, string matchesFile, Func<string, string> hlocName,
        IProgressSink? progress = null)
    {
        DatabaseMatching.Check(db, pairs);
        var ids = db.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        var counts = db.FeatureShapes();
        var named = pairs.Select(p => (hlocName(p.Name1), hlocName(p.Name2))).ToList();
        var missing = Hloc.MissingPairs(matchesFile, named);
        if (missing.Count > 0)
            throw new FileFormatException(matchesFile, 0, $"holds no matches for {missing.Count} of the {pairs.Count} pairs (first: '{named[missing[0]].Item1}' '{named[missing[0]].Item2}'): "
                + "give the pairs it was matched on (--pairs, hloc's pairs file) or match them here (leave --matches out); no match was written");
        var sw = Stopwatch.StartNew();
        var todo = Enumerable.Range(0, pairs.Count).Where(k => !db.HasMatches(ids[pairs[k].Name1], ids[pairs[k].Name2])).ToList();
        int skipped = pairs.Count - todo.Count;
        var sink = progress ?? ProgressSink.None;
        List<(string, string, int, int)> Shapes(IEnumerable<int> ks) =>
            ks.Select(k => (named[k].Item1, named[k].Item2, counts[ids[pairs[k].Name1]].Count, counts[ids[pairs[k].Name2]].Count)).ToList();
        // A resumed import: the pairs stored must be this file's (hloc rewrites a file of the same name
        // when it matches again). Up to 16 stored pairs spread over the list are compared (one, the
        // first, missed a file rewritten with the same first pair).
        var pending = todo.ToHashSet();
        if (skipped > 0)
        {
            var stored = Enumerable.Range(0, pairs.Count).Where(k => !pending.Contains(k)).ToList();
            int n = Math.Min(16, stored.Count);
            var sample = Enumerable.Range(0, n).Select(i => stored[n == 1 ? 0 : (int)((long)i * (stored.Count - 1) / (n - 1))]).ToList();
            Hloc.ReadManyMatches(matchesFile, Shapes(sample), (t, list) =>
            {
                var p = pairs[sample[t]];
                var now = list.Select(m => (m.I, m.J)).ToHashSet();
                var before = (db.ReadMatches(ids[p.Name1], ids[p.Name2]) ?? new()).Select(m => (m.I, m.J)).ToHashSet();
                if (!now.SetEquals(before))
                    throw new FeatureDatabaseException(db.Path, $"stores other matches for '{p.Name1}' '{p.Name2}' than {matchesFile} holds now: "
                        + "the file was changed since they were imported; import into a new database (no match was written)");
            });
        }
        // Every pair is read and checked before the first is written: a bad index met half way left
        // part of the file in the database, bound to it.
        sink.Stage("match (imported): check", todo.Count, advance =>
            Hloc.ReadManyMatches(matchesFile, Shapes(todo), (t, _) => advance($"{pairs[todo[t]].Name1} {pairs[todo[t]].Name2}")));
        RecordSettings(db, $"hloc matches of {Path.GetFullPath(matchesFile)}");
        int done = 0;
        long matches = 0;
        sink.Stage("match (imported)", todo.Count, advance =>
            Hloc.ReadManyMatches(matchesFile, Shapes(todo), (t, list) =>
            {
                var p = pairs[todo[t]];
                db.WriteMatches(ids[p.Name1], ids[p.Name2], list);
                done++; matches += list.Count;
                advance($"{p.Name1} {p.Name2}: {list.Count} matches");
            }));
        return new MatchSummary(done, skipped, matches, sw.Elapsed.TotalSeconds);
    }

    /// <summary>The matching settings a database records (<c>match_settings</c>; merge refuses shards that differ).</summary>
    public static string Settings(MatchOptions o) => Settings(o.MinSimilarity);

    /// <summary>A threshold at or below −1 filters nothing (the cosine similarity of unit descriptors),
    /// so −1 (match's default) and −∞ (build-map's) are one setting, recorded as −1.</summary>
    private static string Settings(float minSimilarity) =>
        "min_similarity " + Math.Max(minSimilarity, -1f).ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>A stored record in today's form (an older version wrote −1 as it was given).</summary>
    private static string? Normalized(string? stored) =>
        stored != null && stored.StartsWith("min_similarity ", StringComparison.Ordinal)
        && float.TryParse(stored["min_similarity ".Length..], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v)
            ? Settings(v) : stored;

    /// <summary>Records the settings before any pair is matched; a database whose stored matches were
    /// made with other settings is refused (the skipped pairs would keep them: a kill and a rerun
    /// with another --min-similarity mixed two thresholds). Matches stored without a record (an
    /// older version's) are taken as they are.</summary>
    private static void RecordSettings(FeatureDatabase db, MatchOptions o) => RecordSettings(db, Settings(o));

    private static void RecordSettings(FeatureDatabase db, string now)
    {
        var stored = Normalized(db.ReadNote("match_settings"));
        if (stored == now) return;
        if (stored != null && db.HasAnyMatches)
            throw new FeatureDatabaseException(db.Path, $"holds matches made with {stored}, not {now}: a rerun would keep them beside new ones. "
                + "Match with the same settings, or into a database without matches (no match was written)");
        db.WriteNote("match_settings", now);
    }
}
