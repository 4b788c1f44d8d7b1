using OpenCvSharp;
using R2D2.Localization.Formats;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Evaluation;

/// <summary>A query's match with its position in a database image (null: that image does not observe the point).</summary>
internal readonly record struct DrawnMatch(float QX, float QY, float? DX, float? DY, bool Inlier);

/// <summary>What a picture shows, for its caption.</summary>
internal sealed record PictureStats(int InliersInImage, int OutliersInImage, int InlierLines, int OutlierLines);

/// <summary>
/// The pictures of a report's query cards: the query beside a database image, both scaled to one
/// height, with a line per match the database image observes (inliers green, outliers red, at most
/// <see cref="ReportOptions.MaxLinesPerKind"/> of each, sampled evenly) and a dot at every other
/// match of the query. Pure drawing: the matches are what the query run recorded.
/// </summary>
internal static class ReportPictures
{
    private static readonly Scalar Green = new(60, 200, 60), Red = new(50, 50, 230), Gap = Scalar.All(40);
    private const int Shift = 4; // sub-pixel drawing: coordinates in 1/16 px

    /// <summary>The matches of a query as they appear in database image <paramref name="imageId"/>.</summary>
    public static List<DrawnMatch> InImage(QueryMatchSet matches, int imageId, IReadOnlyDictionary<long, MapPoint> pointsById, Keypoints? keypoints)
    {
        var result = new List<DrawnMatch>(matches.Count);
        for (int i = 0; i < matches.Count; i++)
        {
            float? dx = null, dy = null;
            if (keypoints != null && pointsById.TryGetValue(matches.PointIds[i], out var p))
                foreach (var e in p.Track)
                    if (e.ImageId == imageId && e.KeypointIndex < keypoints.Count)
                    {
                        dx = keypoints.X[e.KeypointIndex];
                        dy = keypoints.Y[e.KeypointIndex];
                        break;
                    }
            result.Add(new DrawnMatch(matches.XY[2 * i], matches.XY[2 * i + 1], dx, dy, matches.Inlier[i]));
        }
        return result;
    }

    /// <summary>The database images that observe most of the query's matched points (of its
    /// inliers when <paramref name="byInliers"/> and it has any), best first, with how many. A
    /// query that was not localized is shown by all its matches: the inliers of a rejected pose
    /// picked images that saw a handful of them.</summary>
    public static List<(int Id, int Shared)> BestImages(QueryMatchSet matches, IReadOnlyDictionary<long, MapPoint> pointsById, int count, bool byInliers = true)
    {
        bool useInliers = byInliers && matches.InlierCount > 0;
        var votes = new Dictionary<int, int>();
        for (int i = 0; i < matches.Count; i++)
        {
            if (useInliers && !matches.Inlier[i]) continue;
            if (!pointsById.TryGetValue(matches.PointIds[i], out var p)) continue;
            foreach (var id in p.Track.Select(e => e.ImageId).Distinct()) votes[id] = votes.GetValueOrDefault(id) + 1;
        }
        return votes.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key).Take(count).Select(kv => (kv.Key, kv.Value)).ToList();
    }

    /// <summary>Every k-th element so that at most <paramref name="max"/> remain, spread over the whole list.</summary>
    public static List<T> SampleEvenly<T>(IReadOnlyList<T> items, int max)
    {
        if (items.Count <= max) return items.ToList();
        return Enumerable.Range(0, max).Select(i => items[(int)((long)i * items.Count / max)]).ToList();
    }

    /// <summary>Query (left) | database image (right), at most <paramref name="maxWidth"/> wide, as JPEG
    /// bytes. A missing side is a grey panel with <paramref name="missingText"/>.</summary>
    public static (byte[] Jpeg, PictureStats Stats) Draw(Mat? query, Mat? database, IReadOnlyList<DrawnMatch> matches, int maxWidth, int maxLinesPerKind,
        int jpegQuality, string missingText)
    {
        const int gap = 6;
        // Both sides at one height h, as tall as the smaller image allows and the width lets.
        double qa = query != null ? (double)query.Cols / query.Rows : 4.0 / 3, da = database != null ? (double)database.Cols / database.Rows : qa;
        int hLimit = Math.Min(query?.Rows ?? int.MaxValue, database?.Rows ?? int.MaxValue);
        if (hLimit == int.MaxValue) hLimit = 300;
        int h = (int)Math.Max(16, Math.Min(hLimit, (maxWidth - gap) / (qa + da)));
        int qw = (int)Math.Round(h * qa), dw = (int)Math.Round(h * da);
        using var canvas = new Mat(h, qw + gap + dw, MatType.CV_8UC3, Gap);
        Paste(canvas, query, new Rect(0, 0, qw, h), missingText);
        Paste(canvas, database, new Rect(qw + gap, 0, dw, h), "no database image");
        double qs = query != null ? (double)h / query.Rows : 1, ds = database != null ? (double)h / database.Rows : 1;

        var inImage = matches.Where(m => m.DX != null).ToList();
        var inl = SampleEvenly(inImage.Where(m => m.Inlier).ToList(), maxLinesPerKind);
        var outl = SampleEvenly(inImage.Where(m => !m.Inlier).ToList(), maxLinesPerKind);
        if (query != null)
        {
            // Every match where it is in the query, so those the database image does not see show too.
            int r = Math.Max(2, h / 150);
            foreach (var m in SampleEvenly(matches, 4 * maxLinesPerKind).OrderBy(m => m.Inlier))
                Cv2.Circle(canvas, P(Scaled(m.QX, qs), Scaled(m.QY, qs)), r << Shift, m.Inlier ? Green : Red, 1, LineTypes.AntiAlias, Shift);
            // Outliers under inliers.
            foreach (var (set, colour) in new[] { (outl, Red), (inl, Green) })
                foreach (var m in set)
                {
                    var a = P(Scaled(m.QX, qs), Scaled(m.QY, qs));
                    var b = P(qw + gap + Scaled(m.DX!.Value, ds), Scaled(m.DY!.Value, ds));
                    Cv2.Line(canvas, a, b, colour, 1, LineTypes.AntiAlias, Shift);
                    Cv2.Circle(canvas, b, r << Shift, colour, 1, LineTypes.AntiAlias, Shift);
                }
        }
        Cv2.ImEncode(".jpg", canvas, out var bytes, new ImageEncodingParam(ImwriteFlags.JpegQuality, jpegQuality));
        return (bytes, new PictureStats(inImage.Count(m => m.Inlier), inImage.Count(m => !m.Inlier), query != null ? inl.Count : 0, query != null ? outl.Count : 0));
    }

    private static void Paste(Mat canvas, Mat? image, Rect where, string missingText)
    {
        using var dst = canvas[where];
        if (image == null)
        {
            dst.SetTo(Scalar.All(200));
            double scale = Math.Max(0.4, where.Width / 600.0);
            var size = Cv2.GetTextSize(missingText, HersheyFonts.HersheySimplex, scale, 1, out _);
            Cv2.PutText(dst, missingText, new Point(Math.Max(4, (where.Width - size.Width) / 2), where.Height / 2), HersheyFonts.HersheySimplex, scale,
                Scalar.All(60), 1, LineTypes.AntiAlias);
            return;
        }
        Cv2.Resize(image, dst, where.Size, 0, 0, where.Height < image.Rows ? InterpolationFlags.Area : InterpolationFlags.Linear);
    }

    /// <summary>A pixel coordinate (centre of the first pixel at 0) in an image scaled by <paramref name="s"/>.</summary>
    private static double Scaled(double v, double s) => (v + 0.5) * s - 0.5;

    private static Point P(double x, double y) => new((int)Math.Round(x * (1 << Shift)), (int)Math.Round(y * (1 << Shift)));
}
