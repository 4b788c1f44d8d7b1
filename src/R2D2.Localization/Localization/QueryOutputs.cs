using System.Globalization;
using System.Text;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Localization;

/// <summary>
/// What a run of queries leaves on disk: the submission (<c>poses.txt</c>), the per-query CSV
/// (<c>poses.csv</c>: keypoints, matches, inliers, time per stage, fallback, warning) and the
/// inliers (<c>poses.inliers.txt</c>, <see cref="QueryInliers"/>), which reports draw. Written
/// after every query by `localize query` and read back by `--resume` and `localize report`.
/// </summary>
public static class QueryOutputs
{
    public const string CsvHeader = "name,localized,keypoints,matches,inliers,extract_s,match_s,pnp_s,fallback_image,warning";

    /// <summary>The inliers of a result with the map's point ids (empty when not localized).</summary>
    public static QueryInlierSet InlierSet(QueryResult r, MapIndex map) =>
        r.InlierXY != null && r.InlierPoints != null
            ? new QueryInlierSet(r.Name, r.InlierXY, r.InlierPoints.Select(i => map.Points[i].Id).ToArray())
            : new QueryInlierSet(r.Name, Array.Empty<float>(), Array.Empty<long>());

    /// <summary>Writes the three files (the inliers beside the submission).</summary>
    public static void Write(string posesPath, string csvPath, IReadOnlyList<QueryResult> results, IReadOnlyDictionary<string, QueryInlierSet> inliers)
    {
        Submission.Write(posesPath, results.Select(x => new ImagePose(x.Name, x.Pose)));
        WriteCsv(csvPath, results);
        QueryInliers.Write(QueryInliers.PathFor(posesPath), results.Select(r => inliers.TryGetValue(r.Name, out var s) ? s
            : new QueryInlierSet(r.Name, Array.Empty<float>(), Array.Empty<long>())));
    }

    public static void WriteCsv(string path, IEnumerable<QueryResult> results)
    {
        var sb = new StringBuilder(CsvHeader).Append('\n');
        var inv = CultureInfo.InvariantCulture;
        foreach (var x in results)
            sb.Append(string.Join(",", x.Name, x.Localized ? "1" : "0", x.Keypoints, x.Matches, x.Inliers,
                x.ExtractSeconds.ToString("F4", inv), x.MatchSeconds.ToString("F4", inv), x.PnpSeconds.ToString("F5", inv),
                x.FallbackImage ?? "", "\"" + (x.Warning ?? "").Replace("\"", "'") + "\"")).Append('\n');
        File.WriteAllText(path, sb.ToString());
    }

    /// <summary>The queries of an earlier run that are both in its CSV and in its submission,
    /// by the name the CSV gives (the query list's); missing files give none.</summary>
    public static Dictionary<string, QueryResult> Read(string posesPath, string csvPath)
    {
        var result = new Dictionary<string, QueryResult>();
        if (!File.Exists(posesPath) || !File.Exists(csvPath)) return result;
        var poses = Submission.Read(posesPath).ToDictionary(p => p.Name, p => p.Pose);
        var inv = CultureInfo.InvariantCulture;
        int lineNo = 1;
        foreach (var line in File.ReadLines(csvPath).Skip(1))
        {
            lineNo++;
            var f = line.Split(',');
            if (f.Length < 10 || !poses.TryGetValue(Submission.BaseName(f[0]), out var pose)) continue;
            try
            {
                var warning = string.Join(",", f.Skip(9)).Trim('"');
                result[f[0]] = new QueryResult(f[0], pose, f[1] == "1", int.Parse(f[2], inv), int.Parse(f[3], inv), int.Parse(f[4], inv),
                    double.Parse(f[5], inv), double.Parse(f[6], inv), double.Parse(f[7], inv), warning.Length > 0 ? warning : null, f[8].Length > 0 ? f[8] : null);
            }
            catch (FormatException) { throw new FileFormatException(csvPath, lineNo, "not a line of `localize query`'s CSV (" + CsvHeader + ")"); }
        }
        return result;
    }
}
