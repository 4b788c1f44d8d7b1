using System.Globalization;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Localization;

/// <summary>What became of a query. All but <see cref="Localized"/> carry a fallback pose.</summary>
public enum QueryStatus
{
    Localized,
    /// <summary>Localization ran but found no pose (too few matches or inliers).</summary>
    Fallback,
    /// <summary>The image could not be read (missing, unreadable, not an image).</summary>
    Unreadable,
    /// <summary>Localization stopped with an error (bad camera, numerical failure, ...).</summary>
    Failed,
}

/// <summary>One query's lines in the four output files (without line breaks).</summary>
public sealed record QueryRecord(string PoseLine, string CsvLine, string InliersLine, string MatchesLine);

/// <summary>A query of an earlier run: its result as read back, and its lines as they stand.</summary>
public sealed record StoredQuery(QueryResult Result, QueryStatus Status, QueryRecord Record);

/// <summary>
/// What a run of queries leaves on disk: the submission (<c>poses.txt</c>), the per-query CSV
/// (<c>poses.csv</c>, RFC 4180: keypoints, matches, inliers, time per stage, fallback image,
/// warning, status), the inliers (<c>poses.inliers.txt</c>, <see cref="QueryInliers"/>) and all
/// matches with their RANSAC verdict (<c>poses.matches.txt</c>, <see cref="QueryMatches"/>), which
/// reports draw. Written whole as queries finish (each file atomically, see <see cref="OutputFile"/>)
/// and read back by a resumed run and by `localize report`. The run's settings and time per stage
/// go beside them (<see cref="QueryRunInfo"/>).
/// </summary>
public static class QueryOutputs
{
    private static readonly string[] Columns =
        { "name", "localized", "keypoints", "matches", "inliers", "extract_s", "match_s", "pnp_s", "fallback_image", "warning", "status" };
    public static readonly string CsvHeader = string.Join(",", Columns);

    /// <summary>The CSV's word for each status.</summary>
    public static string Word(QueryStatus s) => s switch
    {
        QueryStatus.Localized => "localized",
        QueryStatus.Fallback => "fallback",
        QueryStatus.Unreadable => "unreadable",
        _ => "failed",
    };

    /// <summary>The inliers of a result with the map's point ids (empty when not localized).</summary>
    public static QueryInlierSet InlierSet(QueryResult r, MapIndex map) =>
        r.InlierXY != null && r.InlierPoints != null
            ? new QueryInlierSet(r.Name, r.InlierXY, r.InlierPoints.Select(i => map.Points[i].Id).ToArray())
            : new QueryInlierSet(r.Name, Array.Empty<float>(), Array.Empty<long>());

    /// <summary>All matches of a result with the map's point ids and RANSAC's verdicts (empty when none were recorded).</summary>
    public static QueryMatchSet MatchSet(QueryResult r, MapIndex map) =>
        r.MatchXY != null && r.MatchPoints != null && r.MatchInliers != null
            ? new QueryMatchSet(r.Name, r.MatchXY, r.MatchPoints.Select(i => map.Points[i].Id).ToArray(), r.MatchInliers)
            : QueryMatchSet.Empty(r.Name);

    /// <summary>The four lines of a new result.</summary>
    public static QueryRecord Format(QueryResult r, QueryStatus status, MapIndex map, int submissionFolders = 0) =>
        new(Submission.FormatLine(new ImagePose(r.Name, r.Pose), submissionFolders), FormatCsv(r, status), QueryInliers.FormatLine(InlierSet(r, map)),
            QueryMatches.FormatLine(MatchSet(r, map)));

    public static string FormatCsv(QueryResult x, QueryStatus status)
    {
        var inv = CultureInfo.InvariantCulture;
        return string.Join(",", Csv.Field(x.Name), x.Localized ? "1" : "0", x.Keypoints.ToString(inv), x.Matches.ToString(inv), x.Inliers.ToString(inv),
            x.ExtractSeconds.ToString("F4", inv), x.MatchSeconds.ToString("F4", inv), x.PnpSeconds.ToString("F5", inv),
            Csv.Field(x.FallbackImage ?? ""), Csv.Field(x.Warning ?? "", quote: true), Word(status));
    }

    /// <summary>Writes the four files from the records, together (<see cref="OutputFile.WriteAllTextsTogether"/>:
    /// all written, then all renamed), the submission last, so a query in the submission is in the
    /// others too.</summary>
    /// <summary>The files a run of queries writes beside its submission, with their roles.</summary>
    public static IReadOnlyList<(string Role, string? Path)> Files(string posesPath, string? csvPath = null) => new (string, string?)[]
    {
        ("submission", posesPath), ("CSV", csvPath ?? Path.ChangeExtension(posesPath, ".csv")), ("inliers file", QueryInliers.PathFor(posesPath)),
        ("matches file", QueryMatches.PathFor(posesPath)), ("run description", QueryRunInfo.PathFor(posesPath)),
    };

    /// <param name="runInfo">the run description's text to write with them (a merge's), or null</param>
    public static void Write(string posesPath, string csvPath, IReadOnlyList<QueryRecord> records, string? runInfo = null)
    {
        // Line by line: one string of a file stopped .NET past ~1 G characters (Aachen-sized match
        // lines at ~25,000 queries).
        static Action<Stream> Lines(string? header, IEnumerable<string> lines) => OutputFile.Text(w =>
        {
            if (header != null) w.WriteLine(header);
            foreach (var line in lines) w.WriteLine(line);
        });
        var files = new List<(string, Action<Stream>)>
        {
            (QueryMatches.PathFor(posesPath), Lines(null, records.Select(r => r.MatchesLine))),
            (QueryInliers.PathFor(posesPath), Lines(null, records.Select(r => r.InliersLine))),
            (csvPath, Lines(CsvHeader, records.Select(r => r.CsvLine))),
        };
        if (runInfo != null) files.Add((QueryRunInfo.PathFor(posesPath), OutputFile.Text(w => w.Write(runInfo))));
        files.Add((posesPath, Lines(null, records.Select(r => r.PoseLine))));
        OutputFile.WriteTogether(files);
    }

    /// <summary>The queries of an earlier run that are both in its CSV and in its submission,
    /// by the name the CSV gives (the query list's); missing files give none.</summary>
    public static Dictionary<string, QueryResult> Read(string posesPath, string csvPath) =>
        ReadStored(posesPath, csvPath).ToDictionary(kv => kv.Key, kv => kv.Value.Result);

    /// <summary>As <see cref="Read"/>, with each query's status and lines (its inliers and matches
    /// lines from the files beside the submission; empty sets when they lack it, as for runs
    /// written before the matches file).</summary>
    public static Dictionary<string, StoredQuery> ReadStored(string posesPath, string csvPath)
    {
        var result = new Dictionary<string, StoredQuery>(StringComparer.Ordinal);
        // A submission named .csv (another tool's) is its own "side CSV": it has none.
        if (!File.Exists(posesPath) || !File.Exists(csvPath) || OutputFile.RealPath(csvPath) == OutputFile.RealPath(posesPath)) return result;
        var poses = new Dictionary<string, (ImagePose Image, string Line)>(StringComparer.Ordinal);
        foreach (var p in Submission.ReadLines(posesPath)) poses[p.Image.Name] = p;
        var inliersPath = QueryInliers.PathFor(posesPath);
        var inliers = File.Exists(inliersPath) ? QueryInliers.ReadLines(inliersPath) : new();
        var matchesPath = QueryMatches.PathFor(posesPath);
        var matches = File.Exists(matchesPath) ? QueryMatches.ReadLines(matchesPath) : new();
        var records = Csv.Read(File.ReadAllText(csvPath), csvPath).Where(r => r.Raw.Length > 0).ToList();
        if (records.Count == 0) return result;
        var column = ColumnsOf(records[0], csvPath);
        // Lines of this version's CSV are kept as they are; older ones are written anew.
        bool current = records[0].Raw == CsvHeader;
        var inv = CultureInfo.InvariantCulture;
        foreach (var rec in records.Skip(1))
        {
            string F(string name) => column.TryGetValue(name, out int i) && i < rec.Fields.Count ? rec.Fields[i]
                : throw new FileFormatException(csvPath, rec.Line, $"no '{name}' field");
            var name = Csv.Text(F("name"));
            // The submission names it by base name, or with its camera folder(s) (--submission-folders).
            if (name.Length == 0 || Submission.CandidateNames(name).FirstOrDefault(poses.ContainsKey) is not { } inSubmission) continue;
            var pose = poses[inSubmission];
            QueryResult r;
            try
            {
                var warning = Csv.Text(F("warning"));
                var fallback = Csv.Text(F("fallback_image"));
                r = new QueryResult(name, pose.Image.Pose, F("localized") == "1", int.Parse(F("keypoints"), inv), int.Parse(F("matches"), inv),
                    int.Parse(F("inliers"), inv), double.Parse(F("extract_s"), inv), double.Parse(F("match_s"), inv), double.Parse(F("pnp_s"), inv),
                    warning.Length > 0 ? warning : null, fallback.Length > 0 ? fallback : null);
            }
            catch (Exception e) when (e is FormatException or OverflowException) { throw new FileFormatException(csvPath, rec.Line, "not a line of `localize query`'s CSV (" + CsvHeader + ")"); }
            // CSVs written before the status column: not localized was a fallback.
            var status = column.ContainsKey("status") ? ParseStatus(F("status"), csvPath, rec.Line)
                : r.Localized ? QueryStatus.Localized : QueryStatus.Fallback;
            var inlierLine = inliers.TryGetValue(name, out var il) ? il.Line
                : QueryInliers.FormatLine(new QueryInlierSet(name, Array.Empty<float>(), Array.Empty<long>()));
            var matchLine = matches.TryGetValue(name, out var ml) ? ml.Line : QueryMatches.FormatLine(QueryMatchSet.Empty(name));
            result[name] = new StoredQuery(r, status, new QueryRecord(pose.Line, current ? rec.Raw : FormatCsv(r, status), inlierLine, matchLine));
        }
        return result;
    }

    /// <summary>The query names of a run's CSV, in its order (the query list's).</summary>
    public static List<string> CsvNames(string csvPath)
    {
        var records = Csv.Read(File.ReadAllText(csvPath), csvPath).Where(r => r.Raw.Length > 0).ToList();
        if (records.Count == 0) return new();
        int name = ColumnsOf(records[0], csvPath)["name"];
        return records.Skip(1).Select(r => name < r.Fields.Count ? Csv.Text(r.Fields[name]) : "").Where(n => n.Length > 0).ToList();
    }

    private static Dictionary<string, int> ColumnsOf(CsvRecord header, string path)
    {
        var column = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < header.Fields.Count; i++) column.TryAdd(header.Fields[i], i);
        foreach (var c in Columns.Where(c => c != "status"))
            if (!column.ContainsKey(c))
                throw new FileFormatException(path, header.Line, $"the header lacks '{c}'; not the CSV of `localize query` ({CsvHeader})");
        return column;
    }

    private static QueryStatus ParseStatus(string word, string path, int line)
    {
        foreach (var s in Enum.GetValues<QueryStatus>())
            if (Word(s) == word) return s;
        throw new FileFormatException(path, line, $"status '{word}' is not one of {string.Join(", ", Enum.GetValues<QueryStatus>().Select(Word))}");
    }
}
