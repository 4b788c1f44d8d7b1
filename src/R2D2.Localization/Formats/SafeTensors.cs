using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace R2D2.Localization.Formats;

/// <summary>
/// The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian
/// header length, a JSON header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}},
/// then the raw little-endian tensor bytes. Used for the project's checkpoints and feature files.
/// </summary>
public sealed class SafeTensors
{
    public SafeTensors(IReadOnlyDictionary<string, CheckpointTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        Tensors = tensors;
        Metadata = metadata;
    }

    public IReadOnlyDictionary<string, CheckpointTensor> Tensors { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Only the metadata of a file: its header, without reading the tensors; throws when the
    /// file's length is not the header's and its tensors' data.</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        using var f = File.OpenRead(path);
        var b8 = new byte[8];
        f.ReadExactly(b8);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(b8);
        if (n > 100_000_000 || (long)n > f.Length - 8) throw new DataFormatException("safetensors header length is out of range");
        var header = new byte[n];
        f.ReadExactly(header);
        var root = JsonNode.Parse(header)!.AsObject();
        var meta = new Dictionary<string, string>();
        if (root["__metadata__"] is JsonObject m)
            foreach (var (k, v) in m) meta[k] = v!.GetValue<string>();
        // The tensors' data must all be there: a file cut short keeps its header (a resumed
        // extraction took such a file for done).
        long end = root.Where(e => e.Key != "__metadata__").Select(e => e.Value!["data_offsets"]!.AsArray()[1]!.GetValue<long>()).DefaultIfEmpty(0).Max();
        if (f.Length != 8 + (long)n + end)
            throw new DataFormatException($"{path}: {f.Length} bytes where the header's tensors need {8 + (long)n + end}: cut short or not one file");
        return meta;
    }

    public static SafeTensors Read(string path)
    {
        using var f = File.OpenRead(path);
        return Read(f);
    }

    public static SafeTensors Read(Stream f)
    {
        var b8 = new byte[8];
        f.ReadExactly(b8);
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(b8);
        if (n > 100_000_000 || (f.CanSeek && (long)n > f.Length - 8)) throw new DataFormatException("safetensors header length is out of range");
        var header = new byte[n];
        f.ReadExactly(header);
        var root = JsonNode.Parse(header)!.AsObject();
        var meta = new Dictionary<string, string>();
        var entries = new List<(string Name, TensorDType DType, long[] Shape, long Begin, long End)>();
        foreach (var (name, node) in root)
        {
            if (name == "__metadata__")
            {
                if (node is not JsonObject m) throw new DataFormatException("safetensors __metadata__ is not an object");
                foreach (var (k, v) in m) meta[k] = v is JsonValue sv && sv.TryGetValue(out string? text) ? text : throw new DataFormatException($"safetensors __metadata__ '{k}' is not a string");
                continue;
            }
            // Every field checked: a forged or damaged header was a NullReference or IndexOutOfRange stack trace.
            if (node is not JsonObject o) throw new DataFormatException($"tensor {name}: not an object in the safetensors header");
            var dtype = o["dtype"] is JsonValue dv && dv.TryGetValue(out string? dt) && Enum.TryParse<TensorDType>(dt, ignoreCase: false, out var d) && Enum.IsDefined(d)
                ? d : throw new DataFormatException($"tensor {name}: dtype missing or unknown");
            var shape = Longs(o["shape"], name, "shape", -1);
            var offs = Longs(o["data_offsets"], name, "data_offsets", 2);
            if (shape.Any(x => x < 0)) throw new DataFormatException($"tensor {name}: negative shape");
            entries.Add((name, dtype, shape, offs[0], offs[1]));
        }
        long dataLen = entries.Count == 0 ? 0 : entries.Max(e => e.End);
        // Within the file, and within what one array holds (an end offset past 2 GB overflowed).
        if (dataLen > Array.MaxLength || (f.CanSeek && dataLen > f.Length - 8 - (long)n)) throw new DataFormatException($"safetensors data offsets reach past the file's end ({dataLen} bytes of data)");
        var data = new byte[dataLen];
        f.ReadExactly(data);
        var tensors = new Dictionary<string, CheckpointTensor>();
        (string Name, long End) previous = ("", 0);
        foreach (var e in entries.OrderBy(e => e.Begin))
        {
            if (e.Begin < 0 || e.End < e.Begin || e.End > dataLen) throw new DataFormatException($"tensor {e.Name} has bad data offsets");
            // Two tensors sharing bytes (the format lays them one after another): a damaged or forged header
            // whose weights loaded and extracted other features.
            if (e.End > e.Begin && e.Begin < previous.End) throw new DataFormatException($"tensors {previous.Name} and {e.Name} overlap (data offsets): not a safetensors file as written");
            if (e.End > e.Begin) previous = (e.Name, e.End);
            tensors[e.Name] = new CheckpointTensor(e.DType, e.Shape, data[(int)e.Begin..(int)e.End]);
        }
        return new SafeTensors(tensors, meta);
    }

    // A header array of integers (of <paramref name="count"/> elements when ≥ 0).
    private static long[] Longs(JsonNode? node, string tensor, string field, int count)
    {
        if (node is not JsonArray a || (count >= 0 && a.Count != count)) throw new DataFormatException($"tensor {tensor}: {field} is not an array{(count >= 0 ? $" of {count} integers" : " of integers")}");
        return a.Select(x => x is JsonValue v && v.TryGetValue(out long l) ? l : throw new DataFormatException($"tensor {tensor}: {field} holds a value that is not an integer")).ToArray();
    }

    /// <summary>Writes atomically (temporary file, then rename), so a crash never leaves half a file.</summary>
    public static void Write(string path, IReadOnlyDictionary<string, CheckpointTensor> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        var header = new JsonObject();
        if (metadata.Count > 0)
        {
            var m = new JsonObject();
            foreach (var (k, v) in metadata) m[k] = v;
            header["__metadata__"] = m;
        }
        long offset = 0;
        foreach (var (name, t) in tensors)
        {
            header[name] = new JsonObject
            {
                ["dtype"] = t.DType.ToString(),
                ["shape"] = new JsonArray(t.Shape.Select(s => (JsonNode)s).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + t.Data.LongLength),
            };
            offset += t.Data.LongLength;
        }
        var json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8; // the spec recommends 8-byte alignment of the data
        OutputFile.Write(path, f =>
        {
            var b8 = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(b8, (ulong)padded);
            f.Write(b8);
            f.Write(json);
            for (int i = json.Length; i < padded; i++) f.WriteByte((byte)' ');
            foreach (var t in tensors.Values) f.Write(t.Data);
        });
    }
}
