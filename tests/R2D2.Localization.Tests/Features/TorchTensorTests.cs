using System.Reflection;
using R2D2.Localization.Features;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace R2D2.Localization.Tests.Features;

/// <summary>
/// Tensors passed to native code that nothing keeps alive through the call can be finalized by a
/// GC on another thread while libtorch still uses them (see <see cref="TensorScan"/>). These tests
/// check how TorchSharp holds tensors (a DisposeScope does, on its own thread only), keep the
/// library and the CLI on what it needs (a scope, or tensors held past the call), and check that
/// the scan finds each kind of unheld tensor.
/// </summary>
public class TorchTensorTests(ITestOutputHelper output)
{
    private static readonly Assembly[] Ours = { typeof(TorchScalars).Assembly, typeof(global::R2D2.Localization.Cli.Cli).Assembly };

    [Fact]
    public void LibraryAndCliPassNoUnheldTensors()
    {
        var found = TensorScan.Violations(Ours.SelectMany(a => a.GetTypes()), Ours);
        Assert.True(found.Count == 0, "Tensors nothing keeps alive through the native call (make a DisposeScope in the method, or hold them past the call):\n" + string.Join("\n", found));
    }

    [Fact]
    public void TheScanFindsEachKindOfUnheldTensor()
    {
        var file = Path.Combine(SharedData.RepoRoot, "tests", "R2D2.Localization.Tests", "Features", "TorchTensorTests.cs");
        var lines = File.ReadAllLines(file);
        var marked = Enumerable.Range(1, lines.Length).Where(i => lines[i - 1].TrimEnd().EndsWith("// unheld", StringComparison.Ordinal)).ToList();
        var ours = new[] { typeof(Unsafe).Assembly, typeof(TorchScalars).Assembly };
        var found = TensorScan.Violations(typeof(Unsafe).Assembly.GetTypes().Where(t => ScalarScan.Within(t, typeof(Unsafe))), ours);
        foreach (var f in found) output.WriteLine(f);
        var reported = found.Select(v => System.Text.RegularExpressions.Regex.Match(v, @"TorchTensorTests\.cs:(\d+): "))
            .Select(m => m.Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1).Distinct().Order().ToList();
        Assert.True(marked.Count >= 10, "the sample lost its marks");
        Assert.True(marked.SequenceEqual(reported), $"marked lines {string.Join(",", marked)}; reported:\n{string.Join("\n", found)}");
    }

    /// <summary>Never run: what the scan must report (lines marked "unheld") and what it must not.</summary>
    private static class Unsafe
    {
        public static Tensor Temporaries(Tensor a, Tensor b, bool c, Func<Tensor, Tensor> f, jit.CompilationUnit unit)
        {
            var r = a.mm(b.t()); // unheld
            r = a.t().mm(b); // unheld
            r = F.relu(a.contiguous()); // unheld
            r = cat(new[] { a.t(), b }); // unheld
            r = F.relu(c ? a : a.t()); // unheld
            r = f(a.t()); // unheld
            r = a.Add(b.t()); // unheld
            r = r.copy_(b.t()); // unheld
            r = Drops(b.t()); // unheld
            r = unit.invoke<Tensor>("f", a, b.t()); // unheld
            return r;
        }

        public static Tensor LastUses(Tensor a, Tensor b, bool c)
        {
            var t = a.t();
            var u = b.t();
            var r = a.mm(u); // unheld
            if (c) return t.mm(b); // unheld
            var parts = new[] { a, t };
            r = cat(parts); // unheld
            for (int i = 0; i < 3; i++)
            {
                var v = a.t();
                r = r.mm(v); // unheld
            }
            r = r.relu(); // unheld
            return Drops(r); // unheld
        }

        public static Tensor Lambda(Tensor a)
        {
            using var scope = NewDisposeScope();
            var r = Enumerable.Range(0, 2).Select(_ => a.t().relu()).ToList(); // unheld
            return r[0].MoveToOuterDisposeScope();
        }

        public static Tensor BeforeTheScope(Tensor a)
        {
            var r = a.t().relu(); // unheld
            var t = a.t();
            using var scope = NewDisposeScope();
            return t.mm(r).MoveToOuterDisposeScope(); // unheld
        }

        public static Tensor AfterTheScope(Tensor a)
        {
            Tensor r;
            using (var scope = NewDisposeScope()) r = a.t().relu().MoveToOuterDisposeScope();
            return r.relu(); // unheld
        }

        /// <summary>Drops <paramref name="a"/> during its native call: its callers must hold what they pass.</summary>
        private static Tensor Drops(Tensor a) => a.relu();

        /// <summary>Holds <paramref name="a"/> past its native call (not <paramref name="b"/>).</summary>
        private static Tensor Holds(Tensor a, Tensor b)
        {
            var r = a.mm(b);
            a.Dispose();
            return r;
        }

        // Safe: held past the call (used after it, disposed after it, in place, by a method that
        // holds it), stored, returned, or under a scope.
        public static Tensor Held(Tensor a, Tensor b, List<Tensor> store)
        {
            using var t = a.t();
            var u = b.t();
            var r = t.mm(u).relu_();
            r.relu_().relu_();
            var s = r.mm(u);
            u.Dispose();
            store.Add(a.t());
            var o = new Holder(a.t());
            var w = a.t();
            for (int i = 0; i < 3; i++) s.relu_().copy_(w);
            GC.KeepAlive(o);
            var h = Holds(a.t(), s);
            r = Replace(r, s.mm(h));
            s.Dispose();
            h.Dispose();
            return b.t();
        }

        private static Tensor Replace(Tensor previous, Tensor next)
        {
            previous.Dispose();
            return next;
        }

        public static Tensor Scoped(Tensor a, Tensor b)
        {
            using var scope = NewDisposeScope();
            var r = a.mm(b.t()).t().contiguous();
            var v = a.t();
            r = cat(new[] { r, v.t() });
            var lambdas = Enumerable.Range(0, 2).Select(_ =>
            {
                using var inner = NewDisposeScope();
                return a.t().relu().MoveToOuterDisposeScope();
            }).ToList();
            return Drops(r.relu()).MoveToOuterDisposeScope();
        }

        private sealed record Holder(Tensor T);
    }

    [Fact]
    public void ADisposeScopeHoldsWhatItsThreadMakes()
    {
        // TorchSharp 0.107: a tensor made while a DisposeScope is current on the thread is added to
        // the scope's set (a strong reference, rooted by the thread's DisposeScopeManager), so it
        // outlives its last use until the scope ends; one made on another thread is not, even
        // while the caller's scope is open.
        WeakReference Made(Func<Tensor> make) => new(make());
        static void Collect() { for (int i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); } }
        using var x = ones(4);
        WeakReference inScope, outside;
        WeakReference? onOtherThread = null;
        using (var scope = NewDisposeScope())
        {
            inScope = Made(() => x.t());
            bool otherInScope = true;
            var other = new Thread(() =>
            {
                var t = x.t();
                otherInScope = scope.Contains(t);
                onOtherThread = new WeakReference(t);
            });
            other.Start();
            other.Join();
            Collect();
            Assert.True(inScope.IsAlive, "the scope let its tensor go");
            Assert.True(scope.Contains((Tensor)inScope.Target!));
            Assert.False(otherInScope, "another thread's tensor went into this thread's scope");
            Assert.False(onOtherThread!.IsAlive, "another thread's tensor was held");
        }
        outside = Made(() => x.t());
        Collect();
        Assert.False(outside.IsAlive, "a tensor outside any scope was held");
    }
}
