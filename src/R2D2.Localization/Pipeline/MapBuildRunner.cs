using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Mapping;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

/// <summary>What a map is built from: images with known poses, the folder their names are relative to, and the extractor.</summary>
public sealed record MapBuildInputs(IReadOnlyList<PosedImage> Images, string ImageRoot, FeatureSource Source)
{
    /// <summary>The checkpoint the map records as its model (note 'model_path': query uses it when given no
    /// --model): 'default' or a path; null: none (RootSIFT).</summary>
    public string? Model { get; init; }
    /// <summary>The files the images and poses were read from (poses file or model folder, intrinsics),
    /// with their roles: the map and the export must not overwrite them.</summary>
    public IReadOnlyList<(string Role, string? Path)> SourceFiles { get; init; } = Array.Empty<(string, string?)>();
}

public sealed record MapBuildOptions
{
    public PairSpec Pairs { get; init; } = PairSpec.FromPoses(20, 90);
    public MatchOptions Match { get; init; } = new();
    /// <summary>hloc's matches.h5 for the pairs, imported instead of matching (with features from an
    /// hloc file: <see cref="MatchRunner.Import"/>); null: match.</summary>
    public string? ImportedMatches { get; init; }
    /// <summary>Matches farther than this from their epipolar line (known poses) are dropped (px).</summary>
    public double EpipolarPx { get; init; } = 4;
    public TriangulationOptions Triangulation { get; init; } = new();
    public RetrievalIndexOptions Retrieval { get; init; } = new();
    /// <summary>The ASMK index built with the map (null: none).</summary>
    public AsmkOptions? Asmk { get; init; } = new();
    /// <summary>Store a map without points instead of failing (<see cref="EmptyMapException"/>).</summary>
    public bool AllowEmpty { get; init; }
    /// <summary>Folder for the COLMAP text model and points3D.ply; null: no export.</summary>
    public string? ExportFolder { get; init; }
    /// <summary>Export the COLMAP model in COLMAP's binary form (cameras.bin…) instead of text.</summary>
    public bool ExportBinary { get; init; }
    /// <summary>Start from a new database, deleting what is there (the demo: its images were just rewritten).</summary>
    public bool Fresh { get; init; }
    /// <summary>A database that holds a map of the same images, poses and features already is left
    /// as it is, and nothing runs (strecha-loc's reruns); a map of other inputs is refused.</summary>
    public bool KeepExistingMap { get; init; }
}

public sealed record MapBuildResult(TriangulationStats Stats, IReadOnlyDictionary<string, double> Seconds, int Images, int Pairs, string? ExportFolder);

/// <summary>A build that ends with no 3D point: the reason (no pairs, no verified matches, every
/// track filtered) is in the message. Nothing is stored as the map; what the stages stored stays.</summary>
public sealed class EmptyMapException : R2D2Exception
{
    public EmptyMapException(string database, string reason)
        : base(database, 0, $"the map would hold no 3D point: {reason}. Nothing was stored as the map (pass --allow-empty to store it anyway)") { }
}

/// <summary>
/// build-map as a chain of the stage runners over one database (hloc style): pairs → register →
/// extract → match → verify with the known poses → triangulate → colour → retrieval index →
/// store → export. Every stage skips what the database already holds, so a killed build resumes
/// where it stopped; a resumed build with other inputs is refused before anything is written.
/// </summary>
public static class MapBuildRunner
{
    /// <summary>Builds the map in the database at <paramref name="mapPath"/> (created if missing,
    /// with its folder); null when <see cref="MapBuildOptions.KeepExistingMap"/> kept the map it holds.</summary>
    public static MapBuildResult? Run(string mapPath, MapBuildInputs inputs, MapBuildOptions o, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        var pairs = Preflight(mapPath, inputs, o);
        if (o.Fresh) foreach (var f in new[] { mapPath, mapPath + "-wal", mapPath + "-shm" }) File.Delete(f);
        OutputFile.CreateFolder(Path.GetDirectoryName(Path.GetFullPath(mapPath))!);
        using var db = FeatureDatabase.Open(mapPath);
        if (o.KeepExistingMap && db.HasMap)
        {
            db.UseExtractor(inputs.Source.Identity); // a map of other features is refused, not reused
            ImageRegistration.CheckKept(db, inputs.Images); // and one of other images or poses
            CheckSameImages(db, inputs); // or of the same names' earlier images
            return null;
        }
        ImageRegistration.CheckResume(db, inputs.Images, inputs.Source.Identity);
        var verified = CheckSameImages(db, inputs);
        progress.Info($"{inputs.Images.Count} posed images, {pairs.Count} pairs ({o.Pairs}), {inputs.Source.Description} → {mapPath}");
        WriteNotes(db, inputs);
        return Build(db, inputs, pairs, o, progress, verified);
    }

    /// <summary>What <see cref="Run"/> checks before it writes, with nothing written (`build-map
    /// --check`, a cluster submission's pre-flight): the pairs, outputs over inputs, the export
    /// folder, the features a file must hold for every map image (hloc), and an existing map
    /// database's extractor and images. Returns the number of pairs.</summary>
    public static int Check(string mapPath, MapBuildInputs inputs, MapBuildOptions o)
    {
        var pairs = Preflight(mapPath, inputs, o);
        var files = inputs.Images.Select(i => Path.Combine(inputs.ImageRoot, i.Name)).ToList();
        if (inputs.Source.Lacking(files) is { Count: > 0 } lacking)
            throw new R2D2Exception(null, 0, $"{inputs.Source.Description} holds no features for {lacking.Count} of the {files.Count} map images (first: {lacking[0]})");
        var stored = new HashSet<string>();
        if (File.Exists(mapPath))
        {
            using var db = FeatureDatabase.OpenReadOnly(mapPath);
            if (!(o.KeepExistingMap && db.HasMap)) ImageRegistration.CheckResume(db, inputs.Images, inputs.Source.Identity);
            stored = CheckSameImages(db, inputs);
        }
        // The images still to extract, as the extraction will see them (the pixel limit, the
        // pyramid's sizes): the build refused them one by one, after the check had passed.
        var refused = inputs.Images.Where(i => !stored.Contains(i.Name)).Select(i => inputs.Source.FileProblem(Path.Combine(inputs.ImageRoot, i.Name)))
            .OfType<string>().ToList();
        if (refused.Count > 0)
            throw new R2D2Exception(null, 0, $"{Counted.Of(refused.Count, "map image")} of {inputs.Images.Count} would not be extracted; first: {refused[0]}");
        return pairs.Count;
    }

    /// <summary>The pairs, and the outputs checked against the inputs: what the build and its check
    /// both do before anything is opened (a bad pairs file stops the build before the database exists).</summary>
    private static List<ImagePair> Preflight(string mapPath, MapBuildInputs inputs, MapBuildOptions o)
    {
        var pairs = PairsRunner.Run(o.Pairs, inputs.Images);
        RefuseOverwritingInputs(mapPath, inputs, o);
        return pairs;
    }

    /// <summary>A map (or a killed build) of images since replaced under their names holds the earlier
    /// images' features: refused, naming the image (strecha-loc reused such a map without a word).
    /// The hashes are those extraction recorded (<see cref="DatabaseExtraction.ImageHashNote"/>, shards'
    /// included); databases of earlier versions record none: not compared.</summary>
    private static HashSet<string> CheckSameImages(FeatureDatabase db, MapBuildInputs inputs)
    {
        var before = db.ReadNotes(DatabaseExtraction.ImageHashNote);
        var verified = new HashSet<string>(StringComparer.Ordinal);
        // Only the images with stored features are read (those on disk: hloc's features need no image).
        foreach (var image in inputs.Images.Where(i => before.ContainsKey(i.Name)))
        {
            var path = Path.Combine(inputs.ImageRoot, image.Name);
            if (!File.Exists(path)) continue;
            if (ImageFile.ContentHash(path) != before[image.Name])
                throw new R2D2Exception(path, 0, $"is not the image {db.Path} was built from (its bytes changed since its features were extracted): "
                    + "the database holds the earlier image's features; build into a new database, or delete this one");
            verified.Add(image.Name);
        }
        return verified; // the extraction stage does not read them again
    }

    /// <summary>What a map records of its inputs: the checkpoint and the image folder.</summary>
    internal static void WriteNotes(FeatureDatabase db, MapBuildInputs inputs)
    {
        if (inputs.Model != null) db.WriteNote("model_path", DefaultModel.IsDefault(inputs.Model) ? DefaultModel.Name
            : FeatureSource.IsHloc(inputs.Model) ? FeatureSource.HlocPrefix + Path.GetFullPath(inputs.Model[FeatureSource.HlocPrefix.Length..])
            : Path.GetFullPath(inputs.Model));
        db.WriteNote("image_root", Path.GetFullPath(inputs.ImageRoot));
    }

    /// <summary>The map database and the export are refused when they would overwrite an input
    /// (the poses, the intrinsics, an image), and the export folder when it is an input folder, holds
    /// an input, or lies inside an input folder (a COLMAP model, a kapture folder's sensors/): checked
    /// before anything is opened or written.</summary>
    internal static void RefuseOverwritingInputs(string mapPath, MapBuildInputs inputs, MapBuildOptions o)
    {
        var outputs = new List<(string, string?)> { ("map database", mapPath), ("map database's -wal", mapPath + "-wal"), ("map database's -shm", mapPath + "-shm") };
        if (o.ExportFolder != null)
            foreach (var f in new[] { "cameras", "images", "points3D" }.Select(f => f + (o.ExportBinary ? ".bin" : ".txt")).Append("points3D.ply"))
                outputs.Add(($"exported {f}", Path.Combine(o.ExportFolder, f)));
        var ins = new List<(string, string?)>();
        foreach (var (role, path) in inputs.SourceFiles) ins.AddRange(OutputFile.InputsOf(role, path));
        if (o.Pairs.Kind == PairSourceKind.File) ins.Add(("pairs file", o.Pairs.Text));
        ins.AddRange(OutputFile.InputsOf("hloc matches", o.ImportedMatches));
        ins.AddRange(inputs.Images.Select(i => ("image", (string?)Path.Combine(inputs.ImageRoot, i.Name))));
        OutputFile.RefuseInputs(outputs, ins, new[] { ("export folder", o.ExportFolder) });
        CheckExport(inputs, o);
    }

    /// <summary>What the export would fail on after the whole build: a file where its folder goes,
    /// and (text models) image names COLMAP would read as others.</summary>
    private static void CheckExport(MapBuildInputs inputs, MapBuildOptions o)
    {
        if (o.ExportFolder == null) return;
        if (File.Exists(o.ExportFolder)) throw new R2D2Exception(o.ExportFolder, 0, "is a file: --export takes a folder (created if missing)");
        if (!o.ExportBinary && inputs.Images.FirstOrDefault(i => i.Name.Any(char.IsWhiteSpace)) is { } spaced)
            throw new R2D2Exception(o.ExportFolder, 0, $"image name '{spaced.Name}' holds white space, which a COLMAP text model cannot hold (COLMAP reads a name up to its first space): export in binary (--export-format binary) or rename the image");
    }

    private static MapBuildResult Build(FeatureDatabase db, MapBuildInputs inputs, List<ImagePair> pairs, MapBuildOptions o, IProgressSink progress,
        IReadOnlySet<string> hashesChecked)
    {
        var byName = inputs.Images.ToDictionary(p => p.Name);
        var seconds = new Dictionary<string, double>();
        var sw = Stopwatch.StartNew();
        void Done(string name) { seconds[name] = Math.Round(sw.Elapsed.TotalSeconds, 2); sw.Restart(); }

        ImageRegistration.RegisterImages(db, inputs.Images);
        Done("register");
        Extract(db, inputs, inputs.Images, byName, progress, hashesChecked);
        Done("extract");
        if (o.ImportedMatches != null)
            MatchRunner.Import(db, pairs, o.ImportedMatches, n => inputs.Source.HlocName(Path.Combine(inputs.ImageRoot, n))
                ?? throw new UsageException("--matches: hloc's matches go with hloc's features (--model hloc:FILE)"), progress);
        else MatchRunner.Run(db, pairs, o.Match, progress);
        Done("match");
        Verification.Run(db, pairs, new VerifyOptions { Method = VerifyMethod.Poses, ThresholdPx = o.EpipolarPx, Poses = byName }, progress);
        Done("verify");
        if (o.ImportedMatches != null && MatchCounts(db, pairs) is var (total, verified) && total > 0 && (double)verified / total < ImportedMatchesMinShare)
            progress.Warning($"{o.ImportedMatches}: only {(double)verified / total:P1} of its {total} matches fit the poses: are they matches of these features "
                + "(the same extraction run as --model's file)? Matches of another run index other keypoints");
        var (points, stats) = TriangulationRunner.Run(db, byName, o.Triangulation, progress);
        Done("triangulate");
        if (points.Count == 0 && !o.AllowEmpty) throw new EmptyMapException(db.Path, WhyEmpty(db, pairs, stats, o));
        points = MapExport.Colorize(db, points, n => Path.Combine(inputs.ImageRoot, n));
        Done("colour");
        var retrieval = RetrievalIndexRunner.Run(db, o.Retrieval, progress);
        Done("retrieval index");
        var asmk = o.Asmk == null ? null : AsmkIndexRunner.Run(db, o.Asmk, progress);
        if (o.Asmk != null) Done("ASMK index");
        // The map and its retrieval indexes in one transaction: a build killed here leaves the
        // previous map (or none), never a map whose index is missing.
        db.WriteMap(points, MapExport.SummaryJson(stats, inputs.Images.Count, seconds), retrieval, asmk);
        Done("store");
        if (o.ExportFolder != null)
        {
            MapExport.Export(db, points, byName, o.ExportFolder, Path.Combine(o.ExportFolder, "points3D.ply"), o.ExportBinary);
            Done("export");
        }
        return new MapBuildResult(stats, seconds, inputs.Images.Count, pairs.Count, o.ExportFolder);
    }

    /// <summary>Features of every image not in the database yet; the map needs them all, so any unreadable image stops the build.</summary>
    internal static void Extract(FeatureDatabase db, MapBuildInputs inputs, IReadOnlyList<PosedImage> which, Dictionary<string, PosedImage> byName, IProgressSink progress,
        IReadOnlySet<string>? verified = null)
    {
        var images = which.Select(p => new ImageInput(Path.Combine(inputs.ImageRoot, p.Name), p.Name)).ToList();
        var failed = new List<string>();
        progress.Stage("extract", images.Count, advance =>
            DatabaseExtraction.Run(db, images, inputs.Source, i => byName[i.Name].Camera, res =>
            {
                if (res.Error != null) { progress.Error(res.Error); failed.Add(res.Error); }
                advance(res.Error != null ? $"{res.Image.Name}: failed" : res.Skipped ? $"{res.Image.Name}: stored" : $"{res.Image.Name}: {res.Keypoints} keypoints, {res.Seconds:F1} s");
            }, verified));
        if (failed.Count > 0) throw new R2D2Exception($"{Counted.Of(failed.Count, "image")} could not be read or gave no features; the map needs every image (fix them or drop them from the poses)");
    }

    /// <summary>Below this share of imported matches within the epipolar threshold, the matches are
    /// likely another extraction's (a walk's case: 12 points where the right file gave 1,044).</summary>
    private const double ImportedMatchesMinShare = 0.05;

    /// <summary>The pairs' stored matches, and those verification kept.</summary>
    private static (long Matches, long Verified) MatchCounts(FeatureDatabase db, IReadOnlyList<ImagePair> pairs)
    {
        var ids = db.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        var keys = pairs.Select(p => ImagePairs.PairId(ids[p.Name1], ids[p.Name2])).ToHashSet();
        long Sum(List<PairCount> counts) => counts.Where(c => keys.Contains(ImagePairs.PairId(c.ImageId1, c.ImageId2))).Sum(c => (long)c.Count);
        return (Sum(db.ListMatchedPairs()), Sum(db.ListGeometryPairs()));
    }

    /// <summary>Why a build gave no point, from what its stages stored for these pairs: no pairs,
    /// no matches, no match consistent with the poses, or every track rejected by the filters.</summary>
    internal static string WhyEmpty(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, TriangulationStats stats, MapBuildOptions o)
    {
        if (pairs.Count == 0)
            return $"no overlapping pairs (no two images look within {o.Pairs.MaxViewAngleDeg:G4}° of the same direction)";
        var (matches, verified) = MatchCounts(db, pairs);
        if (matches == 0) return $"no matches (in {Counted.Of(pairs.Count, "pair")}: do the images overlap?)";
        if (verified == 0)
            return $"no verified matches (none of the {matches} matches of {Counted.Of(pairs.Count, "pair")} lies within {o.EpipolarPx:G4} px of its epipolar line: "
                + "do the poses and intrinsics fit the images?)";
        var t = o.Triangulation;
        return $"all {stats.Tracks} tracks were filtered ({stats.RejectedNoConsensus} without a triangulation within {t.MaxReprojectionPx:G4} px in two images, "
            + $"{stats.RejectedAngle} with a triangulation angle under {t.MinTriangulationAngleDeg:G4}°)";
    }
}
