using R2D2.Localization.Formats;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Features;

/// <summary>The features of an image file, the reduction it was decoded at (1: whole) and the SHA-256
/// of the bytes it was decoded from (null when no image was decoded: features read from a file).</summary>
public sealed record ExtractedFile(FeatureSet Features, int Reduction, string? ImageSha256);

/// <summary>Something that turns an image into features (R2D2 or RootSIFT), with the identity that
/// databases and feature files record so features of different extractors never mix.</summary>
public sealed class FeatureSource : IDisposable
{
    /// <summary>The start of a --model that names an hloc features file: <c>hloc:FILE</c>.</summary>
    public const string HlocPrefix = "hloc:";

    private readonly Func<RgbImage, FeatureSet> _extract;
    private readonly Func<string, ExtractedFile> _extractFile;
    private readonly Func<RgbImage, string, FeatureSet>? _fromFile;
    /// <summary>An hloc source's file and the image names it holds (read once); null for an extractor.</summary>
    private readonly (string File, IReadOnlySet<string> Names)? _hloc;
    private readonly IDisposable? _owned;
    private readonly Func<int, int, string?> _sizeProblem;
    private readonly Func<string, ImageHeader, string?> _fileProblem;

    private FeatureSource(Func<RgbImage, FeatureSet> extract, Func<string, ExtractedFile> extractFile,
        ExtractorIdentity identity, string description, IDisposable? owned, Func<int, int, string?>? sizeProblem = null,
        Func<RgbImage, string, FeatureSet>? fromFile = null, (string File, IReadOnlySet<string> Names)? hloc = null,
        Func<string, ImageHeader, string?>? fileProblem = null)
    {
        _fileProblem = fileProblem ?? ((_, _) => null);
        _hloc = hloc;
        _extract = extract;
        _fromFile = fromFile;
        _extractFile = extractFile;
        _sizeProblem = sizeProblem ?? ((_, _) => null);
        Identity = identity;
        Description = description;
        _owned = owned;
    }

    public ExtractorIdentity Identity { get; }
    public string Description { get; }
    /// <summary>"fp32" or "bf16" for a network; null for RootSIFT and features read from a file.
    /// Not part of <see cref="Identity"/> (a map's features and its queries' may differ in it), but a
    /// run's outputs must not (a run description records it).</summary>
    public string? Precision { get; private init; }

    public FeatureSet Extract(RgbImage image) => _extract(image);

    /// <summary>The features of an image decoded from <paramref name="file"/>: extracted from its
    /// pixels, or for features read from a file (hloc), looked up by the image's file.</summary>
    public FeatureSet Extract(RgbImage image, string file) => _fromFile != null ? _fromFile(image, file) : _extract(image);

    /// <summary>The image files of <paramref name="paths"/> whose features the source cannot give
    /// whatever their pixels (an hloc file without them); none for an extractor.</summary>
    public IReadOnlyList<string> Lacking(IReadOnlyList<string> paths) => _hloc is { } hloc
        ? paths.Where(p => EntryOf(Path.GetFullPath(p), hloc.Names) == null).ToList() : Array.Empty<string>();

    /// <summary>The name an hloc file gives the image at <paramref name="imagePath"/> (its entry in
    /// features.h5, and in matches.h5's pair keys; an image it lacks is that image's error); null for an extractor.</summary>
    public string? HlocName(string imagePath) => _hloc is { } hloc ? HlocEntry(hloc.File, hloc.Names, imagePath) : null;

    /// <summary>The longest trailing part of <paramref name="path"/> (its folders, '/'-separated) that
    /// <paramref name="names"/> holds, or null: hloc names images relative to its image folder, the
    /// project relative to --images or a database's root, so either root works.</summary>
    private static string? EntryOf(string path, IReadOnlySet<string> names)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return Enumerable.Range(0, parts.Length).Select(i => string.Join('/', parts[i..])).FirstOrDefault(names.Contains);
    }

    private static string HlocEntry(string file, IReadOnlySet<string> names, string imagePath) =>
        EntryOf(Path.GetFullPath(imagePath), names)
        // One image's problem, reported while the others go on (as an unreadable image is).
        ?? throw new ImageFileException(imagePath, $"has no features in {file} (no entry for its path's trailing parts, down to '{Path.GetFileName(imagePath)}'; "
            + $"the file names images as '{names.Order(StringComparer.Ordinal).First()}')");

    /// <summary>Reads and extracts an image file within the pixel limit (R2D2: see
    /// <see cref="MultiScaleExtractor.ExtractFile"/>); also returns the reduction it was decoded at
    /// and the hash of the bytes decoded (none for an hloc source, which decodes no image).</summary>
    public ExtractedFile ExtractFile(string path) => _extractFile(path);

    /// <summary>Why a width×height image would give no features (R2D2: no pyramid level within the
    /// size range), or null: a run of generated photos says so before it renders them.</summary>
    public string? SizeProblem(int width, int height) => _sizeProblem(width, height);

    /// <summary>Why the image file at <paramref name="path"/> would not be extracted, from its header
    /// alone (missing or unreadable, over the pixel limit without a reduced decoding that fits, too
    /// small for the pyramid), as `path: why`; null when it would be. `build-map --check` asks before any job runs.</summary>
    public string? FileProblem(string path)
    {
        try
        {
            var header = ImageFile.ReadHeader(path);
            var problem = _fileProblem(path, header) ?? (SizeProblem(header.Width, header.Height) is { } small ? $"image is {small}" : null);
            return problem == null ? null : $"{path}: {problem}";
        }
        catch (ImageFileException e) { return e.Message; }
    }

    /// <summary>Throws when rendered <paramref name="what"/> of this size would give no features (a
    /// demo's --scale too small for the extraction's sizes): said before they are rendered.</summary>
    public void RefuseRenderSize(int width, int height, string what)
    {
        if (SizeProblem(width, height) is { } why) throw new UsageException($"{what} would be {why}: a larger --scale, or a smaller --min-size");
    }

    /// <summary>R2D2 with a loaded network (the source owns and disposes it).</summary>
    public static FeatureSource ForR2D2(R2D2Network network, ExtractionSettings settings, string modelName)
    {
        var extractor = new MultiScaleExtractor(network, settings);
        return new FeatureSource(img => extractor.Extract(img), path => extractor.ExtractFile(path), ExtractorIdentity.ForR2D2(modelName, extractor.Network.Architecture.Net, extractor.Network.WeightsHash, extractor.Settings, extractor.Network.Architecture.DescriptorDim),
            $"R2D2 {modelName} ({network.Architecture.Net}) on {network.Device}", network, extractor.SizeProblem,
            fileProblem: (path, header) => { extractor.ReductionFor(path, header); return null; })
        { Precision = network.Options.BFloat16 ? "bf16" : "fp32" };
    }

    /// <param name="maxPixels">Larger images are refused (SIFT has no reduced decoding here).</param>
    public static FeatureSource ForRootSift(RootSiftSettings? settings = null, long maxPixels = ImageLimits.DefaultMaxPixels)
    {
        var extractor = new RootSiftExtractor(settings);
        return new FeatureSource(img => extractor.Extract(img), path =>
        {
            var (image, sha256) = ImageFile.ReadRgbAndHash(path, maxPixels);
            return new ExtractedFile(extractor.Extract(image), 1, sha256);
        },
            ExtractorIdentity.ForRootSift(extractor.Settings.ToJson()),
            $"RootSIFT (OpenCV SIFT, {extractor.Settings.MaxFeatures} features, ≤ {extractor.Settings.MaxSize} px)", null,
            fileProblem: (_, header) => header.Pixels > Math.Min(maxPixels, ImageLimits.MaxPixelsLimit) ? ImageFile.OverLimit(header, maxPixels) : null);
    }

    public static bool IsHloc(string? model) => model != null && model.StartsWith(HlocPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Features another extractor wrote in hloc's features.h5 (<c>--model hloc:FILE</c>), read by
    /// the image's file rather than extracted: an image's entry is the longest trailing part of its
    /// path that the file holds (hloc names images relative to its image folder, the project
    /// relative to --images, so either root works). The image must have the size the file records,
    /// its keypoints must lie in it and its values be finite, else that image is refused (as an
    /// unreadable one). Keypoints keep the file's order (a map's COLMAP model then indexes them as
    /// the file does, as hloc's localize_sfm needs); descriptors are L2-normalised, as the matcher
    /// compares them by dot product.
    /// </summary>
    public static FeatureSource ForHloc(string model)
    {
        var file = IsHloc(model) ? model[HlocPrefix.Length..] : model;
        if (Directory.Exists(file)) throw new FileFormatException(file, 0, "is a folder, not an hloc features file (features.h5)");
        var names = Hloc.ListImages(file); // names the file when it is missing or not HDF5
        if (names.Count == 0) throw new FileFormatException(file, 0, "holds no image's keypoints: not an hloc features file");
        IReadOnlySet<string> known = names.ToHashSet(StringComparer.Ordinal);
        int dim = Hloc.ReadFeatures(file, names[0]).Dim;
        var identity = ExtractorIdentity.ForHloc(Path.GetFullPath(file), dim);

        FeatureSet Read(string imagePath, (int W, int H) size)
        {
            var name = HlocEntry(file, known, imagePath);
            var h = Hloc.ReadFeatures(file, name);
            if (h.Dim != dim) throw new FileFormatException(file, 0, $"'{name}' has {h.Dim}-d descriptors, '{names[0]}' {dim}-d: one extractor's features go together");
            if ((h.Width, h.Height) != (0, 0) && (h.Width, h.Height) != size)
                throw new ImageFileException(imagePath, $"is {size.W}×{size.H}, and its features in {file} ('{name}') were extracted from a {h.Width}×{h.Height} image: not the same image");
            if (Array.FindIndex(h.Descriptors, v => !float.IsFinite(v)) is var d and >= 0)
                throw new ImageFileException(imagePath, $"its features in {file} hold a value that is not finite: '{name}/descriptors' of keypoint {d / dim}");
            if (Array.FindIndex(h.Scores, v => !float.IsFinite(v)) is var sc and >= 0)
                throw new ImageFileException(imagePath, $"its features in {file} hold a value that is not finite: '{name}/scores'[{sc}]");
            for (int i = 0; i < h.Count; i++)
            {
                // The pixel convention puts the image's edges at −0.5 and W − 0.5; a pixel of slack for rounding.
                float x = h.Keypoints[2 * i], y = h.Keypoints[2 * i + 1];
                if (!float.IsFinite(x) || !float.IsFinite(y))
                    throw new ImageFileException(imagePath, $"its features in {file} hold a value that is not finite: '{name}/keypoints' of keypoint {i} ({x}, {y})");
                if (!(x >= -1.5f && x <= size.W + 0.5f && y >= -1.5f && y <= size.H + 0.5f))
                    throw new ImageFileException(imagePath, $"its features in {file} put keypoint {i} ('{name}/keypoints') at ({x}, {y}), outside the {size.W}×{size.H} image");
            }
            return FromHloc(h, size.W, size.H);
        }

        return new FeatureSource(
            _ => throw new NotSupportedException($"features of {file} (hloc) are read by image file; this step has only the pixels"),
            path => new ExtractedFile(Read(path, ImageFile.ReadSize(path)), 1, null),
            identity, $"hloc features of {file} ({dim}-d)", null,
            fromFile: (image, path) => Read(path, (image.Width, image.Height)), hloc: (file, known));
    }

    private static FeatureSet FromHloc(HlocFeatures h, int width, int height)
    {
        int n = h.Count, dim = h.Dim;
        var desc = new float[n * dim];
        for (int k = 0; k < n; k++)
        {
            var src = h.Descriptors.AsSpan(k * dim, dim);
            double norm = 0;
            foreach (var v in src) norm += (double)v * v;
            float inv = norm > 0 ? (float)(1 / Math.Sqrt(norm)) : 0;
            for (int d = 0; d < dim; d++) desc[k * dim + d] = src[d] * inv;
        }
        var x = Enumerable.Range(0, n).Select(i => h.Keypoints[2 * i]).ToArray();
        var y = Enumerable.Range(0, n).Select(i => h.Keypoints[2 * i + 1]).ToArray();
        return new FeatureSet
        {
            ImageWidth = width, ImageHeight = height, X = x, Y = y, OfficialX = x, OfficialY = y,
            Scale = Enumerable.Repeat(1f, n).ToArray(), Score = h.Scores, Reliability = h.Scores, Repeatability = Enumerable.Repeat(1f, n).ToArray(),
            Descriptors = desc, Dim = dim,
        };
    }

    /// <summary>
    /// The extractor a map's queries need: the map's own (the same network, weights and settings;
    /// RootSIFT with the map's settings). <paramref name="model"/> is the checkpoint the user gave
    /// (--model; null when none), <paramref name="recordedModel"/> the one the map records
    /// (build-map's note 'model_path'), used when no model is given. The errors say what to give instead.
    /// </summary>
    public static FeatureSource ForMap(ExtractorIdentity mapExtractor, string mapPath, string? model, string? recordedModel,
        TorchSharp.torch.Device device, bool bf16)
    {
        string leaveOut = recordedModel != null ? $" (or leave --model out to use {recordedModel})" : "";
        if (mapExtractor.FeatureType == ExtractorIdentity.HlocType)
        {
            var spec = model ?? recordedModel;
            if (!IsHloc(spec))
                throw new R2D2Exception(mapPath, 0, $"was built from {mapExtractor.Name}: its queries' features come from an hloc file too: give --model hloc:FILE{leaveOut}");
            var file = spec![HlocPrefix.Length..];
            if (model == null && !File.Exists(file))
                throw new R2D2Exception(mapPath, 0, $"was built from the hloc features of {file}, which is gone (moved or deleted): give the queries' features with --model hloc:FILE");
            var hloc = ForHloc(spec);
            // Queries may come in another file (hloc extracts them apart at times): the descriptors'
            // size must agree, and where the file holds a map image, its features must be the map's.
            if (hloc.Identity.DescriptorDim != mapExtractor.DescriptorDim)
                throw new R2D2Exception(file, 0, $"holds {hloc.Identity.DescriptorDim}-d descriptors, and {mapPath} was built from {mapExtractor.DescriptorDim}-d ones ({mapExtractor.Model}): not the same extractor");
            // Also the map's own file: hloc rewrites a file of the same name when it extracts again.
            using (var db = FeatureDatabase.OpenReadOnly(mapPath))
                if (hloc.Disagreement(db) is { } image)
                    throw new R2D2Exception(file, 0, $"holds other keypoints for the map image '{image}' than {mapPath} was built from: not the same extraction "
                        + "(extracted again since? give the queries' features of the map's extraction run)");
            return hloc;
        }
        if (IsHloc(model))
            throw new R2D2Exception(mapPath, 0, $"was built with {mapExtractor.Name}, not from hloc features: give the map's checkpoint with --model{leaveOut}");
        // Stored settings that do not parse are the database's fault, said with its name (a stack trace before).
        T Stored<T>(Func<string, T> parse)
        {
            try { return parse(mapExtractor.Settings); }
            catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or KeyNotFoundException or InvalidOperationException or ArgumentException or UsageException)
            {
                throw new FeatureDatabaseException(mapPath, $"records extraction settings that cannot be read ({e.Message}): damaged, or not written by this program");
            }
        }
        if (mapExtractor.FeatureType == ExtractorIdentity.RootSiftType)
        {
            // A checkpoint given for a RootSIFT map was ignored without a word (the queries were RootSIFT's).
            if (model != null && !string.Equals(model, ExtractorIdentity.RootSiftType, StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"--model {model}: {mapPath} was built with RootSIFT, whose queries are RootSIFT's too: leave --model out, or give --model rootsift");
            return ForRootSift(Stored(json => { var s = RootSiftSettings.FromJson(json); s.Validate(); return s; }));
        }
        if (string.Equals(model, ExtractorIdentity.RootSiftType, StringComparison.OrdinalIgnoreCase))
            throw new R2D2Exception(mapPath, 0, $"was built with R2D2 features ({mapExtractor.Name}) and its queries need the same extractor, "
                + $"so --model rootsift cannot query it: give the map's checkpoint with --model{leaveOut}, or build a RootSIFT map with `build-map --model rootsift`");
        var path = model ?? recordedModel
            ?? throw new R2D2Exception(mapPath, 0, $"does not record the checkpoint it was built with: give the checkpoint of {mapExtractor.Model} with --model");
        if (!DefaultModel.IsDefault(path) && !File.Exists(path))
            throw model != null
                ? new R2D2Exception(path, 0, $"checkpoint not found; {mapPath} was built with {mapExtractor.Model}: give its checkpoint with --model{leaveOut}")
                : new R2D2Exception(mapPath, 0, $"was built with the checkpoint {path}, which is gone (moved or deleted): give it with --model");
        // Validated here: values out of range are the database's, not an option's (a usage error before).
        var settings = Stored(json => { var s = ExtractionSettings.FromJson(json); s.Validate(); return s; });
        var net = ModelLoader.Load(path, device, new NetworkOptions { BFloat16 = bf16 });
        var source = ForR2D2(net, settings, ModelLoader.ModelName(path));
        var diff = mapExtractor.Differences(source.Identity, "in the map", "in this checkpoint");
        if (diff.Count == 0) return source;
        source.Dispose();
        throw new R2D2Exception(path, 0, $"is not the model {mapPath} was built with ({string.Join("; ", diff)}): give the checkpoint of {mapExtractor.Model} with --model{leaveOut}");
    }

    /// <summary>For features read from a file (hloc): the first image of <paramref name="db"/> that
    /// the file holds (under its name or a trailing part of it) with other keypoints than the
    /// database stores, i.e. the file was extracted again since (hloc rewrites a file of the same
    /// name); null when the ones it holds agree, it holds none, or the source extracts.</summary>
    public string? Disagreement(FeatureDatabase db)
    {
        if (_hloc is not { } hloc) return null;
        var (file, names) = hloc;
        var stored = db.ImagesWithFeatures();
        foreach (var image in db.ReadImages().Where(i => stored.Contains(i.Id)))
        {
            if (EntryOf(image.Name, names) is not { } name || db.ReadKeypoints(image.Id) is not { } kp) continue;
            var h = Hloc.ReadFeatures(file, name);
            bool same = h.Count == kp.Count && Enumerable.Range(0, h.Count).All(i =>
                Math.Abs(h.Keypoints[2 * i] - kp.X[i]) < 1e-3 && Math.Abs(h.Keypoints[2 * i + 1] - kp.Y[i]) < 1e-3);
            return same ? null : image.Name;
        }
        return null;
    }

    public void Dispose() => _owned?.Dispose();
}
