using R2D2.Localization.Cli;
using Xunit;

namespace R2D2.Localization.Tests;

/// <summary>`localize` runs on jemalloc with libstdc++ ahead of it, so that no sized C++ delete
/// reaches jemalloc (see <see cref="Allocator"/>: TorchSharp's TorchScript calls free their
/// argument arrays with the wrong size, and jemalloc's heap broke on it).</summary>
public class AllocatorTests
{
    private const string Je = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";
    private const string Cxx = "/usr/lib/x86_64-linux-gnu/libstdc++.so.6";

    [Fact]
    public void LibstdcxxIsPreloadedAheadOfJemalloc()
    {
        Assert.Equal($"{Cxx}:{Je}", Allocator.Preload("", Je, Cxx));
        Assert.Equal($"{Cxx}:{Je}:/opt/x.so", Allocator.Preload("/opt/x.so", Je, Cxx));
        // Without libstdc++ beside it, jemalloc is not used: glibc's free ignores the sizes.
        Assert.Null(Allocator.Preload("", Je, null));
        Assert.Null(Allocator.Preload("", null, Cxx));
        // A user's own jemalloc gets libstdc++ in front of it, once.
        Assert.Equal($"{Cxx}:/opt/libjemalloc.so.2", Allocator.Preload("/opt/libjemalloc.so.2", Je, Cxx));
        Assert.Null(Allocator.Preload($"{Cxx}:/opt/libjemalloc.so.2", Je, Cxx));
        Assert.Null(Allocator.Preload("libstdc++.so.6 libjemalloc.so.2", Je, Cxx));
        Assert.Equal($"{Cxx}:/opt/libjemalloc.so.2:libstdc++.so.6", Allocator.Preload("/opt/libjemalloc.so.2:libstdc++.so.6", Je, Cxx));
    }

    /// <summary>The dynamic linker's own record of an extraction (LD_DEBUG=bindings, which the
    /// re-executed process inherits): malloc is jemalloc's, the sized deletes of libtorch,
    /// TorchSharp and OpenCV are libstdc++'s. Before the fix they bound to jemalloc, and 15 of 20
    /// runs of a 10-image extraction died.</summary>
    [Fact]
    public void SizedDeletesNeverReachJemalloc()
    {
        var dir = TempDir.Create();
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        File.Copy(SharedData.Path_("reference", "r2d2", "images", "boat.png"), Path.Combine(images, "boat.png"));
        var log = Path.Combine(dir, "ld");
        var (code, _, err) = CliTests.Run("env", "LD_DEBUG=bindings", "LD_DEBUG_OUTPUT=" + log, "dotnet", Path.Combine(AppContext.BaseDirectory, "localize.dll"),
            "extract", "--model", SharedData.Model("r2d2_WASF_N16"), "--images", images, "--database", Path.Combine(dir, "f.db"), "--min-size", "100", "--max-size", "200");
        Assert.True(code == 0, err);
        var bindings = Directory.GetFiles(dir, "ld.*").SelectMany(File.ReadLines).Where(l => l.Contains(" normal symbol `")).ToList();
        bool ToJemalloc(string l) => l.Contains("libjemalloc", StringComparison.Ordinal) && l.IndexOf("libjemalloc", StringComparison.Ordinal) > l.IndexOf(" to ", StringComparison.Ordinal);
        if (File.Exists(Je)) Assert.Contains(bindings, l => ToJemalloc(l) && l.Contains("`malloc'"));
        var sized = bindings.Where(l => l.Contains("`_ZdlPvm'") || l.Contains("`_ZdaPvm'")).ToList();
        Assert.NotEmpty(sized); // libtorch, TorchSharp and OpenCV do use them
        Assert.DoesNotContain(sized, ToJemalloc);
    }
}
