using R2D2.Localization.Features;
using R2D2.Localization.Formats;
using R2D2.Localization.Tests.FaultInjection;
using Xunit;
using Xunit.Abstractions;

namespace R2D2.Localization.Tests;

/// <summary>An image over the pixel limit decoded at reduced size: the features stay in the file's
/// pixels and close to the whole decode's; an image within the limit is decoded whole, as before.</summary>
public class ReducedDecodingTests
{
    private readonly ITestOutputHelper _out;
    public ReducedDecodingTests(ITestOutputHelper output) => _out = output;

    [Fact]
    public void ReducedJpegKeypointsLieWhereTheWholeImagesDo()
    {
        var dir = TempDir.Create();
        var jpg = TestImages.WriteBoat(dir, "boat.jpg", 512, 384);
        using var net = ModelLoader.Load(SharedData.Model("r2d2_WASF_N16"));
        var settings = new ExtractionSettings { MinSize = 64, MaxSize = 128 };
        var whole = new MultiScaleExtractor(net, settings);
        // 512×384 at 1/2 is 49,152 px, over 20,000; at 1/4, 128×96, under it and as large as the first level (scale 1/4).
        var reduced = new MultiScaleExtractor(net, settings with { MaxPixels = 20_000 });

        var (a, ra, ha) = whole.ExtractFile(jpg);
        var levels = new List<PyramidLevel>();
        var (b, rb, hb) = reduced.ExtractFile(jpg, levels);
        Assert.Equal((1, 4), (ra, rb));
        // The hash of the bytes decoded, whole or reduced: the file's.
        Assert.Equal((ImageFile.ContentHash(jpg), ImageFile.ContentHash(jpg)), (ha, hb));
        Assert.Equal((512, 384), (b.ImageWidth, b.ImageHeight));
        Assert.Equal(128, levels[0].Width); // the same levels as the whole decode's pyramid
        Assert.True(a.Count > 50 && b.Count > 50, $"{a.Count} and {b.Count} keypoints");
        // Within 2 file pixels (half a pixel of the first level) of a keypoint of the whole decode.
        int near = 0;
        for (int i = 0; i < b.Count; i++)
        {
            double best = double.MaxValue;
            for (int j = 0; j < a.Count; j++) best = Math.Min(best, Math.Pow(a.X[j] - b.X[i], 2) + Math.Pow(a.Y[j] - b.Y[i], 2));
            if (best <= 4) near++;
        }
        double share = (double)near / b.Count;
        _out.WriteLine($"whole {a.Count}, reduced {b.Count} keypoints; {share:P0} of the reduced within 2 px of a whole one");
        Assert.True(share > 0.6, $"{share:P0}");
    }

    [Fact]
    public void ImagesWithinTheLimitAreDecodedWholeAndBeyondReductionRefused()
    {
        var dir = TempDir.Create();
        using var net = ModelLoader.Load(SharedData.Model("r2d2_WASF_N16"));
        var extractor = new MultiScaleExtractor(net, new ExtractionSettings { MinSize = 64, MaxSize = 128, MaxPixels = 20_000 });
        var png = TestImages.WriteBoat(dir, "boat.png", 512, 384);
        var e = Assert.Throws<ImageFileException>(() => extractor.ReductionFor(png, ImageFile.ReadHeader(png)));
        Assert.Contains("only JPEGs can be decoded at reduced size", e.Message);
        var progressive = TestImages.WriteBoat(dir, "p.jpg", 512, 384, new OpenCvSharp.ImageEncodingParam(OpenCvSharp.ImwriteFlags.JpegProgressive, 1));
        e = Assert.Throws<ImageFileException>(() => extractor.ReductionFor(progressive, ImageFile.ReadHeader(progressive)));
        Assert.Contains("progressive", e.Message);
        var small = TestImages.WriteBoat(dir, "small.jpg", 160, 120);
        Assert.Equal(1, extractor.ReductionFor(small, ImageFile.ReadHeader(small)));
        // No cap on the level size: the first level is the whole image, so no reduction can serve it.
        var uncapped = new MultiScaleExtractor(net, new ExtractionSettings { MinSize = 64, MaxSize = 0, MaxPixels = 20_000 });
        var jpg = TestImages.WriteBoat(dir, "boat.jpg", 512, 384);
        e = Assert.Throws<ImageFileException>(() => uncapped.ReductionFor(jpg, ImageFile.ReadHeader(jpg)));
        Assert.Contains("smaller than the pyramid's first level (512×384", e.Message);
    }
}
