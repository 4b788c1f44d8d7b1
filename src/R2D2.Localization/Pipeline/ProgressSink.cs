namespace R2D2.Localization.Pipeline;

/// <summary>Where a runner reports its progress (a terminal bar, log lines, nothing). Every
/// member has a default that shows nothing, so a sink implements only what it shows.</summary>
public interface IProgressSink
{
    /// <summary>Runs a stage of <paramref name="items"/> steps; the stage calls the callback per finished step with a status line.</summary>
    void Stage(string name, int items, Action<Action<string>> work) => work(_ => { });
    /// <summary>A line about what the run is about to do.</summary>
    void Info(string message) { }
    /// <summary>Something the user should know that does not stop the run (rescaled intrinsics, no pose found).</summary>
    void Warning(string message) { }
    /// <summary>A failure the run reports before it stops or goes on without the item (an unreadable image).</summary>
    void Error(string message) { }
}

public static class ProgressSink
{
    /// <summary>Shows nothing.</summary>
    public static IProgressSink None { get; } = new Silent();

    private sealed class Silent : IProgressSink { }
}
