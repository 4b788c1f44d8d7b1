using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using static TorchSharp.torch;

namespace R2D2.Localization.Tests.Features;

/// <summary>
/// Reads compiled code (IL; the PDB gives file:line) for tensors that nothing keeps alive through
/// the native call they are passed to. TorchSharp reads an argument's handle and then calls
/// libtorch without <c>GC.KeepAlive</c>; a tensor whose last reference was that read can be
/// finalized (its native tensor freed) by a GC on another thread while libtorch still uses it. A
/// tensor is safe while a <c>DisposeScope</c> that was current on the thread when it was made is
/// still current (the scope's set holds it), or while the method still uses it after the call.
/// <para>
/// Reported, at the call that may drop the tensor (as its receiver, an argument, or inside an array
/// built for it: params, <c>cat(new[] { ... })</c>): (1) a temporary, a tensor a call returned
/// that goes straight, on the IL stack, into the call (<c>a.add(b.unsqueeze(0))</c>,
/// <c>x.contiguous().view(...)</c>, either side of <c>c ? x : x.t()</c>), unless it was made in a
/// scope still current at the call; (2) a local of type Tensor or Tensor[] at its last use: not live
/// after the call (a liveness analysis over the method's control flow; a local whose address is
/// taken counts as always live), unless every store to it is in a scope current at the call. The
/// same value still on the stack (a later argument, as in <c>x = Replace(x, f(x))</c>) holds it.
/// Calls that may drop a tensor: TorchSharp's (not <c>Dispose</c> and the scope moves; not the
/// receiver of an in-place method that returns it), delegates', and ours other than constructors
/// and setters, for the parameters the method itself may drop (the same analysis applied to its
/// parameters, whatever scope it makes: a scope holds only what is made under it).
/// </para>
/// <para>
/// Each method is scanned on its own: a lambda or local function (a method of its own) needs its
/// own scope, since it may run on another thread (Parallel.For, Task.Run) where the scope of the
/// method that made it is not current. A finally is not taken to continue to where its try block
/// leaves to, so a local used only after a try block counts as dead in it after its last use there
/// (the JIT, more conservative, may keep it). Not seen: tensors reached through fields, properties,
/// captured variables, tuples, out parameters or collections (their owner keeps them), aliases
/// (<c>var y = x;</c>), virtual calls (the declared method is read), and calls through reflection or
/// <c>dynamic</c>; nor whether a scope made elsewhere is current (a method's callers' scopes do not count).
/// </para>
/// </summary>
internal static class TensorScan
{
    private static readonly Dictionary<short, OpCode> Codes = typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!).ToDictionary(o => o.Value);
    private static readonly Assembly Torch = typeof(Tensor).Assembly;

    /// <summary>"file:line: what" for each place in <paramref name="types"/> (nested types are listed on their own);
    /// <paramref name="ours"/>: the assemblies whose methods are read for the parameters they may drop.</summary>
    public static List<string> Violations(IEnumerable<Type> types, IReadOnlyCollection<Assembly> ours) =>
        ScalarScan.Report(types, (pdb, m) => Scan(m, ours).Select(x => $"{ScalarScan.Where(pdb, m, x.Offset)}: {x.What}"));

    private sealed record Instr(int Offset, OpCode Op, long Operand, MethodBase? Callee, int[] Targets);

    /// <summary>An array built on the stack: the temporaries and the slots stored in it.</summary>
    private sealed class ArrayValue
    {
        public int? Fresh;
        public readonly HashSet<int> Slots = new();
    }

    /// <summary>A stack value: a tensor a call made (at that offset), a slot's value (local or
    /// argument, see <see cref="Analysis"/>), an array we follow, or anything else.</summary>
    private readonly record struct Value(int? Fresh, int Slot, ArrayValue? Array)
    {
        public static readonly Value Other = new(null, -1, null);
        public static Value Merge(Value a, Value b) => new(a.Fresh ?? b.Fresh, a.Slot == b.Slot ? a.Slot : -1, a.Array ?? b.Array);
        public bool Same(Value o) => Fresh != null && Fresh == o.Fresh || Slot >= 0 && Slot == o.Slot || Array != null && ReferenceEquals(Array, o.Array);
    }

    /// <summary>What a method does with tensors: the places outside a scope where it passes one
    /// nothing holds, and which of its parameters it may drop during a native call (then its
    /// callers must hold what they pass there).</summary>
    private sealed record Analysis(List<(int Offset, string What)> Reports, HashSet<int> ConsumedParameters);

    private static readonly Dictionary<MethodBase, Analysis?> Summaries = new();

    private static IEnumerable<(int Offset, string What)> Scan(MethodBase m, IReadOnlyCollection<Assembly> ours) => Analyze(m, ours)?.Reports ?? new();

    /// <summary>Parameter positions (0: the receiver of an instance method) that <paramref name="callee"/>
    /// may drop during a native call; null when it consumes none that can carry a tensor.</summary>
    private static Func<int, bool>? Consumed(MethodBase callee, IReadOnlyCollection<Assembly> ours)
    {
        var t = callee.DeclaringType;
        if (t == null) return null;
        var ps = callee.GetParameters();
        bool receiver = !callee.IsStatic && callee is MethodInfo;
        Type TypeAt(int a) => receiver && a == 0 ? t : ps[a - (receiver ? 1 : 0)].ParameterType;
        if (t.Assembly == Torch)
        {
            if (callee.Name is "Dispose" or "MoveToOuterDisposeScope" or "DetachFromDisposeScope" or "MoveToOtherDisposeScope" or "get_OwningDisposeScope"
                or "NewDisposeScope" or "GetType" or "ReferenceEquals" or "Equals" or "GetHashCode") return null;
            bool keepsReceiver = receiver && PassesThrough(callee);
            return a => receiver && a == 0 ? !keepsReceiver && typeof(Tensor).IsAssignableFrom(t) : Tensorish(TypeAt(a), objects: true);
        }
        if (typeof(Delegate).IsAssignableFrom(t)) return callee.Name == "Invoke" ? a => !(receiver && a == 0) && Tensorish(TypeAt(a), objects: false) : null;
        if (!ours.Contains(t.Assembly) || callee is ConstructorInfo || callee.Name.StartsWith("set_", StringComparison.Ordinal)) return null;
        if (!Enumerable.Range(0, ps.Length + (receiver ? 1 : 0)).Any(a => Tensorish(TypeAt(a), objects: false))) return null;
        if (callee.IsAbstract || callee.IsVirtual && !callee.IsFinal && t.IsInterface)
            return a => Tensorish(TypeAt(a), objects: false); // unknown implementation
        var summary = Analyze(callee, ours);
        if (summary == null) return a => Tensorish(TypeAt(a), objects: false);
        return a => Tensorish(TypeAt(a), objects: false) && summary.ConsumedParameters.Contains(a);
    }

    private static Analysis? Analyze(MethodBase m, IReadOnlyCollection<Assembly> ours)
    {
        lock (Summaries)
        {
            if (Summaries.TryGetValue(m, out var known)) return known;
            Summaries[m] = null; // a cycle: consumes every tensor parameter
        }
        var result = AnalyzeBody(m, ours);
        lock (Summaries) Summaries[m] = result;
        return result;
    }

    private static Analysis? AnalyzeBody(MethodBase m, IReadOnlyCollection<Assembly> ours)
    {
        MethodBody? body;
        byte[]? il;
        try { body = m.GetMethodBody(); il = body?.GetILAsByteArray(); }
        catch (Exception) { return null; }
        if (body == null || il == null) return null;
        var code = Decode(m, il);
        var empty = new Analysis(new(), new());
        if (!code.Any(i => i.Callee != null && (i.Callee.DeclaringType?.Assembly == Torch || ours.Contains(i.Callee.DeclaringType?.Assembly!) || typeof(Delegate).IsAssignableFrom(i.Callee.DeclaringType))))
            return empty;
        var at = new Dictionary<int, int>();
        for (int k = 0; k < code.Count; k++) at[code[k].Offset] = k;
        var clauses = body.ExceptionHandlingClauses;

        // Slots: the locals, then the arguments (the receiver first).
        var localTypes = body.LocalVariables.Select(v => v.LocalType).ToList();
        int nLocals = localTypes.Count;
        bool hasThis = !m.IsStatic;
        var slotTypes = localTypes.Concat(hasThis ? new[] { m.DeclaringType! } : Array.Empty<Type>()).Concat(m.GetParameters().Select(p => p.ParameterType)).ToArray();
        int nSlots = slotTypes.Length;
        (int Slot, Access Access)? SlotOf(Instr i) => SlotAccess(i, nLocals);

        // Where a DisposeScope is current: from each NewDisposeScope call to the end of the try
        // block of its `using` (the first one starting after it), else to the end of the method.
        var scoped = new List<(int From, int To)>();
        foreach (var i in code.Where(i => i.Callee is { Name: "NewDisposeScope" } c && c.DeclaringType?.Assembly == Torch))
        {
            var tries = clauses.Where(c => c.Flags == ExceptionHandlingClauseOptions.Finally && c.TryOffset > i.Offset).OrderBy(c => c.TryOffset).ToList();
            scoped.Add((i.Offset, tries.Count > 0 ? tries[0].TryOffset + tries[0].TryLength : int.MaxValue));
        }
        // A tensor is held by a scope at a call if it was made in a scope that is still current
        // there: a temporary made (at its offset) in a range that contains the call; a local whose
        // every store (in the whole method) is in such a range.
        bool InScopeWith(int made, int call) => scoped.Any(s => s.From <= made && made < s.To && s.From <= call && call < s.To);
        var stores = new Dictionary<int, List<int>>();
        foreach (var i in code)
            if (SlotOf(i) is (var slot, Access.Store)) { if (!stores.TryGetValue(slot, out var l)) stores[slot] = l = new(); l.Add(i.Offset); }
        bool SlotInScopeWith(int slot, int call) => stores.TryGetValue(slot, out var l) && l.All(o => InScopeWith(o, call));

        // Successors, exception handlers included: every instruction of a try block may go to its
        // handler. A finally is not taken to go on to where the try block's leaves go (as it does
        // after a leave): a local used only after a try block is live in it only on the normal
        // path, so what the block passes in its last use is reported even if the JIT, more
        // conservative, happens to keep it.
        var succ = new List<int>[code.Count];
        for (int k = 0; k < code.Count; k++)
        {
            var i = code[k];
            var s = new List<int>();
            if (i.Op.FlowControl is not (FlowControl.Branch or FlowControl.Return or FlowControl.Throw) && i.Op != OpCodes.Endfinally && k + 1 < code.Count) s.Add(k + 1);
            s.AddRange(i.Targets.Select(t => at[t]));
            foreach (var c in clauses)
                if (c.TryOffset <= i.Offset && i.Offset < c.TryOffset + c.TryLength)
                    s.Add(at[c.Flags == ExceptionHandlingClauseOptions.Filter ? c.FilterOffset : c.HandlerOffset]);
            succ[k] = s.Distinct().ToList();
        }

        // Liveness of slots (backwards, to a fixed point). Slots whose address is taken count as always live.
        var addressTaken = new bool[nSlots];
        foreach (var i in code) if (SlotOf(i) is (var slot, Access.Address)) addressTaken[slot] = true;
        var liveIn = new BitSet[code.Count];
        var liveOut = new BitSet[code.Count];
        for (int k = 0; k < code.Count; k++) { liveIn[k] = new BitSet(nSlots); liveOut[k] = new BitSet(nSlots); }
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int k = code.Count - 1; k >= 0; k--)
            {
                var o = new BitSet(nSlots);
                foreach (var s in succ[k]) o.Or(liveIn[s]);
                var n = o.Clone();
                switch (SlotOf(code[k]))
                {
                    case (var slot, Access.Store): n.Clear(slot); break;
                    case (var slot, Access.Load or Access.Address): n.Set(slot); break;
                }
                if (!o.SameAs(liveOut[k]) || !n.SameAs(liveIn[k])) { liveOut[k] = o; liveIn[k] = n; changed = true; }
            }
        }
        bool LiveAfter(int k, int slot) => addressTaken[slot] || liveOut[k].Get(slot);

        // The stack (forwards, to a fixed point), and what each consuming call gets.
        var states = new Value[]?[code.Count];
        var work = new Stack<int>();
        void Flow(int k, Value[] stack)
        {
            var old = states[k];
            if (old == null) { states[k] = stack; work.Push(k); return; }
            if (old.Length != stack.Length) return; // not verifiable IL: keep the first
            var merged = old.Zip(stack, Value.Merge).ToArray();
            if (!merged.SequenceEqual(old)) { states[k] = merged; work.Push(k); }
        }
        Flow(0, Array.Empty<Value>());
        foreach (var c in clauses)
        {
            var entry = c.Flags is ExceptionHandlingClauseOptions.Clause or ExceptionHandlingClauseOptions.Filter ? new[] { Value.Other } : Array.Empty<Value>();
            Flow(at[c.HandlerOffset], entry);
            if (c.Flags == ExceptionHandlingClauseOptions.Filter) Flow(at[c.FilterOffset], new[] { Value.Other });
        }
        var reports = new Dictionary<(int, string), bool>();
        var consumedParameters = new HashSet<int>();
        var arrays = new Dictionary<int, ArrayValue>(); // by the offset of their newarr
        while (work.Count > 0)
        {
            int k = work.Pop();
            var after = Execute(k, report: false);
            foreach (var s in Successors(k)) Flow(s, after);
        }
        // Then each reachable instruction once more, on its final stack (the arrays are complete).
        for (int k = 0; k < code.Count; k++) if (states[k] != null) Execute(k, report: true);

        Value[] Execute(int k, bool report)
        {
            var i = code[k];
            var stack = new List<Value>(states[k]!);
            Value Pop() { var v = stack[^1]; stack.RemoveAt(stack.Count - 1); return v; }
            if (i.Callee is { } callee && i.Op != OpCodes.Ldftn && i.Op != OpCodes.Ldvirtftn)
            {
                var ps = callee.GetParameters();
                bool receiver = !callee.IsStatic && i.Op != OpCodes.Newobj;
                int count = ps.Length + (receiver ? 1 : 0);
                var args = new Value[count];
                for (int a = count - 1; a >= 0; a--) args[a] = Pop();
                if (report && Consumed(callee, ours) is { } consumed)
                    for (int a = 0; a < count; a++)
                    {
                        if (!consumed(a)) continue;
                        string what = $"{ScalarScan.Name(callee)} gets {(receiver && a == 0 ? "as receiver" : $"as '{ps[a - (receiver ? 1 : 0)].Name}'")}";
                        Check(args[a], what, inArray: false);
                        if (args[a].Array is { } arr && !stack.Any(s => s.Same(args[a])))
                        {
                            if (arr.Fresh is { } af && !InScopeWith(af, i.Offset)) reports[(i.Offset, $"{what}, in an array, a temporary (made at IL_{af:X4}) that nothing holds")] = true;
                            foreach (var slot in arr.Slots) Check(new Value(null, slot, null), what, inArray: true);
                        }
                    }
                if (i.Op == OpCodes.Newobj) stack.Add(Value.Other);
                else if (callee is MethodInfo mi && mi.ReturnType != typeof(void))
                {
                    if (PassesThrough(callee) && count > 0) stack.Add(args[0] with { Array = null });
                    else stack.Add(Makes(mi, ours) ? new Value(i.Offset, -1, null) : Value.Other);
                }
            }
            else if (i.Op == OpCodes.Newarr)
            {
                stack.RemoveAt(stack.Count - 1);
                if (!arrays.TryGetValue(i.Offset, out var arr)) arrays[i.Offset] = arr = new ArrayValue();
                stack.Add(new Value(null, -1, arr));
            }
            else Step(i, stack, nLocals);
            return stack.ToArray();

            // A value passed to a call that may drop it: held if its slot is still live after the
            // call, or the same value is still on the stack (an argument of a later call).
            void Check(Value v, string what, bool inArray)
            {
                if (v.Fresh == null && v.Slot < 0) return;
                if (v.Slot >= 0 && LiveAfter(k, v.Slot) || stack.Any(s => s.Same(v))) return;
                if (v.Slot >= nLocals) { consumedParameters.Add(v.Slot - nLocals); return; }
                string where = inArray ? ", in an array," : "";
                if (v.Slot >= 0 && IsTensorish(slotTypes[v.Slot]))
                {
                    if (!SlotInScopeWith(v.Slot, i.Offset)) reports[(i.Offset, $"{what}{where} local {v.Slot} at its last use")] = true;
                }
                else if (v.Fresh is { } f && !InScopeWith(f, i.Offset)) reports[(i.Offset, $"{what}{where} a temporary (made at IL_{f:X4}) that nothing holds")] = true;
            }
        }
        IEnumerable<int> Successors(int k)
        {
            var i = code[k];
            if (i.Op == OpCodes.Leave || i.Op == OpCodes.Leave_S) return i.Targets.Select(t => at[t]); // leave empties the stack (Step)
            if (i.Op == OpCodes.Endfinally) return Array.Empty<int>();
            var s = new List<int>();
            if (i.Op.FlowControl is not (FlowControl.Branch or FlowControl.Return or FlowControl.Throw) && k + 1 < code.Count) s.Add(k + 1);
            s.AddRange(i.Targets.Select(t => at[t]));
            return s;
        }
        return new Analysis(reports.Keys.OrderBy(r => r.Item1).Select(r => (r.Item1, r.Item2)).ToList(), consumedParameters);
    }

    /// <summary>Whether the method returns its receiver (or, static, its first argument): in-place
    /// operations and scope moves, so the value keeps what it was (a temporary, a local).</summary>
    private static bool PassesThrough(MethodBase m) =>
        m.DeclaringType == typeof(Tensor) && (m.Name is "MoveToOuterDisposeScope" or "DetachFromDisposeScope" or "MoveToOtherDisposeScope" || m.Name.EndsWith('_') && ReturnsThis(m))
        || m.Name.EndsWith("InPlace", StringComparison.Ordinal) && m.DeclaringType?.Name == "TorchScalars";

    /// <summary>Whether TorchSharp's instance method ends with <c>return this</c>: it then also
    /// holds its receiver through its native call.</summary>
    private static bool ReturnsThis(MethodBase m)
    {
        var il = m.GetMethodBody()?.GetILAsByteArray();
        return il is { Length: >= 2 } && il[^2] == OpCodes.Ldarg_0.Value && il[^1] == OpCodes.Ret.Value;
    }

    /// <summary>Whether a call's result is a tensor it made (TorchSharp's and our methods; not our
    /// property getters, which hand out tensors their object holds, nor the framework's collections).</summary>
    private static bool Makes(MethodInfo m, IReadOnlyCollection<Assembly> ours) =>
        typeof(Tensor).IsAssignableFrom(m.ReturnType)
        && (m.DeclaringType?.Assembly == Torch || ours.Contains(m.DeclaringType?.Assembly!) && !m.Name.StartsWith("get_", StringComparison.Ordinal));

    /// <summary>A parameter type that can carry a tensor: Tensor, arrays and generic collections of
    /// them, and (<paramref name="objects"/>: TorchSharp's TorchScript calls) object.</summary>
    private static bool Tensorish(Type type, bool objects)
    {
        if (type.IsByRef) type = type.GetElementType()!;
        if (objects && type == typeof(object) || typeof(Tensor).IsAssignableFrom(type)) return true;
        if (type.IsArray) return Tensorish(type.GetElementType()!, objects);
        return type.IsGenericType && !typeof(Delegate).IsAssignableFrom(type) && type.GetGenericArguments().Any(a => objects && a == typeof(object) || typeof(Tensor).IsAssignableFrom(a));
    }

    /// <summary>A local whose last use we check: a tensor or an array of them.</summary>
    private static bool IsTensorish(Type type) => typeof(Tensor).IsAssignableFrom(type) || type.IsArray && typeof(Tensor).IsAssignableFrom(type.GetElementType()!);

    private enum Access { Load, Store, Address }

    /// <summary>The slot an instruction reads, writes or takes the address of: locals first, then arguments from <paramref name="nLocals"/>.</summary>
    private static (int Slot, Access Access)? SlotAccess(Instr i, int nLocals)
    {
        var op = i.Op;
        if (op == OpCodes.Ldloc_0) return (0, Access.Load);
        if (op == OpCodes.Ldloc_1) return (1, Access.Load);
        if (op == OpCodes.Ldloc_2) return (2, Access.Load);
        if (op == OpCodes.Ldloc_3) return (3, Access.Load);
        if (op == OpCodes.Ldloc || op == OpCodes.Ldloc_S) return ((int)i.Operand, Access.Load);
        if (op == OpCodes.Stloc_0) return (0, Access.Store);
        if (op == OpCodes.Stloc_1) return (1, Access.Store);
        if (op == OpCodes.Stloc_2) return (2, Access.Store);
        if (op == OpCodes.Stloc_3) return (3, Access.Store);
        if (op == OpCodes.Stloc || op == OpCodes.Stloc_S) return ((int)i.Operand, Access.Store);
        if (op == OpCodes.Ldloca || op == OpCodes.Ldloca_S) return ((int)i.Operand, Access.Address);
        if (op == OpCodes.Ldarg_0) return (nLocals, Access.Load);
        if (op == OpCodes.Ldarg_1) return (nLocals + 1, Access.Load);
        if (op == OpCodes.Ldarg_2) return (nLocals + 2, Access.Load);
        if (op == OpCodes.Ldarg_3) return (nLocals + 3, Access.Load);
        if (op == OpCodes.Ldarg || op == OpCodes.Ldarg_S) return (nLocals + (int)i.Operand, Access.Load);
        if (op == OpCodes.Starg || op == OpCodes.Starg_S) return (nLocals + (int)i.Operand, Access.Store);
        if (op == OpCodes.Ldarga || op == OpCodes.Ldarga_S) return (nLocals + (int)i.Operand, Access.Address);
        return null;
    }

    /// <summary>The stack effect of an instruction other than a call.</summary>
    private static void Step(Instr i, List<Value> stack, int nLocals)
    {
        Value Pop() { var v = stack[^1]; stack.RemoveAt(stack.Count - 1); return v; }
        var op = i.Op;
        if (SlotAccess(i, nLocals) is (var slot, var access))
        {
            if (access == Access.Store)
            {
                // Copies of the stored value still on the stack (dup) are now also that slot's.
                var v = Pop();
                for (int k = 0; k < stack.Count; k++) if (v.Fresh != null && stack[k].Fresh == v.Fresh) stack[k] = stack[k] with { Slot = slot };
            }
            else stack.Add(access == Access.Load ? new Value(null, slot, null) : Value.Other);
            return;
        }
        if (op == OpCodes.Dup) { stack.Add(stack[^1]); return; }
        if (op == OpCodes.Stelem_Ref || op == OpCodes.Stelem)
        {
            var v = Pop(); Pop(); var arr = Pop();
            if (arr.Array is { } a)
            {
                if (v.Slot >= 0) a.Slots.Add(v.Slot);
                else a.Fresh ??= v.Fresh;
            }
            return;
        }
        if (op == OpCodes.Leave || op == OpCodes.Leave_S) { stack.Clear(); return; }
        if (op == OpCodes.Ret) { stack.Clear(); return; }
        if (op == OpCodes.Calli) throw new NotSupportedException("calli");
        int pops = op.StackBehaviourPop switch
        {
            StackBehaviour.Pop0 => 0,
            StackBehaviour.Pop1 or StackBehaviour.Popi or StackBehaviour.Popref => 1,
            StackBehaviour.Pop1_pop1 or StackBehaviour.Popi_pop1 or StackBehaviour.Popi_popi or StackBehaviour.Popi_popi8 or StackBehaviour.Popi_popr4
                or StackBehaviour.Popi_popr8 or StackBehaviour.Popref_pop1 or StackBehaviour.Popref_popi => 2,
            StackBehaviour.Popi_popi_popi or StackBehaviour.Popref_popi_popi or StackBehaviour.Popref_popi_popi8 or StackBehaviour.Popref_popi_popr4
                or StackBehaviour.Popref_popi_popr8 or StackBehaviour.Popref_popi_popref or StackBehaviour.Popref_popi_pop1 => 3,
            StackBehaviour.Varpop when op == OpCodes.Throw => 1,
            _ => throw new NotSupportedException($"{op.Name}: {op.StackBehaviourPop}"),
        };
        for (int p = 0; p < pops; p++) Pop();
        int pushes = op.StackBehaviourPush switch
        {
            StackBehaviour.Push0 => 0,
            StackBehaviour.Push1_push1 => 2,
            _ => 1,
        };
        for (int p = 0; p < pushes; p++) stack.Add(Value.Other);
    }

    private static List<Instr> Decode(MethodBase m, byte[] il)
    {
        var typeArgs = m.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        var methodArgs = m.IsGenericMethod ? m.GetGenericArguments() : null;
        var code = new List<Instr>();
        for (int i = 0; i < il.Length;)
        {
            int at = i;
            var op = il[i] == 0xFE ? Codes[(short)(0xFE00 | il[i + 1])] : Codes[il[i]];
            i += op.Size;
            long operand = 0;
            int[] targets = Array.Empty<int>();
            int size;
            switch (op.OperandType)
            {
                case OperandType.InlineNone: size = 0; break;
                case OperandType.ShortInlineBrTarget: size = 1; targets = new[] { i + 1 + (sbyte)il[i] }; break;
                case OperandType.InlineBrTarget: size = 4; targets = new[] { i + 4 + BitConverter.ToInt32(il, i) }; break;
                case OperandType.ShortInlineI: size = 1; operand = il[i]; break;
                case OperandType.ShortInlineVar: size = 1; operand = il[i]; break;
                case OperandType.InlineVar: size = 2; operand = BitConverter.ToUInt16(il, i); break;
                case OperandType.InlineI8 or OperandType.InlineR: size = 8; break;
                case OperandType.InlineSwitch:
                {
                    int n = BitConverter.ToInt32(il, i);
                    size = 4 + 4 * n;
                    int end = i + size;
                    targets = Enumerable.Range(0, n).Select(k => end + BitConverter.ToInt32(il, i + 4 + 4 * k)).ToArray();
                    break;
                }
                default: size = 4; operand = BitConverter.ToInt32(il, i); break;
            }
            MethodBase? callee = null;
            if (op.OperandType == OperandType.InlineMethod)
            {
                try { callee = m.Module.ResolveMethod((int)operand, typeArgs, methodArgs); }
                catch (Exception) { callee = null; }
                if (callee == null) throw new NotSupportedException($"{m.DeclaringType}.{m.Name}: a call that cannot be resolved at IL_{at:X4}");
            }
            i += size;
            code.Add(new Instr(at, op, operand, callee, targets));
        }
        return code;
    }

    private sealed class BitSet(int n)
    {
        private readonly ulong[] _bits = new ulong[(n + 63) / 64];
        public bool Get(int i) => (_bits[i >> 6] & (1UL << (i & 63))) != 0;
        public void Set(int i) => _bits[i >> 6] |= 1UL << (i & 63);
        public void Clear(int i) => _bits[i >> 6] &= ~(1UL << (i & 63));
        public void Or(BitSet o) { for (int k = 0; k < _bits.Length; k++) _bits[k] |= o._bits[k]; }
        public BitSet Clone() { var c = new BitSet(n); _bits.CopyTo(c._bits, 0); return c; }
        public bool SameAs(BitSet o) => _bits.AsSpan().SequenceEqual(o._bits);
    }
}
