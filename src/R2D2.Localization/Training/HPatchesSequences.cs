using System.Globalization;
using System.Text;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Training;

/// <summary>Settings of generated HPatches-style sequences.</summary>
public sealed record HPatchesOptions
{
    /// <summary>Warped images per sequence (2.png … (Warps+1).png).</summary>
    public int Warps { get; init; } = 5;
    /// <summary>Images are first downscaled so the longer side is at most this (px).</summary>
    public int MaxSide { get; init; } = 1024;
    public long Seed { get; init; } = 0;
    public HomographySettings Geometry { get; init; } = new();
    public PhotometricSettings Photometric { get; init; } = new();
    /// <summary>When true, warp k of K draws from the distribution scaled by k/K (2.png is the
    /// easiest, the last the hardest), as HPatches' viewpoint sequences grow harder.</summary>
    public bool Ramp { get; init; } = true;
}

/// <summary>A written sequence: its folder and the homographies (image 1 → image k, pixel centres).</summary>
public sealed record HPatchesSequence(string Folder, string Source, int Width, int Height, IReadOnlyList<double[]> H, IReadOnlyList<bool> Night);

/// <summary>
/// HPatches-style evaluation sequences generated from real photos: for each photo a folder with
/// 1.png (the photo, downscaled) and 2.png … with H_1_2 … (3×3 text; image 1 → image k in the
/// project's pixel-centre convention), each a random viewpoint change (the same distribution as
/// <see cref="HomographyPairSource"/>) plus photometric changes, sometimes night-like. Image k
/// only shows content of image 1 (the view zooms in until its footprint fits), so no area of it
/// is empty. The result depends only on the seed, the settings and each photo's file name,
/// so <c>localize eval-homography --pairs</c> on it gives repeatable MMA.
/// </summary>
public static class HPatchesSequences
{
    /// <summary>A sequence per photo; a photo that cannot be read is reported through
    /// <paramref name="onFailed"/> (its path and why) and the others go on (the first stopped the run,
    /// the photos after it never written); without <paramref name="onFailed"/> it throws.</summary>
    public static List<HPatchesSequence> Write(IReadOnlyList<string> images, string outDir, HPatchesOptions o, Action<HPatchesSequence>? onSequence = null,
        Action<string, string>? onFailed = null)
    {
        OutputFile.CreateFolder(outDir);
        var written = new List<HPatchesSequence>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in images)
        {
            string stem = Sanitize(Path.GetFileNameWithoutExtension(path));
            string name = stem;
            for (int k = 2; !used.Add(name); k++) name = $"{stem}_{k}";
            HPatchesSequence seq;
            try { seq = WriteOne(path, Path.Combine(outDir, name), o); }
            catch (ImageFileException e) when (onFailed != null) { onFailed(path, e.Message); continue; }
            written.Add(seq);
            onSequence?.Invoke(seq);
        }
        return written;
    }

    public static HPatchesSequence WriteOne(string imagePath, string folder, HPatchesOptions o)
    {
        var photo = FolderImageSource.Load(imagePath, o.MaxSide);
        int w = photo.Width, h = photo.Height;
        OutputFile.CreateFolder(folder);
        var img1 = PlanarImage.FromRgb(photo);
        PairViz.WriteImage(img1, w, h, Path.Combine(folder, "1.png"));
        ulong key = Rng.Hash((ulong)o.Seed, Fnv1a(Path.GetFileName(imagePath)));
        var hs = new List<double[]>(); var nights = new List<bool>();
        for (int k = 1; k <= o.Warps; k++)
        {
            var rng = new Rng(Rng.Hash(key, (ulong)k));
            var geometry = o.Ramp ? o.Geometry.Scaled(k / (double)o.Warps) : o.Geometry;
            var (img2, hk, night) = Warp(img1, w, h, rng, geometry, o.Photometric);
            PairViz.WriteImage(img2, w, h, Path.Combine(folder, $"{k + 1}.png"));
            OutputFile.WriteAllText(Path.Combine(folder, $"H_1_{k + 1}"), FormatMatrix(hk));
            hs.Add(hk); nights.Add(night);
        }
        // A sequence written before with more warps: its later views would be read as this one's
        // (eval-homography then evaluated stale pairs). Only names of this layout are removed.
        for (int k = o.Warps + 2; File.Exists(Path.Combine(folder, $"H_1_{k}")) || File.Exists(Path.Combine(folder, $"{k}.png")); k++)
        {
            File.Delete(Path.Combine(folder, $"H_1_{k}"));
            File.Delete(Path.Combine(folder, $"{k}.png"));
        }
        return new HPatchesSequence(folder, imagePath, w, h, hs, nights);
    }

    /// <summary>A warped, photometrically changed view of a w×h image (same size) and its homography
    /// (image 1 → image 2). The view zooms in about its centre until it shows only image 1's content.</summary>
    public static (float[] Image2, double[] H, bool Night) Warp(float[] img1, int w, int h, Rng rng, HomographySettings g, PhotometricSettings p)
    {
        double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
        double[] a = { 1, 0, 0, 0, 1, 0, 0, 0, 1 };
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var centred = RandomHomography.SampleCentred(rng, g, Math.Max(w, h));
            // The footprint's centre (what image 2's centre shows) must lie inside image 1.
            var inv0 = Homography.Inverse(centred);
            var (fx, fy) = Homography.Apply(inv0, 0, 0);
            if (Math.Abs(fx) > 0.4 * w || Math.Abs(fy) > 0.4 * h) continue;
            bool fits = false;
            for (double zoom = 1; zoom < 8 && !fits; zoom *= 1.04)
            {
                a = RandomHomography.Recentre(Homography.Multiply(new[] { zoom, 0, 0, 0, zoom, 0, 0, 0, 1 }, centred), cx, cy, cx, cy);
                fits = FootprintInside(Homography.Inverse(a), w, h);
            }
            if (fits) break;
        }
        var inv = Homography.Inverse(a);
        var img2 = new float[img1.Length];
        PlanarImage.WarpAntiAliased(img1, w, h, inv, img2, w, h, cx, cy);
        bool night = rng.Chance(p.NightProbability);
        var prng = new Rng(rng.NextUInt64());
        if (night) Photometric.Night(img2, w, h, prng, p);
        else Photometric.Jitter(img2, w, h, prng, p);
        return (img2, a, night);
    }

    // Image 2's outer pixel centres, mapped into image 1, inside image 1's pixel centres.
    private static bool FootprintInside(double[] inv, int w, int h)
    {
        foreach (var (x, y) in new[] { (0.0, 0.0), (w - 1.0, 0.0), (0.0, h - 1.0), (w - 1.0, h - 1.0) })
        {
            double z = inv[6] * x + inv[7] * y + inv[8];
            if (z <= 0) return false;
            var (u, v) = Homography.Apply(inv, x, y);
            if (u < 0 || v < 0 || u > w - 1 || v > h - 1) return false;
        }
        return true;
    }

    public static string FormatMatrix(double[] h)
    {
        var sb = new StringBuilder();
        for (int r = 0; r < 3; r++)
            sb.AppendLine(string.Join(" ", Enumerable.Range(0, 3).Select(c => h[3 * r + c].ToString("R", CultureInfo.InvariantCulture))));
        return sb.ToString();
    }

    private static string Sanitize(string s)
    {
        var chars = s.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_').ToArray();
        return chars.Length == 0 ? "image" : new string(chars);
    }

    private static ulong Fnv1a(string s)
    {
        ulong h = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(s)) { h ^= b; h *= 1099511628211UL; }
        return h;
    }
}
