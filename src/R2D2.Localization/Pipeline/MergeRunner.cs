using R2D2.Localization.Formats;
using R2D2.Localization.Localization;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

/// <summary>What a merge of databases joined: per input, the rows it brought.</summary>
public sealed record DatabaseMergeSummary(IReadOnlyList<(string Path, MergeCounts Counts)> Inputs, DatabaseSummary Merged);

/// <summary>
/// `localize merge`: joins the outputs of shards into what one process would have written.
/// Databases (<see cref="Databases"/>): every row of every input, as stored (see
/// <see cref="FeatureDatabase.MergeFrom"/>), after checking that the shards of each sharded job are
/// all there and complete. Query outputs (<see cref="QueryOutputs"/>): the submission, CSV and
/// inliers lines of every query, in the query list's order. Both write a temporary file beside the
/// output and rename it over the output at the end, so a merge killed at any moment leaves the
/// output as it was, and a rerun with the same inputs gives the same output.
/// </summary>
public static class MergeRunner
{
    public static DatabaseMergeSummary Databases(IReadOnlyList<string> inputs, string outPath, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        if (inputs.Count == 0) throw new UsageException("merge: no --databases given");
        OutputFile.RefuseInputs(new[] { ("merged database", (string?)outPath) }, inputs.Select(i => ("input database", (string?)i)));
        foreach (var i in inputs)
            FeatureDatabaseException.RequireFile(Path.GetFullPath(i), "no such database");
        CheckShardsComplete(inputs);

        var full = Path.GetFullPath(outPath);
        if (Directory.Exists(full) || outPath.EndsWith('/') || outPath.EndsWith(Path.DirectorySeparatorChar))
            throw new UsageException($"merge: --out {outPath} is a folder; give the merged database's file name (e.g. {Path.Combine(outPath, "merged.db")})");
        // The inputs, in order, as the merged file records them: a rerun of this merge may replace it.
        var mergedFrom = string.Join("\n", inputs.Select(Path.GetFullPath));
        RefuseReplacing(full, outPath, mergedFrom);
        // A temporary database per merge, held with a lock while it is written: two merges
        // to one --out each write their own and the last rename wins (they shared one name and deleted
        // each other's work: one exited 0 with an empty database); one left by a killed merge is
        // nobody's (it opens exclusively) and is removed.
        var dir = Path.GetDirectoryName(full)!;
        var stem = $".{OutputFile.Stem(Path.GetFileName(full))}.merge";
        OutputFile.CreateFolder(dir); // a folder that is not there yet, as the other outputs
        RemoveStaleTemporaries(dir, stem);
        var tmp = Path.Combine(dir, $"{stem}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        // An empty file is an empty SQLite database. Held with a shared flock, which SQLite's fcntl
        // locks and the database's own header check pass, and the exclusive open of a stale-file
        // check does not; through a read-only handle, since .NET takes no shared lock on a writable
        // one on NFS or SMB (a cluster's shared folder), opened before the creating handle closes.
        FileStream hold;
        using (new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
            hold = new FileStream(tmp, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var _ = hold;
        var counts = new List<(string, MergeCounts)>();
        DatabaseSummary merged;
        try
        {
            using var db = FeatureDatabase.Open(tmp);
            progress.Stage("merge", inputs.Count, advance =>
            {
                foreach (var input in inputs)
                {
                    using var source = FeatureDatabase.OpenReadOnly(input);
                    var c = db.MergeFrom(source, new[] { "match_settings" });
                    counts.Add((input, c));
                    advance($"{input}: {c.Images} images, {c.Features} with features, {c.MatchedPairs} matched pairs, {c.VerifiedPairs} verified");
                }
            });
            db.WriteNote(MergedFromNote, mergedFrom); // after the inputs' notes, which may hold their own
            merged = db.Summary() with { Path = full };
            // Matches index keypoints: without the features they were made on (the features
            // database left out), a later build would extract again and trust them blindly.
            if (merged.MatchedPairs > 0 && merged.ImagesWithFeatures == 0)
                throw new R2D2Exception($"merge: the inputs hold {merged.MatchedPairs} matched pairs but no image's features: "
                    + "give the features database the matches were made on too (--databases FEATURES.db match-*.db)");
        }
        catch
        {
            Delete(tmp); // a refused input: no half-merged file left beside the output
            throw;
        }
        // The last connection closed: the temporary database is whole in one file (no -wal).
        // A stale -wal of an earlier output would be replayed into the new file: removed first.
        if (File.Exists(tmp + "-wal")) throw new FeatureDatabaseException(tmp, "kept a write-ahead log after closing; the merge is not moved into place");
        Delete(full + "-wal", full + "-shm");
        File.Move(tmp, full, overwrite: true);
        return new DatabaseMergeSummary(counts, merged);
    }

    /// <summary>The note of a merged database: the full paths of its inputs, in order.</summary>
    public const string MergedFromNote = "merged_from";

    /// <summary>A rerun of a merge replaces its earlier output (the same inputs, recorded in it);
    /// nothing else is replaced: not a built map (a map copied to the --out path was lost without a
    /// word), not a file that is not a database, not a database holding images that no merge of
    /// these inputs wrote (another model's features given as a Slurm run's --map were replaced).</summary>
    private static void RefuseReplacing(string full, string outPath, string mergedFrom)
    {
        if (!File.Exists(full)) return;
        bool hasMap; int images; string? from;
        try
        {
            using var existing = FeatureDatabase.OpenReadOnly(full);
            hasMap = existing.HasMap;
            images = existing.ReadImages().Count;
            from = existing.ReadNote(MergedFromNote);
        }
        catch (FeatureDatabaseException e)
        {
            throw new R2D2Exception($"merge: --out {outPath} exists and is not a feature database ({e.Message}): not replaced; give another --out");
        }
        if (hasMap) throw new R2D2Exception($"merge: --out {outPath} holds a map (build-map's): a merge would replace it; give another --out, or delete it first");
        if (images > 0 && from != mergedFrom)
            throw new R2D2Exception($"merge: --out {outPath} holds {Counted.Of(images, "image")} that "
                + (from == null ? "no merge wrote" : "a merge of other inputs wrote")
                + ": not replaced (a rerun of the same merge replaces its own output); give another --out, or delete it first");
    }

    /// <summary>Temporary databases of merges that were killed (no process holds their lock), and
    /// the single one earlier versions used.</summary>
    private static void RemoveStaleTemporaries(string dir, string stem)
    {
        Delete(Path.Combine(dir, stem + ".tmp"));
        OutputFile.RemoveUnheld(dir, stem + ".*.tmp", f => Delete(f));
    }

    private static void Delete(params string[] paths)
    {
        foreach (var p in paths)
            foreach (var f in new[] { p, p + "-wal", p + "-shm", p + "-journal" }.Distinct())
                if (File.Exists(f)) File.Delete(f);
    }

    /// <summary>Every sharded job among the inputs must be there whole: shards 0..N-1 once each, all complete.</summary>
    private static void CheckShardsComplete(IReadOnlyList<string> inputs)
    {
        var jobs = new Dictionary<string, List<(string Path, Shard Shard, bool Done)>>();
        foreach (var input in inputs)
        {
            string? note;
            using (var db = FeatureDatabase.OpenReadOnly(input)) note = db.ReadNote(ShardRunner.ShardNote);
            if (note == null) continue;
            var n = ShardRunner.ParseNote(note) ?? throw new FeatureDatabaseException(Path.GetFullPath(input), $"has an unreadable shard note '{note}'");
            var key = $"{n.Stage} job {n.Job} of {Counted.Of(n.Shard.Count, "shard")}";
            (jobs.TryGetValue(key, out var l) ? l : jobs[key] = new()).Add((input, n.Shard, n.Done));
        }
        // Shards of two jobs of one stage (other images or settings): each job looked incomplete.
        if (jobs.GroupBy(j => j.Key[..j.Key.IndexOf(" job ", StringComparison.Ordinal)]).FirstOrDefault(g => g.Count() > 1) is { } mixed)
            throw new R2D2Exception($"merge: the {mixed.Key} shards given are of {mixed.Count()} different jobs ("
                + string.Join("; ", mixed.Select(j => $"{j.Value[0].Path}: {j.Key}")) + "): merge the shards of one job (same inputs and settings)");
        foreach (var (job, shards) in jobs)
        {
            var unfinished = shards.Where(s => !s.Done).ToList();
            if (unfinished.Count > 0)
                throw new FeatureDatabaseException(Path.GetFullPath(unfinished[0].Path), $"is shard {unfinished[0].Shard} of {job}, not complete: "
                    + "run that shard again (it resumes) before merging");
            var twice = shards.GroupBy(s => s.Shard.Index).FirstOrDefault(g => g.Count() > 1);
            if (twice != null) throw new R2D2Exception($"merge: shard {twice.Key} of {job} is given twice ({string.Join(", ", twice.Select(s => s.Path))})");
            int count = shards[0].Shard.Count;
            var missing = Enumerable.Range(0, count).Except(shards.Select(s => s.Shard.Index)).ToList();
            if (missing.Count > 0)
                throw new R2D2Exception($"merge: {job} lacks {(missing.Count == 1 ? "shard" : "shards")} {string.Join(", ", missing.Take(10))}{(missing.Count > 10 ? ", …" : "")}: give every shard's database");
        }
        var stages = jobs.Keys.Select(k => k.Split(' ')[0]).ToList();
        if (stages.Count != stages.Distinct().Count())
            throw new R2D2Exception($"merge: shards of {stages.Count} jobs of one stage ({string.Join("; ", jobs.Keys)}): give the shards of one run");
    }

    /// <summary>
    /// The query outputs of shards (each a submission with its .csv and .inliers.txt beside it, as
    /// `localize query --shard` writes them) as one, in the order of <paramref name="queries"/>.
    /// Every query must be in exactly one output (or in several with the same lines); a query in
    /// none (a shard that did not finish) or an output's query that is not in the list is refused,
    /// naming it, before anything is written.
    /// </summary>
    public static int QueryOutputs(string listPath, IReadOnlyList<string> outputs, string outPath, string? csvPath = null)
    {
        var queries = QueryInputs.ReadQueryNames(listPath);
        if (outputs.Count == 0) throw new UsageException("--queries needs --outputs A.txt B.txt ... (the shards' submissions)");
        if (outputs.GroupBy(o => Path.GetFullPath(o)).FirstOrDefault(g => g.Count() > 1) is { } twice)
            throw new R2D2Exception($"{twice.First()}: given twice in --outputs (each shard once)");
        // Said of the submission itself (its run description's absence was said instead).
        if (outputs.FirstOrDefault(o => !File.Exists(o)) is { } absent)
            throw new FileFormatException(absent, 0, Directory.Exists(absent) ? "is a folder, not a shard's submission" : "shard's submission not found");
        var csv = csvPath ?? Path.ChangeExtension(outPath, ".csv");
        // Every file of a shard is read: none may be an output (its matches file and run description were).
        var ins = outputs.SelectMany(o => Localization.QueryOutputs.Files(o).Select(f => ("shard " + f.Role, f.Path))).Append(("query list", listPath));
        var merged = Localization.QueryOutputs.Files(outPath, csv).Select(f => ("merged " + f.Role, f.Path)).ToList();
        OutputFile.RefuseInputs(merged, ins);
        OutputFile.RefuseBinaryOutputs(merged);
        // Shards of one run share its map, photos and settings (their run descriptions say so): outputs
        // against two maps would mix point ids in the merged inliers.
        // Every shard has its run description or none has (an older build's): with some missing, a
        // shard of another run would go unchecked and the merged description claim its queries.
        var described = outputs.Select(QueryRunInfo.PathFor).ToList();
        if (described.Any(File.Exists) && described.FirstOrDefault(p => !File.Exists(p)) is { } lacking)
            throw new FileFormatException(lacking, 0, $"not found, while {described.First(File.Exists)} is: every shard's outputs are merged with their run description "
                + "(copy all of a shard's files: .txt, .csv, .inliers.txt, .matches.txt, .run.json); nothing was written");
        (string Path, IReadOnlyList<(string, string)> Settings)? first = null;
        var shards = new Dictionary<Shard, string>();
        foreach (var o in described.Where(File.Exists))
        {
            var settings = QueryRunInfo.Read(o).Settings;
            // Each shard of one N once (older builds did not record it): a copy of a shard under another name, or shards of two Ns, were merged.
            if (QueryRunInfo.Setting(settings, "shard") is { } recorded)
            {
                var shard = Shard.Parse(recorded, _ => null);
                if (shards.Keys.FirstOrDefault(s => s.Count != shard.Count) is { Count: > 0 } other)
                    throw new FileFormatException(o, 0, $"this shard is {shard} and {shards[other]}'s {other}: shards of two runs of {other.Count} and {shard.Count} shards? (nothing was written)");
                if (shards.TryGetValue(shard, out var same))
                    throw new FileFormatException(o, 0, $"this shard is {shard}, as {same}'s: the same shard twice (a copy?) (nothing was written)");
                shards[shard] = o;
            }
            if (first == null) { first = (o, settings); continue; }
            var differences = QueryRunInfo.Differences(first.Value.Settings, settings);
            if (differences.Count > 0)
                throw new FileFormatException(o, 0, $"this shard's run differs from {first.Value.Path}'s ({string.Join("; ", differences)}): shards of two runs? (nothing was written)");
            // The list's content (its cameras), which a resume does not compare (a list may grow between runs).
            if (QueryRunInfo.Setting(first.Value.Settings, "query_list_sha256") is { } a && QueryRunInfo.Setting(settings, "query_list_sha256") is { } b && a != b)
                throw new FileFormatException(o, 0, $"this shard was localized with another query list than {first.Value.Path}'s (query_list_sha256: {a[..12]}… → {b[..12]}…: "
                    + "other names or cameras): shards of two runs? (nothing was written)");
        }
        var found = new Dictionary<string, (StoredQuery Query, string From)>(StringComparer.Ordinal);
        foreach (var o in outputs)
        {
            var oc = Path.ChangeExtension(o, ".csv");
            foreach (var f in new[] { o, oc })
                if (!File.Exists(f)) throw new FileFormatException(f, 0, "not found (a shard's output: the submission and its .csv beside it)");
            foreach (var (name, q) in Localization.QueryOutputs.ReadStored(o, oc))
            {
                if (found.TryGetValue(name, out var earlier) && (earlier.Query.Record.PoseLine != q.Record.PoseLine))
                    throw new FileFormatException(o, 0, $"query '{name}' is also in {earlier.From}, with another pose: outputs of two runs?");
                found.TryAdd(name, (q, o));
            }
        }
        var names = queries.Select(q => q.Name).ToHashSet(StringComparer.Ordinal);
        if (found.Keys.FirstOrDefault(n => !names.Contains(n)) is { } stray)
            throw new FileFormatException(found[stray].From, 0, $"query '{stray}' is not in the query list {listPath}: outputs of another list?");
        var missing = queries.Where(q => !found.ContainsKey(q.Name)).Select(q => q.Name).ToList();
        if (missing.Count > 0)
            throw new R2D2Exception(listPath, 0, $"{missing.Count} of {queries.Count} queries are in none of the outputs (e.g. {string.Join(", ", missing.Take(3))}): "
                + "a shard is missing or did not finish (rerun it; it resumes with --resume)");
        // The shards' run descriptions as one, written with the outputs: `query --resume` and
        // `report` take the merged outputs as one run's (shards of an older build may have none).
        var runs = outputs.Select(QueryRunInfo.PathFor).Where(File.Exists).Select(p => (p, File.ReadAllText(p))).ToList();
        var runInfo = runs.Count == 0 ? null : QueryRunInfo.Merged(runs, listPath, queries.Select(q => found[q.Name].Query.Status).ToList());
        Localization.QueryOutputs.Write(outPath, csv, queries.Select(q => found[q.Name].Query.Record).ToList(), runInfo);
        return queries.Count;
    }
}
