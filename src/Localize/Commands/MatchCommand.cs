using System.CommandLine;
using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Matching;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Cli.Commands;

/// <summary>`localize match`: mutual nearest-neighbour matches of image pairs of a feature database.</summary>
internal static class MatchCommand
{
    public static Command Create()
    {
        var database = new Option<string>("--database") { Description = "feature database (from extract --database)", Required = true };
        var pairs = new Option<string>("--pairs")
        {
            Description = "a pairs file (`name1 name2` per line), 'exhaustive', 'poses:K[:ANGLE]' (K nearest camera centres among the "
                + "images with pose priors, viewing directions within ANGLE degrees, default 90), or 'covisibility:K' (the K images sharing "
                + "most 3D points of the map in the database)",
            Required = true,
        };
        var minSim = new Option<float>("--min-similarity") { Description = "drop mutual matches whose descriptor similarity is below this", DefaultValueFactory = _ => -1f };
        var device = new Option<string>("--device") { Description = "auto | cpu | cuda", DefaultValueFactory = _ => "auto" };
        var threads = new Option<int>("--threads") { Description = "CPU threads (0: all cores)" };
        var verify = new Option<string>("--verify")
        {
            Description = "geometric verification into two_view_geometries: none, fundamental (OpenCV USAC F-matrix RANSAC, no poses needed), "
                + "or poses (epipolar distance ≤ 4 px from the images' pose priors and cameras)",
            DefaultValueFactory = _ => "none",
        };
        verify.AcceptOnlyFromAmong("none", "fundamental", "poses");
        var cmd = new Command("match", "Match image pairs of a feature database (mutual nearest neighbours); resumable.");
        foreach (var o in new Option[] { database, pairs, minSim, device, threads, verify }) cmd.Options.Add(o);
        cmd.SetAction(r => CommandErrors.Guard(() =>
        {
            TorchRuntime.SetThreads(r.GetValue(threads));
            var dev = TorchRuntime.ResolveDevice(r.GetValue(device));
            var dbPath = r.GetValue(database)!;
            if (!File.Exists(dbPath)) throw new ArgumentException($"{dbPath}: database not found");
            using var db = FeatureDatabase.Open(dbPath);
            var list = ResolvePairs(db, r.GetValue(pairs)!);
            Console.WriteLine($"match: {list.Count} pair(s) in {dbPath} on {dev}");
            var total = Stopwatch.StartNew();
            int done = 0, skipped = 0;
            long matches = 0;
            Reporter.Track("match", list.Count, advance =>
                DatabaseMatching.Run(db, list, dev, r.GetValue(minSim), onPair: o =>
                {
                    if (o.Skipped) skipped++; else { done++; matches += o.Matches; }
                    advance($"{o.Pair.Name1} {o.Pair.Name2}: {(o.Skipped ? "stored" : o.Matches + " matches")}");
                }));
            double secs = total.Elapsed.TotalSeconds;
            if (r.GetValue(verify) != "none")
            {
                int verified = 0;
                Reporter.Track("verify", list.Count, advance =>
                    verified = Verification.Run(db, list, r.GetValue(verify) == "poses", (p, n) => advance($"{p.Name1} {p.Name2}: {n} inliers")));
                Console.WriteLine($"verify: {verified} pair(s) verified ({r.GetValue(verify)})");
            }
            Console.WriteLine($"match: {done} matched ({(done > 0 ? done / secs : 0):F1} pairs/s, mean {(done > 0 ? matches / (double)done : 0):F0} matches), "
                + $"{skipped} skipped (stored), {secs:F1} s");
            return 0;
        }));
        return cmd;
    }

    internal static List<ImagePair> ResolvePairs(FeatureDatabase db, string spec)
    {
        var images = db.ReadImages();
        var names = images.Select(i => i.Name).ToList();
        if (spec == "exhaustive") return PairSources.Exhaustive(names);
        if (spec.StartsWith("poses:", StringComparison.Ordinal))
        {
            var (k, angle) = BuildMapCommand.ParsePoses(spec, 90);
            var posed = images.Where(i => i.PriorRotation != null && i.PriorTranslation != null)
                .Select(i => (i.Name, Geometry.Pose.FromQuaternion(i.PriorRotation!, i.PriorTranslation!))).ToList();
            if (posed.Count < 2) throw new ArgumentException($"--pairs {spec}: the database holds {posed.Count} image(s) with pose priors; need 2 or more");
            return PairSources.FromPoses(posed, k, angle * Math.PI / 180);
        }
        if (spec.StartsWith("covisibility:", StringComparison.Ordinal))
        {
            if (!int.TryParse(spec["covisibility:".Length..], out int k) || k < 1) throw new ArgumentException($"--pairs {spec}: expected covisibility:K");
            if (!db.HasMap) throw new ArgumentException($"--pairs {spec}: {db.Path} holds no map to take covisibility from (run build-map first)");
            var seen = new Dictionary<int, HashSet<long>>();
            foreach (var p in db.ReadMap())
                foreach (var e in p.Track)
                    (seen.TryGetValue(e.ImageId, out var set) ? set : seen[e.ImageId] = new HashSet<long>()).Add(p.Id);
            return PairSources.FromCovisibility(images.Where(i => seen.ContainsKey(i.Id))
                .Select(i => (i.Name, (IReadOnlyCollection<long>)seen[i.Id])).ToList(), k);
        }
        return PairSources.ReadFile(spec, names.ToHashSet());
    }
}
