namespace R2D2.Localization.Localization;

/// <summary>Why a query got no pose of its own.</summary>
public enum FailureReason
{
    None,
    /// <summary>Fewer 2D–3D matches than PnP needs (<see cref="Localizer.MinMatchesForPnp"/>).</summary>
    TooFewMatches,
    /// <summary>PnP-RANSAC found no pose consistent with any sample of the matches.</summary>
    NoModel,
    /// <summary>A pose, but supported by fewer inliers than required.</summary>
    TooFewInliers,
    Unreadable,
    /// <summary>Localization stopped with an error (bad camera, numerical failure, ...).</summary>
    Error,
}

/// <summary>The reason of a failure, from what a run records per query (status, matches, inliers):
/// a not-localized query with too few matches never reached PnP, one with no inlier had no model,
/// one with inliers had too few of them.</summary>
public static class QueryFailure
{
    public static FailureReason Classify(QueryStatus status, int matches, int inliers) => status switch
    {
        QueryStatus.Localized => FailureReason.None,
        QueryStatus.Unreadable => FailureReason.Unreadable,
        QueryStatus.Failed => FailureReason.Error,
        _ => matches < Localizer.MinMatchesForPnp ? FailureReason.TooFewMatches : inliers == 0 ? FailureReason.NoModel : FailureReason.TooFewInliers,
    };

    /// <summary>Short words for tables: "too few matches", "PnP found no model", ...</summary>
    public static string Words(FailureReason r) => r switch
    {
        FailureReason.None => "",
        FailureReason.TooFewMatches => "too few matches",
        FailureReason.NoModel => "PnP found no model",
        FailureReason.TooFewInliers => "too few inliers",
        FailureReason.Unreadable => "image unreadable",
        _ => "localization failed",
    };

    /// <summary>A sentence for a report: the reason with its numbers, and the run's message for
    /// unreadable images and errors (without the fallback clause the report states apart).</summary>
    /// <param name="minInliers">The run's minimum inlier count, when known.</param>
    public static string Explain(FailureReason r, int matches, int inliers, int? minInliers, string? warning)
    {
        string? message = warning?.Split("; written with the pose of", 2)[0];
        return r switch
        {
            FailureReason.None => "",
            FailureReason.TooFewMatches => $"too few matches: {matches} 2D–3D match{(matches == 1 ? "" : "es")}, PnP needs at least {Localizer.MinMatchesForPnp}",
            FailureReason.NoModel => $"PnP found no model: no pose agrees with enough of the {matches} matches (all drawn red)",
            FailureReason.TooFewInliers => $"too few inliers: {inliers} of {matches} matches agree on a pose"
                + (minInliers is int m ? $", at least {m} are needed" : ""),
            FailureReason.Unreadable => "image unreadable" + (message != null ? ": " + message : ""),
            _ => message ?? "localization failed",
        };
    }
}
