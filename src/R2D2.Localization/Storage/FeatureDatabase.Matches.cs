using R2D2.Localization.Geometry;

namespace R2D2.Localization.Storage;

// Matches and two-view geometries of image pairs. COLMAP keys a pair by its pair id and stores it
// for (smaller id, larger id); asked for the other order, the columns are swapped (and the
// geometry inverted, as COLMAP does) on write and swapped back on read.
public sealed partial class FeatureDatabase
{
    /// <summary>Writes (or replaces) the matches of a pair, in one transaction: COLMAP's rows×2
    /// uint32 blob and the similarities in r2d2_matches.</summary>
    public void WriteMatches(int imageId1, int imageId2, IReadOnlyList<Match> matches)
    {
        long pair = ImagePairs.PairId(imageId1, imageId2);
        bool swap = ImagePairs.IsSwapped(imageId1, imageId2);
        var data = Blobs.MatchPairs(matches, swap);
        var similarity = Blobs.Of<float>(matches.Select(m => m.Similarity).ToArray());
        InTransaction(() =>
        {
            Execute("INSERT OR REPLACE INTO matches(pair_id, rows, cols, data) VALUES ($p, $r, 2, $d)",
                ("$p", pair), ("$r", matches.Count), ("$d", data));
            Execute("INSERT OR REPLACE INTO r2d2_matches(pair_id, rows, similarity) VALUES ($p, $r, $s)",
                ("$p", pair), ("$r", matches.Count), ("$s", similarity));
            return 0;
        });
    }

    /// <summary>Whether any pair has stored matches.</summary>
    public bool HasAnyMatches => Scalar("SELECT 1 FROM matches LIMIT 1") != null;

    public bool HasMatches(int imageId1, int imageId2) =>
        Scalar("SELECT 1 FROM matches WHERE pair_id = $p", ("$p", ImagePairs.PairId(imageId1, imageId2))) != null;

    /// <summary>The matches of (image 1, image 2) in that order — I indexes image 1's keypoints —
    /// or null when none are stored. Similarities are NaN where COLMAP wrote the matches.</summary>
    public List<Match>? ReadMatches(int imageId1, int imageId2)
    {
        long pair = ImagePairs.PairId(imageId1, imageId2);
        var rows = Rows("SELECT rows, cols, data FROM matches WHERE pair_id = $p",
            r => (Rows: r.GetInt32(0), Cols: r.GetInt32(1), Data: Blob(r, 2)), ("$p", pair));
        if (rows.Count == 0) return null;
        var (n, cols, data) = rows[0];
        if (n > 0 && cols != 2) throw new FeatureDatabaseException(Path, $"pair {imageId1}-{imageId2}: matches have {cols} columns, COLMAP writes 2");
        float[]? similarity = _hasProjectTables
            ? Rows("SELECT similarity FROM r2d2_matches WHERE pair_id = $p", r => Blobs.To<float>(Blob(r, 0)), ("$p", pair)).FirstOrDefault()
            : null;
        try
        {
            return Blobs.ToMatches(data, n, ImagePairs.IsSwapped(imageId1, imageId2), similarity);
        }
        catch (DataFormatException e)
        {
            throw new FeatureDatabaseException(Path, $"pair {imageId1}-{imageId2}: {e.Message}", e);
        }
    }

    /// <summary>Every pair with stored matches (including pairs stored with none), smaller id first.</summary>
    public List<PairCount> ListMatchedPairs() => ListPairs("matches");

    /// <summary>Every pair with a stored two-view geometry, with its number of inliers.</summary>
    public List<PairCount> ListGeometryPairs() => ListPairs("two_view_geometries");

    private List<PairCount> ListPairs(string table) =>
        Rows($"SELECT pair_id, rows FROM {table} ORDER BY pair_id", r =>
        {
            var (a, b) = ImagePairs.FromPairId(r.GetInt64(0));
            return new PairCount(a, b, r.GetInt32(1));
        });

    /// <summary>Writes (or replaces) the two-view geometry of (image 1, image 2), in one transaction.</summary>
    public void WriteTwoViewGeometry(int imageId1, int imageId2, TwoViewGeometry geometry)
    {
        long pair = ImagePairs.PairId(imageId1, imageId2);
        bool swap = ImagePairs.IsSwapped(imageId1, imageId2);
        CheckLength(geometry.F, 9, "F"); CheckLength(geometry.E, 9, "E"); CheckLength(geometry.H, 9, "H");
        CheckLength(geometry.Rotation, 4, "rotation"); CheckLength(geometry.Translation, 3, "translation");
        var g = swap ? Invert(geometry) : geometry;
        var inliers = Blobs.MatchPairs(geometry.Inliers, swap);
        InTransaction(() =>
        {
            Execute("INSERT OR REPLACE INTO two_view_geometries(pair_id, rows, cols, data, config, F, E, H, qvec, tvec) " +
                    "VALUES ($p, $r, 2, $d, $c, $F, $E, $H, $q, $t)",
                ("$p", pair), ("$r", geometry.Inliers.Count), ("$d", inliers), ("$c", (int)g.Config),
                ("$F", MatrixBlob(g.F is null ? null : ColmapConvention.FundamentalToColmap(g.F))),
                ("$E", MatrixBlob(g.E)),
                ("$H", MatrixBlob(g.H is null ? null : ColmapConvention.HomographyToColmap(g.H))),
                ("$q", MatrixBlob(g.Rotation)), ("$t", MatrixBlob(g.Translation)));
            return 0;
        });
    }

    public bool HasTwoViewGeometry(int imageId1, int imageId2) =>
        Scalar("SELECT 1 FROM two_view_geometries WHERE pair_id = $p", ("$p", ImagePairs.PairId(imageId1, imageId2))) != null;

    /// <summary>The two-view geometry of (image 1, image 2) in that order, or null. Matrices that
    /// COLMAP stored empty come back null; qvec/tvec are null in databases older than COLMAP 3.7.</summary>
    public TwoViewGeometry? ReadTwoViewGeometry(int imageId1, int imageId2)
    {
        long pair = ImagePairs.PairId(imageId1, imageId2);
        bool swap = ImagePairs.IsSwapped(imageId1, imageId2);
        string Col(string c) => _geometryColumns.Contains(c) ? c : "NULL";
        var rows = Rows($"SELECT rows, data, config, {Col("F")}, {Col("E")}, {Col("H")}, {Col("qvec")}, {Col("tvec")} FROM two_view_geometries WHERE pair_id = $p",
            r => (Rows: r.GetInt32(0), Data: Blob(r, 1), Config: r.GetInt32(2),
                F: Matrix(Blob(r, 3), 9, "F"), E: Matrix(Blob(r, 4), 9, "E"), H: Matrix(Blob(r, 5), 9, "H"),
                Q: Matrix(Blob(r, 6), 4, "qvec"), T: Matrix(Blob(r, 7), 3, "tvec")),
            ("$p", pair));
        if (rows.Count == 0) return null;
        var x = rows[0];
        List<Match> inliers;
        try
        {
            inliers = Blobs.ToMatches(x.Data, x.Rows, swap, null);
        }
        catch (DataFormatException e)
        {
            throw new FeatureDatabaseException(Path, $"pair {imageId1}-{imageId2}: {e.Message}", e);
        }
        // Stored as (smaller id, larger id); inlier columns are already swapped to the asked order.
        var stored = new TwoViewGeometry((TwoViewConfiguration)x.Config, inliers,
            x.F is null ? null : ColmapConvention.FundamentalFromColmap(x.F), x.E,
            x.H is null ? null : ColmapConvention.HomographyFromColmap(x.H), x.Q, x.T);
        return swap ? Invert(stored) : stored;
    }

    private static void CheckLength(double[]? a, int n, string name)
    {
        if (a != null && a.Length != n) throw new ArgumentException($"two-view geometry: {name} needs {n} values, got {a.Length}");
    }

    private static byte[] MatrixBlob(double[]? m) => m is null ? System.Array.Empty<byte>() : Blobs.Of<double>(m);

    private double[]? Matrix(byte[]? blob, int n, string name)
    {
        if (blob == null || blob.Length == 0) return null; // COLMAP writes empty blobs for pairs without inliers
        if (blob.Length != n * sizeof(double)) throw new FeatureDatabaseException(Path, $"two-view {name} blob has {blob.Length} bytes, expected {n * sizeof(double)}");
        return Blobs.To<double>(blob);
    }

    /// <summary>The geometry of the swapped pair, as COLMAP's TwoViewGeometry::Invert: Fᵀ, Eᵀ, H⁻¹
    /// (zeros for a singular H: COLMAP's "not estimated"), the inverse relative pose (the
    /// conjugate quaternion, t' = −Rᵀ·t). The inliers are swapped by the blob writer/reader, not here.</summary>
    private static TwoViewGeometry Invert(TwoViewGeometry g)
    {
        double[]? q = g.Rotation is null ? null : (double[])g.Rotation.Clone(), t = g.Translation is null ? null : (double[])g.Translation.Clone();
        if (g.Rotation is { } r && Rotations.FindQuaternionProblem(r) == null)
        {
            double norm = Rotations.QuaternionNorm(r);
            q = new[] { r[0] / norm, -r[1] / norm, -r[2] / norm, -r[3] / norm };
            if (g.Translation is { } tr)
            {
                var rt = Rotations.Apply(Rotations.FromQuaternion(q), tr[0], tr[1], tr[2]); // Rᵀ is the conjugate's rotation
                t = new[] { -rt[0], -rt[1], -rt[2] };
            }
        }
        return g with
        {
            F = g.F is null ? null : Rotations.Transpose(g.F),
            E = g.E is null ? null : Rotations.Transpose(g.E),
            H = g.H is null ? null : Homography.TryInverse(g.H) ?? new double[9],
            Rotation = q, Translation = t,
        };
    }
}
