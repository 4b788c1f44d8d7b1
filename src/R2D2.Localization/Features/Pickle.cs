using System.Buffers.Binary;
using System.Text;

namespace R2D2.Localization.Features;

/// <summary>A Python global (module.name) met in a pickle, e.g. torch._utils._rebuild_tensor_v2.</summary>
public sealed record PyGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>The result of calling a global we do not model (REDUCE/NEWOBJ): keeps its arguments,
/// and whatever BUILD, SETITEMS or APPENDS put into it, so unknown objects still parse.</summary>
public sealed class PyObject
{
    public PyObject(PyGlobal type, object?[] args) { Type = type; Args = args; }
    public PyGlobal Type { get; }
    public object?[] Args { get; }
    public object? State { get; set; }
    public Dictionary<object, object?> Items { get; } = new();
    public List<object?> List { get; } = new();
    public override string ToString() => $"{Type}(...)";
}

/// <summary>
/// A minimal unpickler for what torch.save writes (protocols 2 to 4). It executes no code:
/// globals become <see cref="PyGlobal"/> values and calls become <see cref="PyObject"/>s,
/// except the few that a checkpoint needs (OrderedDict, tensor rebuilds), which the caller
/// handles through <paramref name="reduce"/>.
/// </summary>
public sealed class Unpickler
{
    private readonly Stream _s;
    private readonly Func<object?, object?>? _persistentLoad;
    private readonly Func<PyGlobal, object?[], object?>? _reduce;
    private readonly Dictionary<int, object?> _memo = new();
    private readonly List<object?> _stack = new();
    private readonly Stack<int> _marks = new();

    private static readonly object Mark = new();

    public Unpickler(Stream s, Func<object?, object?>? persistentLoad = null, Func<PyGlobal, object?[], object?>? reduce = null)
    {
        _s = s;
        _persistentLoad = persistentLoad;
        _reduce = reduce;
    }

    public object? Load()
    {
        _stack.Clear();
        _marks.Clear();
        _memo.Clear();
        while (true)
        {
            int op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break; // PROTO
                case 0x95: ReadExact(8); break; // FRAME (protocol 4): length only
                case '.': return Pop(); // STOP
                case '(': _marks.Push(_stack.Count); break; // MARK
                case 'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case 'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4))); break;
                case 'K': Push((long)ReadByte()); break;
                case 'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadExact(2))); break;
                case 0x8a: Push(ReadLong(ReadByte())); break; // LONG1
                case 0x8b: Push(ReadLong(BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4)))); break; // LONG4
                case 'I': Push(ParseIntLine(ReadLine())); break; // INT (protocol 0)
                case 'L': Push(long.Parse(ReadLine().TrimEnd('L'))); break; // LONG (protocol 0)
                case 'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadExact(8))); break; // BINFLOAT
                case 'F': Push(double.Parse(ReadLine(), System.Globalization.CultureInfo.InvariantCulture)); break;
                case 'X': Push(Encoding.UTF8.GetString(ReadExact(BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4))))); break; // BINUNICODE
                case 0x8c: Push(Encoding.UTF8.GetString(ReadExact(ReadByte()))); break; // SHORT_BINUNICODE
                case 0x8d: Push(Encoding.UTF8.GetString(ReadExact(checked((int)BinaryPrimitives.ReadInt64LittleEndian(ReadExact(8)))))); break;
                case 'U': Push(Encoding.Latin1.GetString(ReadExact(ReadByte()))); break; // SHORT_BINSTRING
                case 'T': Push(Encoding.Latin1.GetString(ReadExact(BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4))))); break; // BINSTRING
                case 'C': Push(ReadExact(ReadByte())); break; // SHORT_BINBYTES
                case 'B': Push(ReadExact(BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4)))); break; // BINBYTES
                case 'V': Push(ReadLine()); break; // UNICODE (protocol 0, raw-unicode-escape; ASCII suffices here)
                case ']': Push(new List<object?>()); break;
                case '}': Push(new Dictionary<object, object?>()); break;
                case ')': Push(Array.Empty<object?>()); break;
                case 0x8f: Push(new HashSet<object>()); break; // EMPTY_SET
                case 'l': Push(PopMark().ToList()); break; // LIST
                case 't': Push(PopMark()); break; // TUPLE
                case 0x85: Push(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case 'd': { var items = PopMark(); var d = new Dictionary<object, object?>(); for (int i = 0; i < items.Length; i += 2) d[Key(items[i])] = items[i + 1]; Push(d); break; }
                case 'a': { var v = Pop(); Append(Peek(), v); break; } // APPEND
                case 'e': { var items = PopMark(); foreach (var v in items) Append(Peek(), v); break; } // APPENDS
                case 0x90: { var items = PopMark(); var set = (HashSet<object>)Peek()!; foreach (var v in items) set.Add(Key(v)); break; } // ADDITEMS
                case 's': { var v = Pop(); var k = Pop(); SetItem(Peek(), k, v); break; } // SETITEM
                case 'u': { var items = PopMark(); for (int i = 0; i < items.Length; i += 2) SetItem(Peek(), items[i], items[i + 1]); break; } // SETITEMS
                case 'q': _memo[ReadByte()] = Peek(); break; // BINPUT
                case 'r': _memo[BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4))] = Peek(); break; // LONG_BINPUT
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case 'p': _memo[int.Parse(ReadLine())] = Peek(); break; // PUT
                case 'h': Push(_memo[ReadByte()]); break; // BINGET
                case 'j': Push(_memo[BinaryPrimitives.ReadInt32LittleEndian(ReadExact(4))]); break; // LONG_BINGET
                case 'g': Push(_memo[int.Parse(ReadLine())]); break; // GET
                case 'c': { var module = ReadLine(); var name = ReadLine(); Push(new PyGlobal(module, name)); break; } // GLOBAL
                case 0x93: { var name = (string)Pop()!; var module = (string)Pop()!; Push(new PyGlobal(module, name)); break; } // STACK_GLOBAL
                case 'R': { var args = (object?[])Pop()!; var f = Pop(); Push(Call(f, args)); break; } // REDUCE
                case 0x81: { var args = (object?[])Pop()!; var cls = Pop(); Push(Call(cls, args)); break; } // NEWOBJ
                case 0x92: { Pop(); var args = (object?[])Pop()!; var cls = Pop(); Push(Call(cls, args)); break; } // NEWOBJ_EX
                case 'b': { var state = Pop(); Build(Peek(), state); break; } // BUILD
                case 'Q': { var pid = Pop(); Push(PersistentLoad(pid)); break; } // BINPERSID
                case 'P': Push(PersistentLoad(ReadLine())); break; // PERSID
                case '0': Pop(); break; // POP
                case '1': PopMark(); break; // POP_MARK
                case '2': Push(Peek()); break; // DUP
                default:
                    throw new DataFormatException($"unsupported pickle opcode 0x{op:x2} at byte {_s.Position - 1}");
            }
        }
    }

    private object? PersistentLoad(object? pid) =>
        _persistentLoad is null ? throw new DataFormatException("pickle holds persistent ids but no loader was given") : _persistentLoad(pid);

    private object? Call(object? f, object?[] args)
    {
        if (f is not PyGlobal g) throw new DataFormatException($"pickle calls a non-global ({f})");
        var r = _reduce?.Invoke(g, args);
        return r ?? new PyObject(g, args);
    }

    private static void Build(object? target, object? state)
    {
        if (target is PyObject o) o.State = state;
        // Other targets (an OrderedDict's _metadata, say) carry nothing we need.
    }

    private static void Append(object? target, object? v)
    {
        switch (target)
        {
            case List<object?> l: l.Add(v); break;
            case PyObject o: o.List.Add(v); break;
            default: throw new DataFormatException($"pickle appends to a {target?.GetType().Name ?? "None"}");
        }
    }

    private static void SetItem(object? target, object? k, object? v)
    {
        switch (target)
        {
            case IDictionary<object, object?> d: d[Key(k)] = v; break;
            case PyObject o: o.Items[Key(k)] = v; break;
            default: throw new DataFormatException($"pickle sets an item on a {target?.GetType().Name ?? "None"}");
        }
    }

    private static object Key(object? k) => k switch
    {
        null => "None",
        object?[] t => string.Join(",", t.Select(x => x?.ToString())), // tuples as keys: rare, keep a stable form
        _ => k,
    };

    private static long ParseIntLine(string s) => s switch { "00" => 0, "01" => 1, _ => long.Parse(s) };

    private long ReadLong(int n)
    {
        var b = ReadExact(n);
        if (n == 0) return 0;
        if (n > 8)
        {
            // Python longs wider than 64 bits (torch's magic number): keep the low 64 bits.
            var big = new System.Numerics.BigInteger(b, isUnsigned: false, isBigEndian: false);
            return (long)(ulong)(big & ulong.MaxValue);
        }
        long v = 0;
        for (int i = n - 1; i >= 0; i--) v = (v << 8) | b[i];
        if (n < 8 && (b[n - 1] & 0x80) != 0) v -= 1L << (8 * n); // sign-extend
        return v;
    }

    private void Push(object? o) => _stack.Add(o);
    private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw new DataFormatException("pickle stack underflow");
    private object? Pop()
    {
        var o = Peek();
        _stack.RemoveAt(_stack.Count - 1);
        if (ReferenceEquals(o, Mark)) throw new DataFormatException("pickle stack corrupted");
        return o;
    }
    private object?[] PopMark()
    {
        if (_marks.Count == 0) throw new DataFormatException("pickle MARK missing");
        int m = _marks.Pop();
        var items = _stack.GetRange(m, _stack.Count - m).ToArray();
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }

    private int ReadByte()
    {
        int b = _s.ReadByte();
        if (b < 0) throw new EndOfStreamException("unexpected end of pickle data (file truncated?)");
        return b;
    }

    private byte[] ReadExact(int n)
    {
        if (n < 0) throw new DataFormatException("negative length in pickle");
        var buf = new byte[n];
        _s.ReadExactly(buf);
        return buf;
    }

    private string ReadLine()
    {
        var sb = new StringBuilder();
        while (true)
        {
            int c = ReadByte();
            if (c == '\n') return sb.ToString();
            sb.Append((char)c);
        }
    }
}
