using System.Buffers.Binary;

namespace PdRdma.Transport.Translation;

/// <summary>
/// Element conversion between KV dtypes (float32, bfloat16, float16), little-endian, round to nearest even (as
/// PyTorch's casts): bf16 → f32 and f16 → f32 are exact; f32 → bf16/f16 and bf16 ↔ f16 round. Thread-safe.
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
