using System.Buffers.Binary;
using PdRdma.Transport;
using PdRdma.Transport.Translation;

namespace PdRdma.Tests.Transport.Translation;

/// <summary>
/// Writes and reads a pool's bytes by logical coordinates (layer, K|V, position, model-wide head, dim) through the
/// layout's own offsets, with a distinct value per coordinate, so a translation can be checked element by element.
/// </summary>
internal static class LogicalKv
{
    /// <summary>A distinct small integer per coordinate: exact in f32, f16 (&lt; 2048) and bf16 (&lt; 256) when the shape is small.</summary>
    public static float Value(int layer, KvPart part, int position, int head, int dim, int modulo) =>
        ((((layer * 2 + (int)part) * 131 + position) * 31 + head) * 17 + dim) % modulo;

    public static byte[] Fill(KvLayout layout, IReadOnlyList<int> blocks, int positions, int modulo = 1 << 20)
    {
        var bytes = new byte[layout.TotalBytes];
        Visit(layout, blocks, positions, (offset, l, part, p, h, d) => Write(bytes.AsSpan((int)offset), layout.DType, Value(l, part, p, h, d, modulo)));
        return bytes;
    }

    /// <summary>Calls <paramref name="check"/> with the value at every coordinate this pool holds.</summary>
    public static void Visit(KvLayout layout, IReadOnlyList<int> blocks, int positions, Action<long, int, KvPart, int, int, int> at)
    {
        for (int l = 0; l < layout.Layers; l++)
            foreach (var part in new[] { KvPart.Key, KvPart.Value })
                for (int p = 0; p < positions; p++)
                    for (int h = 0; h < layout.KvHeads; h++)
                        for (int d = 0; d < layout.HeadDim; d++)
                        {
                            long offset = layout.Extent(l, part, blocks[p / layout.TokensPerBlock]).Offset
                                + layout.OffsetInBlock(p % layout.TokensPerBlock, h) + (long)d * layout.ElementSize;
                            at(offset, l, part, p, layout.FirstHead + h, d);
                        }
    }

    public static float Read(ReadOnlySpan<byte> bytes, KvDType dType) => dType switch
    {
        KvDType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(bytes),
        KvDType.BFloat16 => KvDTypeConverter.BFloat16ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes)),
        _ => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes),
    };

    public static void Write(Span<byte> bytes, KvDType dType, float value)
    {
        switch (dType)
        {
            case KvDType.Float32: BinaryPrimitives.WriteSingleLittleEndian(bytes, value); break;
            case KvDType.BFloat16: BinaryPrimitives.WriteUInt16LittleEndian(bytes, KvDTypeConverter.SingleToBFloat16(value)); break;
            default: BinaryPrimitives.WriteHalfLittleEndian(bytes, (Half)value); break;
        }
    }
}
