
namespace R2D2.Localization.Formats;

/// <summary>Where extracted features are written, one file per image.</summary>
public enum FeatureFileFormat
{
    /// <summary>The project's format: safetensors, pixel-centre coordinates, metadata with the model and settings.</summary>
    Safetensors,
    /// <summary>The official `.r2d2` file (numpy npz), official coordinates and ascending score order.</summary>
    R2d2,
}

/// <summary>
/// Feature files. The project's `&lt;image file name&gt;.features.safetensors` holds, best score first:
/// keypoints N×2 F32 (x, y; centre of the top-left pixel = (0, 0)), scales N F32 (official 32/s),
/// scores N F32, reliability N F32, repeatability N F32, descriptors N×D F32 (L2-normalized), and
/// metadata: format, image_width, image_height, model, net, weights, settings (JSON), coordinates.
/// The official `&lt;image file name&gt;.r2d2` npz holds imsize (W, H) (PIL's img.size), keypoints N×3 (x, y, scale),
/// descriptors N×D and scores N, in ascending score order, with x = i·W/w as extract.py writes.
/// </summary>
public static class FeatureFiles
{
    public const string FormatTag = "r2d2.localization/features-1";
    public const string CoordinateConvention = "pixel-centre: the centre of the top-left pixel is (0,0)";

    public static string FileName(string imagePath, FeatureFileFormat format) =>
        Path.GetFileName(imagePath) + (format == FeatureFileFormat.R2d2 ? ".r2d2" : ".features.safetensors");

    public static void Write(string path, FeatureSet f, FeatureFileFormat format, IReadOnlyDictionary<string, string> metadata)
    {
        if (format == FeatureFileFormat.R2d2) WriteOfficial(path, f);
        else WriteSafetensors(path, f, metadata);
    }

    public static void WriteOfficial(string path, FeatureSet f)
    {
        int n = f.Count;
        var kp = new float[n * 3];
        var order = Enumerable.Range(0, n).Reverse().ToArray(); // ours is best first; the official file ascends
        for (int k = 0; k < n; k++)
        {
            int i = order[k];
            kp[3 * k] = f.OfficialX[i]; kp[3 * k + 1] = f.OfficialY[i]; kp[3 * k + 2] = f.Scale[i];
        }
        var d = new float[n * f.Dim];
        for (int k = 0; k < n; k++) f.Descriptor(order[k]).CopyTo(d.AsSpan(k * f.Dim));
        Npz.Write(path, new Dictionary<string, NpyArray>
        {
            ["imsize"] = NpyArray.Of(new long[] { f.ImageWidth, f.ImageHeight }, 2),
            ["keypoints"] = NpyArray.Of(kp, n, 3),
            ["descriptors"] = NpyArray.Of(d, n, f.Dim),
            ["scores"] = NpyArray.Of(order.Select(i => f.Score[i]).ToArray(), n),
        });
    }

    public static void WriteSafetensors(string path, FeatureSet f, IReadOnlyDictionary<string, string> metadata)
    {
        int n = f.Count;
        var xy = new float[2 * n];
        for (int i = 0; i < n; i++) { xy[2 * i] = f.X[i]; xy[2 * i + 1] = f.Y[i]; }
        var meta = new Dictionary<string, string>(metadata)
        {
            ["format"] = FormatTag,
            ["image_width"] = f.ImageWidth.ToString(),
            ["image_height"] = f.ImageHeight.ToString(),
            ["coordinates"] = CoordinateConvention,
        };
        SafeTensors.Write(path, new Dictionary<string, CheckpointTensor>
        {
            ["keypoints"] = CheckpointTensor.FromFloat32(xy, n, 2),
            ["scales"] = CheckpointTensor.FromFloat32(f.Scale, n),
            ["scores"] = CheckpointTensor.FromFloat32(f.Score, n),
            ["reliability"] = CheckpointTensor.FromFloat32(f.Reliability, n),
            ["repeatability"] = CheckpointTensor.FromFloat32(f.Repeatability, n),
            ["descriptors"] = CheckpointTensor.FromFloat32(f.Descriptors, n, f.Dim),
        }, meta);
    }

    /// <summary>Reads the project's feature file; the official coordinates are not stored there.</summary>
    public static (FeatureSet Features, IReadOnlyDictionary<string, string> Metadata) ReadSafetensors(string path)
    {
        var st = SafeTensors.Read(path);
        if (!st.Metadata.TryGetValue("format", out var fmt) || fmt != FormatTag)
            throw new FileFormatException(path, 0, $"not a feature file of this project (format '{fmt}')");
        var t = st.Tensors;
        var xy = t["keypoints"].ToFloat32();
        int n = xy.Length / 2;
        var desc = t["descriptors"];
        var f = new FeatureSet
        {
            ImageWidth = int.Parse(st.Metadata["image_width"]),
            ImageHeight = int.Parse(st.Metadata["image_height"]),
            X = Enumerable.Range(0, n).Select(i => xy[2 * i]).ToArray(),
            Y = Enumerable.Range(0, n).Select(i => xy[2 * i + 1]).ToArray(),
            OfficialX = new float[n], OfficialY = new float[n],
            Scale = t["scales"].ToFloat32(), Score = t["scores"].ToFloat32(),
            Reliability = t["reliability"].ToFloat32(), Repeatability = t["repeatability"].ToFloat32(),
            Descriptors = desc.ToFloat32(), Dim = n == 0 ? (int)desc.Shape[^1] : (int)desc.Shape[1],
        };
        return (f, st.Metadata);
    }
}
