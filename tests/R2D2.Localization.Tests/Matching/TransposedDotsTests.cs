using R2D2.Localization.Matching;
using Xunit;

namespace R2D2.Localization.Tests.Matching;

public class TransposedDotsTests
{
    /// <summary>The four-row dots are bit for bit those of one row at a time (the same sum order),
    /// over the 64-, 16- and 8-wide paths, for 1–4 rows with and without room for four rows in the
    /// output, at an offset into the block; slots past the rows are left alone without that room.</summary>
    [Theory]
    [InlineData(128, 256)]
    [InlineData(128, 200)] // 192 + 8 columns: the 64-, then the 8-wide path
    [InlineData(16, 88)]   // 64 + 16 + 8
    [InlineData(8, 8)]
    public void RowsAtOnceEqualOneRowAtATime(int dim, int count)
    {
        var rng = new Random(11);
        int padded = TransposedDots.Padded(count);
        var vectors = Enumerable.Range(0, count * dim).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        var block = new float[dim * padded];
        TransposedDots.Transpose(vectors, Enumerable.Range(0, count).ToArray(), dim, padded, block);
        var xs = Enumerable.Range(0, 4 * dim).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray();
        foreach (int j0 in new[] { 0, 8 })
        {
            int width = padded - j0;
            for (int rows = 1; rows <= 4; rows++)
                foreach (bool room in new[] { true, false })
                {
                    int stride = width + 8;
                    var dots = new float[room ? 4 * stride : (rows - 1) * stride + width];
                    TransposedDots.DotsRows(xs, rows, dim, block, padded, j0, width, dots, stride);
                    var one = new float[width];
                    for (int r = 0; r < rows; r++)
                    {
                        TransposedDots.Dots(xs.AsSpan(r * dim, dim), block, padded, j0, width, one);
                        Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), dots.AsSpan(r * stride, width).ToArray().Select(BitConverter.SingleToInt32Bits));
                        for (int i = 0; i < width && j0 + i < count; i++)
                        {
                            double plain = 0;
                            for (int k = 0; k < dim; k++) plain += (double)xs[r * dim + k] * vectors[(j0 + i) * dim + k];
                            Assert.InRange(Math.Abs(plain - one[i]), 0, 1e-4);
                        }
                    }
                    if (!room) Assert.All(dots.AsSpan((rows - 1) * stride + width).ToArray(), v => Assert.Equal(0, v));
                }
        }
        Assert.Throws<ArgumentException>(() => TransposedDots.DotsRows(xs, 5, dim, block, padded, 0, padded, new float[5 * padded], padded));
    }
}
