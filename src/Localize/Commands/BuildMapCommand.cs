using System.CommandLine;
using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Mapping;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize build-map`: a 3D map from images with known poses, stage by stage, resumable.</summary>
internal static class BuildMapCommand
{
    public static Command Create()
    {
        var net = new NetworkOptionSet();
        var ex = new ExtractionOptionSet();
        var images = new Option<string>("--images") { Description = "folder the image names of the poses file are relative to", Required = true };
        var poses = new Option<string>("--poses")
        {
            Description = "known poses: a COLMAP text model folder (cameras.txt, images.txt), an .nvm file, or a folder of Strecha .camera files",
            Required = true,
        };
        var intrinsics = new Option<string?>("--intrinsics") { Description = "with an .nvm: `name MODEL w h params...` per image (Aachen's database_intrinsics.txt) or a COLMAP database with the images' cameras" };
        var map = new Option<string>("--map") { Description = "the map database to build (e.g. maps/NAME.db); reused and completed if it exists", Required = true };
        var pairs = new Option<string?>("--pairs") { Description = "a pairs file (`name1 name2`), or poses:K[:ANGLE] (default poses:20:90)" };
        var only = new Option<string[]?>("--only") { Description = "map only these images (names), e.g. a subset of the poses file", AllowMultipleArgumentsPerToken = true };
        var allowEmpty = new Option<bool>("--allow-empty") { Description = "store a map without 3D points instead of failing (e.g. a tiny sample whose images do not overlap)" };
        var export = new Option<string?>("--export") { Description = "folder for the COLMAP text model (default: <map>_model next to the map; 'none' to skip); a PLY goes beside it" };
        var cmd = new Command("build-map", "Build a 3D map from daytime images with known poses: extract, pair, match, verify, triangulate.");
        net.AddTo(cmd); ex.AddTo(cmd);
        foreach (var o in new Option[] { images, poses, intrinsics, map, pairs, only, export, allowEmpty }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            var settings = ex.Get(r);
            var root = r.GetValue(images)!;
            if (!Directory.Exists(root)) throw new ArgumentException($"{root}: image folder not found");
            // 1. Read and check every input before anything is written.
            var posedAll = PosedImages.Read(r.GetValue(poses)!, r.GetValue(intrinsics) is { } cams ? Pipeline.CameraFiles.Read(cams) : null, r.GetValue(intrinsics), root);
            var subset = r.GetValue(only);
            var posed = subset is { Length: > 0 } ? posedAll.Where(p => subset.Contains(p.Name)).ToList() : posedAll;
            if (subset is { Length: > 0 } && posed.Count != subset.Length)
                throw new ArgumentException($"--only names image(s) not in {r.GetValue(poses)}: {string.Join(", ", subset.Except(posed.Select(p => p.Name)))}");
            if (posed.Count < 2) throw new ArgumentException($"{r.GetValue(poses)}: {posed.Count} posed image(s); a map needs 2 or more");
            if (posed.Select(p => FeatureDatabase.ImageNameProblem(p.Name)).FirstOrDefault(x => x != null) is { } badName)
                throw new ArgumentException($"{r.GetValue(poses)}: {badName}");
            var missing = posed.Where(p => !File.Exists(Path.Combine(root, p.Name))).Select(p => p.Name).ToList();
            if (missing.Count > 0)
                throw new ArgumentException($"{r.GetValue(poses)} names {missing.Count} image(s) not found under {root}, e.g. {missing[0]}");
            posed = posed.Select(p => CheckSize(p, root)).ToList();
            var byName = posed.ToDictionary(p => p.Name);
            var o = new MapBuildOptions { AllowEmpty = r.GetValue(allowEmpty) };
            string pairSpec = r.GetValue(pairs) ?? $"poses:{o.PairsPerImage}:{o.MaxViewAngleDeg}";
            List<ImagePair> pairList;
            if (pairSpec.StartsWith("poses:", StringComparison.Ordinal))
            {
                var (k, angle) = ParsePoses(pairSpec, o.MaxViewAngleDeg);
                o = o with { PairsPerImage = k, MaxViewAngleDeg = angle };
                pairList = MapBuilder.PairsFromPoses(posed, o);
            }
            else pairList = PairSources.ReadFile(pairSpec, byName.Keys.ToHashSet());
            var mapPath = r.GetValue(map)!;
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(mapPath))!);

            using var source = net.LoadSource(r, settings);
            using var db = FeatureDatabase.Open(mapPath);
            MapBuilder.CheckResume(db, posed, source.Identity); // a resumed build with other inputs: refused before any write
            Console.WriteLine($"build-map: {posed.Count} posed images, {pairList.Count} pairs ({pairSpec}), {source.Description} → {mapPath}");
            if (!net.IsRootSift(r)) db.WriteNote("model_path", ModelPathNote(r.GetValue(net.Model)!));
            db.WriteNote("image_root", Path.GetFullPath(root));
            var dev = TorchRuntime.ResolveDevice(r.GetValue(net.Device));
            var exportDir = r.GetValue(export) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(mapPath))!, Path.GetFileNameWithoutExtension(mapPath) + "_model");
            var result = MapBuild.Run(db, posed, root, source, pairList, o, dev, new ConsoleProgress(), exportDir == "none" ? null : exportDir);
            PrintSummary(mapPath, result, exportDir == "none" ? null : exportDir);
            return 0;
        }));
        return cmd;
    }

    /// <summary>What a map records as its model: a checkpoint's full path, or "default" for the embedded model.</summary>
    internal static string ModelPathNote(string model) => DefaultModel.IsDefault(model) ? DefaultModel.Name : Path.GetFullPath(model);

    /// <summary>Images whose size differs from their camera's (thumbnails, resized copies) get the camera rescaled, with a warning.</summary>
    internal static PosedImage CheckSize(PosedImage p, string root)
    {
        var (w, h) = ImageFile.ReadSize(Path.Combine(root, p.Name));
        if (Intrinsics.RescaledTo(p.Camera, w, h) is not { } scaled) return p;
        Reporter.Warn($"{p.Name}: image is {w}×{h}, its camera {p.Camera.Width}×{p.Camera.Height}: intrinsics rescaled");
        return p with { Camera = scaled };
    }

    internal static void PrintSummary(string mapPath, MapBuildResult result, string? exportDir)
    {
        var st = result.Stats;
        Console.WriteLine();
        Console.WriteLine($"map {mapPath}: {result.Images} images, {result.Pairs} pairs, {st.Points} 3D points from {st.Tracks} tracks "
            + $"(rejected: {st.RejectedNoConsensus} without consensus, {st.RejectedAngle} by angle; {st.CompletedObservations} observations completed), "
            + $"mean track length {st.MeanTrackLength:F2}, mean reprojection error {st.MeanReprojectionErrorPx:F3} px");
        Console.WriteLine("time per stage: " + string.Join(", ", result.Seconds.Select(kv => $"{kv.Key} {kv.Value:F1} s")));
        if (exportDir != null) Console.WriteLine($"exported: {exportDir} (COLMAP text model, points3D.ply)");
    }

    /// <summary>`poses:K[:ANGLE]` → (K, ANGLE in degrees).</summary>
    internal static (int K, double AngleDeg) ParsePoses(string spec, double defaultAngle)
    {
        var parts = spec.Split(':');
        if (parts.Length < 2 || !int.TryParse(parts[1], out int k) || k < 1) throw new ArgumentException($"--pairs {spec}: expected poses:K[:ANGLE]");
        double angle = parts.Length > 2 && double.TryParse(parts[2], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var a)
            ? a : defaultAngle;
        return (k, angle);
    }
}
