namespace R2D2.Localization.Synthesis;

/// <summary>A facade cameras may look at, with the side it is seen from (unit normal in x/z).</summary>
public sealed record SceneTarget(Facade Facade, double NormalX, double NormalZ);

/// <summary>A scene with what camera placement needs: facades to look at, the region cameras may
/// stand in (x/z) and boxes they must not stand in.</summary>
public sealed record PlaceableScene(DemoScene Scene, IReadOnlyList<SceneTarget> Targets, double MinX, double MinZ, double MaxX, double MaxZ,
    IReadOnlyList<(double X0, double Z0, double X1, double Z1)> Obstacles)
{
    /// <summary>Whether a camera may stand at (x, z): inside the region, 0.5 m from its edges, outside every obstacle (with 0.5 m).</summary>
    public bool Free(double x, double z) =>
        x > MinX + 0.5 && x < MaxX - 0.5 && z > MinZ + 0.5 && z < MaxZ - 0.5
        && !Obstacles.Any(o => x > o.X0 - 0.5 && x < o.X1 + 0.5 && z > o.Z0 - 0.5 && z < o.Z1 + 0.5);
}

/// <summary>
/// Random scenes for training pairs, from a seed: a square (16–36 m a side) closed by buildings of
/// 5–13 m frontage and 7–18 m height on three or four sides (an open side shows the sky), 0–2
/// kiosks (closed boxes that hide parts of the facades behind them), street lamps along the sides
/// (sodium or white, random strength and reach), a random sun, random night settings (ambient,
/// exposure, sensor noise, blur). Textures are <see cref="ProceduralTextures"/> of random seeds.
/// </summary>
public static class GeneratedScenes
{
    /// <summary>Texels per metre of generated scenes: 40 resolves a facade seen at ≥ 4 m by a
    /// 192-px view with 40–75° field of view; more only costs texture time and memory.</summary>
    public const double TexelsPerMetre = 40;

    public static PlaceableScene Square(long seed)
    {
        var rng = new Rng(Rng.Hash(unchecked((ulong)seed), 0x5CE7E));
        double sx = rng.Uniform(16, 36), sz = rng.Uniform(16, 36);
        double x0 = -sx / 2, x1 = sx / 2, z0 = -sz / 2, z1 = sz / 2;
        int NextSeed() => 1 + rng.Next(250_000); // ProceduralTextures multiplies seeds by up to 104729
        var facades = new List<Facade>();
        var targets = new List<SceneTarget>();
        var lamps = new List<Lamp>();
        // Sides in order, each with its inward normal.
        var sides = new (double Ax, double Az, double Bx, double Bz, double Nx, double Nz)[]
        {
            (x0, z1, x1, z1, 0, -1), (x1, z1, x1, z0, -1, 0), (x1, z0, x0, z0, 0, 1), (x0, z0, x0, z1, 1, 0),
        };
        int open = rng.Chance(0.3) ? rng.Next(4) : -1;
        bool sodium = rng.Chance(0.7);
        for (int s = 0; s < 4; s++)
        {
            var (ax, az, bx, bz, nx, nz) = sides[s];
            double len = Math.Sqrt((bx - ax) * (bx - ax) + (bz - az) * (bz - az));
            if (s != open)
            {
                double a = 0;
                while (a < len - 0.01)
                {
                    double wdt = rng.Uniform(5, 13);
                    if (len - (a + wdt) < 4) wdt = len - a; // no sliver at the end
                    double t0 = a / len, t1 = (a + wdt) / len;
                    var f = new Facade(NextSeed(), ax + t0 * (bx - ax), az + t0 * (bz - az), ax + t1 * (bx - ax), az + t1 * (bz - az), rng.Uniform(7, 18));
                    facades.Add(f);
                    targets.Add(new SceneTarget(f, nx, nz));
                    a += wdt;
                }
            }
            double spacing = rng.Uniform(6, 11);
            double height = rng.Uniform(3.5, 5.5), off = rng.Uniform(1.5, 3);
            for (double a = rng.Uniform(1, spacing); a < len - 1; a += spacing)
            {
                double t = a / len;
                lamps.Add(new Lamp(ax + t * (bx - ax) + nx * off, height, az + t * (bz - az) + nz * off, rng.LogUniform(0.5, 2), rng.Uniform(2.5, 5)));
            }
        }
        var obstacles = new List<(double, double, double, double)>();
        int kiosks = rng.Next(3);
        for (int k = 0, attempt = 0; k < kiosks && attempt < 20; attempt++)
        {
            double w = rng.Uniform(2.5, 5), d = rng.Uniform(2.5, 5);
            double cx = rng.Uniform(x0 + 5 + w / 2, x1 - 5 - w / 2), cz = rng.Uniform(z0 + 5 + d / 2, z1 - 5 - d / 2);
            var box = (cx - w / 2, cz - d / 2, cx + w / 2, cz + d / 2);
            if (obstacles.Any(o => box.Item1 < o.Item3 + 2 && box.Item3 > o.Item1 - 2 && box.Item2 < o.Item4 + 2 && box.Item4 > o.Item2 - 2)) continue;
            obstacles.Add(box);
            double h = rng.Uniform(4, 7);
            var (bx0, bz0, bx1, bz1) = box;
            foreach (var (ax, az, bx, bz, nx, nz) in new[]
                     {
                         (bx0, bz0, bx1, bz0, 0.0, -1.0), (bx1, bz0, bx1, bz1, 1.0, 0.0), (bx1, bz1, bx0, bz1, 0.0, 1.0), (bx0, bz1, bx0, bz0, -1.0, 0.0),
                     })
            {
                var f = new Facade(NextSeed(), ax, az, bx, bz, h);
                facades.Add(f);
                targets.Add(new SceneTarget(f, nx, nz));
            }
            k++;
        }
        double elevation = rng.Uniform(15, 70) * Math.PI / 180, azimuth = rng.Uniform(0, 2 * Math.PI);
        double[] sun = { Math.Cos(elevation) * Math.Sin(azimuth), Math.Sin(elevation), Math.Cos(elevation) * Math.Cos(azimuth) };
        var night = new NightSettings
        {
            Ambient = rng.LogUniform(0.005, 0.04),
            Tint = sodium ? new[] { 1, rng.Uniform(0.45, 0.7), rng.Uniform(0.15, 0.35) } : new[] { 1, rng.Uniform(0.85, 1), rng.Uniform(0.7, 0.95) },
            Exposure = rng.LogUniform(0.02, 0.06),
            FullWell = rng.LogUniform(80, 400),
            ReadNoise = rng.Uniform(1, 5),
            Blur = rng.Chance(0.5) ? 3 : 1,
        };
        var scene = new DemoScene($"generated-{seed}", 192, 192, 160, TexelsPerMetre, 2, 92, sun,
            new Ground(NextSeed(), x0, z0, x1, z1), facades, lamps, night, Array.Empty<SceneCamera>());
        return new PlaceableScene(scene, targets, x0, z0, x1, z1, obstacles);
    }

    /// <summary>A scene file's scene made placeable: every facade a target, seen from the side of the
    /// centre of all facades; cameras anywhere in the facades' bounding box (or the ground's).</summary>
    public static PlaceableScene FromScene(DemoScene scene)
    {
        double minX = scene.Facades.Min(f => Math.Min(f.X0, f.X1)), maxX = scene.Facades.Max(f => Math.Max(f.X0, f.X1));
        double minZ = scene.Facades.Min(f => Math.Min(f.Z0, f.Z1)), maxZ = scene.Facades.Max(f => Math.Max(f.Z0, f.Z1));
        if (scene.Ground is { } g) { minX = g.X0; maxX = g.X1; minZ = g.Z0; maxZ = g.Z1; }
        double mx = (minX + maxX) / 2, mz = (minZ + maxZ) / 2;
        var targets = scene.Facades.Select(f =>
        {
            double w = f.Width, nx = (f.Z1 - f.Z0) / w, nz = -(f.X1 - f.X0) / w;
            double fx = (f.X0 + f.X1) / 2, fz = (f.Z0 + f.Z1) / 2;
            return (mx - fx) * nx + (mz - fz) * nz >= 0 ? new SceneTarget(f, nx, nz) : new SceneTarget(f, -nx, -nz);
        }).ToList();
        return new PlaceableScene(scene, targets, minX, minZ, maxX, maxZ, Array.Empty<(double, double, double, double)>());
    }
}
