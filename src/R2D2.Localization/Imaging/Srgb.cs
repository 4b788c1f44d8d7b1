namespace R2D2.Localization.Imaging;

/// <summary>The sRGB transfer function (IEC 61966-2-1), on values in [0, 1]: renderers and
/// photometric changes work in linear light and store sRGB.</summary>
public static class Srgb
{
    public static float ToLinear(float c) => c <= 0.04045f ? c / 12.92f : MathF.Pow((c + 0.055f) / 1.055f, 2.4f);

    public static float FromLinear(float c) => c <= 0.0031308f ? 12.92f * c : 1.055f * MathF.Pow(c, 1 / 2.4f) - 0.055f;
}
