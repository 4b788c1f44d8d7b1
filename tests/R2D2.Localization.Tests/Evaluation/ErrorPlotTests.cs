using OpenCvSharp;
using R2D2.Localization.Evaluation;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

public class ErrorPlotTests
{
    private static PoseEvaluationResult Run(Random rng, double typicalMetres, int missing) =>
        new(Enumerable.Range(0, 100).Select(i => i < missing
                ? new QueryError($"q{i}", double.PositiveInfinity, double.PositiveInfinity)
                : new QueryError($"q{i}", typicalMetres * Math.Exp(RandomGeometry.Gaussian(rng)), 0.01)).ToList(),
            Array.Empty<string>());

    /// <summary>Pixels of exactly this BGR colour (the curves' and dots' solid interiors).</summary>
    private static int Count(Mat m, Vec3b colour)
    {
        int n = 0, rows = m.Rows, cols = m.Cols;
        for (int y = 0; y < rows; y++)
            for (int x = 0; x < cols; x++)
                if (m.At<Vec3b>(y, x) == colour) n++;
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
        // The first two palette colours (tab10 blue, orange) are drawn, a third is not.
        Assert.True(Count(png, new Vec3b(180, 119, 31)) > 300);
        Assert.True(Count(png, new Vec3b(14, 127, 255)) > 300);
        Assert.Equal(0, Count(png, new Vec3b(44, 160, 44)));
    }

    [Fact]
    public void EmptyAndDegenerateInputsStillDraw()
    {
        using var none = ErrorPlot.Render(Array.Empty<EvaluatedRun>(), new ErrorPlotSettings());
        using var allMissing = ErrorPlot.Render(new[] { new EvaluatedRun("x", Run(new Random(2), 1, 100)) }, new ErrorPlotSettings());
        Assert.Equal(640, allMissing.Rows);
        Assert.Throws<ArgumentException>(() => ErrorPlot.Render(Array.Empty<EvaluatedRun>(), new ErrorPlotSettings { MinMetres = 0 }));
    }
}
