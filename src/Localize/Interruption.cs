using System.Runtime.InteropServices;

namespace R2D2.Localization.Cli;

/// <summary>
/// What a long command tells a user who stops it (Ctrl-C, or SIGTERM from a scheduler): how to go
/// on. Its work is kept in files and databases as it goes, so the process still ends at once; without
/// the line a stopped run ends silently and nobody knows that a rerun continues.
/// </summary>
internal static class Interruption
{
    private static string? _hint;
    private static readonly List<PosixSignalRegistration> Registrations = new();

    /// <summary>Says <paramref name="hint"/> if the process is interrupted from now on.</summary>
    public static void Hint(string hint)
    {
        lock (Registrations)
        {
            _hint = hint;
            if (Registrations.Count > 0) return;
            // Not cancelled: the default action (the process ends) follows the line.
            foreach (var s in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
                Registrations.Add(PosixSignalRegistration.Create(s, _ => Say()));
        }
    }

    private static void Say()
    {
        // A progress bar hides the terminal's cursor and would leave it hidden.
        if (Reporter.Interactive) Console.Error.Write("\u001b[?25h");
        Console.Error.WriteLine();
        Console.Error.WriteLine($"interrupted: {_hint}");
        Console.Error.Flush();
    }
}
