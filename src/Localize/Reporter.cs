using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;
using Spectre.Console;

namespace R2D2.Localization.Cli;

/// <summary>Progress for long work: a Spectre.Console bar on a terminal, plain log lines when the
/// output is redirected (logs, CI).</summary>
internal static class Reporter
{
    public static bool Interactive =>
        !Console.IsOutputRedirected && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    /// <summary>Runs <paramref name="step"/> for each item; the step returns a short status line.</summary>
    public static void ForEach<T>(string title, IReadOnlyList<T> items, Func<T, string> name, Func<T, string?> step) =>
        Items(title, items.Count, bar =>
        {
            foreach (var item in items)
            {
                bar.Started(name(item));
                bar.Finished(step(item));
            }
        });

    /// <summary>Runs <paramref name="work"/>, which goes through the items itself and tells the bar
    /// when each starts (its name) and ends (a status line): on a terminal a bar with the line
    /// printed above it, otherwise a log line `[i/n] line` per item.</summary>
    public static void Items(string title, int total, Action<IItemBar> work)
    {
        if (Interactive)
        {
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(ctx =>
                {
                    var task = ctx.AddTask(title, maxValue: Math.Max(total, 1));
                    work(new TerminalBar(title, task));
                    task.Description = title;
                });
        }
        else work(new LogBar(total));
    }

    private sealed class TerminalBar(string title, ProgressTask task) : IItemBar
    {
        public void Started(string name) => task.Description = $"{title} {Markup.Escape(name)}";

        public void Finished(string? line)
        {
            if (line != null) AnsiConsole.MarkupLine(Markup.Escape(line));
            task.Increment(1);
        }
    }

    private sealed class LogBar(int total) : IItemBar
    {
        private int _done;
        private string _name = "";

        public void Started(string name) => _name = name;
        public void Finished(string? line) => Console.WriteLine($"[{++_done}/{total}] {line ?? _name}");
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
    /// <summary>A path as a shell reads it back: quoted when it holds anything but plain characters
    /// (a printed command with "sp ace/dëmo out" in it could not be pasted).</summary>
    public static string Shell(string path) =>
        path.Length > 0 && path.All(c => char.IsAsciiLetterOrDigit(c) || "/._-+=:,@%".Contains(c)) ? path : "'" + path.Replace("'", "'\\''") + "'";

    public static void Warn(string message) => Console.Error.WriteLine($"warning: {message}");
}

/// <summary>The progress of items that the work goes through itself (see <see cref="Reporter.Items"/>).</summary>
internal interface IItemBar
{
    void Started(string name);
    /// <summary>The item is done; <paramref name="line"/> says how (null: its name).</summary>
    void Finished(string? line);
}

/// <summary>A runner's progress on the console: a bar (or log lines) per stage and the time it
/// took, lines about the run on stdout (after <paramref name="prefix"/>: the command's name), warnings and errors on stderr.</summary>
internal class ConsoleProgress(string prefix = "", int? logEvery = null, bool stageTimes = true) : IProgressSink
{
    public virtual void Stage(string name, int items, Action<Action<string>> work)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        Reporter.Track(name, items, work, logEvery: logEvery ?? Math.Max(1, items / 20));
        if (stageTimes) Console.WriteLine($"{name}: done in {sw.Elapsed.TotalSeconds:F1} s");
    }

    public virtual void Info(string message) => Console.WriteLine(prefix.Length > 0 ? $"{prefix}: {message}" : message);
    public virtual void Warning(string message) => Reporter.Warn(message);
    public void Error(string message) => Reporter.Error(message);
}

/// <summary>A runner's progress with every item's status line printed: above the bar on a
/// terminal, `[i/n] line` in logs; no stage times.</summary>
internal sealed class ConsoleItemProgress(string prefix) : ConsoleProgress(prefix)
{
    public override void Stage(string name, int items, Action<Action<string>> work) =>
        Reporter.Items(name, items, bar => work(line => bar.Finished(line)));
}

/// <summary>A query set's progress on the console: the bar or log lines, warnings and the errors of failed queries on stderr.</summary>
internal sealed class ConsoleQueryProgress(IItemBar bar, Func<QueryOutcome, string> describe) : ConsoleProgress, IQuerySetProgress
{
    /// <summary>Runs the query set under a bar titled "query"; <paramref name="describe"/> makes each query's status line.</summary>
    /// <param name="count">how many of them the runner localizes (a shard's part), default all</param>
    public static QuerySetSummary Run(QuerySetRunner runner, IReadOnlyList<QueryImage> queries, Func<QueryOutcome, string> describe, int? count = null) =>
        Run(count ?? queries.Count, progress => runner.Run(queries, progress), describe);

    /// <summary>Runs <paramref name="run"/> (a query set of <paramref name="count"/> queries) under the bar.</summary>
    public static QuerySetSummary Run(int count, Func<IQuerySetProgress, QuerySetSummary> run, Func<QueryOutcome, string> describe)
    {
        QuerySetSummary summary = null!;
        Reporter.Items("query", count, bar => summary = run(new ConsoleQueryProgress(bar, describe)));
        return summary;
    }

    public void Started(int index, int total, QueryImage query) => bar.Started(query.Name);

    public void Finished(int index, int total, QueryOutcome outcome)
    {
        if (outcome.IsError) Error(outcome.Result.Warning ?? outcome.Query.Name);
        bar.Finished(describe(outcome));
    }
}
