using R2D2.Localization.Imaging;
namespace R2D2.Localization.Synthesis;

/// <summary>
/// Procedural textures for the demo scene, all from a seed: building facades (walls of brick,
/// plaster or stone blocks, floors with cornices, windows with frames, shutters and curtains,
/// doors, shop fronts with signs and awnings, posters) and a paved ground. Every building draws
/// its own colours and layout, so the scene is not a repetition of one pattern.
/// </summary>
public static class ProceduralTextures
{
    private static readonly Rgb[] Walls =
    {
        Rgb.FromSrgb(196, 160, 112), Rgb.FromSrgb(168, 84, 64), Rgb.FromSrgb(222, 210, 180), Rgb.FromSrgb(150, 150, 145),
        Rgb.FromSrgb(160, 180, 200), Rgb.FromSrgb(210, 180, 150), Rgb.FromSrgb(190, 120, 90), Rgb.FromSrgb(170, 190, 150),
        Rgb.FromSrgb(230, 200, 120), Rgb.FromSrgb(120, 100, 90),
    };
    private static readonly Rgb[] Accents =
    {
        Rgb.FromSrgb(40, 90, 60), Rgb.FromSrgb(120, 40, 30), Rgb.FromSrgb(30, 60, 120), Rgb.FromSrgb(200, 170, 40),
        Rgb.FromSrgb(90, 60, 40), Rgb.FromSrgb(230, 230, 225), Rgb.FromSrgb(40, 40, 45), Rgb.FromSrgb(180, 60, 120),
        Rgb.FromSrgb(20, 130, 140), Rgb.FromSrgb(220, 110, 30),
    };

    public static Texture Facade(Facade f, double texelsPerMetre)
    {
        int w = Math.Max(2, (int)Math.Ceiling(f.Width * texelsPerMetre)), h = Math.Max(2, (int)Math.Ceiling(f.Height * texelsPerMetre));
        var t = new Texture(w, h, texelsPerMetre);
        // System.Random, the one exception to Rng (ArchitectureTests): its seeded sequence is frozen
        // by .NET for compatibility, and it draws the scenes themselves, so the demo's and the town's
        // photos (and every result recorded on them) stay the same bytes.
        var rng = new Random(f.Seed);
        double W = f.Width, H = f.Height;
        var wall = Walls[rng.Next(Walls.Length)];
        int style = rng.Next(3);
        int seed = f.Seed * 7919;
        // Wall: a base colour with large-scale stains, then the masonry pattern.
        t.Fill(0, 0, W, H, wall, (x, y) => 0.8f + 0.35f * Noise.Fractal(seed, x, y, 24 * texelsPerMetre / 16));
        if (style == 0) Bricks(t, W, H, seed);
        else if (style == 1) Blocks(t, W, H, rng, seed);
        else t.Modulate(0, 0, W, H, (x, y) => 0.9f + 0.2f * Noise.Value(seed + 5, x, y, 3)); // rough plaster

        var trim = rng.NextDouble() < 0.5 ? Rgb.FromSrgb(235, 232, 222) : wall.Times(0.6f);
        var frame = Accents[rng.Next(Accents.Length)];
        var shutter = Accents[rng.Next(Accents.Length)];
        double ground = 3.6 + 0.6 * rng.NextDouble();
        double floorH = 3.0 + 0.5 * rng.NextDouble();
        double spacing = 2.0 + 1.0 * rng.NextDouble();
        int columns = Math.Max(1, (int)Math.Floor((W - 0.6) / spacing));
        double margin = (W - columns * spacing) / 2;
        double winW = 0.8 + 0.5 * rng.NextDouble(), winH = 1.3 + 0.6 * rng.NextDouble();
        bool shutters = rng.NextDouble() < 0.5, arched = rng.NextDouble() < 0.3;

        // Roof edge and cornices between floors.
        t.Fill(0, 0, W, 0.35, wall.Times(0.45f));
        t.Fill(0, 0.35, W, 0.5, trim);
        for (double y = H - ground; y > 1.5; y -= floorH)
        {
            t.Fill(0, y - 0.18, W, y, trim);
            t.Fill(0, y, W, y + 0.05, wall.Times(0.5f));
        }
        // Upper floors: windows.
        int floor = 0;
        for (double top = H - ground - floorH; top > 0.6; top -= floorH, floor++)
        {
            double y0 = top + (floorH - winH) * 0.45;
            if (y0 < 0.6) break;
            for (int c = 0; c < columns; c++)
            {
                double cx = margin + (c + 0.5) * spacing;
                // A few bays of each building break the grid: a balcony, a walled-up window, a plaque.
                double r = rng.NextDouble();
                if (r < 0.07) { Plaque(t, cx, y0 + winH / 2, rng); continue; }
                Window(t, cx - winW / 2, y0, cx + winW / 2, y0 + winH, frame, shutter, shutters, arched && floor == 0, rng, seed + c * 31 + floor * 977);
                if (r > 0.9) Balcony(t, cx - winW / 2 - 0.3, y0 + winH, cx + winW / 2 + 0.3, frame.Times(0.5f));
            }
        }
        // Ground floor: doors and shop fronts with signs.
        double gy = H - ground;
        t.Fill(0, gy, W, H, wall.Times(0.85f), (x, y) => 0.85f + 0.25f * Noise.Value(seed + 9, x, y, 6));
        t.Fill(0, H - 0.35, W, H, wall.Times(0.5f)); // plinth
        double x0 = 0.3 + 0.5 * rng.NextDouble();
        while (x0 < W - 1.2)
        {
            double kind = rng.NextDouble();
            if (kind < 0.35)
            {
                double dw = 1.0 + 0.4 * rng.NextDouble();
                Door(t, x0, H - 2.3 - 0.4 * rng.NextDouble(), x0 + dw, H, Accents[rng.Next(Accents.Length)], rng);
                x0 += dw + 0.6 + 1.2 * rng.NextDouble();
            }
            else if (kind < 0.8)
            {
                double sw = Math.Min(W - 0.3 - x0, 2.5 + 2.5 * rng.NextDouble());
                if (sw < 1.5) break;
                Shop(t, x0, gy + 0.35, x0 + sw, H - 0.35, rng, seed + (int)(x0 * 100));
                x0 += sw + 0.4 + 0.8 * rng.NextDouble();
            }
            else
            {
                Poster(t, x0, H - 2.4, x0 + 0.7 + 0.4 * rng.NextDouble(), H - 1.0, rng);
                x0 += 1.6 + rng.NextDouble();
            }
        }
        // Grime: darker near the ground, fine noise everywhere (texture for the detector at all scales).
        t.Modulate(0, 0, W, H, (x, y) =>
        {
            double fromBottom = (h - y) / texelsPerMetre;
            float grime = fromBottom < 1.0 ? (float)(0.8 + 0.2 * fromBottom) : 1f;
            return grime * (0.92f + 0.16f * Noise.Value(seed + 13, x, y, 1.5));
        });
        return t;
    }

    private static void Bricks(Texture t, double W, double H, int seed)
    {
        double bh = 0.075, bw = 0.24, mortar = 0.012;
        var mortarColour = Rgb.FromSrgb(200, 195, 185);
        int rows = (int)(H / bh) + 1;
        for (int r = 0; r < rows; r++)
        {
            double off = r % 2 == 0 ? 0 : bw / 2;
            for (double x = -off; x < W; x += bw)
            {
                float m = 0.8f + 0.4f * (float)Noise.Uniform(seed, (long)(x * 1000), r);
                t.Modulate(x, r * bh, x + bw, (r + 1) * bh, (_, _) => m);
            }
            t.Fill(0, (r + 1) * bh - mortar, W, (r + 1) * bh, mortarColour);
        }
        for (int r = 0; r < rows; r++)
        {
            double off = r % 2 == 0 ? 0 : bw / 2;
            for (double x = -off + bw; x < W; x += bw) t.Fill(x - mortar, r * bh, x, (r + 1) * bh, mortarColour);
        }
    }

    private static void Blocks(Texture t, double W, double H, Random rng, int seed)
    {
        double bh = 0.45 + 0.2 * rng.NextDouble(), bw = 0.9 + 0.5 * rng.NextDouble();
        int rows = (int)(H / bh) + 1;
        for (int r = 0; r < rows; r++)
        {
            double off = r % 2 == 0 ? 0 : bw / 2;
            for (double x = -off; x < W; x += bw)
            {
                float m = 0.88f + 0.24f * (float)Noise.Uniform(seed, (long)(x * 1000), r);
                t.Modulate(x, r * bh, x + bw, (r + 1) * bh, (_, _) => m);
                t.Modulate(x, r * bh, x + 0.015, (r + 1) * bh, (_, _) => 0.6f);
            }
            t.Modulate(0, (r + 1) * bh - 0.015, W, (r + 1) * bh, (_, _) => 0.6f);
        }
    }

    private static void Window(Texture t, double x0, double y0, double x1, double y1, Rgb frame, Rgb shutter, bool shutters, bool arched, Random rng, int seed)
    {
        if (shutters)
        {
            double sw = (x1 - x0) / 2;
            bool open = rng.NextDouble() < 0.7;
            if (open)
            {
                Shutter(t, x0 - sw - 0.05, y0, x0 - 0.05, y1, shutter);
                Shutter(t, x1 + 0.05, y0, x1 + sw + 0.05, y1, shutter);
            }
            else
            {
                Shutter(t, x0, y0, x1, y1, shutter);
                t.Fill((x0 + x1) / 2 - 0.015, y0, (x0 + x1) / 2 + 0.015, y1, shutter.Times(0.4f));
                return;
            }
        }
        // Glass: a dark, slightly blue gradient with a reflected sky patch; some with curtains.
        var glass = Rgb.FromSrgb(40 + rng.Next(30), 50 + rng.Next(30), 60 + rng.Next(40));
        double refl = rng.NextDouble();
        t.Fill(x0, y0, x1, y1, glass, (x, y) => 0.7f + 0.6f * Noise.Value(seed, x + refl * 100, y, 20));
        if (rng.NextDouble() < 0.4)
        {
            var curtain = Accents[rng.Next(Accents.Length)].Mix(Rgb.FromSrgb(230, 225, 210), 0.6f);
            double cy = y0 + (y1 - y0) * (0.2 + 0.4 * rng.NextDouble());
            t.Fill(x0, y0, x1, cy, curtain, (x, _) => 0.85f + 0.15f * MathF.Sin(x * 0.9f));
        }
        if (arched) // a fanlight: a half disc of glass in a frame, above the window
        {
            t.Disc((x0 + x1) / 2, y0 - 0.08, (x1 - x0) / 2 + 0.08, frame, upperHalf: true);
            t.Disc((x0 + x1) / 2, y0 - 0.08, (x1 - x0) / 2, glass.Times(1.3f), upperHalf: true);
        }
        t.Frame(x0 - 0.08, y0 - 0.08, x1 + 0.08, y1 + 0.08, 0.08, frame);
        t.Fill((x0 + x1) / 2 - 0.03, y0, (x0 + x1) / 2 + 0.03, y1, frame);
        t.Fill(x0, y0 + (y1 - y0) * 0.38, x1, y0 + (y1 - y0) * 0.38 + 0.05, frame);
        t.Fill(x0 - 0.15, y1 + 0.08, x1 + 0.15, y1 + 0.18, Rgb.FromSrgb(225, 222, 215)); // sill
        if (rng.NextDouble() < 0.15) // flower box
        {
            t.Fill(x0, y1 - 0.15, x1, y1 + 0.08, Rgb.FromSrgb(110, 70, 40));
            for (int k = 0; k < 6; k++)
                t.Disc(x0 + (x1 - x0) * (k + 0.5) / 6, y1 - 0.2, 0.07 + 0.03 * rng.NextDouble(), Accents[rng.Next(Accents.Length)]);
        }
    }

    private static void Shutter(Texture t, double x0, double y0, double x1, double y1, Rgb colour)
    {
        t.Fill(x0, y0, x1, y1, colour);
        for (double y = y0 + 0.08; y < y1 - 0.05; y += 0.09) t.Fill(x0 + 0.04, y, x1 - 0.04, y + 0.03, colour.Times(0.6f));
    }

    private static void Balcony(Texture t, double x0, double y, double x1, Rgb colour)
    {
        t.Fill(x0, y, x1, y + 0.12, colour);
        t.Fill(x0, y - 0.9, x1, y - 0.85, colour);
        for (double x = x0; x <= x1; x += 0.12) t.Fill(x, y - 0.9, x + 0.025, y, colour);
    }

    private static void Plaque(Texture t, double cx, double cy, Random rng)
    {
        var c = Accents[rng.Next(Accents.Length)];
        t.Fill(cx - 0.5, cy - 0.35, cx + 0.5, cy + 0.35, c);
        Glyphs(t, cx - 0.4, cy - 0.2, cx + 0.4, cy + 0.2, Rgb.FromSrgb(235, 225, 190), rng);
    }

    private static void Door(Texture t, double x0, double y0, double x1, double y1, Rgb colour, Random rng)
    {
        t.Fill(x0 - 0.12, y0 - 0.12, x1 + 0.12, y1, Rgb.FromSrgb(215, 210, 200));
        t.Fill(x0, y0, x1, y1, colour);
        double mid = (x0 + x1) / 2;
        for (int p = 0; p < 2; p++)
            for (int q = 0; q < 2; q++)
            {
                double px0 = p == 0 ? x0 + 0.1 : mid + 0.05, px1 = p == 0 ? mid - 0.05 : x1 - 0.1;
                double py0 = y0 + 0.15 + q * (y1 - y0) * 0.45, py1 = py0 + (y1 - y0) * 0.35;
                t.Frame(px0, py0, px1, py1, 0.03, colour.Times(0.55f));
            }
        t.Fill(mid - 0.01, y0, mid + 0.01, y1, colour.Times(0.4f));
        t.Disc(mid + 0.12, (y0 + y1) / 2 + 0.1, 0.035, Rgb.FromSrgb(200, 170, 60));
        if (rng.NextDouble() < 0.5) t.Fill(x0, y0 - 0.55, x1, y0 - 0.2, Rgb.FromSrgb(50, 55, 60)); // transom
    }

    private static void Shop(Texture t, double x0, double y0, double x1, double y1, Random rng, int seed)
    {
        var sign = Accents[rng.Next(Accents.Length)];
        var letters = rng.NextDouble() < 0.5 ? Rgb.FromSrgb(245, 240, 225) : Rgb.FromSrgb(25, 25, 25);
        double signH = 0.6;
        t.Fill(x0, y0, x1, y0 + signH, sign);
        Glyphs(t, x0 + 0.15, y0 + 0.12, x1 - 0.15, y0 + signH - 0.12, letters, rng);
        double wy0 = y0 + signH + 0.1;
        if (rng.NextDouble() < 0.5) // awning, stripes
        {
            var a = Accents[rng.Next(Accents.Length)];
            for (double x = x0; x < x1; x += 0.25)
                t.Fill(x, wy0, Math.Min(x + 0.125, x1), wy0 + 0.45, a);
            for (double x = x0 + 0.125; x < x1; x += 0.25)
                t.Fill(x, wy0, Math.Min(x + 0.125, x1), wy0 + 0.45, Rgb.FromSrgb(238, 235, 225));
            wy0 += 0.5;
        }
        var frame = Rgb.FromSrgb(45, 45, 50);
        t.Fill(x0, wy0, x1, y1, Rgb.FromSrgb(55, 60, 68), (x, y) => 0.6f + 0.8f * Noise.Value(seed, x, y, 25));
        // Goods behind the glass: coloured boxes.
        for (int k = 0; k < 10; k++)
        {
            double bx = x0 + 0.2 + (x1 - x0 - 0.6) * rng.NextDouble(), by = y1 - 0.3 - 0.9 * rng.NextDouble();
            t.Fill(bx, by - 0.15 - 0.2 * rng.NextDouble(), bx + 0.15 + 0.25 * rng.NextDouble(), by, Accents[rng.Next(Accents.Length)].Times(0.7f));
        }
        t.Frame(x0, wy0, x1, y1, 0.07, frame);
        int panes = Math.Max(1, (int)((x1 - x0) / 1.2));
        for (int p = 1; p < panes; p++) { double x = x0 + (x1 - x0) * p / panes; t.Fill(x - 0.03, wy0, x + 0.03, y1, frame); }
    }

    private static void Poster(Texture t, double x0, double y0, double x1, double y1, Random rng)
    {
        t.Fill(x0, y0, x1, y1, Accents[rng.Next(Accents.Length)].Mix(Rgb.FromSrgb(240, 240, 240), 0.3f));
        t.Disc((x0 + x1) / 2, y0 + (y1 - y0) * 0.35, (x1 - x0) * 0.3, Accents[rng.Next(Accents.Length)]);
        Glyphs(t, x0 + 0.08, y0 + (y1 - y0) * 0.7, x1 - 0.08, y1 - 0.08, Rgb.FromSrgb(20, 20, 20), rng);
    }

    /// <summary>"Lettering": random blocky glyphs on a 3×5 grid, one row across the box.</summary>
    private static void Glyphs(Texture t, double x0, double y0, double x1, double y1, Rgb colour, Random rng)
    {
        double h = y1 - y0, cw = h * 0.7, cell = h / 5;
        for (double x = x0; x + cw * 0.8 <= x1; x += cw)
        {
            if (rng.NextDouble() < 0.12) continue; // a space
            int bits = rng.Next(1 << 15) | 0x4002;
            for (int r = 0; r < 5; r++)
                for (int c = 0; c < 3; c++)
                    if ((bits >> (r * 3 + c) & 1) != 0)
                        t.Fill(x + c * cell * 0.85, y0 + r * cell, x + (c + 1) * cell * 0.85, y0 + (r + 1) * cell, colour);
        }
    }

    /// <summary>Paving: slabs with joints and varied shades, a few painted markings and drain covers.</summary>
    public static Texture Ground(Ground g, double texelsPerMetre)
    {
        double W = g.X1 - g.X0, H = g.Z1 - g.Z0;
        var t = new Texture(Math.Max(2, (int)Math.Ceiling(W * texelsPerMetre)), Math.Max(2, (int)Math.Ceiling(H * texelsPerMetre)), texelsPerMetre);
        var rng = new Random(g.Seed);
        int seed = g.Seed * 104729;
        var stone = Rgb.FromSrgb(150, 145, 138);
        t.Fill(0, 0, W, H, stone, (x, y) => 0.85f + 0.3f * Noise.Fractal(seed, x, y, 8 * texelsPerMetre));
        double slab = 0.6;
        for (int r = 0; r * slab < H; r++)
        {
            double off = r % 2 == 0 ? 0 : slab / 2;
            for (double x = -off; x < W; x += slab)
            {
                float m = 0.75f + 0.5f * (float)Noise.Uniform(seed, (long)(x * 1000), r);
                t.Modulate(x, r * slab, x + slab, (r + 1) * slab, (_, _) => m);
                t.Modulate(x, r * slab, x + 0.02, (r + 1) * slab, (_, _) => 0.45f);
            }
            t.Modulate(0, r * slab, W, r * slab + 0.02, (_, _) => 0.45f);
        }
        for (int k = 0; k < 12; k++)
        {
            double x = W * rng.NextDouble(), y = H * rng.NextDouble();
            if (k % 3 == 0) t.Disc(x, y, 0.35, Rgb.FromSrgb(60, 60, 62));
            else t.Fill(x, y, x + 0.15, y + 1.5 + 2 * rng.NextDouble(), k % 3 == 1 ? Rgb.FromSrgb(230, 230, 220) : Rgb.FromSrgb(220, 180, 40));
        }
        t.Modulate(0, 0, W, H, (x, y) => 0.9f + 0.2f * Noise.Value(seed + 3, x, y, 1.5));
        return t;
    }
}
