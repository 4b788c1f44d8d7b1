using System.Globalization;
using R2D2.Localization.Formats;
using R2D2.Localization.Geometry;

namespace R2D2.Localization.Synthesis;

/// <summary>A vertical textured rectangle: from (X0, 0, Z0) to (X1, 0, Z1) on the ground, <see cref="Height"/> metres tall.</summary>
public sealed record Facade(int Seed, double X0, double Z0, double X1, double Z1, double Height)
{
    /// <summary>The scene's style (index into <see cref="DemoScene.Styles"/>) whose shared texture it shows; null: its own texture from <see cref="Seed"/>.</summary>
    public int? Style { get; init; }
    /// <summary>Where along its style's texture the facade starts (metres): buildings of one style show different slices of it.</summary>
    public double TextureOffset { get; init; }

    public double Width => Math.Sqrt((X1 - X0) * (X1 - X0) + (Z1 - Z0) * (Z1 - Z0));
}

/// <summary>The textured ground rectangle [X0, X1] × [Z0, Z1] at y = 0.</summary>
public sealed record Ground(int Seed, double X0, double Z0, double X1, double Z1)
{
    /// <summary>When positive, the texture is one square tile of this size (metres) repeated: a town's ground is too large for one texture.</summary>
    public double Tile { get; init; }
}

/// <summary>A street lamp: a gaussian pool of light of the given peak and width (metres) around its position.</summary>
public sealed record Lamp(double X, double Y, double Z, double Intensity, double Sigma);

/// <summary>How night images are made from the rendered scene, in linear light (see <see cref="SceneRenderer"/>).</summary>
public sealed record NightSettings
{
    public double Ambient { get; init; } = 0.02;
    public double[] Tint { get; init; } = { 1, 0.55, 0.22 };
    /// <summary>Auto-exposure: the image is scaled to this mean linear value.</summary>
    public double Exposure { get; init; } = 0.03;
    /// <summary>Electrons at full scale (photon noise) and the read noise (electrons).</summary>
    public double FullWell { get; init; } = 150;
    public double ReadNoise { get; init; } = 3;
    /// <summary>Box blur size in pixels (1: none).</summary>
    public int Blur { get; init; } = 3;
    public int JpegQuality { get; init; } = 85;
}

/// <summary>A named camera of the scene: position and viewing direction (yaw about +y, 0 = looking along +z,
/// 90° = along +x; pitch up positive), in degrees.</summary>
public sealed record SceneCamera(string Name, double X, double Y, double Z, double YawDeg, double PitchDeg)
{
    public Pose Pose => DemoScene.LookAlong(X, Y, Z, YawDeg, PitchDeg);
}

/// <summary>
/// The demo scene: facades around a square, a paved ground, street lamps, and the posed daytime
/// cameras that photograph it for the map. World coordinates in metres, y up, the ground at y = 0.
/// Read from a small text file (maps/demo-square.scene); every problem names the file and line.
/// The night queries are not part of it: their list and true poses are ordinary query files
/// (queries/), rendered with <see cref="SceneRenderer"/> from those poses.
/// </summary>
public sealed record DemoScene(string Name, int Width, int Height, double Focal, double TexelsPerMetre, int Supersampling,
    int DayJpegQuality, double[] SunDirection, Ground? Ground, IReadOnlyList<Facade> Facades, IReadOnlyList<Lamp> Lamps,
    NightSettings Night, IReadOnlyList<SceneCamera> DayCameras)
{
    /// <summary>Facade prototypes whose textures facades share (<see cref="Facade.Style"/>); null: every facade has its own.</summary>
    public IReadOnlyList<Facade>? Styles { get; init; }
    /// <summary>Cell size (metres) of the renderer's grid over the ground plane; 0: a sixteenth of the scene's extent.</summary>
    public double GridCell { get; init; }

    /// <summary>The PINHOLE camera of every image, principal point at the image centre (project convention).</summary>
    public Camera Camera(int id = 1) => new(id, CameraModel.Pinhole, Width, Height, new[] { Focal, Focal, (Width - 1) / 2.0, (Height - 1) / 2.0 }, true);

    public List<PosedImage> DayImages() => DayCameras.Select(c => new PosedImage(c.Name, Camera(), c.Pose)).ToList();

    /// <summary>The world→camera pose of a camera at (x, y, z) looking along yaw/pitch (degrees), upright
    /// (its x axis horizontal): rows of R are the camera's right, down and forward axes in world coordinates.</summary>
    public static Pose LookAlong(double x, double y, double z, double yawDeg, double pitchDeg)
    {
        double yaw = yawDeg * Math.PI / 180, pitch = pitchDeg * Math.PI / 180;
        double[] f = { Math.Cos(pitch) * Math.Sin(yaw), Math.Sin(pitch), Math.Cos(pitch) * Math.Cos(yaw) };
        // right = f × up (up = +y), normalized; down = f × right.
        double[] r = { -f[2], 0, f[0] };
        double n = Math.Sqrt(r[0] * r[0] + r[2] * r[2]);
        r[0] /= n; r[2] /= n;
        double[] d = { f[1] * r[2] - f[2] * r[1], f[2] * r[0] - f[0] * r[2], f[0] * r[1] - f[1] * r[0] };
        return Pose.FromCameraCenter(new[] { r[0], r[1], r[2], d[0], d[1], d[2], f[0], f[1], f[2] }, new[] { x, y, z });
    }

    /// <summary>Reads a scene file. Lines (# starts a comment):
    /// <c>image W H FOCAL</c>, <c>texels-per-metre N</c>, <c>supersampling S</c>, <c>day-jpeg Q</c>,
    /// <c>sun X Y Z</c> (towards the sun), <c>ground SEED X0 Z0 X1 Z1</c>, <c>facade SEED X0 Z0 X1 Z1 HEIGHT</c>,
    /// <c>lamp X Y Z INTENSITY SIGMA</c>, <c>night key=value...</c> (ambient, tint=R,G,B, exposure,
    /// full-well, read-noise, blur, jpeg), <c>day NAME X Y Z YAW PITCH</c>.</summary>
    public static DemoScene Load(string path)
    {
        if (!File.Exists(path)) throw new FileFormatException(path, 0, "scene file not found");
        int width = 0, height = 0, ss = 3, dayJpeg = 92;
        double focal = 0, texels = 64;
        double[] sun = { 0.5, 0.8, 0.3 };
        Ground? ground = null;
        var facades = new List<Facade>();
        var lamps = new List<Lamp>();
        var night = new NightSettings();
        var cams = new List<SceneCamera>();
        var names = new Dictionary<string, int>(StringComparer.Ordinal);
        var surfaces = new List<(int Line, double Width, double Height)>(); // textured: facades and the ground
        int texelsLine = 0;
        foreach (var (ln, f) in SceneFileLines.Read(path))
        {
            void Count(int n, string form)
            {
                if (f.Length != n) throw new FileFormatException(path, ln, $"expected '{form}', found {Counted.Of(f.Length, "field")}");
            }
            double D(int i, string what) => double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
                ? v : throw new FileFormatException(path, ln, $"{what} '{f[i]}' is not a number");
            int I(int i, string what) => int.TryParse(f[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
                ? v : throw new FileFormatException(path, ln, $"{what} '{f[i]}' is not a whole number");
            double Positive(double v, string what) => v > 0 ? v : throw new FileFormatException(path, ln, $"{what} must be positive (got {v})");
            switch (f[0])
            {
                case "image":
                    Count(4, "image WIDTH HEIGHT FOCAL");
                    width = (int)Positive(I(1, "width"), "width"); height = (int)Positive(I(2, "height"), "height"); focal = Positive(D(3, "focal"), "focal");
                    if (width > 8192 || height > 8192) throw new FileFormatException(path, ln, $"image {width}×{height}: at most 8192 pixels a side");
                    break;
                case "texels-per-metre": Count(2, "texels-per-metre N"); texels = Positive(D(1, "texels per metre"), "texels per metre"); texelsLine = ln; break;
                case "supersampling": Count(2, "supersampling S"); ss = (int)Positive(I(1, "supersampling"), "supersampling");
                    if (ss > 8) throw new FileFormatException(path, ln, $"supersampling {ss}: at most 8 (64 samples a pixel)");
                    break;
                case "day-jpeg": Count(2, "day-jpeg QUALITY"); dayJpeg = I(1, "quality");
                    if (dayJpeg is < 1 or > 100) throw new FileFormatException(path, ln, $"day-jpeg {dayJpeg}: a JPEG quality in [1, 100]");
                    break;
                case "sun":
                    Count(4, "sun X Y Z");
                    sun = new[] { D(1, "x"), D(2, "y"), D(3, "z") };
                    double n = Math.Sqrt(sun.Sum(v => v * v));
                    if (!(n > 0)) throw new FileFormatException(path, ln, "the sun direction is zero");
                    sun = sun.Select(v => v / n).ToArray();
                    break;
                case "ground":
                    Count(6, "ground SEED X0 Z0 X1 Z1");
                    ground = new Ground(I(1, "seed"), Math.Min(D(2, "x0"), D(4, "x1")), Math.Min(D(3, "z0"), D(5, "z1")), Math.Max(D(2, "x0"), D(4, "x1")), Math.Max(D(3, "z0"), D(5, "z1")));
                    if (ground.X1 - ground.X0 <= 0 || ground.Z1 - ground.Z0 <= 0) throw new FileFormatException(path, ln, "the ground rectangle is empty");
                    surfaces.Add((ln, ground.X1 - ground.X0, ground.Z1 - ground.Z0));
                    break;
                case "facade":
                {
                    Count(7, "facade SEED X0 Z0 X1 Z1 HEIGHT");
                    var fa = new Facade(I(1, "seed"), D(2, "x0"), D(3, "z0"), D(4, "x1"), D(5, "z1"), Positive(D(6, "height"), "height"));
                    if (fa.Width < 0.5) throw new FileFormatException(path, ln, $"the facade is {fa.Width:F2} m wide (at least 0.5 m)");
                    facades.Add(fa);
                    surfaces.Add((ln, fa.Width, fa.Height));
                    break;
                }
                case "lamp":
                    Count(6, "lamp X Y Z INTENSITY SIGMA");
                    lamps.Add(new Lamp(D(1, "x"), D(2, "y"), D(3, "z"), Positive(D(4, "intensity"), "intensity"), Positive(D(5, "sigma"), "sigma")));
                    break;
                case "night":
                    night = ParseNight(f.Skip(1), night, path, ln);
                    break;
                case "day":
                {
                    Count(7, "day NAME X Y Z YAW PITCH");
                    if (!names.TryAdd(f[1], ln)) throw new FileFormatException(path, ln, $"camera '{f[1]}' appears again (first on line {names[f[1]]})");
                    double pitch = D(6, "pitch");
                    if (Math.Abs(pitch) >= 89) throw new FileFormatException(path, ln, $"pitch {pitch}° is too steep (|pitch| < 89°)");
                    cams.Add(new SceneCamera(f[1], D(2, "x"), D(3, "y"), D(4, "z"), D(5, "yaw"), pitch));
                    break;
                }
                default:
                    throw new FileFormatException(path, ln, $"unknown keyword '{f[0]}' (image, texels-per-metre, supersampling, day-jpeg, sun, ground, facade, lamp, night, day)");
            }
        }
        // Each surface's texture is one array: a huge one overflowed (texels-per-metre 1e9, a ground of 1e7 m).
        double all = 0;
        foreach (var (ln, w, h) in surfaces)
        {
            double t = Math.Ceiling(w * texels) * Math.Ceiling(h * texels);
            all += t;
            if (t > MaxTextureTexels || all > TownScene.MaxTexels)
                throw new FileFormatException(path, ln, $"{w:G4} × {h:G4} m at {texels:G4} texels a metre makes {(t > MaxTextureTexels ? t : all):G3} texels{(t > MaxTextureTexels ? "" : " with the surfaces before it")}: "
                    + $"at most {(t > MaxTextureTexels ? MaxTextureTexels : TownScene.MaxTexels):N0} (fewer texels a metre{(texelsLine > 0 ? $", line {texelsLine}" : "")}, or a smaller surface)");
        }
        if (width == 0) throw new FileFormatException(path, 0, "no 'image WIDTH HEIGHT FOCAL' line");
        if (facades.Count == 0) throw new FileFormatException(path, 0, "no facade");
        if (cams.Count < 2) throw new FileFormatException(path, 0, $"{Counted.Of(cams.Count, "day camera")}; the map needs 2 or more");
        return new DemoScene(Path.GetFileNameWithoutExtension(path), width, height, focal, texels, ss, dayJpeg, sun, ground, facades, lamps, night, cams);
    }

    /// <summary>Texels of one surface's texture (float RGB: 12 bytes each, 800 MB at the limit).</summary>
    public const long MaxTextureTexels = 64_000_000;

    internal static NightSettings ParseNight(IEnumerable<string> pairs, NightSettings s, string path, int ln)
    {
        var given = new HashSet<string>(StringComparer.Ordinal);
        foreach (var p in pairs)
        {
            int eq = p.IndexOf('=');
            if (eq <= 0) throw new FileFormatException(path, ln, $"night: expected key=value, found '{p}'");
            string key = p[..eq], value = p[(eq + 1)..];
            // As a keyword twice is refused: which of the two was meant is not for the parser to guess.
            if (!given.Add(key)) throw new FileFormatException(path, ln, $"night: '{key}' is given twice");
            double Num(string v) => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) && d >= 0
                ? d : throw new FileFormatException(path, ln, $"night: {key} '{v}' is not a non-negative number");
            s = key switch
            {
                "ambient" => s with { Ambient = Num(value) },
                "tint" => s with
                {
                    Tint = value.Split(',') is { Length: 3 } t ? t.Select(Num).ToArray()
                        : throw new FileFormatException(path, ln, $"night: tint needs R,G,B, found '{value}'"),
                },
                "exposure" => s with { Exposure = Num(value) > 0 ? Num(value) : throw new FileFormatException(path, ln, "night: exposure must be positive") },
                "full-well" => s with { FullWell = Num(value) > 0 ? Num(value) : throw new FileFormatException(path, ln, "night: full-well must be positive") },
                "read-noise" => s with { ReadNoise = Num(value) },
                "blur" => s with { Blur = Math.Max(1, (int)Num(value)) },
                "jpeg" => s with { JpegQuality = Num(value) is var q && q >= 1 && q <= 100 && q == Math.Floor(q) ? (int)q
                    : throw new FileFormatException(path, ln, $"night: jpeg quality '{value}' is not a whole number in [1, 100]") },
                _ => throw new FileFormatException(path, ln, $"night: unknown key '{key}' (ambient, tint, exposure, full-well, read-noise, blur, jpeg)"),
            };
        }
        return s;
    }
}
