namespace R2D2.Localization.Synthesis;

/// <summary>
/// The renderer's acceleration: a uniform grid over the ground plane (x, z). Each cell lists the
/// facades whose footprint (padded by a millimetre, so hits on a cell's border and rays through a
/// corner are not missed) overlaps it, and the lamps that can still change a night pixel lit there.
/// A ray walks the cells it crosses in order (2D DDA) and stops at the first cell whose exit lies
/// beyond the nearest hit found so far. Ties between facades go to the lower index and hits are
/// computed by the same arithmetic as the brute-force loop, so the grid picks the same facade and
/// the images are the same bytes.
/// </summary>
public sealed partial class SceneRenderer
{
    private sealed class Grid
    {
        public double X0, Z0, Cell;
        public int Nx, Nz;
        /// <summary>Facade indices of cell c: FacadeItems[FacadeStart[c] .. FacadeStart[c + 1]), ascending.</summary>
        public int[] FacadeStart = Array.Empty<int>(), FacadeItems = Array.Empty<int>();
        /// <summary>Lamp indices of cell c, ascending (the brute-force order with terms dropped).</summary>
        public int[] LampStart = Array.Empty<int>(), LampItems = Array.Empty<int>();
        public double MaxHeight;

        public int CellOf(double x, double z)
        {
            int ix = (int)Math.Floor((x - X0) / Cell), iz = (int)Math.Floor((z - Z0) / Cell);
            return ix < 0 || iz < 0 || ix >= Nx || iz >= Nz ? -1 : iz * Nx + ix;
        }
    }

    private const double GridPad = 1e-3;

    private static Grid BuildGrid(DemoScene scene)
    {
        var fs = scene.Facades;
        double minX = double.PositiveInfinity, minZ = double.PositiveInfinity, maxX = double.NegativeInfinity, maxZ = double.NegativeInfinity;
        void Extend(double x, double z) { minX = Math.Min(minX, x); maxX = Math.Max(maxX, x); minZ = Math.Min(minZ, z); maxZ = Math.Max(maxZ, z); }
        foreach (var f in fs) { Extend(f.X0, f.Z0); Extend(f.X1, f.Z1); }
        if (scene.Ground is { } g) { Extend(g.X0, g.Z0); Extend(g.X1, g.Z1); }
        double cell = scene.GridCell > 0 ? scene.GridCell : Math.Max(1, Math.Max(maxX - minX, maxZ - minZ) / 16);
        var grid = new Grid
        {
            X0 = minX - 2 * GridPad, Z0 = minZ - 2 * GridPad, Cell = cell,
            Nx = Math.Max(1, (int)Math.Ceiling((maxX - minX + 4 * GridPad) / cell)),
            Nz = Math.Max(1, (int)Math.Ceiling((maxZ - minZ + 4 * GridPad) / cell)),
            MaxHeight = fs.Count == 0 ? 0 : fs.Max(f => f.Height),
        };
        int cells = grid.Nx * grid.Nz;
        var facadeLists = new List<int>[cells];
        for (int c = 0; c < cells; c++) facadeLists[c] = new List<int>();
        for (int i = 0; i < fs.Count; i++)
        {
            var f = fs[i];
            // Cells the padded segment passes near: the cells of its padded bounding box whose
            // rectangle lies within the pad of the segment.
            int ix0 = CellIndex(Math.Min(f.X0, f.X1) - GridPad, grid.X0, cell, grid.Nx), ix1 = CellIndex(Math.Max(f.X0, f.X1) + GridPad, grid.X0, cell, grid.Nx);
            int iz0 = CellIndex(Math.Min(f.Z0, f.Z1) - GridPad, grid.Z0, cell, grid.Nz), iz1 = CellIndex(Math.Max(f.Z0, f.Z1) + GridPad, grid.Z0, cell, grid.Nz);
            for (int iz = iz0; iz <= iz1; iz++)
                for (int ix = ix0; ix <= ix1; ix++)
                    if (SegmentNearRect(f, grid.X0 + ix * cell, grid.Z0 + iz * cell, cell, GridPad)) facadeLists[iz * grid.Nx + ix].Add(i);
        }
        (grid.FacadeStart, grid.FacadeItems) = Flatten(facadeLists);

        var lampLists = new List<int>[cells];
        for (int c = 0; c < cells; c++) lampLists[c] = new List<int>();
        var amb = scene.Night.Ambient;
        for (int l = 0; l < scene.Lamps.Count; l++)
        {
            var lamp = scene.Lamps[l];
            // A lamp's term I·exp(−d²/2σ²) below ambient·2⁻⁶⁰ is under half an ulp of the running sum
            // (which starts at the ambient light and only grows), so adding it changes nothing:
            // dropping it keeps the bytes. Without ambient light every lamp counts.
            double reach = amb > 0 ? lamp.Sigma * Math.Sqrt(2 * Math.Max(0, Math.Log(lamp.Intensity / (amb * Math.Pow(2, -60))))) * 1.001 + GridPad : double.PositiveInfinity;
            for (int iz = 0; iz < grid.Nz; iz++)
                for (int ix = 0; ix < grid.Nx; ix++)
                {
                    double rx0 = grid.X0 + ix * cell, rz0 = grid.Z0 + iz * cell;
                    double ddx = Math.Max(0, Math.Max(rx0 - lamp.X, lamp.X - (rx0 + cell))), ddz = Math.Max(0, Math.Max(rz0 - lamp.Z, lamp.Z - (rz0 + cell)));
                    if (ddx * ddx + ddz * ddz <= reach * reach) lampLists[iz * grid.Nx + ix].Add(l);
                }
        }
        (grid.LampStart, grid.LampItems) = Flatten(lampLists);
        return grid;
    }

    private static int CellIndex(double v, double origin, double cell, int n) => Math.Clamp((int)Math.Floor((v - origin) / cell), 0, n - 1);

    /// <summary>Whether the facade's footprint comes within <paramref name="pad"/> of the square cell (conservative).</summary>
    private static bool SegmentNearRect(Facade f, double rx, double rz, double cell, double pad)
    {
        // Clip the segment against the padded rectangle (Liang–Barsky).
        double t0 = 0, t1 = 1, dx = f.X1 - f.X0, dz = f.Z1 - f.Z0;
        bool Clip(double p, double q)
        {
            if (p == 0) return q >= 0;
            double r = q / p;
            if (p < 0) { if (r > t1) return false; if (r > t0) t0 = r; }
            else { if (r < t0) return false; if (r < t1) t1 = r; }
            return true;
        }
        return Clip(-dx, f.X0 - (rx - pad)) && Clip(dx, rx + cell + pad - f.X0) && Clip(-dz, f.Z0 - (rz - pad)) && Clip(dz, rz + cell + pad - f.Z0);
    }

    private static (int[] Start, int[] Items) Flatten(List<int>[] lists)
    {
        var start = new int[lists.Length + 1];
        for (int c = 0; c < lists.Length; c++) start[c + 1] = start[c] + lists[c].Count;
        var items = new int[start[^1]];
        for (int c = 0; c < lists.Length; c++) lists[c].CopyTo(items, start[c]);
        return (start, items);
    }

    /// <summary>The nearest facade along C + s·d, 1e-6 &lt; s &lt; <paramref name="limit"/> as far as the
    /// walk goes, by walking the grid; <paramref name="best"/> and <paramref name="hit"/> as
    /// <see cref="TestFacade"/> leaves them.</summary>
    private void WalkGrid(double cx, double cy, double cz, double dx, double dy, double dz, double limit, ref double best, ref int hit, ref double hs, ref double ht)
    {
        var g = _grid!;
        if (dy > 0)
        {
            // Above every roof from here on: no facade can be hit (margin for rounding).
            double top = (g.MaxHeight - cy) / dy;
            limit = Math.Min(limit, top + Math.Abs(top) * 1e-9 + 1e-9);
        }
        double gx1 = g.X0 + g.Nx * g.Cell, gz1 = g.Z0 + g.Nz * g.Cell;
        double tIn = 0, tOut = limit;
        if (!Slab(cx, dx, g.X0, gx1, ref tIn, ref tOut) || !Slab(cz, dz, g.Z0, gz1, ref tIn, ref tOut)) return;
        double x = cx + tIn * dx, z = cz + tIn * dz;
        int ix = Math.Clamp((int)Math.Floor((x - g.X0) / g.Cell), 0, g.Nx - 1), iz = Math.Clamp((int)Math.Floor((z - g.Z0) / g.Cell), 0, g.Nz - 1);
        int stepX = dx > 0 ? 1 : dx < 0 ? -1 : 0, stepZ = dz > 0 ? 1 : dz < 0 ? -1 : 0;
        double tMaxX = stepX == 0 ? double.PositiveInfinity : (g.X0 + (ix + (stepX > 0 ? 1 : 0)) * g.Cell - cx) / dx;
        double tMaxZ = stepZ == 0 ? double.PositiveInfinity : (g.Z0 + (iz + (stepZ > 0 ? 1 : 0)) * g.Cell - cz) / dz;
        double tDeltaX = stepX == 0 ? double.PositiveInfinity : g.Cell / Math.Abs(dx), tDeltaZ = stepZ == 0 ? double.PositiveInfinity : g.Cell / Math.Abs(dz);
        while (true)
        {
            int c = iz * g.Nx + ix;
            for (int k = g.FacadeStart[c]; k < g.FacadeStart[c + 1]; k++)
                TestFacade(g.FacadeItems[k], cx, cy, cz, dx, dy, dz, ref best, ref hit, ref hs, ref ht);
            double exit = Math.Min(tMaxX, tMaxZ);
            if (hit >= 0 && best < exit) return;   // nothing beyond this cell can be nearer
            if (exit > tOut) return;
            if (tMaxX < tMaxZ) { ix += stepX; tMaxX += tDeltaX; if (ix < 0 || ix >= g.Nx) return; }
            else { iz += stepZ; tMaxZ += tDeltaZ; if (iz < 0 || iz >= g.Nz) return; }
        }
    }

    /// <summary>Clips [tIn, tOut] to the ray's parameters inside the slab lo ≤ c + t·d ≤ hi; false when empty.</summary>
    private static bool Slab(double c, double d, double lo, double hi, ref double tIn, ref double tOut)
    {
        if (d == 0) return c >= lo && c <= hi;
        double a = (lo - c) / d, b = (hi - c) / d;
        if (a > b) (a, b) = (b, a);
        tIn = Math.Max(tIn, a); tOut = Math.Min(tOut, b);
        return tIn <= tOut;
    }
}
