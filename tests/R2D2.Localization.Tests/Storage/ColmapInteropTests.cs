using System.Diagnostics;
using System.Globalization;
using R2D2.Localization.Features;
using R2D2.Localization.Geometry;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;
using Xunit;
using static R2D2.Localization.Tests.Storage.StorageTestData;

namespace R2D2.Localization.Tests.Storage;

/// <summary>
/// COLMAP itself reads our databases: a synthetic scene (known points, cameras and poses, exact
/// projections in the project's pixel convention) is written with FeatureDatabase, and COLMAP's
/// point_triangulator triangulates it from the stored keypoints and two-view geometries, given
/// the true poses in a text model that states COLMAP's own convention (principal point + 0.5).
/// Exact data must come back exact: a half-pixel slip, a wrong blob layout or a wrong pair
/// order would show as reprojection error, missing points or wrong positions.
/// </summary>
public class ColmapInteropTests
{
    internal static bool HasColmap()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("colmap", "help") { RedirectStandardOutput = true, RedirectStandardError = true })!;
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return true;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    internal static string Colmap(params string[] args)
    {
        var psi = new ProcessStartInfo("colmap") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        output += err.Result;
        if (p.ExitCode != 0) throw new InvalidOperationException($"colmap {string.Join(' ', args)} failed ({p.ExitCode}):\n{output}");
        return output;
    }

    private static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    [Fact]
    public void ColmapTriangulatesOurDatabaseExactly()
    {
        if (!HasColmap())
        {
            Assert.True(Environment.GetEnvironmentVariable("CI") != "true", "CI must have colmap (see tools/setup)");
            return;
        }
        var rng = new Random(21);
        const int width = 1024, height = 768;
        const double focal = 800, cx = (width - 1) / 2.0, cy = (height - 1) / 2.0; // the project's convention
        var points = Enumerable.Range(0, 300).Select(_ => new[] { rng.NextDouble() * 4 - 2, rng.NextDouble() * 3 - 1.5, 4 + rng.NextDouble() * 4 }).ToArray();
        // Four cameras on a line, turned a little towards the middle: world→camera R (about y) and t = −R·C.
        var yaw = new[] { 0.15, 0.05, -0.05, -0.15 };
        var centres = new[] { -1.2, -0.4, 0.4, 1.2 };

        var dir = TempDir.Create();
        var path = Path.Combine(dir, "scene.db");
        var observed = new List<(int Point, float X, float Y)>[yaw.Length];
        var ids = new int[yaw.Length];
        var model = Path.Combine(dir, "input");
        Directory.CreateDirectory(model);
        var imagesTxt = new List<string>();
        using (var db = FeatureDatabase.Open(path))
        {
            int cam = db.AddCamera(new Camera(0, CameraModel.SimplePinhole, width, height, new[] { focal, cx, cy }, HasPriorFocalLength: true));
            for (int v = 0; v < yaw.Length; v++)
            {
                double c = Math.Cos(yaw[v]), s = Math.Sin(yaw[v]);
                double[] t = { -(c * centres[v]), 0, -(-s * centres[v]) };
                observed[v] = new();
                for (int p = 0; p < points.Length; p++)
                {
                    var X = points[p];
                    double xc = c * X[0] + s * X[2] + t[0], yc = X[1] + t[1], zc = -s * X[0] + c * X[2] + t[2];
                    double u = focal * xc / zc + cx, w = focal * yc / zc + cy;
                    if (u > 0 && u < width - 1 && w > 0 && w < height - 1) observed[v].Add((p, (float)u, (float)w));
                }
                observed[v] = observed[v].OrderBy(_ => rng.Next()).ToList(); // keypoint order unrelated to point ids
                ids[v] = db.AddImage($"view{v}.png", cam);
                int n = observed[v].Count;
                var f = RandomFeatures(rng, n, width: width, height: height);
                var features = new FeatureSet
                {
                    ImageWidth = width, ImageHeight = height,
                    X = observed[v].Select(o => o.X).ToArray(), Y = observed[v].Select(o => o.Y).ToArray(),
                    OfficialX = f.OfficialX, OfficialY = f.OfficialY, Scale = f.Scale, Score = f.Score,
                    Reliability = f.Reliability, Repeatability = f.Repeatability, Descriptors = f.Descriptors, Dim = f.Dim,
                };
                db.WriteFeatures(ids[v], features, R2D2Extractor);
                // The true pose in COLMAP's text model: quaternion of a rotation by yaw about y.
                imagesTxt.Add($"{ids[v]} {F(Math.Cos(yaw[v] / 2))} 0 {F(Math.Sin(yaw[v] / 2))} 0 {F(t[0])} {F(t[1])} {F(t[2])} {cam} view{v}.png");
                imagesTxt.Add("");
            }
            // Every pair, half of them written in the swapped order.
            for (int a = 0; a < yaw.Length; a++)
                for (int b = a + 1; b < yaw.Length; b++)
                {
                    var index = observed[b].Select((o, i) => (o.Point, i)).ToDictionary(x => x.Point, x => x.i);
                    var matches = observed[a].Select((o, i) => (o, i)).Where(x => index.ContainsKey(x.o.Point))
                        .Select(x => new Match(x.i, index[x.o.Point], 1f)).ToList();
                    bool swap = (a + b) % 2 == 1;
                    var (i1, i2) = swap ? (ids[b], ids[a]) : (ids[a], ids[b]);
                    var m = swap ? matches.Select(x => new Match(x.J, x.I, x.Similarity)).ToList() : matches;
                    db.WriteMatches(i1, i2, m);
                    db.WriteTwoViewGeometry(i1, i2, new TwoViewGeometry(TwoViewConfiguration.Calibrated, m));
                }
            File.WriteAllText(Path.Combine(model, "cameras.txt"),
                $"{cam} SIMPLE_PINHOLE {width} {height} {F(focal)} {F(cx + 0.5)} {F(cy + 0.5)}\n");
        }
        File.WriteAllLines(Path.Combine(model, "images.txt"), imagesTxt);
        File.WriteAllText(Path.Combine(model, "points3D.txt"), "");

        var output = Path.Combine(dir, "output");
        Directory.CreateDirectory(output);
        Colmap("point_triangulator", "--database_path", path, "--image_path", dir, "--input_path", model, "--output_path", output,
            "--Mapper.ba_refine_focal_length", "0", "--Mapper.ba_refine_extra_params", "0", "--Mapper.ba_refine_principal_point", "0");
        var text = Path.Combine(dir, "text");
        Directory.CreateDirectory(text);
        Colmap("model_converter", "--input_path", output, "--output_path", text, "--output_type", "TXT");

        // Each triangulated point: its track names (image, keypoint) pairs, which name the true point.
        int seenTwice = Enumerable.Range(0, points.Length).Count(p => observed.Count(o => o.Any(x => x.Point == p)) >= 2);
        var lines = File.ReadAllLines(Path.Combine(text, "points3D.txt")).Where(l => l.Length > 0 && l[0] != '#').ToList();
        Assert.InRange(lines.Count, seenTwice * 95 / 100, seenTwice);
        double maxError = 0, maxReprojection = 0;
        foreach (var line in lines)
        {
            var v = line.Split(' ');
            var xyz = v[1..4].Select(x => double.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            maxReprojection = Math.Max(maxReprojection, double.Parse(v[7], CultureInfo.InvariantCulture));
            int image = int.Parse(v[8]), keypoint = int.Parse(v[9]);
            int truth = observed[Array.IndexOf(ids, image)][keypoint].Point;
            for (int k = 8; k + 1 < v.Length; k += 2)
                Assert.Equal(truth, observed[Array.IndexOf(ids, int.Parse(v[k]))][int.Parse(v[k + 1])].Point);
            maxError = Math.Max(maxError, Math.Sqrt(xyz.Zip(points[truth], (a, b) => (a - b) * (a - b)).Sum()));
        }
        // Exact up to float32 keypoints (~1e-4 px); the convention's half pixel alone gives ~0.03 px.
        Assert.True(maxReprojection < 0.002, $"max reprojection error {maxReprojection} px");
        Assert.True(maxError < 1e-4, $"max 3D error {maxError}");

        // COLMAP opened the database for writing (it updates its schema on open); ours still reads it whole.
        using var after = FeatureDatabase.OpenReadOnly(path);
        Assert.Equal(observed[0].Count, after.ReadFeatures(ids[0])!.Count);
        Assert.Equal(6, after.ListGeometryPairs().Count);
    }
}
