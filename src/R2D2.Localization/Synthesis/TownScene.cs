using System.Globalization;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Synthesis;

/// <summary>A posed photo of the town: name (relative to the images folder), camera centre, yaw and pitch (degrees).</summary>
public sealed record TownShot(string Name, double X, double Y, double Z, double YawDeg, double PitchDeg)
{
    public Pose Pose => DemoScene.LookAlong(X, Y, Z, YawDeg, PitchDeg);
}

/// <summary>
/// A generated town (maps/town.scene): a grid of blocks separated by streets, some blocks left open
/// as squares, the others lined with buildings whose facades draw from a limited set of styles
/// (one texture per style, shared: memory stays bounded and places look alike, as in an old town),
/// a tiled paved ground, street lamps along the streets, a day trajectory along the street centre
/// lines (several headings per position, like Aachen's database) and night and day queries taken
/// off it (other positions, heights and headings). Everything follows from the file's parameters
/// and its seed: the same file gives the same scene, photos and queries, byte for byte.
/// The trajectory is ordered by distance from the town's centre, so the first N photos cover a
/// compact neighbourhood that grows with N; queries are taken near those N.
/// </summary>
public sealed record TownScene(string Path, int Seed, int BlocksX, int BlocksZ, double BlockX, double BlockZ, double Street, int Squares,
    int Styles, double StyleWidthMin, double StyleWidthMax, double StyleHeightMin, double StyleHeightMax,
    double LampSpacing, double LampHeight, double LampIntensity, double LampSigma,
    double Step, int Headings, double CameraHeight, double PitchDeg, int NightQueries, int DayQueries,
    int Width, int Height, double Focal, double TexelsPerMetre, int Supersampling, int DayJpegQuality, double[] SunDirection,
    NightSettings Night, double GroundTile, double GridCell)
{
    public string Name => System.IO.Path.GetFileNameWithoutExtension(Path);

    /// <summary>Width (x) and depth (z) of the town, perimeter streets included.</summary>
    public double SizeX => BlocksX * (BlockX + Street) + Street;
    public double SizeZ => BlocksZ * (BlockZ + Street) + Street;

    /// <summary>The scene at another image size (same field of view): <c>--scale</c>.</summary>
    public TownScene Scaled(double factor)
    {
        if (factor == 1) return this;
        if (!(factor > 0 && factor <= 4)) throw new UsageException($"--scale {factor}: expected a factor in (0, 4]");
        int w = (int)Math.Round(Width * factor), h = (int)Math.Round(Height * factor);
        // The scene file's own bound (1×0 px photos failed deep in the renderer, after town.txt was written).
        if (w < 16 || h < 16) throw new UsageException($"--scale {factor}: the town's photos would be {w}×{h} px; at least 16 px a side");
        return this with { Width = w, Height = h, Focal = Focal * w / Width };
    }

    /// <summary>The camera of every photo: SIMPLE_RADIAL with k = 0 (Aachen's model; the renderer is
    /// a pinhole), principal point at the image centre in the project's convention.</summary>
    public Camera Camera(int id = 1) => new(id, CameraModel.SimpleRadial, Width, Height, new[] { Focal, (Width - 1) / 2.0, (Height - 1) / 2.0, 0.0 });

    /// <summary>Whether a scene file describes a town (its first keyword is <c>town</c>) rather than a list of facades.</summary>
    public static bool IsTownFile(string path)
    {
        if (!File.Exists(path)) return false;
        // A town file whose first line is broken ('Town 15', blocks before town) is still a town's,
        // told by its keywords, so that its own parser names the line (the square's listed its keywords).
        return SceneFileLines.Read(path).Any(l => TownOnlyKeywords.Contains(l.Fields[0], StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>Reads a town file. Lines (# starts a comment), each keyword once at most:
    /// <c>town SEED</c> (first), <c>blocks NX NZ</c>, <c>block SIZE_X SIZE_Z</c>, <c>street WIDTH</c>,
    /// <c>squares N</c>, <c>styles N</c>, <c>style-width MIN MAX</c>, <c>style-height MIN MAX</c>,
    /// <c>lamps SPACING HEIGHT INTENSITY SIGMA</c>, <c>trajectory STEP HEADINGS HEIGHT PITCH</c>,
    /// <c>queries NIGHT DAY</c>, <c>image W H FOCAL</c>, <c>texels-per-metre N</c>, <c>supersampling S</c>,
    /// <c>day-jpeg Q</c>, <c>sun X Y Z</c>, <c>ground-tile METRES</c>, <c>grid-cell METRES</c>,
    /// <c>night key=value...</c> (as in the square's scene files). Errors name the file and line.</summary>
    public static TownScene Load(string path)
    {
        if (!File.Exists(path)) throw new FileFormatException(path, 0, "scene file not found");
        var s = new TownScene(path, 0, 6, 6, 40, 30, 10, 3, 10, 8, 14, 9, 17, 14, 4.5, 1.0, 3.0, 3, 4, 1.6, 8, 30, 10,
            512, 384, 400, 48, 2, 92, new[] { 0.45, 0.75, -0.5 }, new NightSettings(), 24, 6);
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        bool first = true;
        foreach (var (ln, f) in SceneFileLines.Read(path))
        {
            if (first && f[0] != "town") throw new FileFormatException(path, ln, $"a town file starts with 'town SEED', found '{f[0]}'");
            first = false;
            if (!seen.TryAdd(f[0], ln)) throw new FileFormatException(path, ln, $"'{f[0]}' appears again (first on line {seen[f[0]]})");
            void Count(int n, string form)
            {
                if (f.Length != n) throw new FileFormatException(path, ln, $"expected '{form}', found {Counted.Of(f.Length, "field")}");
            }
            double D(int i, string what) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v) && v > 0
                ? v : throw new FileFormatException(path, ln, $"{what} '{f[i]}' is not a positive number");
            double D0(int i, string what) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
                ? v : throw new FileFormatException(path, ln, $"{what} '{f[i]}' is not a number");
            int I(int i, string what, int min = 1) => int.TryParse(f[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
                ? v : throw new FileFormatException(path, ln, $"{what} '{f[i]}' is not a whole number ≥ {min}");
            (double, double) Range(string what)
            {
                double lo = D(1, what + " minimum"), hi = D(2, what + " maximum");
                return lo <= hi ? (lo, hi) : throw new FileFormatException(path, ln, $"{what}: minimum {lo} above maximum {hi}");
            }
            switch (f[0])
            {
                case "town": Count(2, "town SEED"); s = s with { Seed = I(1, "seed", 0) }; break;
                case "blocks": Count(3, "blocks NX NZ"); s = s with { BlocksX = I(1, "blocks along x"), BlocksZ = I(2, "blocks along z") }; break;
                case "block": Count(3, "block SIZE_X SIZE_Z"); s = s with { BlockX = D(1, "block size x"), BlockZ = D(2, "block size z") }; break;
                case "street":
                    Count(2, "street WIDTH");
                    s = s with { Street = D(1, "street width") };
                    if (s.Street < 6) throw new FileFormatException(path, ln, $"street width {s.Street} m: at least 6 m (the cameras keep 2 m from the facades)");
                    break;
                case "squares": Count(2, "squares N"); s = s with { Squares = I(1, "squares", 0) }; break;
                case "styles": Count(2, "styles N"); s = s with { Styles = I(1, "styles") }; break;
                case "style-width": { Count(3, "style-width MIN MAX"); var (a, b) = Range("style width"); s = s with { StyleWidthMin = a, StyleWidthMax = b }; break; }
                case "style-height": { Count(3, "style-height MIN MAX"); var (a, b) = Range("style height"); s = s with { StyleHeightMin = a, StyleHeightMax = b }; break; }
                case "lamps":
                    Count(5, "lamps SPACING HEIGHT INTENSITY SIGMA");
                    s = s with { LampSpacing = D(1, "lamp spacing"), LampHeight = D(2, "lamp height"), LampIntensity = D(3, "lamp intensity"), LampSigma = D(4, "lamp sigma") };
                    break;
                case "trajectory":
                    Count(5, "trajectory STEP HEADINGS HEIGHT PITCH");
                    s = s with { Step = D(1, "step"), Headings = I(2, "headings"), CameraHeight = D(3, "camera height"), PitchDeg = D0(4, "pitch") };
                    if (Math.Abs(s.PitchDeg) >= 60) throw new FileFormatException(path, ln, $"pitch {s.PitchDeg}° is too steep (|pitch| < 60°)");
                    if (s.Headings > 360) throw new FileFormatException(path, ln, $"{s.Headings} headings: at most 360");
                    break;
                case "queries": Count(3, "queries NIGHT DAY"); s = s with { NightQueries = I(1, "night queries", 0), DayQueries = I(2, "day queries", 0) }; break;
                case "image":
                    Count(4, "image WIDTH HEIGHT FOCAL");
                    s = s with { Width = I(1, "width", 16), Height = I(2, "height", 16), Focal = D(3, "focal") };
                    if (s.Width > 8192 || s.Height > 8192) throw new FileFormatException(path, ln, $"image {s.Width}×{s.Height}: at most 8192 px a side");
                    break;
                case "texels-per-metre": Count(2, "texels-per-metre N"); s = s with { TexelsPerMetre = D(1, "texels per metre") }; break;
                case "supersampling":
                    Count(2, "supersampling S");
                    s = s with { Supersampling = I(1, "supersampling") };
                    if (s.Supersampling > MaxSupersampling) throw new FileFormatException(path, ln, $"supersampling {s.Supersampling}: at most {MaxSupersampling} (S × S samples a pixel)");
                    break;
                case "day-jpeg":
                    Count(2, "day-jpeg QUALITY");
                    s = s with { DayJpegQuality = I(1, "quality") };
                    if (s.DayJpegQuality > 100) throw new FileFormatException(path, ln, $"quality {s.DayJpegQuality}: at most 100");
                    break;
                case "ground-tile": Count(2, "ground-tile METRES"); s = s with { GroundTile = D(1, "ground tile") }; break;
                case "grid-cell": Count(2, "grid-cell METRES"); s = s with { GridCell = D(1, "grid cell") }; break;
                case "sun":
                {
                    Count(4, "sun X Y Z");
                    var sun = new[] { D0(1, "x"), D0(2, "y"), D0(3, "z") };
                    double n = Math.Sqrt(sun.Sum(v => v * v));
                    if (!(n > 0)) throw new FileFormatException(path, ln, "the sun direction is zero");
                    s = s with { SunDirection = sun.Select(v => v / n).ToArray() };
                    break;
                }
                case "night": s = s with { Night = DemoScene.ParseNight(f.Skip(1), s.Night, path, ln) }; break;
                default:
                    throw new FileFormatException(path, ln, $"unknown keyword '{f[0]}' (town, blocks, block, street, squares, styles, style-width, style-height, lamps, "
                        + "trajectory, queries, image, texels-per-metre, supersampling, day-jpeg, sun, ground-tile, grid-cell, night)");
            }
        }
        if (first) throw new FileFormatException(path, 0, "empty: a town file starts with 'town SEED'");
        if (s.Squares >= s.BlocksX * s.BlocksZ)
            throw new FileFormatException(path, seen.GetValueOrDefault("squares"), $"{s.Squares} squares{(seen.ContainsKey("squares") ? "" : " (the default: no 'squares N' line)")} "
                + $"leave no block for buildings ({s.BlocksX}×{s.BlocksZ} blocks)");
        if (s.StyleWidthMin < 3) throw new FileFormatException(path, seen.GetValueOrDefault("style-width"), "buildings are at least 3 m wide");
        // Sizes that would take more memory than a machine has are said, not tried (100,000 × 100,000
        // blocks grew by 180 MB/s without a word). Aachen's size needs 8 × 8 blocks.
        if ((long)s.BlocksX * s.BlocksZ > MaxBlocks)
            throw new FileFormatException(path, seen.GetValueOrDefault("blocks"), $"{s.BlocksX}×{s.BlocksZ} blocks: at most {MaxBlocks:N0} in all");
        double buildings = (double)s.BlocksX * s.BlocksZ * 2 * (s.BlockX + s.BlockZ) / s.StyleWidthMin;
        if (buildings > MaxBuildings)
            throw new FileFormatException(path, seen.GetValueOrDefault("block"), $"blocks of {s.BlockX} × {s.BlockZ} m would hold up to {(buildings < 1e12 ? buildings.ToString("N0") : buildings.ToString("G3"))} buildings: at most {MaxBuildings:N0} (smaller or fewer blocks)");
        double cells = Math.Ceiling(s.SizeX / s.GridCell) * Math.Ceiling(s.SizeZ / s.GridCell);
        if (cells > MaxGridCells)
            throw new FileFormatException(path, seen.GetValueOrDefault("grid-cell"), $"a grid cell of {s.GridCell} m over the town's {s.SizeX:F0} × {s.SizeZ:F0} m makes {cells:G3} cells: at most {MaxGridCells:N0} (a larger cell)");
        double texels = s.Styles * s.StyleWidthMax * s.StyleHeightMax * s.TexelsPerMetre * s.TexelsPerMetre;
        if (texels > MaxTexels)
            throw new FileFormatException(path, seen.GetValueOrDefault("texels-per-metre"), $"{s.Styles} styles of up to {s.StyleWidthMax} × {s.StyleHeightMax} m at {s.TexelsPerMetre} texels a metre "
                + $"make {texels:G3} texels: at most {MaxTexels:N0} (fewer texels a metre, smaller or fewer styles)");
        double lamps = ((s.BlocksX + 1.0) * s.SizeZ + (s.BlocksZ + 1.0) * s.SizeX) / s.LampSpacing;
        if (lamps > MaxLamps)
            throw new FileFormatException(path, seen.GetValueOrDefault("lamps"), $"a lamp every {s.LampSpacing} m along the streets makes ~{lamps:G3} lamps: at most {MaxLamps:N0} (a larger spacing)");
        double positions = (s.BlocksX + 1.0) * (s.SizeZ / s.Step + 1) + (s.BlocksZ + 1.0) * (s.SizeX / s.Step + 1);
        if (positions > MaxPositions)
            throw new FileFormatException(path, seen.GetValueOrDefault("trajectory"), $"a position every {s.Step} m would give ~{positions:N0} positions: at most {MaxPositions:N0} (a longer step, or fewer blocks)");
        return s;
    }

    public const int MaxBlocks = 10_000;
    /// <summary>Keywords of town files that the square's scene files do not have.</summary>
    private static readonly string[] TownOnlyKeywords = { "town", "blocks", "block", "street", "squares", "styles", "style-width", "style-height", "lamps", "trajectory",
        "queries", "ground-tile", "grid-cell" };
    /// <summary>Bounds on what rendering allocates or walks (each grew memory by tens of MB/s or stalled
    /// without a word): grid cells, texture texels of all styles, lamps, and samples per pixel.</summary>
    public const long MaxGridCells = 4_000_000, MaxTexels = 200_000_000, MaxLamps = 100_000;
    public const int MaxSupersampling = 8;
    public const int MaxBuildings = 1_000_000;
    public const int MaxPositions = 1_000_000;

    /// <summary>The trajectory's capacity: positions × headings.</summary>
    public int MaxImages => TrajectoryPositions().Count * Headings;

    /// <summary>Camera positions along the street centre lines, every <see cref="Step"/> metres (each
    /// intersection once), ordered by distance from the town's centre (ties by coordinates), each
    /// with the direction of its street (degrees, 0 = +z, 90 = +x).</summary>
    public List<(double X, double Z, double StreetYaw)> TrajectoryPositions()
    {
        var all = new List<(double X, double Z, double Yaw)>();
        var taken = new HashSet<(long, long)>();
        void Add(double x, double z, double yaw)
        {
            if (taken.Add(((long)Math.Round(x * 1000), (long)Math.Round(z * 1000)))) all.Add((x, z, yaw));
        }
        for (int i = 0; i <= BlocksX; i++)
        {
            double x = StreetCentreX(i);
            int n = (int)Math.Floor((SizeZ - Street) / Step);
            for (int k = 0; k <= n; k++) Add(x, Street / 2 + k * Step, 0);
        }
        for (int j = 0; j <= BlocksZ; j++)
        {
            double z = StreetCentreZ(j);
            int n = (int)Math.Floor((SizeX - Street) / Step);
            for (int k = 0; k <= n; k++) Add(Street / 2 + k * Step, z, 90);
        }
        double cx = SizeX / 2, cz = SizeZ / 2;
        return all.OrderBy(p => (p.X - cx) * (p.X - cx) + (p.Z - cz) * (p.Z - cz)).ThenBy(p => p.X).ThenBy(p => p.Z).ToList();
    }

    private double StreetCentreX(int i) => Street / 2 + i * (BlockX + Street);
    private double StreetCentreZ(int j) => Street / 2 + j * (BlockZ + Street);

    /// <summary>The first <paramref name="count"/> day photos: at each position, <see cref="Headings"/>
    /// headings evenly spread from the street's direction (jittered), the camera 0–1.5 m off the centre line.</summary>
    public List<TownShot> DayShots(int count)
    {
        if (count < 2) throw new UsageException($"--images {count}: a map needs 2 or more");
        int max = MaxImages;
        if (count > max)
            throw new UsageException($"--images {count}: the streets of {Path} hold at most {max} photos "
                + $"({max / Headings} positions × {Headings} headings); give more blocks or a shorter trajectory step");
        var positions = TrajectoryPositions();
        var shots = new List<TownShot>(count);
        for (int p = 0; shots.Count < count; p++)
        {
            var (x, z, yaw) = positions[p];
            var rng = new Rng(Rng.Hash((ulong)Seed, 101, (ulong)p));
            double off = rng.Uniform(-1.5, 1.5);
            // Off the centre line, across the street (perpendicular to its direction).
            double px = x + (yaw == 0 ? off : 0), pz = z + (yaw == 0 ? 0 : off);
            double start = yaw + rng.Uniform(-10, 10);
            for (int h = 0; h < Headings && shots.Count < count; h++)
            {
                double y = start + 360.0 * h / Headings + rng.Uniform(-5, 5);
                shots.Add(new TownShot($"db/{shots.Count + 1:D5}.jpg", px, CameraHeight + rng.Uniform(-0.1, 0.1), pz, Wrap(y), PitchDeg + rng.Uniform(-3, 3)));
            }
        }
        return shots;
    }

    /// <summary>Queries taken near the first photos: each from a photo drawn at random, moved by 0.5–2.5 m
    /// (staying 2 m off the facades), at 1.2–2.2 m, turned by up to ±25° and pitched −5° to 15°.</summary>
    /// <summary>The most queries of a kind a town takes (Aachen v1.1 has 191 night queries; far more
    /// only ran out of memory).</summary>
    public const int MaxQueries = 100_000;

    public List<TownShot> QueryShots(IReadOnlyList<TownShot> day, int count, bool night)
    {
        if (count < 0 || count > MaxQueries) throw new UsageException($"--queries {count}: from 0 to {MaxQueries} {(night ? "night" : "day")} queries");
        var shots = new List<TownShot>(count);
        string kind = night ? "night" : "day";
        var rng = new Rng(Rng.Hash((ulong)Seed, night ? 202UL : 303UL, (ulong)day.Count));
        double half = Street / 2 - 2;
        for (int q = 0; q < count; q++)
        {
            var d = day[rng.Next(day.Count)];
            double angle = rng.Uniform(0, 2 * Math.PI), dist = rng.Uniform(0.5, 2.5);
            double x = d.X + dist * Math.Cos(angle), z = d.Z + dist * Math.Sin(angle);
            (x, z) = IntoStreet(x, z, half);
            shots.Add(new TownShot($"query/{kind}/{kind}_{q + 1:D4}.jpg", x, rng.Uniform(1.2, 2.2), z,
                Wrap(d.YawDeg + rng.Uniform(-25, 25)), rng.Uniform(-5, 15)));
        }
        return shots;
    }

    /// <summary>The nearest point at most <paramref name="half"/> metres from a street centre line.</summary>
    private (double X, double Z) IntoStreet(double x, double z, double half)
    {
        double Nearest(double v, double block, int n)
        {
            int i = Math.Clamp((int)Math.Round((v - Street / 2) / (block + Street)), 0, n);
            return Street / 2 + i * (block + Street);
        }
        double sx = Nearest(x, BlockX, BlocksX), sz = Nearest(z, BlockZ, BlocksZ);
        if (Math.Abs(x - sx) <= half || Math.Abs(z - sz) <= half) return (Math.Clamp(x, Street / 2 - half, SizeX - Street / 2 + half), Math.Clamp(z, Street / 2 - half, SizeZ - Street / 2 + half));
        // Inside a block: onto the nearer street.
        return Math.Abs(x - sx) - half < Math.Abs(z - sz) - half ? (sx + Math.Sign(x - sx) * half, z) : (x, sz + Math.Sign(z - sz) * half);
    }

    private static double Wrap(double deg) => ((deg % 360) + 360) % 360;

    /// <summary>Which blocks are squares: <see cref="Squares"/> of them, drawn from the seed (never the same twice).</summary>
    public HashSet<(int, int)> SquareBlocks()
    {
        var rng = new Rng(Rng.Hash((ulong)Seed, 7));
        var set = new HashSet<(int, int)>();
        while (set.Count < Squares) set.Add((rng.Next(BlocksX), rng.Next(BlocksZ)));
        return set;
    }

    /// <summary>The renderable scene: the buildings' facades along every block side (styles drawn
    /// from the seed, each facade a slice of its style's texture), the tiled ground and the lamps.</summary>
    public DemoScene Build(IReadOnlyList<TownShot> day)
    {
        var styleRng = new Rng(Rng.Hash((ulong)Seed, 1));
        var styles = new List<Facade>();
        for (int k = 0; k < Styles; k++)
        {
            // A style is a facade prototype: its seed draws the wall, windows and shops; the texture is
            // 3 m wider than the style's nominal width so a building can take a slice of it.
            double w = styleRng.Uniform(StyleWidthMin, StyleWidthMax), h = styleRng.Uniform(StyleHeightMin, StyleHeightMax);
            styles.Add(new Facade(1000 + Seed * 97 + k, 0, 0, w + 3, 0, Math.Round(h * 2) / 2));
        }
        var facades = new List<Facade>();
        var squares = SquareBlocks();
        var rng = new Rng(Rng.Hash((ulong)Seed, 2));
        for (int j = 0; j < BlocksZ; j++)
            for (int i = 0; i < BlocksX; i++)
            {
                if (squares.Contains((i, j))) continue;
                double x0 = StreetCentreX(i) + Street / 2, z0 = StreetCentreZ(j) + Street / 2, x1 = x0 + BlockX, z1 = z0 + BlockZ;
                // Each side walked so that the texture runs left to right seen from the street
                // (counter-clockwise seen from above, y up: south side towards −x, …).
                Side(facades, styles, rng, x1, z0, x0, z0);
                Side(facades, styles, rng, x0, z0, x0, z1);
                Side(facades, styles, rng, x0, z1, x1, z1);
                Side(facades, styles, rng, x1, z1, x1, z0);
            }
        var lamps = new List<Lamp>();
        double inset = Street / 2 - 1;
        for (int i = 0; i <= BlocksX; i++)
            for (int k = 0; k * LampSpacing <= SizeZ - Street; k++)
                lamps.Add(new Lamp(StreetCentreX(i) + (k % 2 == 0 ? -inset : inset), LampHeight, Street / 2 + k * LampSpacing + LampSpacing / 4, LampIntensity, LampSigma));
        for (int j = 0; j <= BlocksZ; j++)
            for (int k = 0; k * LampSpacing <= SizeX - Street; k++)
                lamps.Add(new Lamp(Street / 2 + k * LampSpacing + 3 * LampSpacing / 4, LampHeight, StreetCentreZ(j) + (k % 2 == 0 ? inset : -inset), LampIntensity, LampSigma));
        var cams = day.Select(d => new SceneCamera(d.Name, d.X, d.Y, d.Z, d.YawDeg, d.PitchDeg)).ToList();
        return new DemoScene(Name, Width, Height, Focal, TexelsPerMetre, Supersampling, DayJpegQuality, SunDirection,
            new Ground(Seed * 31 + 5, 0, 0, SizeX, SizeZ) { Tile = GroundTile }, facades, lamps, Night, cams)
        { Styles = styles, GridCell = GridCell };
    }

    /// <summary>Buildings along one block side from (ax, az) to (bx, bz): style widths, the last one
    /// taking what is left (3 m at least, else merged into the one before).</summary>
    private void Side(List<Facade> facades, List<Facade> styles, Rng rng, double ax, double az, double bx, double bz)
    {
        double length = Math.Sqrt((bx - ax) * (bx - ax) + (bz - az) * (bz - az)), ux = (bx - ax) / length, uz = (bz - az) / length;
        double at = 0;
        while (length - at > 1e-9)
        {
            int style = rng.Next(styles.Count);
            var st = styles[style];
            double nominal = st.Width - 3, left = length - at;
            double w = left <= nominal + 3 ? left : nominal;
            double offset = rng.Uniform(0, Math.Max(0, st.Width - w));
            facades.Add(new Facade(st.Seed, ax + at * ux, az + at * uz, ax + (at + w) * ux, az + (at + w) * uz, st.Height) { Style = style, TextureOffset = offset });
            at += w;
        }
    }

    /// <summary>The photos' camera as an image gets it (the list's and the models' camera).</summary>
    public PosedImage Posed(TownShot s) => new(s.Name, Camera(), s.Pose);
}
