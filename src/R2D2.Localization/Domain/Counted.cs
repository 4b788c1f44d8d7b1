using System.Globalization;

namespace R2D2.Localization;

/// <summary>A count with its noun in the right number, for messages: "1 image", "3 images",
/// "1 query", "2 queries".</summary>
public static class Counted
{
    /// <param name="many">the plural when it is not <paramref name="one"/> + "s"</param>
    public static string Of(long n, string one, string? many = null) =>
        n.ToString(CultureInfo.InvariantCulture) + " " + (n == 1 ? one : many ?? one + "s");
}
