using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;
using R2D2.Localization.Features;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace R2D2.Localization.Tests.Features;

/// <summary>
/// TorchSharp Scalars made on the fly (number → Scalar conversions, hidden alphas) can be finalized
/// by a GC on another thread while libtorch still reads them; <see cref="TorchScalars"/> keeps its
/// Scalars alive. These tests keep the library (and the tests) on it, and stress it.
/// </summary>
public class TorchScalarTests(ITestOutputHelper output)
{
    [Fact]
    public void LibraryAndCliMakeNoUnheldScalars()
    {
        var found = ScalarScan.Violations(typeof(TorchScalars).Assembly.GetTypes().Where(t => !ScalarScan.Within(t, typeof(TorchScalars))))
            .Concat(ScalarScan.Violations(typeof(global::R2D2.Localization.Cli.Cli).Assembly.GetTypes())).ToList();
        Assert.True(found.Count == 0, "Scalars nothing keeps alive through the native call (use TorchScalars instead):\n" + string.Join("\n", found));
    }

    [Fact]
    public void TestsMakeNoUnheldScalars()
    {
        var found = ScalarScan.Violations(typeof(TorchScalarTests).Assembly.GetTypes().Where(t => !ScalarScan.Within(t, typeof(Unsafe))));
        Assert.True(found.Count == 0, "Scalars nothing keeps alive through the native call (use TorchScalars instead):\n" + string.Join("\n", found));
    }

    [Fact]
    public void TheScanFindsEachKindOfUnheldScalar()
    {
        var file = Path.Combine(SharedData.RepoRoot, "tests", "R2D2.Localization.Tests", "Features", "TorchScalarTests.cs");
        var lines = File.ReadAllLines(file);
        var marked = Enumerable.Range(1, lines.Length).Where(i => lines[i - 1].TrimEnd().EndsWith("// unheld", StringComparison.Ordinal)).ToList();
        var found = ScalarScan.Violations(typeof(Unsafe).Assembly.GetTypes().Where(t => ScalarScan.Within(t, typeof(Unsafe))));
        var reported = found.Select(v => System.Text.RegularExpressions.Regex.Match(v, @"TorchScalarTests\.cs:(\d+): "))
            .Select(m => m.Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : -1).Distinct().Order().ToList();
        Assert.True(marked.Count >= 10, "the sample lost its marks");
        Assert.True(marked.SequenceEqual(reported), $"marked lines {string.Join(",", marked)}; reported:\n{string.Join("\n", found)}");
    }

    /// <summary>Never run: what the scan must report (lines marked "unheld") and what it must not.</summary>
    private static class Unsafe
    {
        public static Tensor Samples(Tensor a, Tensor b, float f)
        {
            var r = a.add(b); // unheld
            r = a.add(2.0); // unheld
            r = a.mul(f); // unheld
            r = a.square(); // unheld
            r = a + b; // unheld
            r = 1 - a; // unheld
            r = a * 0.5; // unheld
            r = F.softplus(a); // unheld
            r = arange(10); // unheld
            r = full(3, 1.5f); // unheld
            var mask = a > 0.5; // unheld
            Func<Tensor, Tensor> lambda = t => t.ge(0.5); // unheld
            // Safe: tensor operands without alpha, or held Scalars.
            r = a.sub(b).mul(b).div(b) - b;
            r = a.Add(b).Add(2.0).Mul(f).Square().Softplus().Ge(0.5);
            r = TorchScalars.Arange(10);
            return r.logical_and(mask).logical_and(lambda(a));
        }
    }

    [Fact]
    public void HelpersHoldTheirScalarsWhileAnotherThreadCollects()
    {
        using var x = tensor(new float[] { -1, 0, 0.5f, 2, 30 });
        using var counts = tensor(new long[] { 1, 2, 3 });
        using var index = tensor(new long[] { 0, 2, 0 });
        float[] Run()
        {
            using var scope = NewDisposeScope();
            var parts = new[]
            {
                x.Add(x), x.Add(x, alpha: 0.5), x.Add(1), x.Add(1.5), x.Sub(1), x.Sub(0.25), x.Mul(3), x.Mul(0.5), x.Div(2), x.Div(0.5),
                x.Square(), x.Softplus(), x.ClampMin(0), x.Clamp(0, 1), x.Ge(0.5).to(float32), x.Le(0.5).to(float32),
                x.Lt(1).to(float32), x.Eq(0).to(float32), TorchScalars.Full(2, 2.5), TorchScalars.Full(new long[] { 2 }, -1),
                TorchScalars.Arange(3, float32), counts.Add(2).to(float32), zeros(3).IndexAddInPlace(0, index, counts.to(float32)),
                x.clone().AddInPlace(1).AddInPlace(0.5).AddInPlace(x, alpha: 2).MulInPlace(0.5).DivInPlace(2)
                    .AddcmulInPlace(x, x, 0.5).AddcdivInPlace(x, x.Add(100), 2).FillInPlace(7),
            };
            Assert.Equal(ScalarType.Int64, counts.Add(2).dtype); // an integer operand keeps integer tensors integer
            return cat(parts).data<float>().ToArray();
        }

        var total = System.Diagnostics.Stopwatch.StartNew();
        var reference = Run();
        output.WriteLine($"first run {total.Elapsed.TotalSeconds:F2} s");
        double[] xs = { -1, 0, 0.5, 2, 30 };
        var expected = new List<double>();
        foreach (var f in new Func<double, double>[] { v => 2 * v, v => 1.5 * v, v => v + 1, v => v + 1.5, v => v - 1, v => v - 0.25,
                     v => 3 * v, v => v / 2, v => v / 2, v => 2 * v, v => v * v, v => v > 20 ? v : Math.Log(1 + Math.Exp(v)),
                     v => Math.Max(v, 0), v => Math.Clamp(v, 0, 1), v => v >= 0.5 ? 1 : 0, v => v <= 0.5 ? 1 : 0, v => v < 1 ? 1 : 0, v => v == 0 ? 1 : 0 })
            expected.AddRange(xs.Select(f));
        expected.AddRange(new double[] { 2.5, 2.5, -1, -1, 0, 1, 2, 3, 4, 5, 4, 0, 2, 7, 7, 7, 7, 7 });
        Assert.Equal(expected.Count, reference.Length);
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], reference[i], 1e-5);

        // The race: each finalizer run frees the Scalars nothing references. A GC every few
        // operations here (of the young generation: where the temporaries are, and cheap for the
        // tests running alongside); the helpers' results must not change. TorchSharp's own
        // methods fail this loop in 3 to 9 s (toFloat at Scalar.h); the scans above are the guard.
        bool done = false;
        int collections = 0;
        var collector = new Thread(() =>
        {
            var garbage = new List<byte[]>();
            while (!Volatile.Read(ref done))
            {
                for (int i = 0; i < 64; i++) garbage.Add(new byte[256]);
                garbage.Clear();
                GC.Collect(0);
                GC.WaitForPendingFinalizers();
                collections++;
            }
        }) { IsBackground = true };
        collector.Start();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int iterations = 0;
        try
        {
            while (iterations < 20_000 && clock.Elapsed < TimeSpan.FromSeconds(2))
            {
                var again = Run();
                iterations++;
                if (!again.AsSpan().SequenceEqual(reference)) Assert.Fail($"iteration {iterations}: results changed");
            }
        }
        finally
        {
            Volatile.Write(ref done, true);
            collector.Join();
        }
        output.WriteLine($"{iterations} iterations, {collections} collections, loop {clock.Elapsed.TotalSeconds:F2} s, all {total.Elapsed.TotalSeconds:F2} s");
        Assert.True(iterations >= 100, $"only {iterations} iterations");
        Assert.True(collections >= 10, $"only {collections} collections in {iterations} iterations");
    }
}

/// <summary>
/// Reads compiled code (IL; the PDB gives file:line) for Scalars that nothing keeps alive through
/// the native call: a conversion to Scalar (a number passed to a torch method or operator),
/// <c>ToScalar()</c>, or a call to a TorchSharp method that makes such a Scalar itself, found by
/// following TorchSharp's own IL (<c>add(Tensor)</c>'s alpha, <c>square()</c>, operators with a
/// number or <c>a + b</c>, <c>arange(stop)</c>, <c>F.softplus</c>, ...). Exact for what the
/// compiler emits; it cannot see through reflection or <c>dynamic</c>, and it trusts TorchScript
/// invocations (they convert only number arguments, and tensors are what we pass).
/// </summary>
internal static class ScalarScan
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
    private static readonly Dictionary<short, OpCode> Codes = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);
    private static readonly Assembly Torch = typeof(Scalar).Assembly;
    private static readonly Dictionary<MethodBase, string?> Known = new();

    public static bool Within(Type t, Type outer)
    {
        for (Type? o = t; o != null; o = o.DeclaringType) if (o == outer) return true;
        return false;
    }

    /// <summary>"file:line: what" for each place in <paramref name="types"/> (nested types are listed on their own).</summary>
    public static List<string> Violations(IEnumerable<Type> types) => Report(types, (pdb, m) =>
        Calls(m).Select(c => MakesScalar(c.Callee) ? $"{Where(pdb, m, c.Offset)}: {Name(c.Callee)} makes a Scalar"
            : Why(c.Callee) is { } why ? $"{Where(pdb, m, c.Offset)}: {Name(c.Callee)} {why}" : null).OfType<string>());

    /// <summary>What <paramref name="report"/> says of each declared method and constructor of
    /// <paramref name="types"/>, given its assembly's portable PDB (null without one, for
    /// <see cref="Where"/>), distinct and sorted: the walk both IL scans share.</summary>
    internal static List<string> Report(IEnumerable<Type> types, Func<MetadataReader?, MethodBase, IEnumerable<string>> report)
    {
        var found = new List<string>();
        foreach (var group in types.GroupBy(t => t.Assembly))
        {
            using var pe = new PEReader(File.OpenRead(group.Key.Location));
            pe.TryOpenAssociatedPortablePdb(group.Key.Location, p => File.Exists(p) ? File.OpenRead(p) : null, out var provider, out _);
            using (provider)
            {
                var pdb = provider?.GetMetadataReader();
                foreach (var m in group.SelectMany(t => t.GetMethods(Declared).Cast<MethodBase>().Concat(t.GetConstructors(Declared))))
                    found.AddRange(report(pdb, m));
            }
        }
        return found.Distinct().Order(StringComparer.Ordinal).ToList();
    }

    private static bool MakesScalar(MethodBase m) =>
        m.DeclaringType == typeof(Scalar) && m.Name == "op_Implicit" || m.Name == "ToScalar" && m.DeclaringType?.Assembly == Torch;

    /// <summary>How TorchSharp's <paramref name="m"/> makes a Scalar itself, or null.</summary>
    private static string? Why(MethodBase m)
    {
        // TorchScript calls convert number arguments only; the scan cannot see argument types.
        if (m.DeclaringType?.Assembly != Torch || m.Name == "DetermineArgumentTypeRefs") return null;
        lock (Known)
        {
            if (Known.TryGetValue(m, out var known)) return known;
            Known[m] = null; // a cycle: not known to make one
        }
        string? why = null;
        foreach (var (_, callee) in Calls(m))
        {
            if (MakesScalar(callee)) { why = "makes a Scalar it does not keep alive"; break; }
            if (Why(callee) is { } inner) { why = $"calls {Name(callee)}, which {inner}"; break; }
        }
        lock (Known) Known[m] = why;
        return why;
    }

    internal static string Name(MethodBase m) => $"{m.DeclaringType?.Name}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))})";

    /// <summary>Offset and target of each call, callvirt, newobj and ldftn in <paramref name="m"/>.</summary>
    private static IEnumerable<(int Offset, MethodBase Callee)> Calls(MethodBase m)
    {
        byte[]? il;
        try { il = m.GetMethodBody()?.GetILAsByteArray(); }
        catch (Exception) { il = null; } // a body that cannot be read calls nothing we could see
        if (il == null) yield break;
        var typeArgs = m.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = m.IsGenericMethod ? m.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            int at = i;
            var op = il[i] == 0xFE ? Codes[(short)(0xFE00 | il[i + 1])] : Codes[il[i]];
            i += op.Size;
            int size = op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, i),
                _ => 4,
            };
            if (op.OperandType == OperandType.InlineMethod)
            {
                MethodBase? callee;
                try { callee = m.Module.ResolveMethod(BitConverter.ToInt32(il, i), typeArgs, methodArgs); }
                catch (Exception) { callee = null; } // a target in an assembly that is not there: not TorchSharp
                if (callee != null) yield return (at, callee);
            }
            i += size;
        }
    }

    /// <summary>file:line of the statement at <paramref name="offset"/> (the repository's relative path), else the method.</summary>
    internal static string Where(MetadataReader? pdb, MethodBase m, int offset)
    {
        if (pdb != null)
        {
            SequencePoint? at = null;
            foreach (var sp in pdb.GetMethodDebugInformation(MetadataTokens.MethodDefinitionHandle(m.MetadataToken)).GetSequencePoints())
                if (!sp.IsHidden && sp.Offset <= offset) at = sp;
            if (at is { } p)
            {
                var file = pdb.GetString(pdb.GetDocument(p.Document).Name);
                var root = SharedData.RepoRoot + Path.DirectorySeparatorChar;
                return $"{(file.StartsWith(root, StringComparison.Ordinal) ? file[root.Length..] : file)}:{p.StartLine}";
            }
        }
        return $"{m.DeclaringType?.FullName}.{m.Name}";
    }
}
