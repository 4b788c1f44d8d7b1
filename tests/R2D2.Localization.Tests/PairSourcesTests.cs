using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using Xunit;

namespace R2D2.Localization.Tests;

public class PairSourcesTests
{
    private static List<(string, string)> Names(IEnumerable<ImagePair> pairs) => pairs.Select(p => (p.Name1, p.Name2)).ToList();

    [Fact]
    public void PairsFileSkipsCommentsAndKeepsEachPairOnce()
    {
        var lines = new[] { "# pairs", "db/1.jpg db/2.jpg", "", "  db/2.jpg   db/1.jpg  ", "db/3.jpg db/3.jpg", "query/a.jpg db/1.jpg", "db/1.jpg db/2.jpg" };
        var pairs = PairSources.Parse(lines, "pairs.txt");
        Assert.Equal(new[] { ("db/1.jpg", "db/2.jpg"), ("query/a.jpg", "db/1.jpg") }, Names(pairs));
    }

    [Theory]
    [InlineData("")]
    [InlineData("# only a comment|")]
    [InlineData("a.jpg a.jpg")] // an image with itself
    public void APairsFileWithoutAPairOfTwoImagesIsRefused(string lines)
    {
        var e = Assert.Throws<R2D2.Localization.Formats.FileFormatException>(() => PairSources.Parse(lines.Length == 0 ? Array.Empty<string>() : lines.Split('|'), "pairs.txt"));
        Assert.StartsWith("pairs.txt: lists no pairs", e.Message);
    }

    [Fact]
    public void UnknownImageNamesTheFileAndLine()
    {
        var known = new HashSet<string> { "a.jpg", "b.jpg" };
        var e = Assert.Throws<R2D2.Localization.Formats.FileFormatException>(() => PairSources.Parse(new[] { "a.jpg b.jpg", "", "a.jpg c.jpg" }, "list.txt", known));
        Assert.StartsWith("list.txt:3: ", e.Message);
        Assert.Contains("'c.jpg'", e.Message);
        var bad = Assert.Throws<R2D2.Localization.Formats.FileFormatException>(() => PairSources.Parse(new[] { "a.jpg b.jpg c.jpg" }, "list.txt"));
        Assert.StartsWith("list.txt:1: ", bad.Message);
    }

    [Fact]
    public void ReadsTheAachenEvaluationPairsAndWritesThemBack()
    {
        var path = SharedData.Path_("datasets", "formats", "aachen-vlb", "image_pairs_to_match.txt");
        var pairs = PairSources.ReadFile(path);
        Assert.Equal(14941, pairs.Count);
        Assert.Equal(new ImagePair("db/1.jpg", "db/196.jpg"), pairs[0]);
        var copy = Path.Combine(TempDir.Create(), "pairs.txt");
        PairSources.WriteFile(copy, pairs);
        Assert.Equal(File.ReadAllLines(path), File.ReadAllLines(copy));
        var names = pairs.SelectMany(p => new[] { p.Name1, p.Name2 }).ToHashSet();
        Assert.Equal(pairs, PairSources.ReadFile(copy, names));
        Assert.Throws<FileNotFoundException>(() => PairSources.ReadFile(copy + ".missing"));
    }

    [Fact]
    public void ExhaustivePairsEveryTwoImagesOnce()
    {
        var pairs = PairSources.Exhaustive(new[] { "a", "b", "c", "d" });
        Assert.Equal(new[] { ("a", "b"), ("a", "c"), ("a", "d"), ("b", "c"), ("b", "d"), ("c", "d") }, Names(pairs));
        Assert.Empty(PairSources.Exhaustive(new[] { "a" }));
    }

    private static Pose AtLookingAlong(double x, double[] rotation) => Pose.FromCameraCenter(rotation, new[] { x, 0, 0 });

    [Fact]
    public void PosePairsAreNearbyCamerasLookingTheSameWay()
    {
        var ahead = new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 };           // looks along +z
        var sideways = Rotations.FromQuaternion(new[] { Math.Cos(Math.PI / 4), 0, Math.Sin(Math.PI / 4), 0 }); // 90° about y
        var cams = Enumerable.Range(0, 6).Select(i => ($"c{i}", AtLookingAlong(i, i == 1 ? sideways : ahead))).ToList();
        // Without an angle limit: each camera's two nearest (ties to the earlier camera).
        var all = PairSources.FromPoses(cams, 2);
        // (c5's nearest are c4 and c3: "c5 c3" is new; reversed duplicates are dropped.)
        Assert.Equal(new[] { ("c0", "c1"), ("c0", "c2"), ("c1", "c2"), ("c2", "c3"), ("c3", "c4"), ("c4", "c5"), ("c5", "c3") }, Names(all));
        // Within 30°: c1 looks 90° away, so it pairs with nobody and the others skip it.
        var aligned = PairSources.FromPoses(cams, 2, maxAngle: Math.PI / 6);
        Assert.Equal(new[] { ("c0", "c2"), ("c0", "c3"), ("c2", "c3"), ("c3", "c4"), ("c4", "c5"), ("c5", "c3") }, Names(aligned));
    }

    [Fact]
    public void PosePairsEqualBruteForceOnRandomCameras()
    {
        var rng = new Random(5);
        var cams = Enumerable.Range(0, 60).Select(i => ($"img{i:D3}.jpg", RandomGeometry.RandomPose(rng, 5))).ToList();
        const int k = 4;
        double maxAngle = 60 * Math.PI / 180;
        var expected = new HashSet<(string, string)>();
        for (int i = 0; i < cams.Count; i++)
        {
            var ci = cams[i].Item2;
            var near = Enumerable.Range(0, cams.Count).Where(j => j != i)
                .Where(j => Rotations.AngleBetween(ci.ViewingDirection, cams[j].Item2.ViewingDirection) <= maxAngle)
                .OrderBy(j => Distance(ci.CameraCenter, cams[j].Item2.CameraCenter)).Take(k);
            foreach (var j in near) expected.Add(Unordered(cams[i].Item1, cams[j].Item1));
        }
        var pairs = PairSources.FromPoses(cams, k, maxAngle);
        Assert.Equal(expected, pairs.Select(p => Unordered(p.Name1, p.Name2)).ToHashSet());
        Assert.Equal(pairs.Count, expected.Count); // no duplicates
        Assert.Equal(pairs, PairSources.FromPoses(cams, k, maxAngle)); // deterministic
    }

    [Fact]
    public void CovisibilityPairsShareTheMostPoints()
    {
        var images = new List<(string, IReadOnlyCollection<long>)>
        {
            ("a", new long[] { 1, 2, 3, 4, 5 }),
            ("b", new long[] { 1, 2, 3 }),
            ("c", new long[] { 4, 5, 9 }),
            ("d", new long[] { 5, 9 }),
            ("e", new long[] { 100 }),
        };
        // a: b (3), c (2), d (1); b: a; c: a (2) = d (2); d: c (2), a (1); e: nobody.
        var top1 = PairSources.FromCovisibility(images, 1);
        Assert.Equal(new[] { ("a", "b"), ("c", "a"), ("d", "c") }, Names(top1));
        var top2 = PairSources.FromCovisibility(images, 2, minShared: 2);
        Assert.Equal(new[] { ("a", "b"), ("a", "c"), ("c", "d") }, Names(top2));
    }

    private static (string, string) Unordered(string a, string b) => string.CompareOrdinal(a, b) < 0 ? (a, b) : (b, a);

    private static double Distance(double[] a, double[] b) =>
        Math.Sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
}
