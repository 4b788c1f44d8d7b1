using Spectre.Console;

namespace R2D2.Localization.Cli;

/// <summary>Progress for long work: a Spectre.Console bar on a terminal, plain log lines when the
/// output is redirected (logs, CI).</summary>
internal static class Reporter
{
    public static bool Interactive =>
        !Console.IsOutputRedirected && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="step"/> for each item; the step returns a short status line.</summary>
    public static void ForEach<T>(string title, IReadOnlyList<T> items, Func<T, string> name, Func<T, string?> step)
    {
        if (Interactive)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(title, maxValue: items.Count);
                    foreach (var item in items)
                    {
                        task.Description = $"{title} {Markup.Escape(name(item))}";
                        var line = step(item);
                        if (line != null) AnsiConsole.MarkupLine(Markup.Escape(line));
                        task.Increment(1);
                    }
                    task.Description = title;
                });
        }
        else
        {
            int i = 0;
            foreach (var item in items)
            {
                i++;
                var line = step(item);
                Console.WriteLine($"[{i}/{items.Count}] {line ?? name(item)}");
            }
        }
    }

    /// <summary>Runs <paramref name="work"/>, which calls the given callback once per finished
    /// item with a status line (shown on a terminal bar, or logged every <paramref name="logEvery"/> items).</summary>
    public static void Track(string title, int total, Action<Action<string>> work, int logEvery = 100)
    {
        if (Interactive)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(title, maxValue: Math.Max(total, 1));
                    work(line => { task.Description = $"{title} {Markup.Escape(line)}"; task.Increment(1); });
                    task.Description = title;
                });
        }
        else
        {
            int i = 0;
            work(line => { i++; if (i % logEvery == 0 || i == total) Console.WriteLine($"[{i}/{total}] {line}"); });
        }
    }

    public static void Error(string message) => Console.Error.WriteLine($"error: {message}");
    public static void Warn(string message) => Console.Error.WriteLine($"warning: {message}");
}

/// <summary>Map-build progress on the console.</summary>
internal sealed class ConsoleProgress : R2D2.Localization.Mapping.IMapBuildProgress
{
    public void Stage(string name, int items, Action<Action<string>> work)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Reporter.Track(name, items, work, logEvery: Math.Max(1, items / 20));
        Console.WriteLine($"{name}: done in {sw.Elapsed.TotalSeconds:F1} s");
    }

    public void Error(string message) => Reporter.Error(message);
}
