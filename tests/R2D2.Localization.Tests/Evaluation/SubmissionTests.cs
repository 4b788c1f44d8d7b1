using System.Globalization;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;
using Xunit;

namespace R2D2.Localization.Tests.Evaluation;

/// <summary>The visuallocalization.net submission format: conventions survive a write and a read,
/// and bad lines are reported with their file and line.</summary>
public class SubmissionTests
{
    private static void Near(double[] expected, double[] actual, double tol)
    {
        for (int i = 0; i < expected.Length; i++) Assert.InRange(actual[i] - expected[i], -tol, tol);
    }

    [Fact]
    public void RandomPosesRoundTripInAnyCulture()
    {
        var rng = new Random(3);
        var poses = Enumerable.Range(0, 500)
            .Select(i => new ImagePose($"query/night/nexus5x/IMG_{i:D5}.jpg", RandomGeometry.RandomPose(rng, 300))).ToList();
        var path = Path.Combine(TempDir.Create(), "poses.txt");
        var saved = CultureInfo.CurrentCulture;
        try
        {
            // A comma-decimal culture must not leak into the file.
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            Submission.Write(path, poses);
            var back = Submission.Read(path);
            Assert.Equal(poses.Count, back.Count);
            for (int i = 0; i < poses.Count; i++)
            {
                Assert.Equal(Submission.BaseName(poses[i].Name), back[i].Name);
                Near(poses[i].Pose.Rotation, back[i].Pose.Rotation, 1e-9);
                Near(poses[i].Pose.Translation, back[i].Pose.Translation, 1e-9);
            }
        }
        finally { CultureInfo.CurrentCulture = saved; }
        // The numbers are written exactly (≥ 9 significant digits is what the site needs).
        var line = File.ReadLines(path).First().Split(' ');
        Assert.Equal("IMG_00000.jpg", line[0]);
        Near(poses[0].Pose.Quaternion, line[1..5].Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray(), 0);
        Near(poses[0].Pose.Translation, line[5..].Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray(), 0);
    }

    [Fact]
    public void LinesAreWorldToCameraHamiltonQuaternions()
    {
        // A quarter turn about z (x_cam = R·X + t): the world x axis maps to the camera's y.
        double h = Math.Sqrt(0.5);
        var pose = Pose.FromQuaternion(new[] { h, 0, 0, h }, new double[] { 1, 2, 3 });
        var line = Submission.FormatLine(new ImagePose("db/a.jpg", pose)).Split(' ');
        Assert.Equal("a.jpg", line[0]);
        Near(new[] { h, 0, 0, h, 1, 2, 3 }, line[1..].Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray(), 1e-15);

        // −q is the same rotation; a non-unit quaternion is normalized.
        var read = Submission.Read(new StringReader($"a.jpg {-2 * h} 0 0 {-2 * h} 1 2 3\n"), "mem");
        Near(pose.Rotation, read[0].Pose.Rotation, 1e-15);
        Near(new double[] { 0, 1, 0 }, Rotations.Apply(read[0].Pose.Rotation, 1, 0, 0), 1e-15);
        Near(new double[] { -2, 1, -3 }, read[0].Pose.CameraCenter, 1e-14); // C = −Rᵀt
    }

    [Theory]
    [InlineData("a.jpg 1 0 0 0 0 0", "expected 8 fields")]
    [InlineData("a.jpg 1 0 0 0 0 0 0 9", "expected 8 fields")]
    [InlineData("a.jpg 1 0 0 0 0 x 0", "field 7 ('x') is not a finite number")]
    [InlineData("a.jpg 1 0 0 0 0 0,5 0", "field 7 ('0,5') is not a finite number")]
    [InlineData("a.jpg 1 0 0 NaN 0 0 0", "field 5 ('NaN') is not a finite number")]
    [InlineData("a.jpg 0 0 0 0 0 0 0", "quaternion of 'a.jpg' is zero")]
    [InlineData("b.jpg 1 0 0 0 0 0 0", "'b.jpg' appears again (first on line 1)")]
    [InlineData("a.jpg 0.9238795 0 0 0.3826834 1.5e308 1.5e308 0", "the camera centre of 'a.jpg' (−Rᵀt) overflows")] // evaluate dropped it silently
    public void BadLinesNameFileAndLine(string bad, string message)
    {
        var path = Path.Combine(TempDir.Create(), "poses.txt");
        File.WriteAllText(path, "b.jpg 1 0 0 0 0 0 0\n\n" + bad + "\n");
        var e = Assert.Throws<FileFormatException>(() => Submission.Read(path));
        Assert.StartsWith($"{path}:3: ", e.Message);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void CommentsAreSkippedAndQuaternionsOffUnitLengthAreSaid()
    {
        // A `#` line (as COLMAP's text files start) was a bad line of 1 or more fields.
        var path = Path.Combine(TempDir.Create(), "poses.txt");
        File.WriteAllText(path, "# name qw qx qy qz tx ty tz\na.jpg 1 0 0 0 0 0 0\n  # a note\nb.jpg 2 0 0 0 1 2 3\nc.jpg 0.7071 0 0 0.7071 0 0 0\n");
        var said = new List<string>();
        var poses = Submission.Read(path, said.Add);
        Assert.Equal(new[] { "a.jpg", "b.jpg", "c.jpg" }, poses.Select(p => p.Name));
        Near(Pose.Identity.Rotation, poses[1].Pose.Rotation, 1e-15); // normalized all the same
        // Four significant digits (c.jpg: norm 0.99999) are not worth a word; a doubled quaternion is.
        Assert.Equal($"{path}:4: 1 quaternion of 3 not of unit length (first: 'b.jpg', norm 2), normalized; "
            + "a submission line is `name qw qx qy qz tx ty tz`, the quaternion first", Assert.Single(said));
        said.Clear();
        File.WriteAllText(path, "a.jpg 1 0 0 0 0 0 0\n");
        Submission.Read(path, said.Add);
        Assert.Empty(said);
        // Tiny and huge quaternions are rotations too (squares of 1e-170 underflowed to "zero", of 1e200 overflowed to a norm of ∞).
        File.WriteAllText(path, "a.jpg 1e-170 0 0 1e-170 0 0 0\nb.jpg 1e200 0 0 0 0 0 0\n");
        poses = Submission.Read(path, said.Add);
        Near(Pose.FromQuaternion(new[] { 1.0, 0, 0, 1 }, new double[3]).Rotation, poses[0].Pose.Rotation, 1e-15);
        Near(Pose.Identity.Rotation, poses[1].Pose.Rotation, 1e-15);
        Assert.Contains("2 quaternions of 2 not of unit length (first: 'a.jpg', norm 1.414E-170)", Assert.Single(said));
    }

    [Fact]
    public void WriterRefusesNamesTheSiteCannotTellApart()
    {
        var path = Path.Combine(TempDir.Create(), "poses.txt");
        var e = Assert.Throws<R2D2Exception>(() => Submission.Write(path,
            new[] { new ImagePose("day/x.jpg", Pose.Identity), new ImagePose("night/x.jpg", Pose.Identity) }));
        Assert.Contains("same base name 'x.jpg'", e.Message);
        Assert.Throws<FileNotFoundException>(() => Submission.Read(Path.Combine(TempDir.Create(), "none.txt")));
        // A folder (a kapture folder given as ground truth) was "not found".
        Assert.Contains("is a folder, not a file of poses", Assert.Throws<FileFormatException>(() => Submission.Read(TempDir.Create())).Message);
    }
}
