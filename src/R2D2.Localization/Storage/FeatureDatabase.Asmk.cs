namespace R2D2.Localization.Storage;

// The ASMK retrieval index (Mapping.Asmk). Training: the two-level codebook's parts (-1: the coarse
// centres; c: the fine centres of coarse centre c) in r2d2_asmk_training, each stored in its own
// transaction as training finishes it (so training resumes after a kill), with their settings in
// r2d2_meta 'asmk_training'. The index: its codebook in r2d2_asmk_codebook, every image's words and
// codes in r2d2_asmk, 'asmk_images' (their number) marking it complete and 'asmk_settings' its
// settings; written in one transaction that takes the trained parts over, so a retraining killed
// half-way leaves the previous index whole (it deleted it at the start). Maps of earlier versions
// kept the parts in r2d2_asmk_codebook: they are taken from there. Tables are created on first
// write, so older maps read as having no ASMK index.
public sealed partial class FeatureDatabase
{
    private const string AsmkTables = """
        CREATE TABLE IF NOT EXISTS r2d2_asmk_codebook (
            part    INTEGER PRIMARY KEY NOT NULL,
            centres BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS r2d2_asmk_training (
            part    INTEGER PRIMARY KEY NOT NULL,
            centres BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS r2d2_asmk (
            image_id INTEGER PRIMARY KEY NOT NULL,
            words    BLOB NOT NULL,
            codes    BLOB NOT NULL);
        """;

    private bool HasTable(string name) =>
        Long("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $n", ("$n", name)) > 0;

    private string? Meta(string key) => _hasProjectTables ? Scalar("SELECT value FROM r2d2_meta WHERE key = $k", ("$k", key)) as string : null;

    /// <summary>Starts (or continues) training with these settings: parts trained with other
    /// settings are deleted; the index's own codebook is where a rebuild with its settings
    /// starts. The index itself stays until <see cref="WriteAsmkIndex"/> replaces it.</summary>
    public void BeginAsmkTraining(string settings) => InTransaction(() =>
    {
        Execute(AsmkTables);
        string? training = Meta("asmk_training"), indexed = Meta("asmk_settings");
        if (training == settings && Long("SELECT count(*) FROM r2d2_asmk_training") > 0) return 0;
        Execute("DELETE FROM r2d2_asmk_training");
        // The index's codebook of these settings; or, in a map of an earlier version, the parts it kept there.
        if (indexed == settings || (indexed == null && training == settings))
            Execute("INSERT INTO r2d2_asmk_training(part, centres) SELECT part, centres FROM r2d2_asmk_codebook");
        Execute("INSERT OR REPLACE INTO r2d2_meta(key, value) VALUES ('asmk_training', $v)", ("$v", settings));
        return 0;
    });

    public void WriteAsmkPart(int part, float[] centres) => InTransaction(() =>
        Execute("INSERT OR REPLACE INTO r2d2_asmk_training(part, centres) VALUES ($p, $c)", ("$p", part), ("$c", Blobs.Of<float>(centres))));

    /// <summary>The codebook parts training stored (part → centres, row-major).</summary>
    public Dictionary<int, float[]> ReadAsmkParts() => Parts("r2d2_asmk_training");

    /// <summary>The codebook of the stored index (part → centres, row-major).</summary>
    public Dictionary<int, float[]> ReadAsmkCodebook() => Parts("r2d2_asmk_codebook");

    private Dictionary<int, float[]> Parts(string table) => !_hasProjectTables || !HasTable(table) ? new()
        : Rows($"SELECT part, centres FROM {table}", r => (r.GetInt32(0), Blobs.To<float>(Blob(r, 1)))).ToDictionary(x => x.Item1, x => x.Item2);

    /// <summary>Stores every image's ASMK representation, replacing the previous ones, in one transaction (or WriteMap's).</summary>
    public void WriteAsmkIndex(IReadOnlyDictionary<int, AsmkImage> images) => InTransaction(() =>
    {
        Execute(AsmkTables);
        // The trained parts become the index's codebook (the images were encoded with them).
        if (Long("SELECT count(*) FROM r2d2_asmk_training") > 0)
        {
            Execute("DELETE FROM r2d2_asmk_codebook");
            Execute("INSERT INTO r2d2_asmk_codebook(part, centres) SELECT part, centres FROM r2d2_asmk_training");
            Execute("DELETE FROM r2d2_asmk_training");
            Execute("INSERT OR REPLACE INTO r2d2_meta(key, value) SELECT 'asmk_settings', value FROM r2d2_meta WHERE key = 'asmk_training'");
            Execute("DELETE FROM r2d2_meta WHERE key = 'asmk_training'");
        }
        Execute("DELETE FROM r2d2_asmk");
        foreach (var (id, im) in images)
            Execute("INSERT INTO r2d2_asmk(image_id, words, codes) VALUES ($i, $w, $c)", ("$i", id), ("$w", Blobs.Of<int>(im.Words)), ("$c", Blobs.Of<ulong>(im.Codes)));
        Execute("INSERT OR REPLACE INTO r2d2_meta(key, value) VALUES ('asmk_images', $v)", ("$v", images.Count.ToString()));
        return 0;
    });

    /// <summary>The images' ASMK representations; null when the map has no complete ASMK index.</summary>
    public Dictionary<int, AsmkImage>? ReadAsmkIndex()
    {
        if (!_hasProjectTables || Scalar("SELECT value FROM r2d2_meta WHERE key = 'asmk_images'") is not string) return null;
        return Rows("SELECT image_id, words, codes FROM r2d2_asmk", r => (r.GetInt32(0), new AsmkImage(Blobs.To<int>(Blob(r, 1)), Blobs.To<ulong>(Blob(r, 2)))))
            .ToDictionary(x => x.Item1, x => x.Item2);
    }
}
