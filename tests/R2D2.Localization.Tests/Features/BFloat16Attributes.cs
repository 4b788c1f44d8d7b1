using R2D2.Localization.Features;
using Xunit;

namespace R2D2.Localization.Tests.Features;

/// <summary>A test of the bfloat16 trunk on the CPU: skipped, saying so, on CPUs where oneDNN has
/// no bfloat16 convolution (AVX2 only); the network refuses it there (see
/// <see cref="BFloat16RefusalTests"/>).</summary>
public sealed class BFloat16FactAttribute : FactAttribute
{
    public BFloat16FactAttribute() { if (!R2D2Network.CpuRunsBFloat16) Skip = BFloat16Skip.Reason; }
}

/// <inheritdoc cref="BFloat16FactAttribute"/>
public sealed class BFloat16TheoryAttribute : TheoryAttribute
{
    public BFloat16TheoryAttribute() { if (!R2D2Network.CpuRunsBFloat16) Skip = BFloat16Skip.Reason; }
}

internal static class BFloat16Skip
{
    public const string Reason = "this CPU has neither AVX-512 BW/VL/DQ nor AVX-NE-CONVERT: oneDNN runs no bfloat16 convolution on it";
}

public class BFloat16RefusalTests
{
    /// <summary>Where oneDNN cannot run bfloat16, the network says so when it is made (it was a
    /// TorchScript interpreter trace from the first weight reorder); elsewhere it is made.</summary>
    [Fact]
    public void BFloat16IsRefusedInOneLineWhereTheCpuCannotRunIt()
    {
        var ckpt = Checkpoint.Load(SharedData.Model("r2d2_WASF_N16"));
        if (R2D2Network.CpuRunsBFloat16)
        {
            using var net = new R2D2Network(ckpt, TorchSharp.torch.CPU, new NetworkOptions { BFloat16 = true });
            return;
        }
        var e = Assert.Throws<R2D2Exception>(() => new R2D2Network(ckpt, TorchSharp.torch.CPU, new NetworkOptions { BFloat16 = true }));
        Assert.Contains("needs AVX-512 BW/VL/DQ or AVX-NE-CONVERT", e.Message);
    }
}
