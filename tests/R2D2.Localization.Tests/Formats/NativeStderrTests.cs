using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

public class NativeStderrTests
{
    private static string Stderr() => new FileInfo("/proc/self/fd/2").LinkTarget ?? "";

    [Fact]
    public void StderrIsPutBackAfterADecodingAndAfterOneThatThrows()
    {
        var before = Stderr();
        Assert.Equal(7, NativeStderr.Annotate("x.png", () =>
        {
            Assert.NotEqual(before, Stderr()); // caught while decoding
            return 7;
        }));
        Assert.Equal(before, Stderr());
        Assert.Throws<InvalidOperationException>(() => NativeStderr.Annotate<int>("y.png", () => throw new InvalidOperationException("broken")));
        Assert.Equal(before, Stderr());
        // No temporary file is left behind, nor a descriptor.
        Assert.Empty(Directory.GetFiles(Path.GetTempPath(), $"r2d2-stderr-{Environment.ProcessId}-*"));
        int open = Directory.GetFiles("/proc/self/fd").Length;
        for (int i = 0; i < 20; i++) NativeStderr.Annotate("z.png", () => 0);
        Assert.InRange(Directory.GetFiles("/proc/self/fd").Length, 0, open + 2); // other threads may open a few meanwhile
    }
}
