using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using R2D2.Localization.Formats;

namespace R2D2.Localization.Features;

/// <summary>
/// A model checkpoint: the architecture string (the official `net` entry, e.g.
/// "Quad_L2Net_ConfCFS()") and the state dict with any "module." prefix removed.
/// Reads PyTorch's legacy torch.save format (what NAVER publishes), PyTorch's zip format and the
/// project's own safetensors files; writes safetensors and the zip format.
/// </summary>
public sealed class Checkpoint
{
    public const string FormatTag = "r2d2.localization/checkpoint-1";

    public Checkpoint(string net, IReadOnlyDictionary<string, CheckpointTensor> stateDict, IReadOnlyDictionary<string, string>? metadata = null)
    {
        Net = net;
        StateDict = stateDict;
        Metadata = metadata ?? new Dictionary<string, string>();
    }

    /// <summary>A checkpoint saved by this project: the `net` string is in the metadata.</summary>
    public static Checkpoint FromSafeTensors(SafeTensors st)
    {
        if (!st.Metadata.TryGetValue("net", out var net))
            throw new DataFormatException("safetensors file has no 'net' entry in its metadata: not a model checkpoint");
        return new Checkpoint(net, st.Tensors, st.Metadata.Where(kv => kv.Key != "net").ToDictionary(kv => kv.Key, kv => kv.Value));
    }

    public string Net { get; }
    /// <summary>Parameters and buffers by name, in the checkpoint's order, without "module.".</summary>
    public IReadOnlyDictionary<string, CheckpointTensor> StateDict { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>A checkpoint that is not there (or a folder) is said as <see cref="Load"/> says it,
    /// without reading it: for a job to refuse it before it starts.</summary>
    public static void RefuseMissing(string path)
    {
        if (Directory.Exists(path)) throw new CheckpointException(path, "is a folder: give a checkpoint file (.pt, .pth or .safetensors)");
        if (!File.Exists(path))
            throw new CheckpointException(path, "file not found (the official checkpoints are NAVER's, https://github.com/naver/r2d2, folder models/; "
                + "'default' is the project's own model, embedded)");
    }

    /// <summary>Loads any supported format; errors name the file.</summary>
    public static Checkpoint Load(string path)
    {
        RefuseMissing(path);
        try
        {
            using var f = File.OpenRead(path);
            var head = new byte[9];
            int n = f.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
            f.Position = 0;
            // safetensors before pickle: its first byte is its header length's lowest, 0x80 (pickle's
            // PROTO) in one file of 256, some written by this program (a legacy file's 9th byte is its magic's).
            var checkpoint = n >= 2 && head[0] == (byte)'P' && head[1] == (byte)'K' ? LoadTorchZip(f)
                : n == 9 && head[8] == (byte)'{' ? FromSafeTensors(SafeTensors.Read(f))
                : n >= 1 && head[0] == 0x80 ? LoadTorchLegacy(f)
                : throw new DataFormatException("not a PyTorch checkpoint (legacy or zip) nor a safetensors file");
            // A diverged training's weights: every output would be NaN, every query a fallback pose.
            foreach (var (name, t) in checkpoint.StateDict)
            {
                if (t.DType is not (TensorDType.F32 or TensorDType.F64 or TensorDType.F16 or TensorDType.BF16)) continue;
                // float32 (every published checkpoint) is read in place; the others converted once.
                ReadOnlySpan<float> values = t.DType == TensorDType.F32 ? System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(t.Data) : t.ToFloat32();
                int i = 0;
                while (i < values.Length && float.IsFinite(values[i])) i++;
                if (i < values.Length)
                    throw new DataFormatException($"'{name}' holds a non-finite value ({values[i]} at index {i}): the weights are broken (a diverged training?)");
                // A variance below zero: batch norm's square root of it is NaN, every feature lost (0 keypoints, no word).
                if (name.EndsWith("running_var", StringComparison.Ordinal) && values.IndexOfAnyExceptInRange(0f, float.MaxValue) is int neg and >= 0)
                    throw new DataFormatException($"'{name}' holds a negative variance ({values[neg]} at index {neg}): the weights are broken");
            }
            return checkpoint;
        }
        catch (Exception e) when (e is EndOfStreamException)
        {
            throw new CheckpointException(path, "file is truncated (ends before its data does)", e);
        }
        catch (Exception e) when (e is InvalidDataException)
        {
            // .NET's zip reader says only "End of Central Directory record could not be found".
            throw new CheckpointException(path, $"a damaged or truncated zip (PyTorch) checkpoint: {e.Message}", e);
        }
        catch (Exception e) when (e is JsonException)
        {
            throw new CheckpointException(path, $"a damaged safetensors header (not JSON): {e.Message}", e);
        }
        catch (Exception e) when (e is DataFormatException or KeyNotFoundException)
        {
            throw new CheckpointException(path, e.Message, e);
        }
        // The pickle machine's and the strided copy's failures on damaged bytes: said as damage, not
        // as .NET's words ("Unable to cast object of type 'PyGlobal'", "Index was outside the bounds").
        catch (Exception e) when (e is InvalidCastException or FormatException or ArgumentException or IndexOutOfRangeException or OverflowException or InvalidOperationException)
        {
            throw new CheckpointException(path, $"a damaged checkpoint ({e.GetType().Name}: {e.Message})", e);
        }
    }

    private const ulong TorchLegacyMagic = 0xa86a20f9469cfc6cUL; // low 64 bits of 0x1950a86a20f9469cfc6c

    private sealed record StorageRef(string Key, TensorDType DType, long Count)
    {
        public byte[]? Data { get; set; }
    }

    private sealed record TensorRef(StorageRef Storage, long Offset, long[] Shape, long[] Stride);

    private static Checkpoint LoadTorchLegacy(Stream f)
    {
        var plain = new Unpickler(f);
        if (plain.Load() is not long magic || unchecked((ulong)magic) != TorchLegacyMagic)
            throw new DataFormatException("legacy torch file with a wrong magic number");
        if (plain.Load() is not long protocol || protocol != 1001)
            throw new DataFormatException($"unsupported legacy torch protocol");
        if (plain.Load() is Dictionary<object, object?> sysInfo && sysInfo.TryGetValue("little_endian", out var le) && le is false)
            throw new DataFormatException("big-endian checkpoints are not supported");

        var storages = new Dictionary<string, StorageRef>();
        var root = new Unpickler(f, pid => PersistentStorage(pid, storages), RebuildCall).Load();
        if (new Unpickler(f).Load() is not List<object?> keys) throw new DataFormatException("storage key list missing");
        var buf8 = new byte[8];
        foreach (var k in keys)
        {
            var key = (string)k!;
            if (!storages.TryGetValue(key, out var st)) throw new DataFormatException($"storage {key} is not referenced");
            f.ReadExactly(buf8);
            long count = BinaryPrimitives.ReadInt64LittleEndian(buf8);
            if (count != st.Count) throw new DataFormatException($"storage {key} has {count} elements, expected {st.Count}");
            var data = new byte[checked(count * st.DType.Size())];
            f.ReadExactly(data);
            st.Data = data;
        }
        return FromRoot(root);
    }

    private static Checkpoint LoadTorchZip(Stream f)
    {
        using var zip = new ZipArchive(f, ZipArchiveMode.Read);
        var pkl = zip.Entries.FirstOrDefault(e => e.FullName.EndsWith("/data.pkl") || e.FullName == "data.pkl")
                  ?? throw new DataFormatException("zip checkpoint without data.pkl");
        string prefix = pkl.FullName[..^"data.pkl".Length];
        var storages = new Dictionary<string, StorageRef>();
        object? root;
        using (var s = pkl.Open())
        using (var ms = new MemoryStream())
        {
            s.CopyTo(ms);
            ms.Position = 0;
            root = new Unpickler(ms, pid => PersistentStorage(pid, storages), RebuildCall).Load();
        }
        foreach (var st in storages.Values)
        {
            var e = zip.GetEntry(prefix + "data/" + st.Key) ?? throw new DataFormatException($"storage data/{st.Key} missing");
            using var s = e.Open();
            var data = new byte[checked(st.Count * st.DType.Size())];
            s.ReadExactly(data);
            st.Data = data;
        }
        return FromRoot(root);
    }

    private static object PersistentStorage(object? pid, Dictionary<string, StorageRef> storages)
    {
        // ('storage', storage_type, key, location, numel[, view_metadata]); the location
        // ('cpu', 'cuda:0', ...) is ignored: everything loads to host memory.
        if (pid is not object?[] t || t.Length < 5 || t[0] as string != "storage")
            throw new DataFormatException("unexpected persistent id in checkpoint");
        if (t.Length > 5 && t[5] is not null) throw new DataFormatException("storage views are not supported");
        var type = (PyGlobal)t[1]!;
        var dtype = type.Name switch
        {
            "FloatStorage" => TensorDType.F32,
            "DoubleStorage" => TensorDType.F64,
            "HalfStorage" => TensorDType.F16,
            "BFloat16Storage" => TensorDType.BF16,
            "LongStorage" => TensorDType.I64,
            "IntStorage" => TensorDType.I32,
            "ShortStorage" => TensorDType.I16,
            "CharStorage" => TensorDType.I8,
            "ByteStorage" => TensorDType.U8,
            "BoolStorage" => TensorDType.BOOL,
            _ => throw new DataFormatException($"unsupported storage type {type}"),
        };
        var key = Convert.ToString(t[2], System.Globalization.CultureInfo.InvariantCulture)!;
        if (!storages.TryGetValue(key, out var st))
            storages[key] = st = new StorageRef(key, dtype, Convert.ToInt64(t[4]));
        return st;
    }

    private static object? RebuildCall(PyGlobal g, object?[] args)
    {
        switch (g.Module, g.Name)
        {
            case ("torch._utils", "_rebuild_tensor_v2"):
            case ("torch._utils", "_rebuild_tensor"):
                return new TensorRef((StorageRef)args[0]!, Convert.ToInt64(args[1]), Longs(args[2]), Longs(args[3]));
            case ("torch._utils", "_rebuild_parameter"):
            case ("torch._utils", "_rebuild_parameter_with_state"):
                return args[0];
            case ("collections", "OrderedDict"):
                return new Dictionary<object, object?>();
            default:
                return null; // kept as a PyObject
        }
    }

    private static long[] Longs(object? tuple) => ((object?[])tuple!).Select(Convert.ToInt64).ToArray();

    private static Checkpoint FromRoot(object? root)
    {
        if (root is not Dictionary<object, object?> top) throw new DataFormatException("checkpoint is not a dictionary");
        string net = top.TryGetValue("net", out var n) && n is string s ? s : "";
        object? sd = top.TryGetValue("state_dict", out var x) ? x : top.TryGetValue("model", out var m) ? m : null;
        if (sd is not Dictionary<object, object?> dict)
        {
            if (top.Values.Any(v => v is TensorRef)) dict = top; // a bare state_dict
            else throw new DataFormatException("checkpoint has no state_dict");
        }
        var result = new Dictionary<string, CheckpointTensor>();
        foreach (var (k, v) in dict)
        {
            if (v is not TensorRef tr) continue;
            var name = (string)k;
            if (name.StartsWith("module.", StringComparison.Ordinal)) name = name["module.".Length..];
            result[name] = Materialize(tr);
        }
        var meta = new Dictionary<string, string>();
        foreach (var (k, v) in top)
            if (k is string key && key != "net" && v is string or long or double or bool) meta[key] = Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)!;
        return new Checkpoint(net, result, meta);
    }

    private static CheckpointTensor Materialize(TensorRef t)
    {
        var src = t.Storage.Data ?? throw new DataFormatException($"storage {t.Storage.Key} has no data");
        int es = t.Storage.DType.Size();
        long count = t.Shape.Aggregate(1L, (a, b) => a * b);
        var dst = new byte[count * es];
        if (count == 0) return new CheckpointTensor(t.Storage.DType, t.Shape, dst);
        // General strided copy (checkpoints are nearly always contiguous; this costs nothing then).
        var idx = new long[t.Shape.Length];
        for (long i = 0; i < count; i++)
        {
            long off = t.Offset;
            for (int d = 0; d < idx.Length; d++) off += idx[d] * t.Stride[d];
            if ((off + 1) * es > src.LongLength) throw new DataFormatException($"tensor reads past its storage {t.Storage.Key}");
            Buffer.BlockCopy(src, (int)(off * es), dst, (int)(i * es), es);
            for (int d = idx.Length - 1; d >= 0; d--)
            {
                if (++idx[d] < t.Shape[d]) break;
                idx[d] = 0;
            }
        }
        return new CheckpointTensor(t.Storage.DType, t.Shape, dst);
    }

    /// <summary>Writes the project's format: safetensors, with the net string in the metadata.</summary>
    public void SaveSafeTensors(string path, IReadOnlyDictionary<string, string>? extraMetadata = null)
    {
        var meta = new Dictionary<string, string>(Metadata) { ["format"] = FormatTag, ["net"] = Net };
        if (extraMetadata != null) foreach (var (k, v) in extraMetadata) meta[k] = v;
        SafeTensors.Write(path, StateDict, meta);
    }

    /// <summary>Writes a zip-format torch.save file of {'net': str, 'state_dict': OrderedDict}
    /// that torch.load (1.6 and later) reads.</summary>
    public void SaveTorchZip(string path) => TorchZipWriter.Write(path, Net, StateDict);
}

public sealed class CheckpointException : R2D2Exception
{
    public CheckpointException(string path, string message, Exception? inner = null)
        : base(path, 0, message, inner) { }
    public string Path => File!;
}
