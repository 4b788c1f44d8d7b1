using System.Collections.Concurrent;
using OpenCvSharp;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Training;

/// <summary>Where homography pairs take their source images from.</summary>
public interface IImageSource
{
    /// <summary>A planar RGB image (3×H×W, [0, 1]) of exactly <paramref name="width"/>×<paramref name="height"/>,
    /// a function of <paramref name="seed"/> alone (thread-safe).</summary>
    float[] Get(ulong seed, int width, int height);

    string Describe();
}

/// <summary>Images of <see cref="ProceduralImages"/>: every seed is a new image.</summary>
public sealed class ProceduralImageSource : IImageSource
{
    public float[] Get(ulong seed, int width, int height) => ProceduralImages.Generate((long)seed, width, height);

    public string Describe() => "procedural images";
}

/// <summary>
/// Photos from a folder (and its subfolders; any format of <see cref="ImageFile"/>), randomly
/// chosen, rescaled and cropped. Each photo is decoded once and kept in memory downscaled so its
/// longer side is at most MaxSide (about 2 MB per photo at 1024 px); a crop then takes a random
/// zoom between MinZoom and 1 of that (more where the request needs it) and a random position.
/// </summary>
public sealed class FolderImageSource : IImageSource
{
    private readonly string[] _files;
    private readonly ConcurrentDictionary<int, Lazy<RgbImage>> _cache = new();

    public FolderImageSource(string folder, int maxSide = 1024, double minZoom = 0.4)
    {
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: folder not found");
        _files = Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Where(ImageFile.IsImagePath)
            .OrderBy(f => f, StringComparer.Ordinal).ToArray();
        if (_files.Length == 0) throw new InputListException($"{folder}: no images ({string.Join(" ", ImageFile.Extensions)})");
        // Each photo's header read before training starts (an empty or broken file stopped the run
        // at the step that first drew it, hours in); a photo decoded later can still fail on its pixels.
        foreach (var f in _files)
        {
            var h = ImageFile.ReadHeader(f);
            if (h.Width < MinPhotoSide || h.Height < MinPhotoSide)
                throw new ImageFileException(f, $"is {h.Width}×{h.Height} px: a training photo needs at least {MinPhotoSide} px a side");
        }
        Folder = folder; MaxSide = maxSide; MinZoom = minZoom;
    }

    public const int MinPhotoSide = 32;

    public string Folder { get; }
    public int MaxSide { get; }
    public double MinZoom { get; }
    public IReadOnlyList<string> Files => _files;

    public string Describe() => $"{_files.Length} photos of {Folder}";

    /// <summary>Photo i, decoded and downscaled to MaxSide (cached).</summary>
    public RgbImage Photo(int i) => _cache.GetOrAdd(i, k => new Lazy<RgbImage>(() => Load(_files[k], MaxSide))).Value;

    public static RgbImage Load(string path, int maxSide)
    {
        var img = ImageFile.ReadRgb(path);
        int longSide = Math.Max(img.Width, img.Height);
        return maxSide > 0 && longSide > maxSide ? Resize(img, maxSide / (double)longSide) : img;
    }

    /// <summary>Resizes by a factor (area averaging when shrinking, bilinear when enlarging).</summary>
    public static RgbImage Resize(RgbImage img, double factor)
    {
        int w = Math.Max(1, (int)Math.Round(img.Width * factor)), h = Math.Max(1, (int)Math.Round(img.Height * factor));
        return ResizeTo(img, w, h);
    }

    public static RgbImage ResizeTo(RgbImage img, int w, int h)
    {
        using var src = new Mat(img.Height, img.Width, MatType.CV_8UC3);
        System.Runtime.InteropServices.Marshal.Copy(img.Pixels, 0, src.Data, img.Pixels.Length);
        using var dst = new Mat();
        Cv2.Resize(src, dst, new Size(w, h), 0, 0, w < img.Width ? InterpolationFlags.Area : InterpolationFlags.Linear);
        var pixels = new byte[w * h * 3];
        System.Runtime.InteropServices.Marshal.Copy(dst.Data, pixels, 0, pixels.Length);
        return new RgbImage(w, h, pixels);
    }

    public float[] Get(ulong seed, int width, int height)
    {
        var rng = new Rng(seed);
        var photo = Photo(rng.Next(_files.Length));
        // The zoom must let a width×height crop fit; beyond that, random.
        double need = Math.Max(width / (double)photo.Width, height / (double)photo.Height);
        double zoom = Math.Max(need, rng.LogUniform(MinZoom, 1.0));
        int cw = Math.Min(photo.Width, (int)Math.Ceiling(width / zoom)), ch = Math.Min(photo.Height, (int)Math.Ceiling(height / zoom));
        int x = rng.Next(photo.Width - cw + 1), y = rng.Next(photo.Height - ch + 1);
        var crop = photo.Crop(x, y, cw, ch);
        if (cw != width || ch != height) crop = ResizeTo(crop, width, height);
        if (rng.Chance(0.5)) FlipHorizontally(crop);
        return PlanarImage.FromRgb(crop);
    }

    private static void FlipHorizontally(RgbImage img)
    {
        var p = img.Pixels;
        for (int y = 0; y < img.Height; y++)
            for (int a = y * img.Width, b = a + img.Width - 1; a < b; a++, b--)
                for (int c = 0; c < 3; c++) (p[3 * a + c], p[3 * b + c]) = (p[3 * b + c], p[3 * a + c]);
    }
}
