using System.Globalization;
using System.Text;
using OpenCvSharp;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Localization;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Evaluation;

/// <summary>One query of a report: its estimate (null: the run has none for it), the truth when known, its inliers.</summary>
public sealed record ReportQuery(string Name, Pose? Estimate, Pose? Truth, bool Localized, int Matches, int Inliers,
    QueryInlierSet? InlierSet, string? FallbackImage, string? Warning, string? ImagePath);

/// <summary>Everything a report shows; <see cref="HtmlReport.Load"/> gathers it from a run's files.</summary>
public sealed record ReportData(string Title, string MapPath, IReadOnlyList<MapPoint> Points,
    IReadOnlyDictionary<int, (string Name, Pose Pose)> MapImages, string? MapImageFolder, IReadOnlyList<ReportQuery> Queries,
    PoseEvaluationResult? Evaluation)
{
    /// <summary>Time per stage (seconds), shown as a table when given.</summary>
    public IReadOnlyList<(string Stage, double Seconds)> Timings { get; init; } = Array.Empty<(string, double)>();
    /// <summary>Lines shown under the title (model, scene, command).</summary>
    public IReadOnlyList<string> Notes { get; init; } = Array.Empty<string>();
    /// <summary>Keypoints of a map image (for drawing where the matched points are in it); null: none drawn.</summary>
    public Func<int, Keypoints?>? MapKeypoints { get; init; }
}

/// <summary>
/// One self-contained HTML page about a localization run (images as data URIs, the map as inline
/// SVG; nothing is fetched): the thresholds table and the cumulative error plot (<see cref="ErrorPlot"/>),
/// the map's points seen from above with the database cameras and each query's true and
/// estimated position, and per query its image with the PnP inliers, the database image that
/// shares most of those points (with them marked), and the estimated and true positions.
/// </summary>
public static class HtmlReport
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>Gathers a report from the files of a run: the map database, the submission
    /// (with the CSV and inliers file beside it when present) and, optionally, the ground truth and
    /// the image folders.</summary>
    public static ReportData Load(string mapPath, string posesPath, string? groundTruthPath, string? queryImageFolder, string? mapImageFolder,
        string? title = null)
    {
        if (!File.Exists(mapPath)) throw new FileFormatException(mapPath, 0, "map database not found");
        if (queryImageFolder != null && !Directory.Exists(queryImageFolder))
            throw new FileFormatException(queryImageFolder, 0, "query image folder not found");
        if (mapImageFolder != null && !Directory.Exists(mapImageFolder))
            throw new FileFormatException(mapImageFolder, 0, "map image folder not found");
        List<MapPoint> points;
        Dictionary<int, (string Name, Pose Pose)> images;
        using (var db = FeatureDatabase.OpenReadOnly(mapPath))
        {
            if (!db.HasMap) throw new FeatureDatabaseException(mapPath, "holds no map (run build-map first)");
            points = db.ReadMap();
            images = db.ReadImages().Where(i => i.PriorRotation != null && i.PriorTranslation != null)
                .ToDictionary(i => i.Id, i => (i.Name, i.PriorPose!));
            mapImageFolder ??= db.ReadNote("image_root");
        }
        var estimates = Submission.Read(posesPath);
        var csv = QueryOutputs.Read(posesPath, Path.ChangeExtension(posesPath, ".csv")).Values.ToDictionary(r => Submission.BaseName(r.Name));
        var inlierPath = QueryInliers.PathFor(posesPath);
        var inliers = File.Exists(inlierPath) ? QueryInliers.Read(inlierPath).Values.ToDictionary(s => Submission.BaseName(s.Name)) : new();
        var truth = groundTruthPath != null ? Submission.Read(groundTruthPath) : null;
        if (truth is { Count: 0 }) throw new FileFormatException(groundTruthPath!, 0, "no poses in the ground truth; nothing to evaluate against");
        var truthByName = truth?.ToDictionary(t => t.Name, t => t.Pose);
        var fullNames = csv.ToDictionary(kv => kv.Key, kv => kv.Value.Name);
        var queries = estimates.Select(e =>
        {
            csv.TryGetValue(e.Name, out var row);
            inliers.TryGetValue(e.Name, out var set);
            string? img = queryImageFolder == null ? null : Path.Combine(queryImageFolder, fullNames.GetValueOrDefault(e.Name, e.Name));
            return new ReportQuery(e.Name, e.Pose, truthByName?.GetValueOrDefault(e.Name), row?.Localized ?? true, row?.Matches ?? 0,
                row?.Inliers ?? set?.Count ?? 0, set, row?.FallbackImage, row?.Warning, img);
        }).ToList();
        // Ground-truth queries without an estimate are listed too (as missing).
        if (truth != null)
            foreach (var t in truth.Where(t => estimates.All(e => e.Name != t.Name)))
                queries.Add(new ReportQuery(t.Name, null, t.Pose, false, 0, 0, null, null, "no estimate in " + posesPath, null));
        var evaluation = truth != null ? PoseEvaluation.Evaluate(estimates, truth) : null;
        return new ReportData(title ?? $"Localization report: {Path.GetFileName(posesPath)} against {Path.GetFileName(mapPath)}", mapPath, points, images,
            mapImageFolder, queries, evaluation)
        {
            // Read when drawn (one image per query), not all at once: a large map holds gigabytes of keypoints.
            MapKeypoints = id => { using var db = FeatureDatabase.OpenReadOnly(mapPath); return db.ReadKeypoints(id); },
        };
    }

    /// <summary>The files <see cref="Load"/> reads, which a report must not overwrite.</summary>
    public static IEnumerable<(string Role, string? Path)> InputsOf(string mapPath, string posesPath, string? groundTruthPath) => new[]
    {
        ("map", mapPath), ("poses", posesPath), ("CSV", Path.ChangeExtension(posesPath, ".csv")),
        ("inliers file", QueryInliers.PathFor(posesPath)), ("ground truth", groundTruthPath),
    };

    public static void Write(string htmlPath, ReportData data)
    {
        OutputFile.WriteAllText(htmlPath, Render(data));
    }

    public static string Render(ReportData d)
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(d.Title)).Append("</title>\n<style>\n")
          .Append("body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc}")
          .Append("table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f2f2f2}td:first-child,th:first-child{text-align:left}")
          .Append(".q{border:1px solid #ddd;border-radius:6px;padding:10px;margin:12px 0}.q.bad{border-color:#d33}.imgs{display:flex;gap:10px;flex-wrap:wrap}.imgs figure{margin:0}")
          .Append("figcaption{font-size:12px;color:#555}.ok{color:#183}.fail{color:#c22}.note{color:#555;font-size:13px}img{display:block}\n</style></head><body>\n");
        sb.Append("<h1>").Append(E(d.Title)).Append("</h1>\n");
        foreach (var n in d.Notes) sb.Append("<div class=\"note\">").Append(E(n)).Append("</div>\n");
        sb.Append("<div class=\"note\">map: ").Append(E(d.MapPath)).Append($", {d.Points.Count.ToString("N0", Inv)} points, {d.MapImages.Count} images; {d.Queries.Count} queries</div>\n");

        sb.Append("<h2 id=\"results\">Results</h2>\n");
        if (d.Evaluation is { } ev)
        {
            var thresholds = ThresholdSet.Aachen.Thresholds.Concat(new[] { StrechaLoc.Fine }).ToList();
            sb.Append("<table><tr><th>queries</th>");
            foreach (var t in thresholds) sb.Append("<th>").Append(E(t.ToString())).Append("</th>");
            sb.Append("<th>localized</th><th>median position</th><th>median rotation</th></tr>\n<tr><td>")
              .Append(ev.Queries.Count).Append("</td>");
            foreach (var t in thresholds) sb.Append("<td>").Append((100 * ev.ShareWithin(t)).ToString("F1", Inv)).Append(" %</td>");
            int localized = d.Queries.Count(q => q.Localized);
            sb.Append("<td>").Append(localized).Append("</td><td>").Append(Metres(ev.MedianPositionMetres)).Append("</td><td>")
              .Append(Degrees(ev.MedianRotationRadians)).Append("</td></tr></table>\n");
            sb.Append("<div class=\"imgs\">");
            using var plot = ErrorPlot.Render(new[] { new EvaluatedRun("queries", ev) }, new ErrorPlotSettings
            {
                MinMetres = 0.001, MaxMetres = 10, Width = 900, Height = 520,
                Markers = thresholds,
            });
            sb.Append("<figure><img alt=\"cumulative error plot\" src=\"").Append(DataUri(plot, ".png")).Append("\"><figcaption>Cumulative position error")
              .Append(" (dots: share within both the position and the rotation bound)</figcaption></figure>\n");
        }
        else sb.Append("<p>No ground truth given: no errors.</p>\n<div class=\"imgs\">");
        if (d.Timings.Count > 0)
        {
            sb.Append("<table><tr><th>stage</th><th>seconds</th></tr>\n");
            foreach (var (stage, s) in d.Timings) sb.Append("<tr><td>").Append(E(stage)).Append("</td><td>").Append(s.ToString("F1", Inv)).Append("</td></tr>\n");
            sb.Append("</table>\n");
        }
        sb.Append("</div>\n");

        sb.Append("<h2 id=\"map\">The map from above</h2>\n").Append(TopView(d)).Append('\n')
          .Append("<div class=\"note\">Dots: map points, in their colour; blue: database cameras (line: viewing direction); "
                  + "green circle: a query's true position; red cross: its estimate.</div>\n");

        sb.Append("<h2 id=\"queries\">Queries</h2>\n");
        var pointsById = d.Points.ToDictionary(p => p.Id);
        var errorsByName = d.Evaluation?.Queries.ToDictionary(q => q.Name);
        foreach (var q in d.Queries) QuerySection(sb, d, q, pointsById, errorsByName?.GetValueOrDefault(q.Name));
        sb.Append("</body></html>\n");
        return sb.ToString();
    }

    private static void QuerySection(StringBuilder sb, ReportData d, ReportQuery q, Dictionary<long, MapPoint> pointsById, QueryError? err)
    {
        bool good = q.Localized && (err == null || err.Within(ThresholdSet.Aachen.Thresholds[0]));
        sb.Append("<div class=\"q").Append(good ? "" : " bad").Append("\" id=\"q-").Append(E(q.Name)).Append("\"><b>").Append(E(q.Name)).Append("</b> ");
        sb.Append(q.Localized ? "<span class=\"ok\">localized</span>" : "<span class=\"fail\">not localized</span>");
        sb.Append($", {q.Inliers} inliers");
        if (q.Matches > 0) sb.Append($" of {q.Matches} matches");
        if (err != null && !err.Missing) sb.Append($"; error {Metres(err.PositionMetres)}, {Degrees(err.RotationRadians)}");
        sb.Append("<br><span class=\"note\">");
        sb.Append(q.Estimate != null ? "estimated position (" + Vec(q.Estimate.CameraCenter) + ")" : "no estimate");
        if (q.Truth != null) sb.Append(", true position (").Append(Vec(q.Truth.CameraCenter)).Append(")");
        sb.Append("</span>");
        if (q.Warning != null) sb.Append("<br><span class=\"note\">").Append(E(q.Warning)).Append("</span>");
        sb.Append("<div class=\"imgs\">");
        // The query with its inliers.
        if (q.ImagePath != null && File.Exists(q.ImagePath))
        {
            using var img = Read(q.ImagePath);
            if (q.InlierSet is { } s) DrawPoints(img, Enumerable.Range(0, s.Count).Select(i => (s.XY[2 * i], s.XY[2 * i + 1])));
            using var small = Shrink(img);
            sb.Append("<figure><img alt=\"query\" src=\"").Append(DataUri(small, ".jpg")).Append("\"><figcaption>query ").Append(E(q.Name))
              .Append($", {q.InlierSet?.Count ?? 0} inliers (green)</figcaption></figure>");
        }
        // The database image sharing most inlier points.
        var (dbId, shared) = MatchedImage(d, q, pointsById);
        if (dbId is int id && d.MapImages.TryGetValue(id, out var mi))
        {
            string? path = d.MapImageFolder != null ? Path.Combine(d.MapImageFolder, mi.Name) : null;
            if (path != null && File.Exists(path))
            {
                using var img = Read(path);
                var kp = d.MapKeypoints?.Invoke(id);
                if (kp != null && q.InlierSet is { } s)
                    DrawPoints(img, s.PointIds.Where(pointsById.ContainsKey).SelectMany(pid => pointsById[pid].Track.Where(e => e.ImageId == id))
                        .Where(e => e.KeypointIndex < kp.Count).Select(e => (kp.X[e.KeypointIndex], kp.Y[e.KeypointIndex])));
                using var small = Shrink(img);
                sb.Append("<figure><img alt=\"matched database image\" src=\"").Append(DataUri(small, ".jpg")).Append("\"><figcaption>database image ")
                  .Append(E(mi.Name)).Append(shared > 0 ? $", sharing {shared} of the inlier points (green)" : " (the fallback pose's)").Append("</figcaption></figure>");
            }
            else sb.Append("<p class=\"note\">matched database image: ").Append(E(mi.Name)).Append(shared > 0 ? $" ({shared} shared inlier points)" : "").Append("</p>");
        }
        sb.Append("</div></div>\n");
    }

    /// <summary>The map image observing most of the query's inlier points (or its fallback image), and how many.</summary>
    internal static (int? Id, int Shared) MatchedImage(ReportData d, ReportQuery q, Dictionary<long, MapPoint> pointsById)
    {
        var votes = new Dictionary<int, int>();
        if (q.InlierSet is { } s)
            foreach (var pid in s.PointIds)
                if (pointsById.TryGetValue(pid, out var p))
                    foreach (var imageId in p.Track.Select(e => e.ImageId).Distinct())
                        votes[imageId] = votes.GetValueOrDefault(imageId) + 1;
        if (votes.Count > 0)
        {
            var best = votes.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).First();
            return (best.Key, best.Value);
        }
        if (q.FallbackImage != null)
            foreach (var (id, im) in d.MapImages)
                if (im.Name == q.FallbackImage) return (id, 0);
        return (null, 0);
    }

    /// <summary>The map from above as SVG: the ground plane is the one across the cameras' mean "down" axis.</summary>
    private static string TopView(ReportData d)
    {
        var cams = d.MapImages.Values.Select(i => i.Pose).ToList();
        // Vertical axis: the world axis most aligned with the cameras' mean down direction (row 2 of R).
        var down = new double[3];
        foreach (var p in cams) for (int k = 0; k < 3; k++) down[k] += p.Rotation[3 + k];
        int vert = Enumerable.Range(0, 3).OrderByDescending(k => Math.Abs(down[k])).First();
        int a = vert == 0 ? 1 : 0, b = vert == 2 ? 1 : 2;
        // Screen x = axis a, screen y = axis b; seen from above (against "up" = −down) it must not be mirrored:
        // e_a × e_b must point away from the viewer, i.e. along "down".
        double cross = Cross(a, b, vert);
        double sb = cross * down[vert] > 0 ? 1 : -1;
        var pts = new List<(double X, double Y)>();
        foreach (var p in cams) { var c = p.CameraCenter; pts.Add((c[a], sb * c[b])); }
        foreach (var q in d.Queries)
        {
            if (q.Estimate != null) { var c = q.Estimate.CameraCenter; pts.Add((c[a], sb * c[b])); }
            if (q.Truth != null) { var c = q.Truth.CameraCenter; pts.Add((c[a], sb * c[b])); }
        }
        var mapXY = d.Points.Select(p => { double[] x = { p.X, p.Y, p.Z }; return (X: x[a], Y: sb * x[b]); }).ToList();
        // Extent: all cameras and the central 98% of the points (a few far points must not shrink the picture).
        double Q(IEnumerable<double> v, double f) { var s = v.OrderBy(x => x).ToArray(); return s.Length == 0 ? 0 : s[(int)Math.Clamp(f * (s.Length - 1), 0, s.Length - 1)]; }
        var xs = pts.Select(p => p.X).Concat(new[] { Q(mapXY.Select(p => p.X), 0.01), Q(mapXY.Select(p => p.X), 0.99) }).ToList();
        var ys = pts.Select(p => p.Y).Concat(new[] { Q(mapXY.Select(p => p.Y), 0.01), Q(mapXY.Select(p => p.Y), 0.99) }).ToList();
        if (mapXY.Count == 0) { xs = pts.Select(p => p.X).ToList(); ys = pts.Select(p => p.Y).ToList(); }
        double x0 = xs.Min(), x1 = xs.Max(), y0 = ys.Min(), y1 = ys.Max();
        double span = Math.Max(Math.Max(x1 - x0, y1 - y0), 1e-6) * 1.08;
        double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
        const int size = 760;
        double S(double v) => size * 0.5 + (v) * size / span;
        string Px(double x) => S(x - cx).ToString("F1", Inv);
        string Py(double y) => S(y - cy).ToString("F1", Inv);
        var svg = new StringBuilder();
        svg.Append($"<svg width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {size} {size}\" style=\"background:#fafafa;border:1px solid #ccc\">");
        // Points, subsampled to at most 20,000 for the page's size.
        int step = Math.Max(1, mapXY.Count / 20000);
        for (int i = 0; i < mapXY.Count; i += step)
        {
            var p = d.Points[i];
            svg.Append($"<circle cx=\"{Px(mapXY[i].X)}\" cy=\"{Py(mapXY[i].Y)}\" r=\"1.2\" fill=\"#{p.R:x2}{p.G:x2}{p.B:x2}\"/>");
        }
        double arrow = span * 0.03;
        foreach (var (name, pose) in d.MapImages.Values)
        {
            var c = pose.CameraCenter; var v = pose.ViewingDirection;
            double len = Math.Sqrt(v[a] * v[a] + v[b] * v[b]);
            double ex = len > 1e-9 ? v[a] / len * arrow : 0, ey = len > 1e-9 ? sb * v[b] / len * arrow : 0;
            svg.Append($"<line x1=\"{Px(c[a])}\" y1=\"{Py(sb * c[b])}\" x2=\"{Px(c[a] + ex)}\" y2=\"{Py(sb * c[b] + ey)}\" stroke=\"#2255cc\" stroke-width=\"1.5\"/>");
            svg.Append($"<circle cx=\"{Px(c[a])}\" cy=\"{Py(sb * c[b])}\" r=\"3\" fill=\"#2255cc\"><title>{E(name)}</title></circle>");
        }
        foreach (var q in d.Queries)
        {
            if (q.Estimate == null)
            {
                if (q.Truth is { } missing)
                {
                    var m = missing.CameraCenter;
                    svg.Append($"<circle cx=\"{Px(m[a])}\" cy=\"{Py(sb * m[b])}\" r=\"6\" fill=\"none\" stroke=\"#1a9a3a\" stroke-width=\"2\" stroke-dasharray=\"3 2\"><title>{E(q.Name)} (true; no estimate)</title></circle>");
                }
                continue;
            }
            var e = q.Estimate.CameraCenter;
            if (q.Truth != null)
            {
                var t = q.Truth.CameraCenter;
                svg.Append($"<line x1=\"{Px(t[a])}\" y1=\"{Py(sb * t[b])}\" x2=\"{Px(e[a])}\" y2=\"{Py(sb * e[b])}\" stroke=\"#999\" stroke-width=\"1\"/>");
                svg.Append($"<circle cx=\"{Px(t[a])}\" cy=\"{Py(sb * t[b])}\" r=\"6\" fill=\"none\" stroke=\"#1a9a3a\" stroke-width=\"2\"><title>{E(q.Name)} (true)</title></circle>");
            }
            string ex = Px(e[a]), ey = Py(sb * e[b]);
            double X = S(e[a] - cx), Y = S(sb * e[b] - cy);
            svg.Append($"<path d=\"M{(X - 5).ToString("F1", Inv)} {(Y - 5).ToString("F1", Inv)}L{(X + 5).ToString("F1", Inv)} {(Y + 5).ToString("F1", Inv)}"
                + $"M{(X - 5).ToString("F1", Inv)} {(Y + 5).ToString("F1", Inv)}L{(X + 5).ToString("F1", Inv)} {(Y - 5).ToString("F1", Inv)}\" stroke=\"#d22\" stroke-width=\"2\"><title>{E(q.Name)} (estimate)</title></path>");
            svg.Append($"<text x=\"{(X + 7).ToString("F1", Inv)}\" y=\"{(Y - 7).ToString("F1", Inv)}\" font-size=\"11\" fill=\"#333\">{E(Path.GetFileNameWithoutExtension(q.Name))}</text>");
            _ = ex; _ = ey;
        }
        // Scale bar.
        double bar = NiceNumbers.AtMost(span / 5);
        svg.Append($"<line x1=\"20\" y1=\"{size - 20}\" x2=\"{(20 + bar * size / span).ToString("F1", Inv)}\" y2=\"{size - 20}\" stroke=\"#000\" stroke-width=\"2\"/>");
        svg.Append($"<text x=\"20\" y=\"{size - 26}\" font-size=\"12\">{bar.ToString("0.###", Inv)} m</text>");
        svg.Append($"<text x=\"{size - 160}\" y=\"{size - 10}\" font-size=\"11\" fill=\"#666\">axes: {"xyz"[a]} →, {"xyz"[b]} {(sb > 0 ? "↓" : "↑")}</text>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    private static double Cross(int a, int b, int c)
    {
        // (e_a × e_b)·e_c for distinct axes: +1 for a cyclic order, −1 otherwise.
        return (a, b, c) is (0, 1, 2) or (1, 2, 0) or (2, 0, 1) ? 1 : -1;
    }

    private static Mat Read(string path) => ImageFile.ToBgrMat(ImageFile.ReadRgb(path));

    private static void DrawPoints(Mat img, IEnumerable<(float X, float Y)> points)
    {
        const int shift = 4;
        int radius = Math.Max(3, img.Cols / 160);
        foreach (var (x, y) in points)
        {
            var c = new Point((int)Math.Round(x * (1 << shift)), (int)Math.Round(y * (1 << shift)));
            Cv2.Circle(img, c, (radius + 1) << shift, Scalar.All(0), 1, LineTypes.AntiAlias, shift);
            Cv2.Circle(img, c, radius << shift, new Scalar(60, 220, 60), 2, LineTypes.AntiAlias, shift);
        }
    }

    /// <summary>At most 560 px wide: the page stays a few MB.</summary>
    private static Mat Shrink(Mat img)
    {
        const int maxWidth = 560;
        if (img.Cols <= maxWidth) return img.Clone();
        var small = new Mat();
        Cv2.Resize(img, small, new Size(maxWidth, (int)Math.Round(img.Rows * (double)maxWidth / img.Cols)), 0, 0, InterpolationFlags.Area);
        return small;
    }

    private static string DataUri(Mat img, string ext)
    {
        var p = ext == ".jpg" ? new[] { new ImageEncodingParam(ImwriteFlags.JpegQuality, 82) } : Array.Empty<ImageEncodingParam>();
        Cv2.ImEncode(ext, img, out var bytes, p);
        return $"data:image/{(ext == ".jpg" ? "jpeg" : "png")};base64,{Convert.ToBase64String(bytes)}";
    }

    /// <summary>Escapes the characters HTML gives a meaning (the page is UTF-8: others stay as they are).</summary>
    private static string E(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
    private static string Vec(double[] c) => string.Join(", ", c.Select(v => v.ToString("F2", Inv)));
    private static string Metres(double m) => double.IsPositiveInfinity(m) ? "∞" : double.IsNaN(m) ? "–" : m < 1 ? (m * 100).ToString("F1", Inv) + " cm" : m.ToString("F2", Inv) + " m";
    private static string Degrees(double r) => double.IsPositiveInfinity(r) ? "∞" : double.IsNaN(r) ? "–" : (r * 180 / Math.PI).ToString("F2", Inv) + "°";
}
