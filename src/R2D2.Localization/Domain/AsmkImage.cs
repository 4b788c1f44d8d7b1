namespace R2D2.Localization;

/// <summary>An image as ASMK sees it (Mapping.Asmk): its visual words (ascending, each once) and
/// per word the sign bits of the aggregated residual, ⌈dim/64⌉ ulongs per word, row-major.</summary>
public sealed record AsmkImage(int[] Words, ulong[] Codes);
