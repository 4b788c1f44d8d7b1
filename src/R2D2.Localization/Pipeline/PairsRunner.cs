using System.Globalization;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Pipeline;

public enum PairSourceKind { File, Exhaustive, Poses, Covisibility }

/// <summary>
/// Which pairs to match, as the command line writes it (--pairs): a pairs file (`name1 name2` per
/// line), 'exhaustive', 'poses:K[:ANGLE]' (the K nearest camera centres among cameras whose viewing
/// directions are within ANGLE degrees, default 90), or 'covisibility:K' (the K images sharing most
/// 3D points of a map). Parsed here only.
/// </summary>
public sealed record PairSpec(PairSourceKind Kind, string Text, int K = 0, double MaxViewAngleDeg = 90)
{
    public static PairSpec Exhaustive { get; } = new(PairSourceKind.Exhaustive, "exhaustive");

    public static PairSpec FromPoses(int k, double maxViewAngleDeg = 90) =>
        new(PairSourceKind.Poses, string.Create(CultureInfo.InvariantCulture, $"poses:{k}:{maxViewAngleDeg}"), k, maxViewAngleDeg);

    /// <summary>The spec of <paramref name="text"/>; what is neither a keyword nor a poses:/covisibility: spec is a pairs file.</summary>
    public static PairSpec Parse(string text)
    {
        if (text == "exhaustive") return Exhaustive;
        if (text.StartsWith("poses:", StringComparison.Ordinal))
        {
            var parts = text.Split(':');
            double angle = 90;
            if (parts.Length is < 2 or > 3 || !int.TryParse(parts[1], out int k) || k < 1
                || (parts.Length == 3 && !double.TryParse(parts[2], NumberStyles.Float, CultureInfo.InvariantCulture, out angle)))
                throw new UsageException($"--pairs {text}: expected poses:K[:ANGLE]");
            if (!(angle >= 0 && angle <= 180)) throw new UsageException($"--pairs {text}: the angle between viewing directions must be in [0, 180] degrees");
            return new(PairSourceKind.Poses, text, k, angle);
        }
        if (text.StartsWith("covisibility:", StringComparison.Ordinal))
        {
            if (!int.TryParse(text["covisibility:".Length..], out int k) || k < 1) throw new UsageException($"--pairs {text}: expected covisibility:K");
            return new(PairSourceKind.Covisibility, text, k);
        }
        return new(PairSourceKind.File, text);
    }

    public override string ToString() => Text;
}

/// <summary>The pairs stage: the image pairs a spec names, among posed images (a map build, before
/// they are registered) or among a feature database's images (their pose priors, its map).</summary>
public static class PairsRunner
{
    /// <summary>Pairs among images with known poses; 'covisibility' needs a map, which they have not.</summary>
    public static List<ImagePair> Run(PairSpec spec, IReadOnlyList<PosedImage> images)
    {
        if (spec.Kind == PairSourceKind.Covisibility)
            throw new UsageException($"--pairs {spec}: covisibility needs a map; give a pairs file, 'exhaustive' or poses:K[:ANGLE]");
        return Run(spec, images.Select(i => i.Name).ToList(), () => images.Select(i => (i.Name, i.Pose)).ToList(), "given", null);
    }

    /// <summary>Pairs among the images of a feature database: 'poses' from their pose priors,
    /// 'covisibility' from the map the database holds.</summary>
    public static List<ImagePair> Run(PairSpec spec, FeatureDatabase db)
    {
        var images = db.ReadImages();
        return Run(spec, images.Select(i => i.Name).ToList(),
            () => images.Where(i => i.PriorRotation != null && i.PriorTranslation != null)
                .Select(i => (i.Name, i.PriorPose!)).ToList(),
            "with pose priors in the database (build-map stores its posed images' poses there; extract stores none)",
            () =>
            {
                if (!db.HasMap) throw new UsageException($"--pairs {spec}: {db.Path} holds no map to take covisibility from (run build-map first)");
                var seen = new Dictionary<int, HashSet<long>>();
                foreach (var p in db.ReadMap())
                    foreach (var e in p.Track)
                        (seen.TryGetValue(e.ImageId, out var set) ? set : seen[e.ImageId] = new HashSet<long>()).Add(p.Id);
                return images.Where(i => seen.ContainsKey(i.Id)).Select(i => (i.Name, (IReadOnlyCollection<long>)seen[i.Id])).ToList();
            });
    }

    private static List<ImagePair> Run(PairSpec spec, List<string> names, Func<List<(string Name, Pose Pose)>> posed, string posesFrom,
        Func<List<(string Name, IReadOnlyCollection<long> PointIds)>>? covisibility)
    {
        switch (spec.Kind)
        {
            case PairSourceKind.Exhaustive:
                return PairSources.Exhaustive(names);
            case PairSourceKind.Poses:
                var cameras = posed();
                if (cameras.Count < 2) throw new UsageException($"--pairs {spec}: {Counted.Of(cameras.Count, "image")} {posesFrom}; need 2 or more");
                return PairSources.FromPoses(cameras, spec.K, spec.MaxViewAngleDeg * Math.PI / 180);
            case PairSourceKind.Covisibility:
                return PairSources.FromCovisibility(covisibility!(), spec.K);
            default:
                return PairSources.ReadFile(spec.Text, names.ToHashSet());
        }
    }
}
