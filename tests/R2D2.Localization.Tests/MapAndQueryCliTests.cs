using R2D2.Localization.Formats;
using R2D2.Localization.Storage;
using Xunit;

namespace R2D2.Localization.Tests;

/// <summary>build-map and query end to end on a small Strecha map (low resolution keeps it fast), and their bad input.</summary>
public class MapAndQueryCliTests
{
    private static string Scene => SharedData.Path_("datasets", "strecha", "fountain-P11");
    // A small pyramid: levels of 192–384 px.
    private static readonly string[] Small = { "--min-size", "192", "--max-size", "384" };

    [Fact]
    public void BuildsAMapExportsItAndLocalizesAQuery()
    {
        var dir = TempDir.Create();
        var db = Path.Combine(dir, "fountain.db");
        var args = new[] { "build-map", "--images", Path.Combine(Scene, "images"), "--poses", Path.Combine(Scene, "cameras"),
            "--only", "0002.jpg", "0004.jpg", "0006.jpg", "--map", db, "--model", SharedData.Model("r2d2_WASF_N16") }.Concat(Small).ToArray();
        var (code, stdout, err) = CliTests.Localize(args);
        Assert.True(code == 0, err + stdout);
        Assert.Contains("3D points", stdout);
        // The COLMAP export reads back with our importer and names the map's points.
        var model = ColmapText.ReadModel(Path.Combine(dir, "fountain_model"));
        Assert.Equal(3, model.Images.Count);
        Assert.True(model.Points.Count > 100, $"{model.Points.Count} points");
        Assert.True(File.Exists(Path.Combine(dir, "fountain_model", "points3D.ply")));
        using (var d = FeatureDatabase.OpenReadOnly(db)) Assert.Equal(model.Points.Count, d.ReadMap().Count);

        // Rerun: everything is stored, nothing is recomputed but the map.
        (code, stdout, err) = CliTests.Localize(args);
        Assert.True(code == 0, err);
        Assert.Contains("stored", stdout);

        // Query 0003.jpg (between the mapped images) with its true intrinsics (COLMAP convention in the list).
        var cam = StrechaCameras.Read(Path.Combine(Scene, "cameras", "0003.jpg.camera"));
        var k = cam.Camera.Params;
        var list = Path.Combine(dir, "queries.txt");
        File.WriteAllText(list, $"0003.jpg PINHOLE {cam.Camera.Width} {cam.Camera.Height} {k[0]} {k[1]} {k[2] + 0.5} {k[3] + 0.5}\nmissing.jpg PINHOLE 3072 2048 2759 2764 1520 1006\n");
        var poses = Path.Combine(dir, "poses.txt");
        (code, stdout, err) = CliTests.Localize("query", "--map", db, "--queries", list, "--images", Path.Combine(Scene, "images"), "--output", poses);
        Assert.True(code == 1, err); // a query image could not be read
        Assert.Contains("missing.jpg: file not found", err); // the bad query gets the fallback pose; the others go on
        Assert.Contains("query: 2 queries, 1 localized, 0 fallback, 1 unreadable, 0 failed", stdout);
        var written = Submission.Read(poses);
        Assert.Equal(2, written.Count);
        var est = written.Single(p => p.Name == "0003.jpg").Pose;
        double dist = Math.Sqrt(est.CameraCenter.Zip(cam.Pose.CameraCenter, (a, b) => (a - b) * (a - b)).Sum());
        Assert.True(dist < 0.1, $"position error {dist:F3} m");
        Assert.True(File.Exists(Path.ChangeExtension(poses, ".csv")));
        // The inliers file: as many inliers as the CSV says, ids of the map's points; none for the failed query.
        var inliers = QueryInliers.Read(QueryInliers.PathFor(poses));
        var csvRow = File.ReadLines(Path.ChangeExtension(poses, ".csv")).Single(l => l.StartsWith("0003.jpg,")).Split(',');
        Assert.Equal(int.Parse(csvRow[4]), inliers["0003.jpg"].Count);
        Assert.Equal(0, inliers["missing.jpg"].Count);
        using (var d = FeatureDatabase.OpenReadOnly(db))
        {
            var ids = d.ReadMap().Select(p => p.Id).ToHashSet();
            Assert.All(inliers["0003.jpg"].PointIds, id => Assert.Contains(id, ids));
        }

        // Through retrieval (the 2 most similar database images) and through a user's pairs file.
        var pairs = Path.Combine(dir, "pairs.txt");
        File.WriteAllText(pairs, "0003.jpg 0002.jpg\n0003.jpg 0004.jpg\n");
        foreach (var extra in new[] { new[] { "--retrieval", "2" }, new[] { "--pairs", pairs } })
        {
            File.WriteAllText(list, $"0003.jpg PINHOLE {cam.Camera.Width} {cam.Camera.Height} {k[0]} {k[1]} {k[2] + 0.5} {k[3] + 0.5}\n");
            (code, _, err) = CliTests.Localize(new[] { "query", "--map", db, "--queries", list, "--images", Path.Combine(Scene, "images"), "--output", poses }.Concat(extra).ToArray());
            Assert.True(code == 0, err);
            var p = Submission.Read(poses).Single().Pose;
            double d = Math.Sqrt(p.CameraCenter.Zip(cam.Pose.CameraCenter, (a, b) => (a - b) * (a - b)).Sum());
            Assert.True(d < 0.1, $"{string.Join(" ", extra)}: position error {d:F3} m");
        }

        // A wrong --images folder, or a file as --kapture-output, is said before any query is run
        // (every query was "unreadable" and a submission of fallback poses was written; the kapture
        // output failed after the queries with .NET's "could not find a part of the path").
        var other = Path.Combine(dir, "other.txt");
        foreach (var (extra, message) in new[] { (new[] { "--images", Path.Combine(dir, "nope") }, "nope: image folder not found (--images)"),
                     (new[] { "--images", list }, "is a file: --images takes the folder"),
                     (new[] { "--images", Path.Combine(Scene, "images"), "--kapture-output", list }, "is a file: --kapture-output takes a folder") })
        {
            var before = File.ReadAllText(list);
            (code, _, err) = CliTests.Localize(new[] { "query", "--map", db, "--queries", list, "--output", other }.Concat(extra).ToArray());
            Assert.True(code == 1, err);
            Assert.Contains(message, err);
            Assert.False(File.Exists(other));
            Assert.Equal(before, File.ReadAllText(list));
        }

        // The map's stored matches were made by build-map without a threshold, which match's default
        // (−1) is too: matching more pairs into it goes on (it was refused as "min_similarity -Infinity, not -1").
        (code, stdout, err) = CliTests.Localize("match", "--database", db, "--pairs", "exhaustive");
        Assert.True(code == 0, err);
        Assert.Contains("skipped (stored)", stdout);
    }

    [Fact]
    public void PosesNamingImagesNotOnDiskAreRefusedBeforeAnythingIsWritten()
    {
        var dir = TempDir.Create();
        var images = Path.Combine(dir, "images");
        Directory.CreateDirectory(images);
        File.Copy(Path.Combine(Scene, "images", "0000.jpg"), Path.Combine(images, "0000.jpg"));
        var db = Path.Combine(dir, "m.db");
        var (code, _, err) = CliTests.Localize("build-map", "--images", images, "--poses", Path.Combine(Scene, "cameras"), "--map", db,
            "--model", SharedData.Model("r2d2_WASF_N16"));
        Assert.Equal(1, code);
        Assert.Contains("not found under", err);
        Assert.False(File.Exists(db));
    }

    [Fact]
    public void QueryRefusesAMalformedListAndAnEmptyMap()
    {
        var dir = TempDir.Create();
        var list = Path.Combine(dir, "q.txt");
        File.WriteAllText(list, "a.jpg SIMPLE_RADIAL 100 100 90 50 50 0\nb.jpg SIMPLE_RADIAL 100 x 90 50 50 0\n");
        var empty = Path.Combine(dir, "empty.db");
        using (FeatureDatabase.Open(empty)) { }
        var (code, _, err) = CliTests.Localize("query", "--map", empty, "--queries", list, "--images", dir, "--output", Path.Combine(dir, "p.txt"));
        Assert.Equal(1, code);
        Assert.Contains($"{list}:2", err);
        File.WriteAllText(list, "a.jpg SIMPLE_RADIAL 100 100 90 50 50 0\n");
        (code, _, err) = CliTests.Localize("query", "--map", empty, "--queries", list, "--images", dir, "--output", Path.Combine(dir, "p.txt"));
        Assert.Equal(1, code);
        Assert.Contains("holds no map", err);
    }
}
