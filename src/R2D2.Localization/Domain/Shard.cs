using System.Globalization;

namespace R2D2.Localization;

/// <summary>
/// One of <see cref="Count"/> parts of a stage's work (shard <see cref="Index"/>, from 0), run as
/// one task of a cluster's array job. Which items a shard takes is a function of the items, their
/// costs and the index alone (<see cref="Select{T}"/>), so a failed task can be run again anywhere.
/// </summary>
public readonly record struct Shard(int Index, int Count)
{
    /// <summary>The whole work in one part (no sharding).</summary>
    public static Shard All { get; } = new(0, 1);

    public bool IsAll => Count == 1;

    public override string ToString() => $"{Index}/{Count}";

    /// <summary>
    /// "I/N" (0 ≤ I &lt; N), "auto" (Slurm's array variables: the index is SLURM_ARRAY_TASK_ID
    /// minus SLURM_ARRAY_TASK_MIN, the count SLURM_ARRAY_TASK_COUNT) or "auto/N" (the count N, the
    /// index SLURM_ARRAY_TASK_ID itself: a task resubmitted alone, `sbatch --array=2`, still runs
    /// shard 2/N). <paramref name="environment"/> reads a variable (null when unset).
    /// </summary>
    public static Shard Parse(string text, Func<string, string?> environment)
    {
        var parts = text.Trim().Split('/');
        if (parts[0] == "auto")
        {
            int id = Variable(environment, "SLURM_ARRAY_TASK_ID", text);
            if (parts.Length == 2) return Checked(id, Number(parts[1], text), text);
            if (parts.Length != 1) throw Usage(text);
            int min = environment("SLURM_ARRAY_TASK_MIN") is { Length: > 0 } ? Variable(environment, "SLURM_ARRAY_TASK_MIN", text) : 0;
            return Checked(id - min, Variable(environment, "SLURM_ARRAY_TASK_COUNT", text), text);
        }
        if (parts.Length != 2) throw Usage(text);
        return Checked(Number(parts[0], text), Number(parts[1], text), text);
    }

    private static Shard Checked(int index, int count, string text)
    {
        if (count < 1) throw new UsageException($"--shard {text}: the number of shards must be at least 1, not {count}");
        if (index < 0 || index >= count) throw new UsageException($"--shard {text}: the shard index must be from 0 to {count - 1}, not {index}");
        return new Shard(index, count);
    }

    private static int Number(string s, string text) =>
        int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : throw Usage(text);

    private static int Variable(Func<string, string?> environment, string name, string text)
    {
        var v = environment(name);
        if (string.IsNullOrEmpty(v)) throw new UsageException($"--shard {text}: {name} is not set (not a Slurm array task); give --shard I/N");
        return int.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n
            : throw new UsageException($"--shard {text}: {name}={v} is not a number");
    }

    private static UsageException Usage(string text) =>
        new($"--shard {text}: expected I/N (shard I of N, I from 0), auto or auto/N (Slurm's SLURM_ARRAY_TASK_ID)");

    /// <summary>
    /// The indices of the items this shard takes, in their order. The items are cut into
    /// <see cref="Count"/> runs of consecutive items of about equal total cost (an item goes to the
    /// shard its cost's midpoint falls in), so neighbouring items (pairs of one image) stay together
    /// and no shard is off its share by more than one item's cost. Costs must be ≥ 0; all zero:
    /// equal numbers of items.
    /// </summary>
    public IReadOnlyList<int> Select<T>(IReadOnlyList<T> items, Func<T, long> cost)
    {
        var costs = items.Select(i => Math.Max(0, cost(i))).ToArray();
        long total = costs.Sum();
        var mine = new List<int>();
        long before = 0;
        for (int i = 0; i < costs.Length; i++)
        {
            // Integers only: the split is the same on every machine. Midpoint ×2 avoids halves.
            int shard = total > 0
                ? (int)Int128.Min(Count - 1, (Int128)Count * (2 * before + costs[i]) / (2 * (Int128)total))
                : (int)((long)Count * i / Math.Max(1, costs.Length));
            if (shard == Index) mine.Add(i);
            before += costs[i];
        }
        return mine;
    }

    /// <summary>The items this shard takes (see <see cref="Select{T}"/>).</summary>
    public List<T> Take<T>(IReadOnlyList<T> items, Func<T, long>? cost = null) =>
        Select(items, cost ?? (_ => 1)).Select(i => items[i]).ToList();
}
