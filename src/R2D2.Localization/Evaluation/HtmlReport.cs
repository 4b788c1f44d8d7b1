using System.Globalization;
using System.Text;
using OpenCvSharp;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Mapping;

namespace R2D2.Localization.Evaluation;

/// <summary>
/// One self-contained HTML page about a localization run (pictures as data URIs, plots and the
/// top view as inline SVG, one inline script; nothing is fetched): the thresholds table and the
/// cumulative error plot (<see cref="ErrorPlot"/>), the settings, model and time per stage the run
/// recorded, a table of all queries that sorts and filters, the map in 3D and from above, and per
/// query a card: its picture beside the database image(s) sharing most of its matches with the
/// match lines (<see cref="ReportPictures"/>), the reason of a failure in words, and its pose,
/// a fallback labelled as such.
/// </summary>
public static class HtmlReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Gathers a report from the files of a run (<see cref="ReportLoader.Load"/>).</summary>
    public static ReportData Load(string mapPath, string posesPath, string? groundTruthPath, string? queryImageFolder, string? mapImageFolder,
        string? title = null) => ReportLoader.Load(mapPath, posesPath, groundTruthPath, queryImageFolder, mapImageFolder, title);

    /// <summary>The files <see cref="Load"/> reads, which a report must not overwrite.</summary>
    public static IEnumerable<(string Role, string? Path)> InputsOf(string mapPath, string posesPath, string? groundTruthPath) =>
        ReportLoader.InputsOf(mapPath, posesPath, groundTruthPath);

    /// <summary>Writes the page atomically, streamed: one string of it stopped .NET at ~36,000 queries
    /// ("Out of memory", a string holds at most ~1 G characters). <paramref name="onCard"/> is told of
    /// each query's card as it is written (progress).</summary>
    public static void Write(string htmlPath, ReportData data, Action<int, int>? onCard = null) =>
        OutputFile.Write(htmlPath, OutputFile.Text(w => Render(w, data, onCard)));

    private const string Style =
        "body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1500px}h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc}"
        + "h3{font-size:15px;margin:0 0 4px}nav a{margin-right:14px}"
        + "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f2f2f2}"
        + "td:first-child,th:first-child,td.t,th.t{text-align:left}#qtable th{cursor:pointer;user-select:none}#qtable th[aria-sort=ascending]::after{content:' ▲'}"
        + "#qtable th[aria-sort=descending]::after{content:' ▼'}#qtable tr.bad td{background:#fff3f3}.filters{margin:8px 0}.filters input{width:220px}"
        + ".q{border:1px solid #ddd;border-radius:6px;padding:10px;margin:12px 0}.q.bad{border-color:#d33}.imgs{display:flex;gap:10px;flex-wrap:wrap}.imgs figure{margin:0}"
        + "figcaption{font-size:12px;color:#555;max-width:640px}.ok{color:#183}.fail{color:#c22}.fb{color:#666;font-weight:bold}.why{color:#a11;font-weight:600}"
        + ".note{color:#555;font-size:13px}img{display:block}img.thumb{max-width:640px;width:100%;height:auto;cursor:zoom-in;border:1px solid #ccc}"
        + "#lightbox{position:fixed;inset:0;background:rgba(0,0,0,.85);overflow:auto;z-index:10;cursor:zoom-out}#lightbox img{margin:20px auto;max-width:none}"
        + ".views{display:flex;gap:16px;flex-wrap:wrap;align-items:flex-start}canvas#view3d{border:1px solid #ccc;max-width:100%;touch-action:none;cursor:grab}"
        + ".settings td{text-align:left;font-size:13px}.kv td:first-child{color:#555}.plot{margin:8px 0}.plot svg text{font-family:'DejaVu Sans',system-ui,sans-serif}";

    public static string Render(ReportData d)
    {
        var w = new StringWriter { NewLine = "\n" };
        Render(w, d, null);
        return w.ToString();
    }

    /// <summary>The page, written section by section and card by card (each built in a small buffer).</summary>
    public static void Render(TextWriter w, ReportData d, Action<int, int>? onCard)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(d.Title)).Append("</title>\n<style>")
          .Append(Style).Append("</style></head><body>\n");
        sb.Append("<h1>").Append(E(d.Title)).Append("</h1>\n");
        foreach (var n in d.Notes) sb.Append("<div class=\"note\">").Append(E(n)).Append("</div>\n");
        foreach (var n in d.Warnings) sb.Append("<div class=\"note\">Warning: ").Append(E(n)).Append("</div>\n");
        int failed = d.Queries.Count(q => !q.Localized);
        sb.Append("<div class=\"note\">map: ").Append(E(d.MapPath)).Append($", {d.Points.Count.ToString("N0", Inv)} points, {d.MapImages.Count} database images; ")
          .Append($"{d.Queries.Count} queries, {d.Queries.Count - failed} localized, {failed} not</div>\n");
        sb.Append("<nav class=\"note\"><a href=\"#results\">results</a><a href=\"#run\">run</a><a href=\"#table\">all queries</a>")
          .Append("<a href=\"#map\">map</a><a href=\"#queries\">query by query</a></nav>\n");

        Results(sb, d);
        Run(sb, d);
        var errors = d.Evaluation?.Queries.ToDictionary(q => q.Name);
        Table(sb, d, errors);
        sb.Append("<h2 id=\"map\">The map</h2>\n<div class=\"views\"><div>").Append(MapViews.View3D(d))
          .Append("<div class=\"note\">In 3D: map points in their colour, database cameras as blue frustums, each query's true position (green circle) "
                  + "and the pose the run gives it (red cross; grey: a fallback pose, a database image's). Drag to turn, wheel to zoom.</div></div>\n<div>")
          .Append(MapViews.TopView(d))
          .Append("<div class=\"note\">From above (the static view): the same, database cameras with their viewing direction and name; a dashed green circle is a query the run gave no pose, an estimate beyond the view is drawn at its edge with its distance.</div></div></div>\n");

        sb.Append("<h2 id=\"queries\">Query by query</h2>\n<div class=\"note\">Each picture: the query (left) beside the database image that shares most of its "
                  + "matched points (right); lines join a match to where that image sees the point, green for PnP-RANSAC inliers, red for outliers "
                  + "(at most ").Append(d.Options.MaxLinesPerKind).Append(" of each, sampled evenly); circles in the query mark all its matches. Click a picture to see it full size.</div>\n");
        var pointsById = d.Points.ToDictionary(p => p.Id);
        var drawn = PictureCards(d, errors);
        // Of the queries the run gave a line: a query missing from the submission has no picture to draw.
        int pictured = d.Queries.Count(q => !q.Missing);
        if (drawn.Count < pictured)
            sb.Append("<div class=\"note\">Pictures of ").Append(drawn.Count).Append(" of the ").Append(pictured).Append(" queries in the submission (at most ").Append(d.Options.MaxPictureCards)
              .Append(", those not localized or outside ").Append(E(ThresholdSet.Aachen.Thresholds[0].ToString())).Append(" first; `localize report --max-pictures`): the others' cards are text.</div>\n");
        w.Write(sb);
        sb.Clear();
        for (int i = 0; i < d.Queries.Count; i++)
        {
            var q = d.Queries[i];
            Card(sb, d, q, pointsById, errors?.GetValueOrDefault(q.Name), drawn.Contains(i));
            w.Write(sb);
            sb.Clear();
            onCard?.Invoke(i, d.Queries.Count);
        }
        w.Write("<div id=\"lightbox\" hidden><img alt=\"\"></div>\n<script>");
        w.Write(ReportScript.Source);
        w.Write("</script>\n</body></html>\n");
    }

    /// <summary>The queries whose cards get pictures: all when they are few, else the bad ones first
    /// (not localized, or outside the tightest threshold), then the others, in the run's order.</summary>
    private static HashSet<int> PictureCards(ReportData d, Dictionary<string, QueryError>? errors)
    {
        // A query without a pose has no picture to draw: it takes no place.
        var order = Enumerable.Range(0, d.Queries.Count).Where(i => !d.Queries[i].Missing).OrderBy(i => Good(d.Queries[i], errors?.GetValueOrDefault(d.Queries[i].Name)) ? 1 : 0).ThenBy(i => i);
        return order.Take(d.Options.MaxPictureCards).ToHashSet();
    }

    private static void Results(StringBuilder sb, ReportData d)
    {
        sb.Append("<h2 id=\"results\">Results</h2>\n");
        var reasons = d.Queries.Where(q => !q.Localized).GroupBy(q => q.Missing ? "no pose in the run" : QueryFailure.Words(q.Reason))
            .OrderByDescending(g => g.Count()).ToList();
        if (d.Evaluation is { } ev)
        {
            var thresholds = ThresholdSet.Aachen.Thresholds.Concat(new[] { StrechaLoc.Fine }).ToList();
            sb.Append("<table><tr><th>queries</th>");
            foreach (var t in thresholds) sb.Append("<th>").Append(E(t.ToString())).Append("</th>");
            sb.Append("<th>localized</th><th>median position</th><th>median rotation</th></tr>\n<tr><td>").Append(ev.Queries.Count).Append("</td>");
            foreach (var t in thresholds) sb.Append("<td>").Append((100 * ev.ShareWithin(t)).ToString("F1", Inv)).Append(" %</td>");
            // Of the queries the thresholds count (an estimate without a true pose is not one of them).
            var counted = ev.Queries.Select(q => q.Name).ToHashSet(StringComparer.Ordinal);
            sb.Append("<td>").Append(d.Queries.Count(q => q.Localized && counted.Contains(q.Name))).Append("</td><td>").Append(Metres(ev.MedianPositionMetres)).Append("</td><td>")
              .Append(Degrees(ev.MedianRotationRadians)).Append("</td></tr></table>\n");
        }
        else sb.Append("<p>No ground truth given: no errors.</p>\n");
        if (reasons.Count > 0)
        {
            sb.Append("<table><tr><th>not localized, because</th><th>queries</th></tr>\n");
            foreach (var g in reasons) sb.Append("<tr><td>").Append(E(g.Key)).Append("</td><td>").Append(g.Count()).Append("</td></tr>\n");
            sb.Append("</table>\n");
        }
        if (d.Evaluation is { } e)
        {
            var svg = ErrorPlot.Svg(new[] { new EvaluatedRun("queries", e) }, new ErrorPlotSettings
            {
                MinMetres = 0.001, MaxMetres = 10, Width = 900, Height = 520,
                Markers = ThresholdSet.Aachen.Thresholds.Concat(new[] { StrechaLoc.Fine }).ToList(),
            });
            // The document's XML declaration has no place inside HTML, nor do namespace declarations
            // (HTML puts <svg> in its namespace itself): the page then names no URL at all.
            int start = svg.IndexOf("<svg", StringComparison.Ordinal);
            svg = (start >= 0 ? svg[start..] : svg).Replace(" xmlns=\"http://www.w3.org/2000/svg\"", "").Replace(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"", "");
            sb.Append("<figure class=\"plot\">").Append(svg)
              .Append("<figcaption>Cumulative position error (dots: share within both the position and the rotation bound)</figcaption></figure>\n");
        }
    }

    private static void Run(StringBuilder sb, ReportData d)
    {
        sb.Append("<h2 id=\"run\">The run</h2>\n<div class=\"views\">");
        if (d.Run is { } run)
        {
            sb.Append("<div><table class=\"settings kv\"><tr><th colspan=\"2\">settings and model, as the query run recorded them</th></tr>\n");
            foreach (var (k, v) in run.Settings) sb.Append("<tr><td>").Append(E(k)).Append("</td><td>").Append(E(v)).Append("</td></tr>\n");
            sb.Append("</table></div>\n");
            Stages(sb, "time per stage of the query run", run.Stages);
        }
        else sb.Append("<p class=\"note\">The query run recorded no description (no <code>.run.json</code> beside the poses: another tool's submission, or a run of an older version).</p>");
        if (d.Timings.Count > 0) Stages(sb, "time per stage, all of the job", d.Timings);
        sb.Append("</div>\n");
    }

    private static void Stages(StringBuilder sb, string title, IEnumerable<(string Stage, double Seconds)> stages)
    {
        sb.Append("<div><table><tr><th colspan=\"2\">").Append(E(title)).Append("</th></tr><tr><th>stage</th><th>seconds</th></tr>\n");
        foreach (var (stage, s) in stages) sb.Append("<tr><td>").Append(E(stage)).Append("</td><td>").Append(s.ToString("F1", Inv)).Append("</td></tr>\n");
        sb.Append("</table></div>\n");
    }

    private static string StatusWord(ReportQuery q) =>
        q.Missing ? "missing" : q.Status is { } s ? QueryOutputs.Word(s) : q.Localized ? "localized" : "fallback";

    /// <summary>Good: localized and, with ground truth, within the tightest Aachen threshold.</summary>
    private static bool Good(ReportQuery q, QueryError? err) => q.Localized && (err == null || err.Within(ThresholdSet.Aachen.Thresholds[0]));

    private static void Table(StringBuilder sb, ReportData d, Dictionary<string, QueryError>? errors)
    {
        sb.Append("<h2 id=\"table\">All queries</h2>\n<div class=\"filters\"><input id=\"qfilter\" type=\"search\" placeholder=\"filter by name, status, reason\" aria-label=\"filter\"> ")
          .Append("<select id=\"qshow\" aria-label=\"show\"><option value=\"all\">all</option><option value=\"failed\">not localized</option>")
          .Append("<option value=\"localized\">localized</option>");
        if (errors != null) sb.Append("<option value=\"outside\">localized, outside ").Append(E(ThresholdSet.Aachen.Thresholds[0].ToString())).Append("</option>");
        sb.Append("</select> <span id=\"qcount\" class=\"note\">").Append(d.Queries.Count).Append(" queries</span> <span class=\"note\">(click a column's header to sort)</span></div>\n");
        sb.Append("<table id=\"qtable\"><thead><tr><th data-type=\"num\">#</th><th class=\"t\">query</th><th class=\"t\">status</th><th class=\"t\">reason</th>")
          .Append("<th data-type=\"num\">inliers</th><th data-type=\"num\">matches</th>");
        if (errors != null) sb.Append("<th data-type=\"num\">position error</th><th data-type=\"num\">rotation error</th>");
        sb.Append("<th data-type=\"num\">time (s)</th></tr></thead><tbody>\n");
        for (int i = 0; i < d.Queries.Count; i++)
        {
            var q = d.Queries[i];
            var err = errors?.GetValueOrDefault(q.Name);
            var show = new List<string> { q.Localized ? "localized" : "failed" };
            if (q.Localized && err != null && !err.Within(ThresholdSet.Aachen.Thresholds[0])) show.Add("outside");
            string reason = q.Localized ? "" : q.Missing ? "no pose in the run" : QueryFailure.Words(q.Reason);
            sb.Append("<tr data-i=\"").Append(i).Append("\" data-name=\"").Append(E(q.Name)).Append("\" data-show=\"").Append(string.Join(' ', show)).Append('"')
              .Append(Good(q, err) ? "" : " class=\"bad\"").Append("><td>").Append(i + 1).Append("</td><td class=\"t\"><a href=\"#q-").Append(E(q.Name)).Append("\">")
              .Append(E(q.Name)).Append("</a></td><td class=\"t\">").Append(StatusWord(q)).Append("</td><td class=\"t\">").Append(E(reason)).Append("</td><td>")
              .Append(q.Inliers).Append("</td><td>").Append(q.Matches).Append("</td>");
            if (errors != null)
            {
                double pos = err?.PositionMetres ?? double.PositiveInfinity, rot = err?.RotationRadians ?? double.PositiveInfinity;
                sb.Append("<td data-v=\"").Append(Num(pos)).Append("\">").Append(err == null ? "–" : Metres(pos)).Append("</td><td data-v=\"")
                  .Append(Num(rot * 180 / Math.PI)).Append("\">").Append(err == null ? "–" : Degrees(rot)).Append("</td>");
            }
            sb.Append("<td data-v=\"").Append(q.Seconds is double s ? Num(s) : "Infinity").Append("\">").Append(q.Seconds?.ToString("F2", Inv) ?? "–").Append("</td></tr>\n");
        }
        sb.Append("</tbody></table>\n");
    }

    private static string Num(double v) => double.IsPositiveInfinity(v) ? "Infinity" : double.IsNaN(v) ? "NaN" : v.ToString("R", Inv);

    private static void Card(StringBuilder sb, ReportData d, ReportQuery q, Dictionary<long, MapPoint> pointsById, QueryError? err, bool pictures)
    {
        sb.Append("<section class=\"q").Append(Good(q, err) ? "" : " bad").Append("\" id=\"q-").Append(E(q.Name)).Append("\"><h3>").Append(E(q.Name)).Append(' ');
        sb.Append(q.Localized ? "<span class=\"ok\">localized</span>" : $"<span class=\"fail\">not localized ({StatusWord(q)})</span>");
        // Counts the run's files do not give are said to be unknown, not 0 (another tool's submission, a missing query).
        bool countsKnown = q.Status != null || q.MatchSet != null || q.InlierSet != null;
        sb.Append(" <span class=\"note\">").Append(q.Missing ? "no pose in the run" : countsKnown ? $"{q.Inliers} inliers of {q.Matches} matches" : "inliers and matches unknown");
        if (q.Seconds is double secs) sb.Append(", ").Append(secs.ToString("F2", Inv)).Append(" s");
        sb.Append("</span></h3>\n");
        if (!q.Localized)
        {
            string why = q.Missing ? "the run has no pose for this query" + (q.Warning != null ? $" ({q.Warning})" : "")
                : QueryFailure.Explain(q.Reason, q.Matches, q.Inliers, d.Run?.MinInliers, q.Warning);
            sb.Append("<div class=\"why\">Why: ").Append(E(why)).Append("</div>\n");
        }
        sb.Append("<div class=\"note\">");
        if (q.Estimate == null) sb.Append("no pose");
        else if (q.IsFallback)
            sb.Append("<span class=\"fb\">fallback pose</span>: the pose of database image ").Append(E(q.FallbackImage ?? "?"))
              .Append(", written so the submission has a line for the query; not an estimate (position ").Append(Vec(q.Estimate.CameraCenter)).Append(')');
        else sb.Append("estimated position (").Append(Vec(q.Estimate.CameraCenter)).Append(')');
        if (q.Truth != null) sb.Append("; true position (").Append(Vec(q.Truth.CameraCenter)).Append(')');
        if (err != null && !err.Missing)
            sb.Append(q.IsFallback ? "; the fallback pose is " : "; error ").Append(Metres(err.PositionMetres)).Append(", ").Append(Degrees(err.RotationRadians))
              .Append(q.IsFallback ? " off" : "");
        sb.Append("</div>\n");
        if (!q.Missing && pictures) Pictures(sb, d, q, pointsById);
        sb.Append("</section>\n");
    }

    private static void Pictures(StringBuilder sb, ReportData d, ReportQuery q, Dictionary<long, MapPoint> pointsById)
    {
        var o = d.Options;
        // Runs written before the matches file have the inliers only.
        var matches = q.MatchSet ?? (q.InlierSet is { } s ? new QueryMatchSet(q.Name, s.XY, s.PointIds, Enumerable.Repeat(true, s.Count).ToArray())
            : QueryMatchSet.Empty(q.Name));
        var best = ReportPictures.BestImages(matches, pointsById, q.Localized ? 1 : o.DatabaseImagesForFailures, byInliers: q.Localized);
        // The fallback pose's image is shown among them: the card names it.
        if (!q.Localized && q.FallbackImage != null && d.MapImages.FirstOrDefault(kv => kv.Value.Name == q.FallbackImage) is { Value.Name: not null } fb
            && best.All(b => b.Id != fb.Key) && best.Count > 0)
            best[^1] = (fb.Key, ReportPictures.BestImages(matches, pointsById, int.MaxValue, byInliers: false).FirstOrDefault(b => b.Id == fb.Key).Shared);
        if (best.Count == 0 && q.FallbackImage != null)
            foreach (var (id, im) in d.MapImages)
                if (im.Name == q.FallbackImage) { best.Add((id, 0)); break; }
        using var query = q.ImagePath != null && File.Exists(q.ImagePath) ? TryRead(q.ImagePath) : null;
        string missing = q.ImagePath == null ? "no query image given" : q.Status == QueryStatus.Unreadable || File.Exists(q.ImagePath) ? "image unreadable" : "image not found";
        if (best.Count == 0 && query == null) return;
        if (best.Count == 0) best.Add((-1, 0));
        int width = d.Queries.Count > o.SmallPicturesAbove ? o.PictureWidth / 2 : o.PictureWidth;
        sb.Append("<div class=\"imgs\">");
        foreach (var (id, shared) in best)
        {
            d.MapImages.TryGetValue(id, out var mi);
            string? path = mi.Name != null && d.MapImageFolder != null ? Path.Combine(d.MapImageFolder, mi.Name) : null;
            using var db = path != null && File.Exists(path) ? TryRead(path) : null;
            var drawn = id >= 0 ? ReportPictures.InImage(matches, id, pointsById, d.MapKeypoints?.Invoke(id)) : new List<DrawnMatch>();
            var (jpeg, st) = ReportPictures.Draw(query, db, drawn, width, o.MaxLinesPerKind, o.JpegQuality, missing);
            string dbName = mi.Name ?? "none (the run recorded no match of this query)";
            sb.Append("<figure><img class=\"thumb\" loading=\"lazy\" alt=\"query ").Append(E(q.Name)).Append(" and database image ").Append(E(dbName))
              .Append("\" src=\"data:image/jpeg;base64,").Append(Convert.ToBase64String(jpeg)).Append("\"><figcaption>left: query ").Append(E(q.Name))
              .Append("; right: database image ").Append(E(dbName));
            if (shared > 0) sb.Append(q.Localized && matches.InlierCount > 0 ? $", which sees {shared} of the {matches.InlierCount} inliers" : $", which sees {shared} of the {matches.Count} matched points");
            else if (mi.Name != null) sb.Append(" (the fallback pose's image; it sees none of the matches)");
            if (db == null && mi.Name != null) sb.Append(" (not found in ").Append(E(d.MapImageFolder ?? "no folder")).Append(')');
            if (id < 0) { sb.Append(".</figcaption></figure>"); continue; }
            sb.Append(". Lines: ").Append(st.InlierLines).Append(" of ").Append(st.InliersInImage).Append(" inliers (green), ")
              .Append(st.OutlierLines).Append(" of ").Append(st.OutliersInImage).Append(" outliers (red) that this image sees.</figcaption></figure>");
        }
        sb.Append("</div>\n");
    }

    private static Mat? TryRead(string path)
    {
        try { return ImageFile.ToBgrMat(ImageFile.ReadRgb(path)); }
        catch (Exception e) when (e is R2D2Exception or IOException or UnauthorizedAccessException or NotSupportedException) { return null; }
    }

    private static string E(string s) => HtmlText.E(s);
    // + 0.0 turns a −0.001 rounded to "-0.00" into "0.00".
    private static string Vec(double[] c) => string.Join(", ", c.Select(v => (Math.Round(v, 2) + 0.0).ToString("F2", Inv)));
    private static string Metres(double m) => double.IsPositiveInfinity(m) ? "∞" : double.IsNaN(m) ? "–" : m < 1 ? (m * 100).ToString("F1", Inv) + " cm" : m.ToString("F2", Inv) + " m";
    private static string Degrees(double r) => double.IsPositiveInfinity(r) ? "∞" : double.IsNaN(r) ? "–" : (r * 180 / Math.PI).ToString("F2", Inv) + "°";
}
