using System.Diagnostics;
using R2D2.Localization.Features;
using R2D2.Localization.Storage;
using static TorchSharp.torch;

namespace R2D2.Localization.Matching;

public sealed record PairOutcome(ImagePair Pair, int Matches, double Seconds, bool Skipped);

/// <summary>
/// Mutual nearest-neighbour matching of image pairs of a feature database (hloc-style stage).
/// Streams over the pairs, keeping the descriptors of a bounded number of images in memory
/// (pairs are processed in an order that reuses them), so the memory does not grow with the
/// number of images. Resumable: pairs with stored matches are skipped; each pair is one transaction.
/// </summary>
public static class DatabaseMatching
{
    /// <summary>Throws, reading only, when a pair names an image the database does not hold or one
    /// without features, or when <paramref name="features"/> holds the images under other ids;
    /// returns the image ids by name.</summary>
    public static Dictionary<string, int> Check(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, FeatureDatabase? features = null)
    {
        features ??= db;
        var ids = features.ReadImages().ToDictionary(i => i.Name, i => i.Id);
        if (!ReferenceEquals(features, db))
        {
            var here = db.ReadImages().ToDictionary(i => i.Name, i => i.Id);
            if (here.Count != ids.Count || here.Any(kv => !ids.TryGetValue(kv.Key, out int id) || id != kv.Value))
                throw new FeatureDatabaseException(db.Path, $"does not hold the images of {features.Path} under the same ids; its matches would name other images");
        }
        var withFeatures = features.ImagesWithFeatures();
        foreach (var p in pairs)
            foreach (var n in new[] { p.Name1, p.Name2 })
            {
                if (!ids.TryGetValue(n, out var id)) throw new FeatureDatabaseException(db.Path, $"pair names image '{n}', which is not in the database");
                if (!withFeatures.Contains(id)) throw new FeatureDatabaseException(features.Path, $"image '{n}' has no features yet (run extract first)");
            }
        return ids;
    }

    /// <param name="features">Where the descriptors are read (null: <paramref name="db"/>): a shard of
    /// the matching (`--shard`) reads the merged features and writes its matches into its own database,
    /// whose images must have the same ids.</param>
    public static List<PairOutcome> Run(FeatureDatabase db, IReadOnlyList<ImagePair> pairs, Device? device = null,
        float minSimilarity = float.NegativeInfinity, int cachedImages = 64, Action<PairOutcome>? onPair = null, FeatureDatabase? features = null)
    {
        features ??= db;
        var ids = Check(db, pairs, features);
        var cache = new FeatureCache(features, cachedImages);
        var outcomes = new List<PairOutcome>();
        // Group by the first image so its descriptors are read once per group.
        foreach (var pair in pairs.OrderBy(p => ids[p.Name1]).ThenBy(p => ids[p.Name2]))
        {
            int a = ids[pair.Name1], b = ids[pair.Name2];
            PairOutcome outcome;
            if (a == b) continue;
            if (db.HasMatches(a, b)) outcome = new PairOutcome(pair, -1, 0, true);
            else
            {
                var sw = Stopwatch.StartNew();
                var f1 = cache.Get(a);
                var f2 = cache.Get(b);
                var m = MutualNearestNeighbours.Match(f1.Descriptors, f1.Count, f2.Descriptors, f2.Count, f1.Dim, device, minSimilarity);
                db.WriteMatches(a, b, m);
                outcome = new PairOutcome(pair, m.Count, sw.Elapsed.TotalSeconds, false);
            }
            outcomes.Add(outcome);
            onPair?.Invoke(outcome);
        }
        return outcomes;
    }

    /// <summary>Least-recently-used cache of an image's features.</summary>
    private sealed class FeatureCache
    {
        private readonly FeatureDatabase _db;
        private readonly int _capacity;
        private readonly Dictionary<int, LinkedListNode<(int Id, FeatureSet F)>> _map = new();
        private readonly LinkedList<(int Id, FeatureSet F)> _order = new();

        public FeatureCache(FeatureDatabase db, int capacity) { _db = db; _capacity = Math.Max(2, capacity); }

        public FeatureSet Get(int id)
        {
            if (_map.TryGetValue(id, out var node))
            {
                _order.Remove(node);
                _order.AddFirst(node);
                return node.Value.F;
            }
            var f = _db.ReadFeatures(id) ?? throw new FeatureDatabaseException(_db.Path, $"image {id} has no features");
            _map[id] = _order.AddFirst((id, f));
            if (_order.Count > _capacity)
            {
                var last = _order.Last!;
                _order.RemoveLast();
                _map.Remove(last.Value.Id);
            }
            return f;
        }
    }
}
