using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Features;

/// <summary>
/// Writes PyTorch's zip serialization (torch.save since 1.6) of {'net': str, 'state_dict':
/// OrderedDict[str, Tensor]}: archive/data.pkl (pickle protocol 2 whose tensors are
/// torch._utils._rebuild_tensor_v2 calls on persistent storage ids), archive/data/&lt;key&gt;
/// (raw little-endian storages), archive/version and archive/byteorder. Only globals that
/// torch.load(weights_only=True) allows are used.
/// </summary>
internal static class TorchZipWriter
{
    public static void Write(string path, string net, IReadOnlyDictionary<string, CheckpointTensor> stateDict)
    {
        var pkl = new MemoryStream();
        var w = new BinaryWriter(pkl);
        w.Write((byte)0x80); w.Write((byte)2); // PROTO 2
        w.Write((byte)'}'); // the top dict
        w.Write((byte)'(');
        Str(w, "net"); Str(w, net);
        Str(w, "state_dict");
        Global(w, "collections", "OrderedDict"); w.Write((byte)')'); w.Write((byte)'R');
        w.Write((byte)'(');
        int key = 0;
        foreach (var (name, t) in stateDict)
        {
            Str(w, name);
            Global(w, "torch._utils", "_rebuild_tensor_v2");
            w.Write((byte)'(');
            // persistent id ('storage', type, key, location, numel)
            w.Write((byte)'(');
            Str(w, "storage");
            Global(w, "torch", StorageName(t.DType));
            Str(w, key.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Str(w, "cpu");
            Int(w, t.Count);
            w.Write((byte)'t');
            w.Write((byte)'Q');
            Int(w, 0); // storage offset
            Tuple(w, t.Shape);
            Tuple(w, ContiguousStrides(t.Shape));
            w.Write((byte)0x89); // requires_grad False
            Global(w, "collections", "OrderedDict"); w.Write((byte)')'); w.Write((byte)'R'); // backward hooks
            w.Write((byte)'t');
            w.Write((byte)'R');
            key++;
        }
        w.Write((byte)'u'); // state_dict items
        w.Write((byte)'u'); // top dict items
        w.Write((byte)'.');
        w.Flush();

        OutputFile.Write(path, f =>
        {
            using var zip = new ZipArchive(f, ZipArchiveMode.Create, leaveOpen: true);
            Entry(zip, "archive/data.pkl", pkl.ToArray());
            Entry(zip, "archive/byteorder", Encoding.ASCII.GetBytes("little"));
            key = 0;
            foreach (var t in stateDict.Values) Entry(zip, $"archive/data/{key++}", t.Data);
            Entry(zip, "archive/version", Encoding.ASCII.GetBytes("3\n"));
        });
    }

    private static void Entry(ZipArchive zip, string name, byte[] data)
    {
        var e = zip.CreateEntry(name, CompressionLevel.NoCompression);
        using var s = e.Open();
        s.Write(data);
    }

    private static string StorageName(TensorDType t) => t switch
    {
        TensorDType.F32 => "FloatStorage",
        TensorDType.F64 => "DoubleStorage",
        TensorDType.F16 => "HalfStorage",
        TensorDType.BF16 => "BFloat16Storage",
        TensorDType.I64 => "LongStorage",
        TensorDType.I32 => "IntStorage",
        TensorDType.I16 => "ShortStorage",
        TensorDType.I8 => "CharStorage",
        TensorDType.U8 => "ByteStorage",
        _ => "BoolStorage",
    };

    private static long[] ContiguousStrides(long[] shape)
    {
        var s = new long[shape.Length];
        long acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    private static void Str(BinaryWriter w, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        w.Write((byte)'X'); w.Write(b.Length); w.Write(b);
    }

    private static void Global(BinaryWriter w, string module, string name)
    {
        w.Write((byte)'c'); w.Write(Encoding.ASCII.GetBytes(module + "\n" + name + "\n"));
    }

    private static void Int(BinaryWriter w, long v)
    {
        if (v is >= int.MinValue and <= int.MaxValue) { w.Write((byte)'J'); w.Write((int)v); return; }
        w.Write((byte)0x8a); w.Write((byte)8); w.Write(v); // LONG1, 8 bytes little-endian
    }

    private static void Tuple(BinaryWriter w, long[] values)
    {
        w.Write((byte)'(');
        foreach (var v in values) Int(w, v);
        w.Write((byte)'t');
    }
}
