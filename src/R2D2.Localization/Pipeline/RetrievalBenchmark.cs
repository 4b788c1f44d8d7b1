using System.Diagnostics;
using R2D2.Localization.Mapping;
using R2D2.Localization.Matching;

namespace R2D2.Localization.Pipeline;

public sealed record RetrievalBenchmarkOptions
{
    public int Images { get; init; } = 4328;
    public int Keypoints { get; init; } = 2000;
    /// <summary>Visual words (0: as the map build chooses).</summary>
    public int Words { get; init; }
    public int Queries { get; init; } = 50;
    public int Threads { get; init; } = 2;
    public int Seed { get; init; }
}

public sealed record RetrievalBenchmarkResult(int Images, int Keypoints, int Words, double TrainSeconds, double EncodeSecondsPerImage,
    long IndexBytes, double QueryEncodeMs, double QuerySearchMs, double VladMs, double AsmkRecallAt1, double VladRecallAt1,
    double QueryAssignMs, double QueryAssignOneByOneMs, double AssignAgreement, double QueryWalkMB, double ReadGBs, int SearchThreads, double? PeakRssMb);

/// <summary>
/// ASMK's query side at scale without images: a street of synthetic images, each seeing a window
/// of synthetic points (descriptors drawn around a few thousand patterns, so the vocabulary has
/// structure to learn, with noise per view) plus distractors; the queries are new views of
/// windows between two database images. Times the vocabulary, the encoding, the query's encoding
/// (its assignment on <see cref="RetrievalBenchmarkOptions.Threads"/> threads against the
/// reference, a dot product per centre on one thread) and search, and VLAD's for comparison, and
/// reports the inverted file's memory and recall@1 (the nearest image by window).
/// </summary>
public static class RetrievalBenchmark
{
    private const int Dim = 128, PointsPerImage = 1200, Step = 400, Patterns = 4096;

    public static RetrievalBenchmarkResult Run(RetrievalBenchmarkOptions o, IProgressSink? progress = null)
    {
        progress ??= ProgressSink.None;
        var rng = new Rng(Rng.Hash(unchecked((ulong)o.Seed)));
        var patterns = new float[Patterns][];
        for (int i = 0; i < Patterns; i++) patterns[i] = Unit(rng, null, 0);
        // A fixed hash (HashCode.Combine is seeded per process: each run drew other points).
        float[] Point(int p) { var r = new Rng(Rng.Hash(unchecked((ulong)o.Seed), (ulong)p)); return Unit(r, patterns[r.Next(Patterns)], 0.6); }
        FeatureSet View(int first, int seed)
        {
            var r = new Rng(Rng.Hash(unchecked((ulong)seed)));
            var d = new List<float>(o.Keypoints * Dim);
            int n = 0;
            for (int p = first; p < first + PointsPerImage && n < o.Keypoints * 6 / 10; p++)
                if (r.NextDouble() < 0.5) { d.AddRange(Unit(r, Point(p), 0.15)); n++; }
            for (; n < o.Keypoints; n++) d.AddRange(Unit(r, patterns[r.Next(Patterns)], 0.8));
            var z = new float[n];
            return new FeatureSet { ImageWidth = 1, ImageHeight = 1, X = z, Y = z, OfficialX = z, OfficialY = z, Scale = z, Score = z, Reliability = z, Repeatability = z, Descriptors = d.ToArray(), Dim = Dim };
        }

        var asmk = new AsmkOptions { Words = o.Words };
        int side = asmk.Side((long)o.Images * o.Keypoints, o.Images);
        int samples = asmk.Samples((long)o.Images * o.Keypoints, side);
        var x = new float[samples * Dim];
        for (int s = 0; s < samples;)
        {
            var f = View(rng.Next(o.Images) * Step, rng.Next(int.MaxValue));
            for (int i = 0; i < f.Count && s < samples; i += 10, s++) Array.Copy(f.Descriptors, i * Dim, x, s * Dim, Dim);
        }
        // Each figure times its own work only: not the synthetic descriptors' generation, nor VLAD's share.
        var sw = Stopwatch.StartNew();
        var cb = AsmkVocabulary.Train(x, Dim, side, 10, o.Seed, new Dictionary<int, float[]>(), (_, _) => { });
        double train = sw.Elapsed.TotalSeconds;
        var vladCodebook = Vlad.TrainCodebook(x.AsSpan(0, Math.Min(samples, 50_000) * Dim).ToArray(), Dim, 64, 10, o.Seed);

        var db = new Dictionary<int, AsmkImage>();
        var vlad = new float[o.Images][];
        double encodeSeconds = 0;
        progress.Stage("encode database", o.Images, advance =>
        {
            for (int i = 0; i < o.Images; i++)
            {
                var f = View(i * Step, 1_000_000 + i);
                sw.Restart();
                db[i] = Asmk.Encode(f.Descriptors, f.Count, cb);
                encodeSeconds += sw.Elapsed.TotalSeconds;
                vlad[i] = Vlad.Encode(f, vladCodebook, 64);
                advance($"image {i}");
            }
        });
        var index = new AsmkIndex(cb, db);

        // Medians per query, after one untimed query (first calls: JIT, thread pool, pages).
        var encMs = new List<double>(); var searchMs = new List<double>(); var vladMs = new List<double>();
        var assignMs = new List<double>(); var oneByOneMs = new List<double>(); var walkMB = new List<double>();
        long same = 0, assigned = 0;
        int asmkHits = 0, vladHits = 0;
        for (int q = -1; q < o.Queries; q++)
        {
            int i = q < 0 ? 0 : rng.Next(o.Images - 1);
            var f = View(i * Step + Step / 4, 2_000_000 + q); // closest to image i
            sw.Restart();
            var e = Asmk.Encode(f.Descriptors, f.Count, cb);
            double enc = sw.Elapsed.TotalMilliseconds; sw.Restart();
            // The words of the same descriptors again, and by the reference.
            var assignedWords = cb.AssignAll(f.Descriptors, f.Count, o.Threads);
            double assign = sw.Elapsed.TotalMilliseconds; sw.Restart();
            int agree = 0;
            for (int d = 0; d < f.Count; d++) if (ReferenceAssign(cb, f.Descriptor(d)) == assignedWords[d]) agree++;
            double oneByOne = sw.Elapsed.TotalMilliseconds; sw.Restart();
            var top = index.Search(e, 20, o.Threads);
            double search = sw.Elapsed.TotalMilliseconds; sw.Restart();
            var v = Vlad.Encode(f, vladCodebook, 64);
            int best = 0; double bestS = double.NegativeInfinity;
            for (int j = 0; j < o.Images; j++) { double s = 0; for (int t = 0; t < v.Length; t++) s += v[t] * vlad[j][t]; if (s > bestS) { bestS = s; best = j; } }
            double vladQuery = sw.Elapsed.TotalMilliseconds;
            if (q < 0) continue;
            encMs.Add(enc); assignMs.Add(assign); oneByOneMs.Add(oneByOne); searchMs.Add(search); vladMs.Add(vladQuery); walkMB.Add(index.WalkBytes(e) / 1e6);
            same += agree; assigned += f.Count;
            if (top.Count > 0 && top[0].ImageId == i) asmkHits++;
            if (best == i) vladHits++;
        }
        // The peak before the bandwidth probe's array: the benchmark's own memory.
        double? peak = ExtractRunner.PeakRssMb();
        int searchThreads = AsmkIndex.SearchThreads(o.Threads);
        return new RetrievalBenchmarkResult(o.Images, o.Keypoints, cb.Words, train, encodeSeconds / o.Images, index.MemoryBytes,
            Statistics.Median(encMs), Statistics.Median(searchMs), Statistics.Median(vladMs), (double)asmkHits / o.Queries, (double)vladHits / o.Queries,
            Statistics.Median(assignMs), Statistics.Median(oneByOneMs), (double)same / Math.Max(assigned, 1),
            Statistics.Median(walkMB), ReadBandwidth.GBs(searchThreads), searchThreads, peak);
    }

    /// <summary>The reference the benchmark compares the codebook's assignment with: one dot
    /// product per centre (the project's implementation until 2026-11), on one thread.</summary>
    private static int ReferenceAssign(AsmkCodebook cb, ReadOnlySpan<float> x)
    {
        static int Nearest(float[] centres, int dim, ReadOnlySpan<float> x)
        {
            int best = 0; float bestD = float.PositiveInfinity;
            for (int i = 0; i < centres.Length / dim; i++)
            {
                var c = centres.AsSpan(i * dim, dim);
                float d = Similarity.Dot(c, c) - 2 * Similarity.Dot(c, x);
                if (d < bestD) { bestD = d; best = i; }
            }
            return best;
        }
        int coarse = Nearest(cb.Coarse, cb.Dim, x);
        return cb.FineStart[coarse] + Nearest(cb.Fine[coarse], cb.Dim, x);
    }

    private static float[] Unit(Rng rng, float[]? around, double noise)
    {
        var v = new float[Dim];
        double n = 0;
        for (int i = 0; i < Dim; i++)
        {
            double g = (rng.NextDouble() * 2 - 1) * 1.7320508; // uniform, unit variance (cheaper than a gaussian)
            v[i] = (float)(around == null ? g : around[i] + noise * g / Math.Sqrt(Dim));
            n += v[i] * v[i];
        }
        for (int i = 0; i < Dim; i++) v[i] /= (float)Math.Sqrt(n);
        return v;
    }
}
