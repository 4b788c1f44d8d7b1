using System.Diagnostics;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Training;

/// <summary>One pair drawn by <see cref="PairPreviews.Write"/>: its picture, the pixels of image 1
/// with a flow target, what the source says of it (night, the map images) and the time to get it.</summary>
public sealed record PairPreview(long Index, string Png, int KnownPixels, int Pixels, string Note, double Milliseconds)
{
    public string Line => $"{Png}: {KnownPixels} pixels with flow ({100.0 * KnownPixels / Pixels:F1}%){Note}, {Milliseconds:F1} ms";
}

/// <summary>Pictures of training pairs (image 1 | image 2, lines to the flow targets) and the time to generate each.</summary>
public static class PairPreviews
{
    /// <summary>Writes pairs <paramref name="first"/> … first + count − 1 of the source as pair_NNNNN.png into
    /// <paramref name="outDir"/> (created if missing), <paramref name="lines"/> correspondences drawn per pair.</summary>
    public static List<PairPreview> Write(ITrainingPairSource source, string outDir, long first, int count, int lines, Action<PairPreview>? onPair = null)
    {
        OutputFile.CreateFolder(outDir);
        var previews = new List<PairPreview>();
        for (long i = first, end = first + count; i < end; i++)
        {
            var sw = Stopwatch.StartNew();
            string note = "";
            TrainingPair pair;
            if (source is RenderedPairSource rs) { var sample = rs.Sample(i); pair = sample.Pair; note = $", scene {sample.SceneSeed}, {(sample.Night1 ? "night" : "day")} → {(sample.Night2 ? "night" : "day")}"; }
            else if (source is HomographyPairSource hs) { var sample = hs.Sample(i); pair = sample.Pair; note = sample.Night ? ", night" : ""; }
            else if (source is MapPairSource ms) { var sample = ms.Sample(i); pair = sample.Pair; note = $", {sample.Image1} → {sample.Image2}"; }
            else pair = source.Get(i);
            double millis = sw.Elapsed.TotalMilliseconds;
            int known = 0;
            for (int k = 0; k < pair.Width * pair.Height; k++) if (!float.IsNaN(pair.Flow[k])) known++;
            var png = Path.Combine(outDir, $"pair_{i:D5}.png");
            PairViz.WritePair(pair, png, lines, (ulong)i);
            var preview = new PairPreview(i, png, known, pair.Width * pair.Height, note, millis);
            previews.Add(preview);
            onPair?.Invoke(preview);
        }
        return previews;
    }

    /// <summary>The pair_*.png files of <paramref name="outDir"/> that <paramref name="written"/> are not
    /// (an earlier run's, of other indices or another source): said, as they look like this run's.</summary>
    public static List<string> Others(string outDir, IReadOnlyList<PairPreview> written)
    {
        var ours = written.Select(p => Path.GetFileName(p.Png)).ToHashSet(StringComparer.Ordinal);
        return Directory.GetFiles(outDir, "pair_*.png").Select(Path.GetFileName).Where(f => !ours.Contains(f!)).Order(StringComparer.Ordinal).ToList()!;
    }

    /// <summary>Pairs per second getting pairs first … first + count − 1 on all cores, in batches of 8
    /// as the trainer asks for them (<see cref="Trainer.Batch"/>), one batch after another.</summary>
    public static double Throughput(ITrainingPairSource source, long first, int count)
    {
        var sw = Stopwatch.StartNew();
        int batches = Math.Max(1, count / 8);
        // As the trainer: several batches in flight at once.
        var tasks = Enumerable.Range(0, batches).Select(b => Task.Run(() => Trainer.Batch(new Offset(source, first), b, 8))).ToArray();
        Task.WaitAll(tasks);
        return batches * 8 / sw.Elapsed.TotalSeconds;
    }

    private sealed class Offset(ITrainingPairSource inner, long first) : ITrainingPairSource
    {
        public TrainingPair Get(long index) => inner.Get(first + index);
        public string Describe() => inner.Describe();
    }
}
