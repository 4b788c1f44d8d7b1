using R2D2.Localization.Formats;
using R2D2.Localization.Pipeline;
using R2D2.Localization.Tests.Storage;
using Xunit;

namespace R2D2.Localization.Tests.Pipeline;

public class QueryFeatureCacheTests
{
    private static readonly RgbImage Image = new(1600, 1067, new byte[1600 * 1067 * 3]);

    [Fact]
    public void ExtractsOnceThenReadsTheSameFeatures()
    {
        var dir = TempDir.Create();
        var features = StorageTestData.RandomFeatures(new Random(1), 300);
        int calls = 0;
        FeatureSet Extract(RgbImage _) { calls++; return features; }
        var cache = new QueryFeatureCache(dir, StorageTestData.R2D2Extractor);
        var (first, _) = cache.GetOrExtract("night/q1.jpg", Image, Extract);
        var (second, _) = new QueryFeatureCache(dir, StorageTestData.R2D2Extractor).GetOrExtract("night/q1.jpg", Image, Extract);
        Assert.Equal(1, calls);
        Assert.Same(features, first);
        Assert.True(File.Exists(Path.Combine(dir, "night", "q1.jpg.features.safetensors")));
        Assert.Equal(features.X, second.X);
        Assert.Equal(features.Y, second.Y);
        Assert.Equal(features.Descriptors, second.Descriptors);
        Assert.Equal(features.Score, second.Score);
    }

    /// <summary>A cache file cut short or garbled is a miss, extracted again and replaced, and
    /// counted (it failed the query, naming the photo, and moved the benchmark's shares).</summary>
    [Fact]
    public void ADamagedCacheFileIsExtractedAgain()
    {
        var dir = TempDir.Create();
        var features = StorageTestData.RandomFeatures(new Random(3), 80);
        int calls = 0;
        FeatureSet Extract(RgbImage _) { calls++; return features; }
        new QueryFeatureCache(dir, StorageTestData.R2D2Extractor).GetOrExtract("a.jpg", Image, Extract);
        new QueryFeatureCache(dir, StorageTestData.R2D2Extractor).GetOrExtract("b.jpg", Image, Extract);
        var a = Path.Combine(dir, "a.jpg.features.safetensors");
        File.WriteAllBytes(a, File.ReadAllBytes(a).Take(1000).ToArray());
        File.WriteAllText(Path.Combine(dir, "b.jpg.features.safetensors"), "garbage");
        var cache = new QueryFeatureCache(dir, StorageTestData.R2D2Extractor);
        Assert.Equal(features.X, cache.GetOrExtract("a.jpg", Image, Extract).Features.X);
        Assert.Equal(features.X, cache.GetOrExtract("b.jpg", Image, Extract).Features.X);
        Assert.Equal(4, calls);
        Assert.Equal(2, cache.Damaged.Count);
        Assert.Equal(features.X, new QueryFeatureCache(dir, StorageTestData.R2D2Extractor).GetOrExtract("a.jpg", Image, Extract).Features.X);
        Assert.Equal(4, calls); // replaced: read from the cache again
    }

    [Fact]
    public void AnotherExtractorImageSizeOrPhotoExtractsAgain()
    {
        var dir = TempDir.Create();
        var features = StorageTestData.RandomFeatures(new Random(2), 50);
        int calls = 0;
        FeatureSet Extract(RgbImage _) { calls++; return features; }
        new QueryFeatureCache(dir, StorageTestData.R2D2Extractor).GetOrExtract("q.jpg", Image, Extract);
        var other = ExtractorIdentity.ForR2D2("r2d2_WASF_N16", "Quad_L2Net_ConfCFS()", "weights-a", new ExtractionSettings { TopK = 1000 });
        var cache = new QueryFeatureCache(dir, other);
        cache.GetOrExtract("q.jpg", Image, Extract);
        Assert.Equal(2, calls);
        Assert.Equal(1, cache.Misses);
        new QueryFeatureCache(dir, other).GetOrExtract("q.jpg", new RgbImage(800, 600, new byte[800 * 600 * 3]), Extract);
        Assert.Equal(3, calls);
        // Another photo of the same name and size (a night copy of a day query, another set's
        // folder): its own features, not the first one's.
        new QueryFeatureCache(dir, other).GetOrExtract("q.jpg", Image, Extract);
        Assert.Equal(4, calls); // the 800×600 features replaced the file
        new QueryFeatureCache(dir, other).GetOrExtract("q.jpg", Image, Extract);
        Assert.Equal(4, calls);
        var night = (byte[])Image.Pixels.Clone();
        night[12345] = 1;
        new QueryFeatureCache(dir, other).GetOrExtract("q.jpg", new RgbImage(Image.Width, Image.Height, night), Extract);
        Assert.Equal(5, calls);
    }

    [Fact]
    public void ANameThatLeavesTheFolderIsRefused()
    {
        var cache = new QueryFeatureCache(TempDir.Create(), StorageTestData.R2D2Extractor);
        Assert.Throws<R2D2Exception>(() => cache.PathOf("../outside.jpg"));
    }
}
