using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

public class PairsLineTests
{
    [Theory]
    [InlineData("q.jpg db/1.jpg", "q.jpg", "db/1.jpg", null)]
    [InlineData("  q.jpg \t db/1.jpg  ", "q.jpg", "db/1.jpg", null)]
    [InlineData("q.jpg db/1.jpg 0.5", "q.jpg", "db/1.jpg", 0.5)]
    [InlineData("q.jpg, db/1.jpg", "q.jpg", "db/1.jpg", null)]
    [InlineData("q.jpg, db/1.jpg, 1e-3", "q.jpg", "db/1.jpg", 1e-3)]
    public void BothLayoutsGiveTheNamesAndTheScore(string line, string a, string b, double? score) =>
        Assert.Equal((a, b, score), PairsLine.Parse(line, "pairs.txt", 3));

    [Theory]
    [InlineData("q.jpg", "found 1 field")]
    [InlineData("q.jpg db/1.jpg x", "score 'x' is not a number")]
    [InlineData("q.jpg, , 1", "found 3 fields")]
    [InlineData("q.jpg, db/1.jpg, nan", "score 'nan' is not finite")]
    [InlineData("a b c d", "found 4 fields")]
    [InlineData("MZ\u0090\0\u0003 x", "holds binary bytes: not a pairs file")] // an executable given as pairs: its bytes were quoted back
    [InlineData("q.jpg \uFFFD.jpg", "holds binary bytes")]
    public void AMalformedLineNamesTheFileAndLine(string line, string message)
    {
        var e = Assert.Throws<FileFormatException>(() => PairsLine.Parse(line, "pairs.txt", 7));
        Assert.Contains("pairs.txt:7", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void MatchingPairsAndRetrievalPairsAcceptTheSameFile()
    {
        var path = Path.Combine(Path.GetTempPath(), $"pairs-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllText(path, "# retrieval\nq.jpg db/2.jpg 0.2\nq.jpg, db/1.jpg, 0.9\n\nq.jpg db/3.jpg\n");
            Assert.Equal(new[] { "db/1.jpg", "db/2.jpg", "db/3.jpg" }, RetrievalPairs.Read(path)["q.jpg"]);
        }
        finally { File.Delete(path); }
    }
}
