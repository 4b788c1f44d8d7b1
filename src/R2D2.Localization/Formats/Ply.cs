using System.Globalization;
using System.Text;

namespace R2D2.Localization.Formats;

/// <summary>ASCII PLY point clouds (x y z red green blue), readable by MeshLab, CloudCompare, Open3D.</summary>
public static class Ply
{
    public static void Write(string path, IReadOnlyList<(double X, double Y, double Z, byte R, byte G, byte B)> points)
    {
        var sb = new StringBuilder();
        sb.Append("ply\nformat ascii 1.0\n");
        sb.Append($"element vertex {points.Count}\n");
        sb.Append("property float x\nproperty float y\nproperty float z\nproperty uchar red\nproperty uchar green\nproperty uchar blue\nend_header\n");
        var inv = CultureInfo.InvariantCulture;
        foreach (var p in points)
            sb.Append($"{((float)p.X).ToString("R", inv)} {((float)p.Y).ToString("R", inv)} {((float)p.Z).ToString("R", inv)} {p.R} {p.G} {p.B}\n");
        OutputFile.WriteAllText(path, sb.ToString());
    }
}
