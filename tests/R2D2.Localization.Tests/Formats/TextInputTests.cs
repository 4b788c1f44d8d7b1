using System.Text;
using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

/// <summary>Text inputs are read as File.ReadLines reads them, except that a byte that is not UTF-8
/// is an error naming the file and line (names with Latin-1 letters were all one name, U+FFFD).</summary>
public class TextInputTests
{
    private static string Write(byte[] bytes)
    {
        var path = Path.Combine(TempDir.Create(), "t.txt");
        File.WriteAllBytes(path, bytes);
        return path;
    }

    [Theory]
    [InlineData("a\nb\n")]
    [InlineData("a\r\nb")]
    [InlineData("a\rb\r\n\r\n")]
    [InlineData("\n\nx")]
    [InlineData("")]
    [InlineData("é ü 日本\n")]
    public void LinesAreFileReadLinesLines(string text)
    {
        foreach (var bytes in new[] { Encoding.UTF8.GetBytes(text), Encoding.UTF8.GetPreamble().Concat(Encoding.UTF8.GetBytes(text)).ToArray(),
                     Encoding.Unicode.GetPreamble().Concat(Encoding.Unicode.GetBytes(text)).ToArray() })
        {
            var path = Write(bytes);
            Assert.Equal(File.ReadLines(path), TextInput.ReadLines(path));
        }
    }

    [Fact]
    public void AByteThatIsNotUtf8IsNamedWithItsLine()
    {
        var path = Write(Encoding.UTF8.GetBytes("a.jpg 1 0 0 0 0 0 0\n").Concat(new byte[] { (byte)'c', (byte)'a', (byte)'f', 0xE9, (byte)'\n' }).ToArray());
        var e = Assert.Throws<FileFormatException>(() => TextInput.ReadLines(path).ToList());
        Assert.Equal($"{path}:2: is not UTF-8 text: 0xE9 is no UTF-8 character (a Latin-1 or Windows letter?): save the file as UTF-8", e.Message);
        // Through a reader of names: a submission.
        Assert.Contains(":2: is not UTF-8 text", Assert.Throws<FileFormatException>(() => Submission.Read(path)).Message);
    }
}
