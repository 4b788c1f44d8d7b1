namespace R2D2.Localization;

/// <summary>Summary statistics of measured values, one definition for every table and report.</summary>
public static class Statistics
{
    /// <summary>The median (the mean of the two middle values for an even count); NaN when empty.
    /// Infinities sort last, so they only matter when they reach the middle.</summary>
    public static double Median(IEnumerable<double> values)
    {
        var v = values.OrderBy(x => x).ToArray();
        if (v.Length == 0) return double.NaN;
        int h = v.Length / 2;
        return v.Length % 2 == 1 ? v[h] : (v[h - 1] + v[h]) / 2;
    }
}
