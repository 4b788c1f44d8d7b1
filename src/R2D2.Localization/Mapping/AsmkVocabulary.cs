namespace R2D2.Localization.Mapping;

/// <summary>
/// Training of ASMK's two-level vocabulary on sample descriptors: k-means of <c>side</c> coarse
/// centres, then in each coarse cell a k-means of up to <c>side</c> fine centres (a quarter of
/// the cell's samples at most; a cell with no sample keeps its coarse centre as its one word).
/// Each part is handed to <c>store</c> as it is done and parts in <c>known</c> are reused, so a
/// killed training resumes where it stopped (the same samples and seed give the same parts).
/// Part −1 is the coarse centres, part c the fine centres of cell c.
/// </summary>
public static class AsmkVocabulary
{
    public static AsmkCodebook Train(float[] samples, int dim, int side, int iterations, int seed,
        IReadOnlyDictionary<int, float[]> known, Action<int, float[]> store, Action<string>? advance = null)
    {
        if (!known.TryGetValue(-1, out var coarse))
        {
            coarse = Vlad.TrainCodebook(samples, dim, side, iterations, seed);
            store(-1, coarse);
        }
        advance?.Invoke(known.ContainsKey(-1) ? "coarse words (stored)" : "coarse words (k-means)");
        var cells = CoarseCells(samples, dim, coarse, side);
        var fine = new float[side][];
        for (int c = 0; c < side; c++)
        {
            if (!known.TryGetValue(c, out fine[c]!))
            {
                var members = cells[c];
                int k = Math.Clamp(members.Count / 4, 1, side);
                var sub = new float[members.Count * dim];
                for (int i = 0; i < members.Count; i++) Array.Copy(samples, members[i] * dim, sub, i * dim, dim);
                fine[c] = members.Count == 0 ? coarse.AsSpan(c * dim, dim).ToArray()
                    : members.Count <= k ? sub : Vlad.TrainCodebook(sub, dim, k, iterations, seed + c + 1);
                store(c, fine[c]);
            }
            // A resumed training says which parts it took from the database (as build-map's "stored").
            advance?.Invoke(known.ContainsKey(c) ? $"fine words of coarse cell {c} (stored)" : $"fine words of coarse cell {c}");
        }
        return new AsmkCodebook(dim, coarse, fine);
    }

    /// <summary>The samples of each coarse cell (the fine parts are not trained yet: a codebook whose
    /// cells hold their coarse centre as their one word, of which only the coarse level is used).</summary>
    private static List<int>[] CoarseCells(float[] x, int dim, float[] coarse, int side)
    {
        var cb = new AsmkCodebook(dim, coarse, Enumerable.Range(0, side).Select(c => coarse.AsSpan(c * dim, dim).ToArray()).ToArray());
        var cells = Enumerable.Range(0, side).Select(_ => new List<int>()).ToArray();
        var cell = cb.CoarseCellsOf(x, x.Length / dim, 1);
        for (int i = 0; i < cell.Length; i++) cells[cell[i]].Add(i);
        return cells;
    }
}
