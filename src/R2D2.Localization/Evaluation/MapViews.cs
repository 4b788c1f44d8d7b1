using System.Globalization;
using System.Text;
using System.Text.Json;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Evaluation;

/// <summary>
/// The map in a report: a 3D view (a canvas the page's script draws and turns with the mouse, from
/// data inline in the page: points subsampled evenly to <see cref="ReportOptions.MaxPoints"/> with
/// their stored colours, database cameras as frustums, the queries' true and reported positions)
/// and the same seen from above as static SVG, the fallback where scripts do not run.
/// </summary>
internal static class MapViews
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The cameras' mean "down" direction (row 2 of R), unit length; +z when there are no cameras.</summary>
    public static double[] Down(ReportData d)
    {
        var down = new double[3];
        foreach (var (_, p) in d.MapImages.Values) for (int k = 0; k < 3; k++) down[k] += p.Rotation[3 + k];
        double n = Math.Sqrt(down.Sum(v => v * v));
        return n > 1e-9 ? down.Select(v => v / n).ToArray() : new double[] { 0, 0, 1 };
    }

    /// <summary>Indices of at most <paramref name="max"/> points, spread evenly over the list.</summary>
    public static int[] Sample(int count, int max) =>
        count <= max ? Enumerable.Range(0, count).ToArray() : Enumerable.Range(0, max).Select(i => (int)((long)i * count / max)).ToArray();

    /// <summary>The canvas and its data (a JSON script element the page's script reads).</summary>
    public static string View3D(ReportData d)
    {
        var cams = d.MapImages.Values.Select(i => i.Pose.CameraCenter).ToList();
        var centre = new double[3];
        var around = cams.Count > 0 ? cams : d.Points.Select(p => new[] { p.X, p.Y, p.Z }).ToList();
        foreach (var c in around) for (int k = 0; k < 3; k++) centre[k] += c[k] / around.Count;
        var idx = Sample(d.Points.Count, d.Options.MaxPoints);
        // Points as int16 offsets from the centre (scale: the largest offset ↔ 32767) and RGB bytes,
        // base64: 9 bytes a point.
        double extent = 1e-9;
        foreach (var i in idx)
        {
            var p = d.Points[i];
            extent = Math.Max(extent, Math.Max(Math.Abs(p.X - centre[0]), Math.Max(Math.Abs(p.Y - centre[1]), Math.Abs(p.Z - centre[2]))));
        }
        foreach (var c in cams) extent = Math.Max(extent, c.Select((v, k) => Math.Abs(v - centre[k])).Max());
        double scale = extent / 32767;
        var bytes = new byte[idx.Length * 9];
        for (int n = 0; n < idx.Length; n++)
        {
            var p = d.Points[idx[n]];
            double[] v = { p.X - centre[0], p.Y - centre[1], p.Z - centre[2] };
            for (int k = 0; k < 3; k++)
            {
                short q = (short)Math.Clamp(Math.Round(v[k] / scale), -32767, 32767);
                bytes[n * 9 + 2 * k] = (byte)(q & 0xff);
                bytes[n * 9 + 2 * k + 1] = (byte)((q >> 8) & 0xff);
            }
            bytes[n * 9 + 6] = p.R; bytes[n * 9 + 7] = p.G; bytes[n * 9 + 8] = p.B;
        }
        double R(double v) => Math.Round(v, 4);
        double[] Rel(double[] c) => new[] { R(c[0] - centre[0]), R(c[1] - centre[1]), R(c[2] - centre[2]) };
        var cameras = d.MapImages.OrderBy(kv => kv.Key).Select(kv =>
        {
            var (name, pose) = kv.Value;
            double tx = 0.5 * 4 / 3, ty = 0.5; // a 4:3 view of 53° when the camera is unknown
            if (d.MapCameras.TryGetValue(kv.Key, out var cam))
            {
                var k = cam.Pinhole;
                tx = cam.Width / (2 * k.Fx); ty = cam.Height / (2 * k.Fy);
            }
            return new { n = name, c = Rel(pose.CameraCenter), r = pose.Rotation.Select(R).ToArray(), tx = R(tx), ty = R(ty) };
        }).ToList();
        var queries = d.Queries.Select(q => new
        {
            n = q.Name,
            t = q.Truth != null ? Rel(q.Truth.CameraCenter) : null,
            e = q.Estimate != null ? Rel(q.Estimate.CameraCenter) : null,
            k = q.Missing ? "missing" : q.IsFallback ? "fallback" : "localized",
        }).ToList();
        var data = new
        {
            count = idx.Length, scale, points = Convert.ToBase64String(bytes), up = Down(d).Select(v => -v).ToArray(),
            cameras, queries, total = d.Points.Count,
        };
        // The default encoder escapes <, > and & in strings, so the JSON cannot end its script element.
        var json = JsonSerializer.Serialize(data);
        return "<div class=\"view3d\"><canvas id=\"view3d\" width=\"900\" height=\"620\" tabindex=\"0\" aria-label=\"3D view of the map\"></canvas>"
            + "<script type=\"application/json\" id=\"view3d-data\">" + json + "</script></div>";
    }

    /// <summary>The map from above as SVG: the ground plane is the one across the cameras' mean "down" axis.</summary>
    public static string TopView(ReportData d)
    {
        var cams = d.MapImages.Values.Select(i => i.Pose).ToList();
        var downVec = Down(d);
        // Vertical axis: the world axis most aligned with the cameras' mean down direction.
        int vert = Enumerable.Range(0, 3).OrderByDescending(k => Math.Abs(downVec[k])).First();
        int a = vert == 0 ? 1 : 0, b = vert == 2 ? 1 : 2;
        // Screen x = axis a, screen y = axis b; seen from above (against "up" = −down) it must not be mirrored:
        // e_a × e_b must point away from the viewer, i.e. along "down".
        double sb = Cross(a, b, vert) * downVec[vert] > 0 ? 1 : -1;
        var pts = new List<(double X, double Y)>();
        foreach (var p in cams) { var c = p.CameraCenter; pts.Add((c[a], sb * c[b])); }
        foreach (var q in d.Queries)
            if (q.Truth != null) { var c = q.Truth.CameraCenter; pts.Add((c[a], sb * c[b])); }
        var estimates = d.Queries.Where(q => q.Estimate != null).Select(q => { var c = q.Estimate!.CameraCenter; return (X: c[a], Y: sb * c[b]); }).ToList();
        // Fewer points than the 3D view: each is an SVG element of ~60 bytes.
        var idx = Sample(d.Points.Count, Math.Min(d.Options.MaxPoints, 8000));
        var mapXY = idx.Select(i => { var p = d.Points[i]; double[] x = { p.X, p.Y, p.Z }; return (X: x[a], Y: sb * x[b]); }).ToList();
        // Extent: all cameras and the central 98% of the points (a few far points must not shrink the picture).
        double Q(IEnumerable<double> v, double f) { var s = v.OrderBy(x => x).ToArray(); return s.Length == 0 ? 0 : s[(int)Math.Clamp(f * (s.Length - 1), 0, s.Length - 1)]; }
        var xs = pts.Select(p => p.X).ToList();
        var ys = pts.Select(p => p.Y).ToList();
        if (mapXY.Count > 0)
        {
            xs.AddRange(new[] { Q(mapXY.Select(p => p.X), 0.01), Q(mapXY.Select(p => p.X), 0.99) });
            ys.AddRange(new[] { Q(mapXY.Select(p => p.Y), 0.01), Q(mapXY.Select(p => p.Y), 0.99) });
        }
        // Estimates widen the view up to half its size again: one far-off estimate (a pose at
        // 1 km) shrank the map to a blob; beyond that it is drawn at the edge, its distance said.
        if (xs.Count == 0) { xs.AddRange(estimates.Select(e => e.X)); ys.AddRange(estimates.Select(e => e.Y)); }
        if (xs.Count == 0) { xs.Add(0); ys.Add(0); }
        {
            double bx0 = xs.Min(), bx1 = xs.Max(), by0 = ys.Min(), by1 = ys.Max();
            double reach = 0.5 * Math.Max(Math.Max(bx1 - bx0, by1 - by0), 1.0);
            foreach (var e in estimates.Where(e => e.X >= bx0 - reach && e.X <= bx1 + reach && e.Y >= by0 - reach && e.Y <= by1 + reach))
            { xs.Add(e.X); ys.Add(e.Y); }
        }
        double x0 = xs.Min(), x1 = xs.Max(), y0 = ys.Min(), y1 = ys.Max();
        double span = Math.Max(Math.Max(x1 - x0, y1 - y0), 1e-6) * 1.12;
        double cx = (x0 + x1) / 2, cy = (y0 + y1) / 2;
        const int size = 760;
        double S(double v) => size * 0.5 + v * size / span;
        string F(double v) => v.ToString("F1", Inv);
        string Px(double x) => F(S(x - cx));
        string Py(double y) => F(S(y - cy));
        var svg = new StringBuilder();
        svg.Append($"<svg width=\"{size}\" height=\"{size}\" viewBox=\"0 0 {size} {size}\" style=\"background:#fafafa;border:1px solid #ccc\" role=\"img\" aria-label=\"the map from above\">");
        for (int n = 0; n < idx.Length; n++)
        {
            var p = d.Points[idx[n]];
            svg.Append($"<circle cx=\"{Px(mapXY[n].X)}\" cy=\"{Py(mapXY[n].Y)}\" r=\"1.2\" fill=\"#{p.R:x2}{p.G:x2}{p.B:x2}\"/>");
        }
        // Labels are placed after every mark, the queries' first: each at the first of four spots
        // around its mark (right/left, above/below) that stays in the view and overlaps no label
        // placed before; one that fits nowhere is left out (its mark's tooltip names it). They
        // were drawn over each other where a query stood near a camera.
        var labels = new List<(double X, double Y, string Text, string Colour, int FontSize, bool First)>();
        // The marks of the queries (true and estimated positions): no label is put over one.
        var marks = new List<(double X0, double Y0, double X1, double Y1)>();
        void Mark(double X, double Y, double r) => marks.Add((X - r, Y - r, X + r, Y + r));
        void Label(double X, double Y, string text, string colour, int fontSize, bool first = false) => labels.Add((X, Y, text, colour, fontSize, first));
        string PlaceLabels()
        {
            var placed = new List<(double X0, double Y0, double X1, double Y1)>(marks);
            var sbl = new StringBuilder();
            foreach (var (X, Y, text, colour, fontSize, _) in labels.OrderBy(l => l.First ? 0 : 1))
            {
                double w = 0.6 * fontSize * text.Length, h = fontSize;
                foreach (var (left, below) in new[] { (false, false), (true, false), (false, true), (true, true) })
                {
                    double x0 = left ? X - 7 - w : X + 7, baseline = below ? Y + 6 + h : Y - 6;
                    var box = (X0: x0, Y0: baseline - h, X1: x0 + w, Y1: baseline + 2);
                    if (box.X0 < 0 || box.X1 > size || box.Y0 < 0 || box.Y1 > size) continue;
                    if (placed.Any(p => p.X0 < box.X1 && box.X0 < p.X1 && p.Y0 < box.Y1 && box.Y0 < p.Y1)) continue;
                    placed.Add(box);
                    sbl.Append($"<text x=\"{F(left ? X - 7 : X + 7)}\" y=\"{F(baseline)}\" font-size=\"{fontSize}\" fill=\"{colour}\"{(left ? " text-anchor=\"end\"" : "")}>{HtmlText.E(text)}</text>");
                    break;
                }
            }
            return sbl.ToString();
        }
        double arrow = span * 0.03;
        bool labelCameras = d.MapImages.Count <= 40;
        foreach (var (name, pose) in d.MapImages.Values)
        {
            var c = pose.CameraCenter; var v = pose.ViewingDirection;
            double len = Math.Sqrt(v[a] * v[a] + v[b] * v[b]);
            double ex = len > 1e-9 ? v[a] / len * arrow : 0, ey = len > 1e-9 ? sb * v[b] / len * arrow : 0;
            svg.Append($"<line x1=\"{Px(c[a])}\" y1=\"{Py(sb * c[b])}\" x2=\"{Px(c[a] + ex)}\" y2=\"{Py(sb * c[b] + ey)}\" stroke=\"#2255cc\" stroke-width=\"1.5\"/>");
            svg.Append($"<circle cx=\"{Px(c[a])}\" cy=\"{Py(sb * c[b])}\" r=\"3\" fill=\"#2255cc\"><title>database image {HtmlText.E(name)}</title></circle>");
            // Opposite the viewing direction, where the arrow is not.
            if (labelCameras)
                Label(S(c[a] - cx) - 1.5 * ex * size / span, S(sb * c[b] - cy) - 1.5 * ey * size / span,
                    Path.GetFileNameWithoutExtension(name), "#2255cc", 9);
        }
        foreach (var q in d.Queries)
        {
            if (q.Estimate == null)
            {
                if (q.Truth is { } missing)
                {
                    var m = missing.CameraCenter;
                    svg.Append($"<circle cx=\"{Px(m[a])}\" cy=\"{Py(sb * m[b])}\" r=\"6\" fill=\"none\" stroke=\"#1a9a3a\" stroke-width=\"2\" stroke-dasharray=\"3 2\"><title>{HtmlText.E(q.Name)} (true; no estimate)</title></circle>");
                    Label(S(m[a] - cx), S(sb * m[b] - cy), Path.GetFileNameWithoutExtension(q.Name) + " (no pose)", "#1a9a3a", 11, first: true);
                    Mark(S(m[a] - cx), S(sb * m[b] - cy), 7);
                }
                continue;
            }
            var e = q.Estimate.CameraCenter;
            double X = S(e[a] - cx), Y = S(sb * e[b] - cy);
            // Off the view: drawn where the line from the view's centre leaves it.
            const double edge = 10;
            double far = Math.Max(Math.Abs(X - size * 0.5), Math.Abs(Y - size * 0.5)) / (size * 0.5 - edge);
            bool off = far > 1;
            if (off) { X = size * 0.5 + (X - size * 0.5) / far; Y = size * 0.5 + (Y - size * 0.5) / far; }
            if (q.Truth != null)
            {
                var t = q.Truth.CameraCenter;
                svg.Append($"<line x1=\"{Px(t[a])}\" y1=\"{Py(sb * t[b])}\" x2=\"{F(X)}\" y2=\"{F(Y)}\" stroke=\"#999\" stroke-width=\"1\"{(off ? " stroke-dasharray=\"4 3\"" : "")}/>");
                svg.Append($"<circle cx=\"{Px(t[a])}\" cy=\"{Py(sb * t[b])}\" r=\"6\" fill=\"none\" stroke=\"#1a9a3a\" stroke-width=\"2\"><title>{HtmlText.E(q.Name)} (true)</title></circle>");
                Mark(S(t[a] - cx), S(sb * t[b] - cy), 7);
            }
            Mark(X, Y, 6);
            string colour = q.IsFallback ? "#888" : "#d22";
            string what = (q.IsFallback ? "fallback pose: a database image's, not an estimate" : "estimate")
                + (off ? $", off the view: {Distance(e, cx, cy, a, b, sb)} from its centre" : "");
            svg.Append($"<path d=\"M{F(X - 5)} {F(Y - 5)}L{F(X + 5)} {F(Y + 5)}M{F(X - 5)} {F(Y + 5)}L{F(X + 5)} {F(Y - 5)}\" stroke=\"{colour}\" stroke-width=\"2\"><title>{HtmlText.E(q.Name)} ({what})</title></path>");
            Label(X, Y, Path.GetFileNameWithoutExtension(q.Name) + (q.IsFallback ? " (fallback)" : "") + (off ? $" (off the view, {Distance(e, cx, cy, a, b, sb)})" : ""), "#333", 11, first: true);
        }
        svg.Append(PlaceLabels());
        // Scale bar.
        double bar = NiceNumbers.AtMost(span / 5);
        svg.Append($"<line x1=\"20\" y1=\"{size - 20}\" x2=\"{F(20 + bar * size / span)}\" y2=\"{size - 20}\" stroke=\"#000\" stroke-width=\"2\"/>");
        svg.Append($"<text x=\"20\" y=\"{size - 26}\" font-size=\"12\">{bar.ToString("0.###", Inv)} m</text>");
        svg.Append($"<text x=\"{size - 10}\" y=\"{size - 10}\" font-size=\"11\" fill=\"#666\" text-anchor=\"end\">axes: {"xyz"[a]} →, {"xyz"[b]} {(sb > 0 ? "↓" : "↑")}</text>");
        svg.Append("</svg>");
        return svg.ToString();
    }

    /// <summary>How far a position lies from the view's centre, in the plane seen from above.</summary>
    private static string Distance(double[] c, double cx, double cy, int a, int b, double sb)
    {
        double dx = c[a] - cx, dy = sb * c[b] - cy, m = Math.Sqrt(dx * dx + dy * dy);
        return m >= 1e7 ? $"{m.ToString("0.#e+0", Inv)} m" : m >= 1000 ? $"{(m / 1000).ToString("0.#", Inv)} km" : $"{m.ToString("0", Inv)} m";
    }

    private static double Cross(int a, int b, int c) =>
        // (e_a × e_b)·e_c for distinct axes: +1 for a cyclic order, −1 otherwise.
        (a, b, c) is (0, 1, 2) or (1, 2, 0) or (2, 0, 1) ? 1 : -1;
}

/// <summary>Text for HTML.</summary>
internal static class HtmlText
{
    /// <summary>Escapes the characters HTML gives a meaning (the page is UTF-8: others stay as they are).</summary>
    public static string E(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;").Replace("\"", "&quot;");
}
