using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using System.Runtime.InteropServices;

namespace PdRdma.Transport.Translation;

/// <summary>
/// Element conversion between KV dtypes (float32, bfloat16, float16), little-endian, round to nearest even (as
/// PyTorch's casts): bf16 → f32 and f16 → f32 are exact; f32 → bf16/f16 and bf16 ↔ f16 round. f16 goes through
/// System.Numerics.Tensors' vectorised TensorPrimitives; bf16 (no library type for it here) by bit shifts. Thread-safe.
/// </summary>
public static class KvDTypeConverter
{
    public static int Size(KvDType dType) => dType == KvDType.Float32 ? 4 : 2;

    /// <summary>Converts <paramref name="elements"/> elements from <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public static void Convert(ReadOnlySpan<byte> source, KvDType from, Span<byte> destination, KvDType to, long elements)
    {
        if (source.Length < elements * Size(from) || destination.Length < elements * Size(to))
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"{elements} elements do not fit the spans ({source.Length} -> {destination.Length} bytes)");
        }
        if (from == to)
        {
            source[..(int)(elements * Size(from))].CopyTo(destination);
            return;
        }
        if (!BitConverter.IsLittleEndian)
        {
            ConvertScalar(source, from, destination, to, elements);
            return;
        }
        int n = checked((int)elements);
        switch (from, to)
        {
            case (KvDType.Float32, KvDType.Float16):
                TensorPrimitives.ConvertToHalf(MemoryMarshal.Cast<byte, float>(source)[..n], MemoryMarshal.Cast<byte, Half>(destination)[..n]);
                return;
            case (KvDType.Float16, KvDType.Float32):
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source)[..n], MemoryMarshal.Cast<byte, float>(destination)[..n]);
                return;
            case (KvDType.BFloat16, KvDType.Float32):
                WidenBFloat16(MemoryMarshal.Cast<byte, ushort>(source)[..n], MemoryMarshal.Cast<byte, uint>(destination)[..n]);
                return;
            case (KvDType.Float32, KvDType.BFloat16):
                NarrowToBFloat16(MemoryMarshal.Cast<byte, float>(source)[..n], MemoryMarshal.Cast<byte, ushort>(destination)[..n]);
                return;
        }
        // bf16 <-> f16: through float32, a chunk at a time.
        Span<float> chunk = stackalloc float[1024];
        for (int done = 0; done < n; done += chunk.Length)
        {
            int count = Math.Min(chunk.Length, n - done);
            var wide = chunk[..count];
            if (from == KvDType.BFloat16)
            {
                WidenBFloat16(MemoryMarshal.Cast<byte, ushort>(source).Slice(done, count), MemoryMarshal.Cast<float, uint>(wide));
                TensorPrimitives.ConvertToHalf(wide, MemoryMarshal.Cast<byte, Half>(destination).Slice(done, count));
            }
            else
            {
                TensorPrimitives.ConvertToSingle(MemoryMarshal.Cast<byte, Half>(source).Slice(done, count), wide);
                NarrowToBFloat16(wide, MemoryMarshal.Cast<byte, ushort>(destination).Slice(done, count));
            }
        }
    }

    private static void WidenBFloat16(ReadOnlySpan<ushort> source, Span<uint> destination)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + Vector256<ushort>.Count <= source.Length; i += Vector256<ushort>.Count)
            {
                var (lower, upper) = Vector256.Widen(Vector256.Create(source.Slice(i, Vector256<ushort>.Count)));
                Vector256.ShiftLeft(lower, 16).CopyTo(destination[i..]);
                Vector256.ShiftLeft(upper, 16).CopyTo(destination[(i + Vector256<uint>.Count)..]);
            }
        }
        for (; i < source.Length; i++) destination[i] = (uint)source[i] << 16;
    }

    private static void NarrowToBFloat16(ReadOnlySpan<float> source, Span<ushort> destination)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var bits = MemoryMarshal.Cast<float, uint>(source);
            int step = Vector256<uint>.Count * 2;
            for (; i + step <= source.Length; i += step)
            {
                var a = Vector256.Create(source.Slice(i, Vector256<float>.Count));
                var b = Vector256.Create(source.Slice(i + Vector256<float>.Count, Vector256<float>.Count));
                // NaN lanes take the scalar path (the rounding add could turn a signalling NaN into infinity).
                if (!Vector256.EqualsAll(a, a) || !Vector256.EqualsAll(b, b)) break;
                Vector256.Narrow(Round(Vector256.Create(bits.Slice(i, Vector256<uint>.Count))),
                    Round(Vector256.Create(bits.Slice(i + Vector256<uint>.Count, Vector256<uint>.Count)))).CopyTo(destination[i..]);
            }
        }
        for (; i < source.Length; i++) destination[i] = SingleToBFloat16(source[i]);

        static Vector256<uint> Round(Vector256<uint> v) =>
            Vector256.ShiftRightLogical(v + Vector256.Create(0x7FFFu) + (Vector256.ShiftRightLogical(v, 16) & Vector256<uint>.One), 16);
    }

    private static void ConvertScalar(ReadOnlySpan<byte> source, KvDType from, Span<byte> destination, KvDType to, long elements)
    {
        for (int i = 0; i < elements; i++)
        {
            float value = from switch
            {
                KvDType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(source[(i * 4)..]),
                KvDType.BFloat16 => BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(source[(i * 2)..])),
                _ => (float)BinaryPrimitives.ReadHalfLittleEndian(source[(i * 2)..]),
            };
            switch (to)
            {
                case KvDType.Float32: BinaryPrimitives.WriteSingleLittleEndian(destination[(i * 4)..], value); break;
                case KvDType.BFloat16: BinaryPrimitives.WriteUInt16LittleEndian(destination[(i * 2)..], SingleToBFloat16(value)); break;
                default: BinaryPrimitives.WriteHalfLittleEndian(destination[(i * 2)..], (Half)value); break;
            }
        }
    }

    public static float BFloat16ToSingle(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>Round to nearest even; NaN stays NaN (quiet).</summary>
    public static ushort SingleToBFloat16(float value)
    {
        uint bits = (uint)BitConverter.SingleToInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x40);
        uint rounding = 0x7FFF + ((bits >> 16) & 1);
        return (ushort)((bits + rounding) >> 16);
    }
}
