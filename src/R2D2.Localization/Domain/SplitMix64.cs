namespace R2D2.Localization;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, 2014): the one mixing function behind every deterministic
/// random number of the project (<see cref="Rng"/> streams, <see cref="Noise"/> lattices, training
/// step seeds). Pure functions of their arguments, so results never depend on thread or run.
/// </summary>
public static class SplitMix64
{
    /// <summary>The golden-ratio increment of the generator's state.</summary>
    public const ulong Gamma = 0x9E3779B97F4A7C15UL;

    /// <summary>The finalizer: a bijective, well-mixing map of 64-bit values.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
