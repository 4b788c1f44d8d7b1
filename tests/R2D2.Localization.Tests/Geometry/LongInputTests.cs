using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Geometry;

/// <summary>Refinements over very many observations run in constant stack space (a stackalloc
/// inside their loops once overflowed the stack: 48–96 bytes per observation and iteration).</summary>
public class LongInputTests
{
    private const int N = 400_000; // > 8 MB of stack per iteration had the buffers stayed in the loop

    [Fact]
    public void PointRefinementOverManyObservationsDoesNotOverflowTheStack()
    {
        var s = new SyntheticScene(3, 4, 1);
        var x = s.Points[0];
        var obs = new Observation[N];
        for (int i = 0; i < N; i++) { var (u, v) = s.Project(i % 4, x, 0.3); obs[i] = new Observation(s.Cameras[i % 4].P, u, v); }
        var refined = RunOnSmallStack(() => Triangulation.Refine(obs, new[] { x[0] + 0.05, x[1] - 0.05, x[2] + 0.05 }, iterations: 3));
        Assert.True(SyntheticScene.Distance(refined, x) < 1e-2);
    }

    [Fact]
    public void PoseRefinementOverManyPointsDoesNotOverflowTheStack()
    {
        var s = new SyntheticScene(4, 1, 1);
        var (r, t) = (s.Cameras[0].R, s.Cameras[0].T);
        var px = new double[2 * N];
        var pw = new double[3 * N];
        var rng = new Random(5);
        for (int i = 0; i < N; i++)
        {
            // Points in front of the camera: back-project random pixels at random depths.
            double u = rng.NextDouble() * 640, v = rng.NextDouble() * 480, d = 4 + 6 * rng.NextDouble();
            double xc = (u - SyntheticScene.Cx) / SyntheticScene.F * d, yc = (v - SyntheticScene.Cy) / SyntheticScene.F * d;
            double[] pc = { xc - t[0], yc - t[1], d - t[2] };
            for (int c = 0; c < 3; c++) pw[3 * i + c] = r[c] * pc[0] + r[3 + c] * pc[1] + r[6 + c] * pc[2]; // Rᵀ(pc − t)
            px[2 * i] = u; px[2 * i + 1] = v;
        }
        var k = new PinholeIntrinsics(SyntheticScene.F, SyntheticScene.F, SyntheticScene.Cx, SyntheticScene.Cy);
        var start = new Pose((double[])r.Clone(), new[] { t[0] + 0.02, t[1], t[2] - 0.02 });
        var refined = RunOnSmallStack(() => PoseRefinement.Refine(start, px, pw, k, Enumerable.Range(0, N).ToArray(), 2.0, 3));
        for (int c = 0; c < 3; c++) Assert.True(Math.Abs(refined.Translation[c] - t[c]) < 1e-3, $"t[{c}] {refined.Translation[c]} vs {t[c]}");
    }

    /// <summary>Runs on a thread with a 1 MB stack, the size of a .NET thread-pool thread.</summary>
    private static T RunOnSmallStack<T>(Func<T> f)
    {
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() => { try { result = f(); } catch (Exception e) { error = e; } }, 1 << 20);
        thread.Start();
        thread.Join();
        if (error != null) throw new AggregateException(error);
        return result;
    }
}
