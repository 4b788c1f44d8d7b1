using R2D2.Localization.Imaging;

namespace R2D2.Localization.Training;

/// <summary>
/// Synthetic, natural-looking RGB images for training without third-party photos (licence-clean):
/// a "dead leaves" model — a thousand or more overlapping random shapes (ellipses, rectangles,
/// polygons, strokes, blocks of text-like glyphs) whose sizes follow a power law, p(r) ∝ r^−α, from
/// half the image down to a few pixels, as the sizes of objects in photos do. Each shape has a
/// random colour and texture (gradient, sine grating, stripes, fractal noise, checker, bricks,
/// window grids), so the images hold corners, blobs, occlusion boundaries and repeated patterns
/// at every scale. Then a global lighting gradient, vignetting, sometimes a soft shadow and a slight
/// blur, and 8-bit quantization.
/// Output: planar 3×H×W float RGB in [0, 1]. Deterministic in the seed; no shared state, so
/// images can be generated in parallel.
/// </summary>
public static class ProceduralImages
{
    public static float[] Generate(long seed, int width, int height)
    {
        if (width < 1 || height < 1) throw new ArgumentOutOfRangeException(nameof(width), "image size must be positive");
        var rng = new Rng(Rng.Hash((ulong)seed, 0x50524F43UL));
        var p = new Painter(width, height, rng);
        p.Paint();
        return p.Image;
    }

    private enum TextureKind { Flat, Gradient, Sine, Stripes, Noise, Checker, Bricks, Windows }

    /// <summary>A shape's fill: t(x, y) ∈ [0, 1] mixes colour 1 into colour 2, then a shading gradient.</summary>
    private struct Texture
    {
        public TextureKind Kind;
        public float R1, G1, B1, R2, G2, B2;
        public float Cos, Sin, Cx, Cy;
        public float Freq, Phase, Duty;
        public float CellW, CellH, Margin;
        public float NoiseAmount, NoiseGain;
        public int NoiseOx, NoiseOy;
        public float ShadeX, ShadeY;
        public uint CellSeed;
    }

    private sealed class Painter
    {
        public readonly float[] Image;
        private readonly int _w, _h, _n;
        private readonly Rng _rng;
        private readonly float[] _noise;
        private readonly (float H, float S, float V)[] _palette;
        private readonly double[] _crossings = new double[32];

        public Painter(int w, int h, Rng rng)
        {
            _w = w; _h = h; _n = w * h; _rng = rng;
            Image = new float[3 * _n];
            _noise = FractalNoise(rng, w, h);
            // A few hues per image: photos have palettes, not uniformly random colours.
            _palette = new (float, float, float)[2 + rng.Next(4)];
            for (int i = 0; i < _palette.Length; i++)
                _palette[i] = ((float)rng.NextDouble(), (float)(0.75 * Math.Pow(rng.NextDouble(), 1.5)), (float)rng.Uniform(0.15, 0.95));
        }

        public void Paint()
        {
            int size = Math.Max(_w, _h);
            // Background: one textured layer over everything.
            var bg = RandomTexture(_w / 2f, _h / 2f, size / 2f);
            for (int y = 0; y < _h; y++)
                for (int x = 0; x < _w; x++) Blend(y * _w + x, 1, x, y, ref bg);

            // Shapes back to front until they cover the image about 2.5–3.5 times; radii follow
            // p(r) ∝ r^−α (inverse CDF of the truncated power law). α = 3 would put the same area
            // at every scale (scale invariance); a little less keeps the tiny shapes from
            // turning every surface into confetti (the textures add the fine detail instead).
            double rMin = 2, rMax = Math.Max(4, 0.45 * size), alpha = _rng.Uniform(2.4, 2.9);
            double e = 1 - alpha, a = Math.Pow(rMin, e), b = Math.Pow(rMax, e);
            double budget = _rng.Uniform(2.5, 3.5) * _n, covered = 0;
            int maxShapes = 5000;
            while (covered < budget && maxShapes-- > 0)
            {
                double r = Math.Pow(a - _rng.NextDouble() * (a - b), 1 / e);
                float cx = (float)_rng.Uniform(-0.1 * _w, 1.1 * _w), cy = (float)_rng.Uniform(-0.1 * _h, 1.1 * _h);
                double kind = _rng.NextDouble();
                if (kind < 0.30) covered += Ellipse(cx, cy, (float)r);
                else if (kind < 0.55) covered += Rectangle(cx, cy, (float)r);
                else if (kind < 0.78) covered += Polygon(cx, cy, (float)r);
                else if (kind < 0.93) covered += Strokes(cx, cy, (float)r);
                else if (r >= 6) covered += Text(cx, cy, (float)r);
            }
            Lighting();
            if (_rng.Chance(0.5)) Blur.Gaussian(Image, PixelLayout.Planar(_w, _h), _rng.Uniform(0.3, 0.9));
            PlanarImage.Quantize(Image);
        }

        // ---- colours and textures ----

        private (float R, float G, float B) RandomColour()
        {
            float h, s, v;
            if (_rng.Chance(0.8))
            {
                var c = _palette[_rng.Next(_palette.Length)];
                h = c.H + (float)_rng.Uniform(-0.04, 0.04);
                s = Math.Clamp(c.S + (float)_rng.Uniform(-0.15, 0.15), 0, 1);
                v = Math.Clamp(c.V + (float)_rng.Uniform(-0.45, 0.45), 0.02f, 1);
            }
            else
            {
                h = (float)_rng.NextDouble();
                s = (float)(0.9 * Math.Pow(_rng.NextDouble(), 2));
                v = (float)_rng.Uniform(0.02, 1);
            }
            return Hsv(h, s, v);
        }

        private static (float, float, float) Hsv(float h, float s, float v)
        {
            h = (h - MathF.Floor(h)) * 6;
            int i = (int)h % 6;
            float f = h - MathF.Floor(h), p = v * (1 - s), q = v * (1 - s * f), t = v * (1 - s * (1 - f));
            return i switch { 0 => (v, t, p), 1 => (q, v, p), 2 => (p, v, t), 3 => (p, q, v), 4 => (t, p, v), _ => (v, p, q) };
        }

        private Texture RandomTexture(float cx, float cy, float r)
        {
            var t = new Texture();
            (t.R1, t.G1, t.B1) = RandomColour();
            if (_rng.Chance(0.3))
            {   // the same colour, lighter or darker
                float k = (float)_rng.LogUniform(0.3, 3);
                t.R2 = Math.Min(1, t.R1 * k); t.G2 = Math.Min(1, t.G1 * k); t.B2 = Math.Min(1, t.B1 * k);
            }
            else (t.R2, t.G2, t.B2) = RandomColour();
            // Man-made patterns are mostly axis-aligned.
            double angle = _rng.Chance(0.4) ? _rng.Uniform(-0.08, 0.08) + (_rng.Chance(0.5) ? 0 : Math.PI / 2) : _rng.Uniform(0, Math.PI);
            t.Cos = (float)Math.Cos(angle); t.Sin = (float)Math.Sin(angle);
            t.Cx = cx; t.Cy = cy;
            double u = _rng.NextDouble();
            t.Kind = u switch
            {
                < 0.22 => TextureKind.Flat,
                < 0.40 => TextureKind.Gradient,
                < 0.50 => TextureKind.Sine,
                < 0.60 => TextureKind.Stripes,
                < 0.78 => TextureKind.Noise,
                < 0.84 => TextureKind.Checker,
                < 0.92 => TextureKind.Bricks,
                _ => TextureKind.Windows,
            };
            // Pattern periods from 3 px to about the shape's size.
            double period = _rng.LogUniform(3, Math.Max(4, 1.2 * r));
            t.Freq = (float)(1 / period);
            t.Phase = (float)_rng.NextDouble();
            t.Duty = (float)_rng.Uniform(0.2, 0.8);
            t.CellW = (float)Math.Max(2.5, _rng.LogUniform(3, Math.Max(4, r)));
            t.CellH = (float)Math.Max(2.5, t.CellW * _rng.LogUniform(0.3, 1.5));
            t.Margin = (float)_rng.Uniform(0.1, 0.3);
            t.NoiseAmount = _rng.Chance(0.5) ? (float)_rng.Uniform(0, 0.6) : 0;
            t.NoiseGain = (float)_rng.LogUniform(0.7, 4);
            t.NoiseOx = _rng.Next(_w); t.NoiseOy = _rng.Next(_h);
            float shade = _rng.Chance(0.6) ? (float)(_rng.Uniform(0, 0.6) / Math.Max(r, 1)) : 0;
            double sa = _rng.Uniform(0, 2 * Math.PI);
            t.ShadeX = shade * (float)Math.Cos(sa); t.ShadeY = shade * (float)Math.Sin(sa);
            t.CellSeed = (uint)_rng.NextUInt64();
            return t;
        }

        private float NoiseAt(int x, int y, ref Texture t)
        {
            int xi = x + t.NoiseOx, yi = y + t.NoiseOy;
            xi %= _w; yi %= _h;
            if (xi < 0) xi += _w;
            if (yi < 0) yi += _h;
            return _noise[yi * _w + xi];
        }

        private static float CellHash(uint seed, int i, int j)
        {
            uint h = seed ^ (uint)i * 0x9E3779B1u ^ (uint)j * 0x85EBCA77u;
            h ^= h >> 15; h *= 0x2C1B3C6Du; h ^= h >> 12; h *= 0x297A2D39u; h ^= h >> 15;
            return (h & 0xFFFFFF) * (1f / 0x1000000);
        }

        private float TextureValue(int x, int y, ref Texture t)
        {
            float dx = x - t.Cx, dy = y - t.Cy;
            float u = dx * t.Cos + dy * t.Sin, v = -dx * t.Sin + dy * t.Cos;
            float val;
            switch (t.Kind)
            {
                case TextureKind.Flat: val = 0; break;
                case TextureKind.Gradient: val = 0.5f + u * t.Freq * 0.5f; break;
                case TextureKind.Sine: val = 0.5f + 0.5f * MathF.Sin(2 * MathF.PI * (u * t.Freq + t.Phase)); break;
                case TextureKind.Stripes:
                {
                    float f = u * t.Freq + t.Phase;
                    val = f - MathF.Floor(f) < t.Duty ? 1 : 0;
                    break;
                }
                case TextureKind.Noise: val = 0.5f + (NoiseAt(x, y, ref t) - 0.5f) * t.NoiseGain; break;
                case TextureKind.Checker:
                    val = (((int)MathF.Floor(u / t.CellW) + (int)MathF.Floor(v / t.CellH)) & 1) == 0 ? 0.15f * CellHash(t.CellSeed, 0, 0) : 1;
                    break;
                case TextureKind.Bricks:
                {
                    float fr = v / t.CellH;
                    int row = (int)MathF.Floor(fr);
                    float fc = u / t.CellW + ((row & 1) == 0 ? 0 : 0.5f);
                    int col = (int)MathF.Floor(fc);
                    float ly = (fr - row) * t.CellH, lx = (fc - col) * t.CellW;
                    float mortar = MathF.Max(0.7f, t.Margin * t.CellH * 0.5f);
                    bool isMortar = ly < mortar || lx < mortar;
                    val = isMortar ? 1 : 0.45f * CellHash(t.CellSeed, row, col);
                    break;
                }
                default: // windows: a facade grid of openings with varying glazing
                {
                    float fr = v / t.CellH, fc = u / t.CellW;
                    int row = (int)MathF.Floor(fr), col = (int)MathF.Floor(fc);
                    float ly = fr - row, lx = fc - col;
                    bool inside = lx > t.Margin && lx < 1 - t.Margin && ly > t.Margin * 0.8f && ly < 1 - t.Margin * 1.2f;
                    val = inside ? 0.55f + 0.45f * CellHash(t.CellSeed, row, col) : 0;
                    break;
                }
            }
            if (t.NoiseAmount > 0) val += t.NoiseAmount * (NoiseAt(x, y, ref t) - 0.5f);
            return Math.Clamp(val, 0, 1);
        }

        private void Blend(int o, float alpha, int x, int y, ref Texture t)
        {
            float v = TextureValue(x, y, ref t);
            float shade = 1 + t.ShadeX * (x - t.Cx) + t.ShadeY * (y - t.Cy);
            float r = (t.R1 + v * (t.R2 - t.R1)) * shade, g = (t.G1 + v * (t.G2 - t.G1)) * shade, b = (t.B1 + v * (t.B2 - t.B1)) * shade;
            var img = Image;
            if (alpha >= 1)
            {
                img[o] = r; img[_n + o] = g; img[2 * _n + o] = b;
            }
            else
            {
                img[o] += alpha * (r - img[o]);
                img[_n + o] += alpha * (g - img[_n + o]);
                img[2 * _n + o] += alpha * (b - img[2 * _n + o]);
            }
        }

        // ---- shapes (each returns the area it covers, for the coverage budget) ----

        private double Ellipse(float cx, float cy, float r)
        {
            float a = r, bAxis = r * (float)(_rng.Chance(0.5) ? 1 : _rng.Uniform(0.3, 1));
            double ang = _rng.Uniform(0, Math.PI);
            float c = (float)Math.Cos(ang), s = (float)Math.Sin(ang);
            var t = RandomTexture(cx, cy, r);
            int x0 = Math.Max(0, (int)MathF.Floor(cx - a - 1)), x1 = Math.Min(_w - 1, (int)MathF.Ceiling(cx + a + 1));
            int y0 = Math.Max(0, (int)MathF.Floor(cy - a - 1)), y1 = Math.Min(_h - 1, (int)MathF.Ceiling(cy + a + 1));
            float ia2 = 1 / (a * a), ib2 = 1 / (bAxis * bAxis);
            float outer = (1 + 0.5f / bAxis) * (1 + 0.5f / bAxis), inner = MathF.Max(0, 1 - 0.5f / bAxis); inner *= inner;
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                {
                    float dx = x - cx, dy = y - cy;
                    float p = dx * c + dy * s, q = -dx * s + dy * c;
                    float q2 = p * p * ia2 + q * q * ib2;
                    if (q2 >= outer) continue;
                    // Antialiased edge: approximate signed distance (1 − √q2)·b.
                    float alpha = q2 <= inner ? 1 : Math.Clamp((1 - MathF.Sqrt(q2)) * bAxis + 0.5f, 0, 1);
                    if (alpha > 0) Blend(y * _w + x, alpha, x, y, ref t);
                }
            return Math.PI * a * bAxis;
        }

        private double Rectangle(float cx, float cy, float r)
        {
            float hw = r * (float)_rng.Uniform(0.5, 1), hh = hw * (float)_rng.LogUniform(0.2, 1.5);
            double ang = _rng.Chance(0.5) ? _rng.Uniform(-0.05, 0.05) : _rng.Uniform(0, Math.PI);
            float c = (float)Math.Cos(ang), s = (float)Math.Sin(ang);
            var t = RandomTexture(cx, cy, r);
            if (_rng.Chance(0.5)) { t.Cos = c; t.Sin = s; } // patterns follow the rectangle's edges
            float ext = MathF.Abs(hw * c) + MathF.Abs(hh * s), eyt = MathF.Abs(hw * s) + MathF.Abs(hh * c);
            int x0 = Math.Max(0, (int)MathF.Floor(cx - ext - 1)), x1 = Math.Min(_w - 1, (int)MathF.Ceiling(cx + ext + 1));
            int y0 = Math.Max(0, (int)MathF.Floor(cy - eyt - 1)), y1 = Math.Min(_h - 1, (int)MathF.Ceiling(cy + eyt + 1));
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                {
                    float dx = x - cx, dy = y - cy;
                    float p = dx * c + dy * s, q = -dx * s + dy * c;
                    float d = MathF.Min(hw - MathF.Abs(p), hh - MathF.Abs(q));
                    if (d <= -0.5f) continue;
                    Blend(y * _w + x, MathF.Min(1, d + 0.5f), x, y, ref t);
                }
            return 4.0 * hw * hh;
        }

        private double Polygon(float cx, float cy, float r)
        {
            // Star-shaped random polygon: sorted angles, random radii (concave corners included).
            int k = 3 + _rng.Next(8);
            var px = new double[k]; var py = new double[k];
            var angles = new double[k];
            for (int i = 0; i < k; i++) angles[i] = _rng.Uniform(0, 2 * Math.PI);
            Array.Sort(angles);
            bool convexish = _rng.Chance(0.5);
            double area = 0;
            for (int i = 0; i < k; i++)
            {
                double rr = r * (convexish ? _rng.Uniform(0.8, 1) : _rng.Uniform(0.3, 1));
                px[i] = cx + rr * Math.Cos(angles[i]); py[i] = cy + rr * Math.Sin(angles[i]);
            }
            for (int i = 0; i < k; i++) { int j = (i + 1) % k; area += px[i] * py[j] - px[j] * py[i]; }
            var t = RandomTexture(cx, cy, r);
            int y0 = Math.Max(0, (int)Math.Floor(cy - r)), y1 = Math.Min(_h - 1, (int)Math.Ceiling(cy + r));
            var xs = _crossings;
            for (int y = y0; y <= y1; y++)
            {
                // Scanline fill, even–odd rule, sampling at pixel centres.
                int m = 0;
                for (int i = 0; i < k; i++)
                {
                    int j = (i + 1) % k;
                    double ya = py[i], yb = py[j];
                    if ((ya <= y && yb > y) || (yb <= y && ya > y))
                        xs[m++] = px[i] + (y - ya) / (yb - ya) * (px[j] - px[i]);
                }
                Array.Sort(xs, 0, m);
                for (int s = 0; s + 1 < m; s += 2)
                {
                    int xa = Math.Max(0, (int)Math.Ceiling(xs[s])), xb = Math.Min(_w - 1, (int)Math.Floor(xs[s + 1]));
                    for (int x = xa; x <= xb; x++) Blend(y * _w + x, 1, x, y, ref t);
                }
            }
            return Math.Abs(area) / 2;
        }

        private double Capsule(float ax, float ay, float bx, float by, float halfWidth, ref Texture t)
        {
            float ex = bx - ax, ey = by - ay, len2 = MathF.Max(ex * ex + ey * ey, 1e-6f);
            int x0 = Math.Max(0, (int)MathF.Floor(MathF.Min(ax, bx) - halfWidth - 1)), x1 = Math.Min(_w - 1, (int)MathF.Ceiling(MathF.Max(ax, bx) + halfWidth + 1));
            int y0 = Math.Max(0, (int)MathF.Floor(MathF.Min(ay, by) - halfWidth - 1)), y1 = Math.Min(_h - 1, (int)MathF.Ceiling(MathF.Max(ay, by) + halfWidth + 1));
            for (int y = y0; y <= y1; y++)
                for (int x = x0; x <= x1; x++)
                {
                    float dx = x - ax, dy = y - ay;
                    float s = Math.Clamp((dx * ex + dy * ey) / len2, 0, 1);
                    float qx = dx - s * ex, qy = dy - s * ey;
                    float d2 = qx * qx + qy * qy, lim = halfWidth + 0.5f;
                    if (d2 >= lim * lim) continue;
                    Blend(y * _w + x, Math.Clamp(halfWidth - MathF.Sqrt(d2) + 0.5f, 0, 1), x, y, ref t);
                }
            return 2 * halfWidth * MathF.Sqrt(len2);
        }

        private double Strokes(float cx, float cy, float r)
        {
            // A polyline of 1–3 segments (branches, wires, cracks, painted lines).
            var t = RandomTexture(cx, cy, r);
            if (_rng.Chance(0.5)) t.Kind = TextureKind.Flat;
            float hwid = (float)Math.Max(0.5, _rng.LogUniform(0.5, Math.Max(0.6, r / 5)));
            int segs = 1 + _rng.Next(3);
            double ang = _rng.Uniform(0, 2 * Math.PI), area = 0;
            float x = cx, y = cy;
            for (int i = 0; i < segs; i++)
            {
                double len = r * _rng.Uniform(0.6, 1.6);
                float nx = x + (float)(len * Math.Cos(ang)), ny = y + (float)(len * Math.Sin(ang));
                area += Capsule(x, y, nx, ny, hwid, ref t);
                x = nx; y = ny;
                ang += _rng.Uniform(-1.2, 1.2);
            }
            return area;
        }

        private double Text(float cx, float cy, float r)
        {
            // Lines of glyph-like marks: 1–3 strokes per glyph between points of a 3×3 grid.
            var t = RandomTexture(cx, cy, r);
            t.Kind = TextureKind.Flat;
            float g = (float)_rng.Uniform(3.5, Math.Min(16, Math.Max(4, r / 2)));
            float gw = g * (float)_rng.Uniform(0.5, 0.8), pitch = gw * 1.3f, lineH = g * (float)_rng.Uniform(1.3, 1.8);
            float hw = MathF.Max(0.45f, g / (float)_rng.Uniform(6, 10));
            int cols = Math.Max(1, (int)(2 * r / pitch)), rows = Math.Max(1, Math.Min(6, (int)(r / lineH)));
            double ang = _rng.Chance(0.7) ? _rng.Uniform(-0.05, 0.05) : _rng.Uniform(-0.6, 0.6);
            float c = (float)Math.Cos(ang), s = (float)Math.Sin(ang);
            float ox = -cols * pitch / 2, oy = -rows * lineH / 2;
            for (int row = 0; row < rows; row++)
            {
                int len = cols - (row == rows - 1 ? _rng.Next(Math.Max(1, cols)) : 0);
                for (int col = 0; col < len; col++)
                {
                    if (_rng.Chance(0.15)) continue; // a space
                    int strokes = 1 + _rng.Next(3);
                    for (int k = 0; k < strokes; k++)
                    {
                        int a = _rng.Next(9), b = _rng.Next(9);
                        if (a == b) b = (a + 4) % 9;
                        float ax = ox + col * pitch + (a % 3) * gw / 2, ay = oy + row * lineH + (a / 3) * g / 2;
                        float bx = ox + col * pitch + (b % 3) * gw / 2, by = oy + row * lineH + (b / 3) * g / 2;
                        Capsule(cx + ax * c - ay * s, cy + ax * s + ay * c, cx + bx * c - by * s, cy + bx * s + by * c, hw, ref t);
                    }
                }
            }
            return cols * rows * pitch * lineH * 0.3;
        }

        // ---- global effects ----

        private void Lighting()
        {
            int size = Math.Max(_w, _h);
            double ga = _rng.Uniform(0, 2 * Math.PI), gs = _rng.Uniform(0, 0.5) / size;
            float gx = (float)(gs * Math.Cos(ga)), gy = (float)(gs * Math.Sin(ga));
            float vig = (float)(_rng.Chance(0.6) ? _rng.Uniform(0, 0.5) : 0) / (0.25f * size * size);
            float vx = (float)_rng.Uniform(0.3, 0.7) * _w, vy = (float)_rng.Uniform(0.3, 0.7) * _h;
            float gain = (float)_rng.LogUniform(0.6, 1.3);
            // A soft shadow edge (half-plane) sometimes: an illumination boundary that is not an object's.
            bool shadow = _rng.Chance(0.3);
            double sa = _rng.Uniform(0, 2 * Math.PI);
            float sc = (float)Math.Cos(sa), ss = (float)Math.Sin(sa), sd = (float)_rng.Uniform(0.2, 0.8) * size, soft = (float)_rng.LogUniform(1, 0.1 * size);
            float depth = (float)_rng.Uniform(0.3, 0.7);
            for (int y = 0; y < _h; y++)
                for (int x = 0; x < _w; x++)
                {
                    float dx = x - vx, dy = y - vy;
                    float l = gain * (1 + gx * dx + gy * dy) * (1 - vig * (dx * dx + dy * dy));
                    if (shadow)
                    {
                        float d = (x * sc + y * ss - sd) / soft;
                        l *= 1 - depth * Math.Clamp(0.5f + 0.5f * d, 0, 1);
                    }
                    int o = y * _w + x;
                    Image[o] *= l; Image[_n + o] *= l; Image[2 * _n + o] *= l;
                }
        }
    }

    /// <summary>A field of <see cref="Noise.Fractal"/> noise from a cell of a half to a sixth of the
    /// image down to 2 px, stretched to [0, 1].</summary>
    private static float[] FractalNoise(Rng rng, int w, int h)
    {
        double cell = Math.Max(2, Math.Max(w, h) / rng.Uniform(2, 6));
        int octaves = 1 + (int)Math.Floor(Math.Log2(cell / 2)), seed = rng.Next(int.MaxValue);
        var field = Noise.FractalField(seed, w, h, cell, octaves);
        float min = float.MaxValue, max = float.MinValue;
        foreach (var v in field) { if (v < min) min = v; if (v > max) max = v; }
        float scale = max > min ? 1 / (max - min) : 0;
        for (int i = 0; i < field.Length; i++) field[i] = (field[i] - min) * scale;
        return field;
    }
}
