using R2D2.Localization.Features;
using R2D2.Localization.Matching;
using R2D2.Localization.Storage;

namespace R2D2.Localization.Tests.Storage;

/// <summary>
/// A feature-writing run for the kill -9 test, run in a child process: it resumes where the last
/// run stopped (images without features), writes each image's features and its match list with
/// the previous image. Everything it writes is a function of the
/// image's index, so the test can check what survived.
/// </summary>
internal static class CrashWriter
{
    public const string Mode = "storage-crash-writer";
    public const int Images = 60;

    public static string ImageName(int k) => $"img{k:D3}.jpg";

    public static FeatureSet Features(int k) => StorageTestData.RandomFeatures(new Random(k + 1), 2000 + 37 * k);

    public static List<Match> Matches(int k) => Enumerable.Range(0, 40 + k).Select(i => new Match(i, 2 * i, i / 100f)).ToList();

    public static int Run(string path)
    {
        using var db = FeatureDatabase.Open(path);
        var ids = Enumerable.Range(0, Images).Select(k => db.FindImage(ImageName(k))!.Id).ToArray();
        var done = db.ImagesWithFeatures();
        for (int k = 0; k < Images; k++)
        {
            if (!done.Contains(ids[k])) db.WriteFeatures(ids[k], Features(k), StorageTestData.R2D2Extractor);
            if (k > 0 && !db.HasMatches(ids[k - 1], ids[k])) db.WriteMatches(ids[k], ids[k - 1], Matches(k));
        }
        return 0;
    }
}
