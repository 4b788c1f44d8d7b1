using OpenCvSharp;
using R2D2.Localization.Evaluation;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>The cumulative error plot (ScottPlot): PNG with one curve per run in its colour, SVG with
/// real text (° and m), degenerate inputs, and the step curve's numbers.</summary>
public class ErrorPlotTests
{
    private static PoseEvaluationResult Run(Random rng, double typicalMetres, int missing) =>
        new(Enumerable.Range(0, 100).Select(i => i < missing
                ? new QueryError($"q{i}", double.PositiveInfinity, double.PositiveInfinity)
                : new QueryError($"q{i}", typicalMetres * Math.Exp(RandomGeometry.Gaussian(rng)), 0.01)).ToList(),
            Array.Empty<string>());

    /// <summary>Pixels within a few levels of this BGR colour (the curves' and dots' interiors).</summary>
    private static int Count(Mat m, Vec3b colour)
    {
        int n = 0, rows = m.Rows, cols = m.Cols;
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < cols; x++)
            {
                var c = m.At<Vec3b>(y, x);
                if (Math.Abs(c.Item0 - colour.Item0) + Math.Abs(c.Item1 - colour.Item1) + Math.Abs(c.Item2 - colour.Item2) <= 6) n++;
            }
        return n;
    }

    [Theory]
    [InlineData(ErrorScale.Log)]
    [InlineData(ErrorScale.Linear)]
    public void WritesAPngWithOneCurvePerRun(ErrorScale scale)
    {
        var rng = new Random(1);
        var runs = new[] { new EvaluatedRun("good", Run(rng, 0.1, 5)), new EvaluatedRun("worse", Run(rng, 1, 20)) };
        var path = Path.Combine(TempDir.Create(), "sub", "errors.png");
        ErrorPlot.Write(path, runs, new ErrorPlotSettings { Scale = scale });
        using var png = Cv2.ImRead(path, ImreadModes.Color);
        Assert.Equal((1000, 640), (png.Cols, png.Rows));
        // The first two palette colours (tab10 blue, orange) are drawn, a third (green) is not.
        Assert.True(Count(png, new Vec3b(180, 119, 31)) > 300);
        Assert.True(Count(png, new Vec3b(14, 127, 255)) > 300);
        Assert.Equal(0, Count(png, new Vec3b(44, 160, 44)));
    }

    [Fact]
    public void TheSvgHasRealTextAndThePathMustNameAPlot()
    {
        var runs = new[] { new EvaluatedRun("night °", Run(new Random(3), 0.2, 10)) };
        var svg = ErrorPlot.Svg(runs, new ErrorPlotSettings());
        Assert.StartsWith("<?xml", svg);
        Assert.Contains("0.25 m, 2°", svg);   // threshold labels with the degree sign, as text
        Assert.Contains("10 cm", svg);        // axis labels in cm and m
        Assert.Contains("1 m", svg);
        Assert.Contains("night ° (90/100 with a pose)", svg);
        var dir = TempDir.Create();
        ErrorPlot.Write(Path.Combine(dir, "p.svg"), runs);
        Assert.StartsWith("<?xml", File.ReadAllText(Path.Combine(dir, "p.svg")));
        var e = Assert.Throws<R2D2Exception>(() => ErrorPlot.Write(Path.Combine(dir, "p.jpg"), runs));
        Assert.Contains("must end in .png or .svg", e.Message);
    }

    [Fact]
    public void EmptyAndDegenerateInputsStillDraw()
    {
        Assert.NotEmpty(ErrorPlot.Png(Array.Empty<EvaluatedRun>(), new ErrorPlotSettings()));
        using var allMissing = Cv2.ImDecode(ErrorPlot.Png(new[] { new EvaluatedRun("x", Run(new Random(2), 1, 100)) }, new ErrorPlotSettings()), ImreadModes.Color);
        Assert.Equal(640, allMissing.Rows);
        Assert.Throws<ArgumentException>(() => ErrorPlot.Png(Array.Empty<EvaluatedRun>(), new ErrorPlotSettings { MinMetres = 0 }));
    }

    [Fact]
    public void TheCurveCountsErrorsLeftOfTheAxisAndNeverMissingOnes()
    {
        var result = new PoseEvaluationResult(new[]
        {
            new QueryError("a", 0.001, 0), new QueryError("b", 0.5, 0), new QueryError("c", 20, 0), new QueryError("d", double.PositiveInfinity, double.PositiveInfinity),
        }, Array.Empty<string>());
        var (xs, ys) = ErrorPlot.Curve(result, 0.01, 10);
        Assert.Equal(new[] { 0.01, 0.5, 10 }, xs);
        Assert.Equal(new[] { 25.0, 50, 50 }, ys);
    }
}
