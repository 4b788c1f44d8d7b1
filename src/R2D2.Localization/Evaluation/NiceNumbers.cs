namespace R2D2.Localization.Evaluation;

/// <summary>Round numbers for axes and scale bars: 1, 2 or 5 times a power of ten.</summary>
internal static class NiceNumbers
{
    private static IEnumerable<double> Around(double rough)
    {
        double p = Math.Pow(10, Math.Floor(Math.Log10(rough)));
        return new[] { 1.0, 2, 5, 10 }.Select(m => m * p);
    }

    /// <summary>The smallest at least <paramref name="rough"/> (an axis step).</summary>
    public static double AtLeast(double rough) => Around(rough).First(v => v >= rough * (1 - 1e-9));

    /// <summary>The largest at most <paramref name="rough"/> (a scale bar that fits).</summary>
    public static double AtMost(double rough) => Around(rough).Last(v => v <= rough * 1.0001);
}
