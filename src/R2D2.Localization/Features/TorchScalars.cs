using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace R2D2.Localization.Features;

/// <summary>
/// Twins of the TorchSharp tensor methods that take a <see cref="Scalar"/>, for numbers: same
/// operations, same Scalar values and kinds (an int argument stays an integer Scalar), so the same
/// results. Why: TorchSharp's implicit conversions (number → Scalar) and its hidden alphas
/// (<c>add(Tensor)</c> is <c>add(t, 1)</c>, <c>square()</c> is <c>pow(2)</c>) make finalizable
/// Scalars that nothing references once their native handle has been read; a GC on another thread
/// during the native call then frees them while libtorch reads them (CI: "toDouble at
/// c10/core/Scalar.h"). Here every Scalar is static or disposed after the call, which keeps it
/// alive through it. Library code uses these instead (TorchScalarTests scans the compiled code).
/// </summary>
internal static class TorchScalars
{
    // Static Scalars are never finalized. Same kinds as TorchSharp's own: int 0, 1, 2; double 1, 20.
    private static readonly Scalar Zero = 0, One = 1, Two = 2, SoftplusBeta = 1.0, SoftplusThreshold = 20.0;

    /// <summary>a + b (<c>add(Tensor)</c>: alpha 1).</summary>
    public static Tensor Add(this Tensor a, Tensor b) => a.add(b, One);
    public static Tensor Add(this Tensor a, Tensor b, double alpha) { using var s = alpha.ToScalar(); return a.add(b, s); }
    public static Tensor Add(this Tensor a, long value) { using var s = value.ToScalar(); return a.add(s, One); }
    public static Tensor Add(this Tensor a, double value) { using var s = value.ToScalar(); return a.add(s, One); }
    public static Tensor AddInPlace(this Tensor a, Tensor b, double alpha) { using var s = alpha.ToScalar(); return a.add_(b, s); }
    public static Tensor AddInPlace(this Tensor a, long value) { using var s = value.ToScalar(); return a.add_(s, One); }
    public static Tensor AddInPlace(this Tensor a, double value) { using var s = value.ToScalar(); return a.add_(s, One); }
    public static Tensor Sub(this Tensor a, long value) { using var s = value.ToScalar(); return a.sub(s); }
    public static Tensor Sub(this Tensor a, double value) { using var s = value.ToScalar(); return a.sub(s); }
    public static Tensor Mul(this Tensor a, long value) { using var s = value.ToScalar(); return a.mul(s); }
    public static Tensor Mul(this Tensor a, double value) { using var s = value.ToScalar(); return a.mul(s); }
    public static Tensor MulInPlace(this Tensor a, double value) { using var s = value.ToScalar(); return a.mul_(s); }
    public static Tensor Div(this Tensor a, long value) { using var s = value.ToScalar(); return a.div(s); }
    public static Tensor Div(this Tensor a, double value) { using var s = value.ToScalar(); return a.div(s); }
    public static Tensor DivInPlace(this Tensor a, double value) { using var s = value.ToScalar(); return a.div_(s); }
    /// <summary>a·a (<c>square()</c>: pow(2)).</summary>
    public static Tensor Square(this Tensor a) => a.pow(Two);
    public static Tensor Eq(this Tensor a, long value) { using var s = value.ToScalar(); return a.eq(s); }
    public static Tensor Ge(this Tensor a, double value) { using var s = value.ToScalar(); return a.ge(s); }
    public static Tensor Le(this Tensor a, double value) { using var s = value.ToScalar(); return a.le(s); }
    public static Tensor Lt(this Tensor a, long value) { using var s = value.ToScalar(); return a.lt(s); }
    public static Tensor ClampMin(this Tensor a, long min) { using var s = min.ToScalar(); return a.clamp_min(s); }
    public static Tensor Clamp(this Tensor a, long min, long max) { using Scalar lo = min.ToScalar(), hi = max.ToScalar(); return a.clamp(lo, hi); }
    public static Tensor FillInPlace(this Tensor a, long value) { using var s = value.ToScalar(); return a.fill_(s); }
    /// <summary>a[index[i]] += source[i] along <paramref name="dim"/> (<c>index_add_</c>, alpha 1).</summary>
    public static Tensor IndexAddInPlace(this Tensor a, long dim, Tensor index, Tensor source) => a.index_add_(dim, index, source, One);
    public static Tensor AddcmulInPlace(this Tensor a, Tensor t1, Tensor t2, double value) { using var s = value.ToScalar(); return a.addcmul_(t1, t2, s); }
    public static Tensor AddcdivInPlace(this Tensor a, Tensor t1, Tensor t2, double value) { using var s = value.ToScalar(); return a.addcdiv_(t1, t2, s); }

    /// <summary><c>torch.full(size, value)</c> (default dtype).</summary>
    public static Tensor Full(long size, double value, Device? device = null) { using var s = value.ToScalar(); return full(size, s, device: device); }
    public static Tensor Full(long[] size, double value, Device? device = null) { using var s = value.ToScalar(); return full(size, s, device: device); }
    /// <summary><c>torch.arange(stop)</c>: 0, 1, …, stop − 1.</summary>
    public static Tensor Arange(long stop, ScalarType? dtype = null, Device? device = null) { using var s = stop.ToScalar(); return arange(Zero, s, One, dtype, device); }

    /// <summary>softplus with beta 1, threshold 20 (<c>F.softplus</c>'s defaults).</summary>
    public static Tensor Softplus(this Tensor a) => Private.Softplus(a, SoftplusBeta, SoftplusThreshold);

    private static class Private
    {
        // TorchSharp 0.107 exposes softplus only with doubles that it turns into temporary Scalars;
        // the method they go to, with Scalars, is private.
        public static readonly Func<Tensor, Scalar, Scalar, Tensor> Softplus =
            typeof(Tensor).GetMethod("softplus1", BindingFlags.NonPublic | BindingFlags.Instance, new[] { typeof(Scalar), typeof(Scalar) })
                ?.CreateDelegate<Func<Tensor, Scalar, Scalar, Tensor>>()
            ?? throw new MissingMethodException("TorchSharp's Tensor.softplus1(Scalar, Scalar) is gone: see TorchScalars.Softplus");
    }

    /// <summary>A CPU tensor of <paramref name="shape"/> holding a copy of <paramref name="values"/>
    /// in memory libtorch allocated. Why not <c>torch.tensor(array)</c>: it pins a copy of the
    /// array and hands libtorch a managed callback that frees it, which libtorch then calls from
    /// whichever thread frees the storage. Runs of `localize demo` died inside the .NET runtime on
    /// a thread entering managed code from native code; tensors made here have no callback.</summary>
    public static Tensor Copied<T>(ReadOnlySpan<T> values, ReadOnlySpan<long> shape, ScalarType dtype) where T : unmanaged
    {
        var t = empty(shape, dtype: dtype);
        long count = 1;
        foreach (var d in shape) count *= d;
        if (count != values.Length || count * System.Runtime.CompilerServices.Unsafe.SizeOf<T>() != t.NumberOfElements * t.ElementSize)
        {
            t.Dispose();
            throw new ArgumentException($"{values.Length} values for a tensor of {count} {dtype} elements");
        }
        System.Runtime.InteropServices.MemoryMarshal.AsBytes(values).CopyTo(t.bytes);
        return t;
    }
}
