using OpenCvSharp;

namespace R2D2.Localization.Formats;

/// <summary>JPEG in memory (OpenCV's libjpeg, deterministic): the demo writes its night queries with
/// it, and training pairs go through it to learn JPEG's block artefacts and chroma subsampling.</summary>
public static class JpegCodec
{
    public static byte[] Encode(RgbImage image, int quality)
    {
        using var bgr = ImageFile.ToBgrMat(image);
        Cv2.ImEncode(".jpg", bgr, out var bytes, new ImageEncodingParam(ImwriteFlags.JpegQuality, quality));
        return bytes;
    }

    /// <summary>The image as a JPEG of <paramref name="quality"/> decodes.</summary>
    public static RgbImage RoundTrip(RgbImage image, int quality)
    {
        using var decoded = Cv2.ImDecode(Encode(image, quality), ImreadModes.Color);
        using var rgb = new Mat();
        Cv2.CvtColor(decoded, rgb, ColorConversionCodes.BGR2RGB);
        var px = new byte[3 * image.Width * image.Height];
        System.Runtime.InteropServices.Marshal.Copy(rgb.Data, px, 0, px.Length);
        return new RgbImage(image.Width, image.Height, px);
    }
}
