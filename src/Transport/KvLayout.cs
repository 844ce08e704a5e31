using System.Buffers.Binary;
using System.IO.Hashing;
using MessagePack;

namespace PdRdma.Transport;

/// <summary>
/// Shape of a paged KV pool: a tensor [layers, 2 (K,V), blocks, tokens_per_block, kv_heads, head_dim].
/// Two pools are compatible when everything but <see cref="Blocks"/> matches (pools may differ in size).
/// Immutable and thread-safe.
/// </summary>
[MessagePackObject]
public sealed record KvLayout
{
    public KvLayout(int layers, int kvHeads, int headDim, int tokensPerBlock, KvDType dType, int blocks)
    {
        Require(layers > 0, nameof(layers), layers);
        Require(kvHeads > 0, nameof(kvHeads), kvHeads);
        Require(headDim > 0, nameof(headDim), headDim);
        Require(tokensPerBlock > 0, nameof(tokensPerBlock), tokensPerBlock);
        Require(blocks > 0, nameof(blocks), blocks);
        Require(Enum.IsDefined(dType), nameof(dType), (int)dType);
        Layers = layers;
        KvHeads = kvHeads;
        HeadDim = headDim;
        TokensPerBlock = tokensPerBlock;
        DType = dType;
        Blocks = blocks;
    }

    [Key(0)] public int Layers { get; }
    [Key(1)] public int KvHeads { get; }
    [Key(2)] public int HeadDim { get; }
    [Key(3)] public int TokensPerBlock { get; }
    [Key(4)] public KvDType DType { get; }
    [Key(5)] public int Blocks { get; }

    /// <summary>Axis order of the pool tensor; part of the hash so a future order cannot be confused with this one.</summary>
    [IgnoreMember] public const string Order = "layer,kv,block,token,head,dim";

    [IgnoreMember] public int ElementSize => DType == KvDType.Float32 ? 4 : 2;

    /// <summary>Bytes of one (layer, K|V, block) extent.</summary>
    [IgnoreMember] public long BlockBytes => (long)TokensPerBlock * KvHeads * HeadDim * ElementSize;

    /// <summary>Bytes of the whole pool.</summary>
    [IgnoreMember] public long TotalBytes => BlockBytes * 2 * Layers * Blocks;

    /// <summary>Byte extent of one block of keys or values of one layer inside the pool region.</summary>
    public ByteExtent Extent(int layer, KvPart part, int block)
    {
        if ((uint)layer >= (uint)Layers) throw new ArgumentOutOfRangeException(nameof(layer), layer, $"layer must be in [0, {Layers})");
        if ((uint)block >= (uint)Blocks) throw new ArgumentOutOfRangeException(nameof(block), block, $"block must be in [0, {Blocks})");
        long index = ((long)layer * 2 + (int)part) * Blocks + block;
        return new ByteExtent(index * BlockBytes, BlockBytes);
    }

    /// <summary>Hash of every field that must match between peers (all but <see cref="Blocks"/>).</summary>
    public ulong CompatibilityHash()
    {
        Span<byte> bytes = stackalloc byte[20];
        BinaryPrimitives.WriteInt32LittleEndian(bytes, Layers);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[4..], KvHeads);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[8..], HeadDim);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[12..], TokensPerBlock);
        BinaryPrimitives.WriteInt32LittleEndian(bytes[16..], (int)DType);
        var hash = new XxHash3();
        hash.Append(bytes);
        hash.Append(System.Text.Encoding.ASCII.GetBytes(Order));
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Throws <see cref="TransferException"/> (LayoutMismatch) naming the first field that differs.</summary>
    public void EnsureCompatibleWith(KvLayout peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        Check(nameof(Layers), Layers, peer.Layers);
        Check(nameof(KvHeads), KvHeads, peer.KvHeads);
        Check(nameof(HeadDim), HeadDim, peer.HeadDim);
        Check(nameof(TokensPerBlock), TokensPerBlock, peer.TokensPerBlock);
        Check(nameof(DType), DType, peer.DType);
    }

    private static void Check<T>(string field, T local, T peer)
    {
        if (!EqualityComparer<T>.Default.Equals(local, peer))
        {
            throw new TransferException(TransferErrorCode.LayoutMismatch, $"KV layout field {field} differs: local {local}, peer {peer}");
        }
    }

    private static void Require(bool ok, string name, int value)
    {
        if (!ok) throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive and defined");
    }
}
