using System.Reflection;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

[assembly: TestCollectionOrderer("R2D2.Localization.Tests.GuardLastOrderer", "R2D2.Localization.Tests")]

namespace R2D2.Localization.Tests;

/// <summary>
/// Fails the suite when anything under ../shared changed, appeared or vanished while it ran,
/// whatever the folder's permissions (a run as root can write anywhere). The tree is hashed when
/// the test assembly loads and again by <see cref="SharedDataUnchanged"/>, which runs last: its
/// collection is not parallel (xunit runs those after the parallel ones) and is ordered last.
/// </summary>
public static class SharedDataGuard
{
    internal static IReadOnlyDictionary<string, string>? AtStart { get; private set; }

    [ModuleInitializer]
    internal static void TakeSnapshot()
    {
        // Child processes started by tests (TestProgram) need no snapshot.
        if (Assembly.GetEntryAssembly() == typeof(SharedDataGuard).Assembly) return;
        if (Directory.Exists(SharedData.Root)) AtStart = Snapshot(SharedData.Root);
    }

    /// <summary>Relative path → SHA-1 of every file (links as their target text), and of every folder as "dir".</summary>
    internal static Dictionary<string, string> Snapshot(string root)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var rel = Path.GetRelativePath(root, entry.FullName);
            if (entry.LinkTarget != null) result[rel] = "link:" + entry.LinkTarget;
            else if (entry is DirectoryInfo) result[rel] = "dir";
            else
            {
                using var s = File.OpenRead(entry.FullName);
                result[rel] = Convert.ToHexString(SHA1.HashData(s));
            }
        }
        return result;
    }

    /// <summary>What differs between two snapshots, as lines `changed|appeared|vanished: path`.</summary>
    internal static List<string> Differences(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after)
    {
        var d = new List<string>();
        foreach (var (k, v) in after)
            if (!before.TryGetValue(k, out var old)) d.Add($"appeared: {k}");
            else if (old != v) d.Add($"changed: {k}");
        d.AddRange(before.Keys.Where(k => !after.ContainsKey(k)).Select(k => $"vanished: {k}"));
        d.Sort(StringComparer.Ordinal);
        return d;
    }
}

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SharedGuardCollection
{
    public const string Name = "shared data guard (runs last)";
}

[Collection(SharedGuardCollection.Name)]
public class SharedDataUnchanged
{
    [Fact]
    public void NothingUnderSharedChangedDuringTheRun()
    {
        Assert.True(SharedDataGuard.AtStart != null, $"no snapshot of {SharedData.Root} was taken at the start (is it missing?)");
        var diff = SharedDataGuard.Differences(SharedDataGuard.AtStart!, SharedDataGuard.Snapshot(SharedData.Root));
        Assert.True(diff.Count == 0, $"the tests changed {SharedData.Root}: {string.Join("; ", diff.Take(10))}");
    }

    [Fact]
    public void TheGuardSeesAChangedAnAddedAndARemovedFile()
    {
        var dir = TempDir.Create();
        File.WriteAllText(Path.Combine(dir, "a"), "1");
        File.WriteAllText(Path.Combine(dir, "b"), "2");
        var before = SharedDataGuard.Snapshot(dir);
        File.WriteAllText(Path.Combine(dir, "a"), "3");
        File.Delete(Path.Combine(dir, "b"));
        File.WriteAllText(Path.Combine(dir, "a-wal"), "");
        Assert.Equal(new[] { "appeared: a-wal", "changed: a", "vanished: b" }, SharedDataGuard.Differences(before, SharedDataGuard.Snapshot(dir)));
    }
}

/// <summary>Keeps the collections' order but moves the guard's to the end, after every other
/// non-parallel collection.</summary>
public sealed class GuardLastOrderer : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => c.DisplayName == SharedGuardCollection.Name ? 1 : 0);
}
