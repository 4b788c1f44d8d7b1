using R2D2.Localization.Formats;
using Xunit;

namespace R2D2.Localization.Tests.Formats;

/// <summary>An image's entry found by its name as another file gives it (pairs files, cameras, global features).</summary>
public class NameIndexTests
{
    [Fact]
    public void AnImageIsFoundByItsNameOrOneEndingItAtAFolderBoundary()
    {
        static NameIndex<string> Index(params (string Name, string Value)[] entries) => new(entries.Select(e => KeyValuePair.Create(e.Name, e.Value)));
        var twins = Index(("x/a.jpg", "1"), ("y/a.jpg", "2"));
        Assert.Null(twins.Find("a.jpg"));
        // Said so where a lacking query is reported, not "no pair".
        Assert.Equal(": ambiguous, 'x/a.jpg' and 'y/a.jpg' both match it; give full names", twins.Ambiguity("a.jpg"));
        Assert.Equal("", twins.Ambiguity("b.jpg"));
        // A name that ends the other at a folder boundary is the query's (hloc's query/night/… for a
        // list's night/…, or a file of base names); another folder's image of the same name is not
        // (b/a.jpg took a/a.jpg's images and was posed at its place).
        Assert.Equal("1", Index(("query/night/a.jpg", "1")).Find("night/a.jpg"));
        Assert.Equal("1", Index(("night/a.jpg", "1")).Find("query/night/a.jpg"));
        Assert.Equal("1", Index(("a.jpg", "1")).Find("night/a.jpg"));
        Assert.Null(Index(("x/a.jpg", "1")).Find("night/a.jpg"));
        Assert.Null(Index(("xa.jpg", "1")).Find("a.jpg"));
        // The index holds the entries it was made of: a dictionary changed afterwards does not change it.
        var source = new Dictionary<string, string> { ["night/a.jpg"] = "1" };
        var made = new NameIndex<string>(source);
        source["night/b.jpg"] = "2";
        Assert.Null(made.Find("query/night/b.jpg"));
        Assert.Equal("2", new NameIndex<string>(source).Find("query/night/b.jpg"));
        var many = new NameIndex<string>(Enumerable.Range(0, 20_000).ToDictionary(i => $"db/{i}.jpg", i => i.ToString()));
        Assert.Equal(20_000, Enumerable.Range(0, 20_000).Count(i => many.Find($"query/db/{i}.jpg") == i.ToString()));
    }
}
