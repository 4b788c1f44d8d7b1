using R2D2.Localization.Tests.Storage;

namespace R2D2.Localization.Tests;

/// <summary>
/// The test assembly's entry point (replacing the SDK's empty generated one), so a test can run
/// library code in a child process and kill it: `dotnet R2D2.Localization.Tests.dll MODE ARGS`.
/// Without arguments it does nothing, as the generated one did.
/// </summary>
public static class TestProgram
{
    public static int Main(string[] args)
    {
        if (args.Length == 2 && args[0] == CrashWriter.Mode) return CrashWriter.Run(args[1]);
        return 0;
    }
}
