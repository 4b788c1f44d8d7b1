namespace R2D2.Localization.Storage;

// The ASMK retrieval index (Mapping.Asmk): its two-level codebook, one row per part (-1: the
// coarse centres; c: the fine centres of coarse centre c) in r2d2_asmk_codebook, each part
// stored in its own transaction as training finishes it (so training resumes after a kill), with
// the training settings in r2d2_meta 'asmk_training'; and every image's words and codes in
// r2d2_asmk, with 'asmk_images' (their number) marking the index complete. Tables are created on
// first write, so older maps read as having no ASMK index.
public sealed partial class FeatureDatabase
{
    private const string AsmkTables = """
        CREATE TABLE IF NOT EXISTS r2d2_asmk_codebook (
            part    INTEGER PRIMARY KEY NOT NULL,
            centres BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS r2d2_asmk (
            image_id INTEGER PRIMARY KEY NOT NULL,
            words    BLOB NOT NULL,
            codes    BLOB NOT NULL);
        """;

    private bool HasTable(string name) =>
        Long("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $n", ("$n", name)) > 0;

    /// <summary>The settings the stored codebook parts were trained with (null: none).</summary>
    public string? AsmkTrainingSettings =>
        _hasProjectTables ? Scalar("SELECT value FROM r2d2_meta WHERE key = 'asmk_training'") as string : null;

    /// <summary>Starts (or continues) training with these settings: parts trained with other
    /// settings are deleted, with the index built on them.</summary>
    public void BeginAsmkTraining(string settings) => InTransaction(() =>
    {
        Execute(AsmkTables);
        if (AsmkTrainingSettings == settings) return 0;
        Execute("DELETE FROM r2d2_asmk_codebook");
        Execute("DELETE FROM r2d2_asmk");
        Execute("DELETE FROM r2d2_meta WHERE key = 'asmk_images'");
        Execute("INSERT OR REPLACE INTO r2d2_meta(key, value) VALUES ('asmk_training', $v)", ("$v", settings));
        return 0;
    });

    public void WriteAsmkPart(int part, float[] centres) => InTransaction(() =>
        Execute("INSERT OR REPLACE INTO r2d2_asmk_codebook(part, centres) VALUES ($p, $c)", ("$p", part), ("$c", Blobs.Of<float>(centres))));

    /// <summary>The stored codebook parts (part → centres, row-major).</summary>
    public Dictionary<int, float[]> ReadAsmkParts() => !_hasProjectTables || !HasTable("r2d2_asmk_codebook") ? new()
        : Rows("SELECT part, centres FROM r2d2_asmk_codebook", r => (r.GetInt32(0), Blobs.To<float>(Blob(r, 1)))).ToDictionary(x => x.Item1, x => x.Item2);

    /// <summary>Stores every image's ASMK representation, replacing the previous ones, in one transaction (or WriteMap's).</summary>
    public void WriteAsmkIndex(IReadOnlyDictionary<int, AsmkImage> images) => InTransaction(() =>
    {
        Execute(AsmkTables);
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
