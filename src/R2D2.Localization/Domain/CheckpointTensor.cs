using System.Buffers.Binary;

namespace R2D2.Localization;

/// <summary>Element types of checkpoint tensors, named as safetensors names them.</summary>
public enum TensorDType { F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL }

public static class TensorDTypes
{
    public static int Size(this TensorDType t) => t switch
    {
        TensorDType.F64 or TensorDType.I64 => 8,
        TensorDType.F32 or TensorDType.I32 => 4,
        TensorDType.F16 or TensorDType.BF16 or TensorDType.I16 => 2,
        _ => 1,
    };
}

/// <summary>One tensor of a checkpoint: a contiguous little-endian (C-order) buffer.</summary>
public sealed class CheckpointTensor
{
    public CheckpointTensor(TensorDType dtype, long[] shape, byte[] data)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        if (data.LongLength != n * dtype.Size())
            throw new DataFormatException($"tensor of shape [{string.Join(",", shape)}] needs {n * dtype.Size()} bytes, has {data.LongLength}");
        DType = dtype; Shape = shape; Data = data;
    }
    public TensorDType DType { get; }
    public long[] Shape { get; }
    public byte[] Data { get; }
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);

    public float[] ToFloat32()
    {
        var r = new float[Count];
        switch (DType)
        {
            case TensorDType.F32: Buffer.BlockCopy(Data, 0, r, 0, Data.Length); break;
            case TensorDType.F64: for (int i = 0; i < r.Length; i++) r[i] = (float)BinaryPrimitives.ReadDoubleLittleEndian(Data.AsSpan(8 * i)); break;
            case TensorDType.F16: for (int i = 0; i < r.Length; i++) r[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(Data.AsSpan(2 * i)); break;
            case TensorDType.BF16: for (int i = 0; i < r.Length; i++) r[i] = BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(Data.AsSpan(2 * i)) << 16); break;
            default: throw new DataFormatException($"tensor of type {DType} is not floating point");
        }
        return r;
    }

    public static CheckpointTensor FromFloat32(float[] values, params long[] shape)
    {
        var b = new byte[values.Length * 4];
        Buffer.BlockCopy(values, 0, b, 0, b.Length);
        return new CheckpointTensor(TensorDType.F32, shape, b);
    }
}
