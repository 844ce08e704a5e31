using System.Buffers.Binary;
using System.IO.Hashing;
using MessagePack;

namespace PdRdma.Transport;

/// <summary>
/// Shape of a paged KV pool: logically [layers, 2 (K,V), blocks, tokens_per_block, kv_heads, head_dim], stored in
/// <see cref="BlockOrder"/> and <see cref="TokenOrder"/>; a pool of tensor-parallel rank <see cref="TpRank"/> of
/// <see cref="TpDegree"/> holds KV heads [<see cref="FirstHead"/>, +<see cref="KvHeads"/>) of <see cref="TotalKvHeads"/>.
/// Two pools are byte-compatible (<see cref="EnsureCompatibleWith"/>) when everything but <see cref="Blocks"/> matches;
/// they are translatable (<see cref="EnsureTranslatableTo"/>, see KvTranslationPlanner) when they hold the same model's
/// KV: same layers, head size and total heads. Immutable and thread-safe.
/// </summary>
[MessagePackObject]
public sealed record KvLayout
{
    public KvLayout(int layers, int kvHeads, int headDim, int tokensPerBlock, KvDType dType, int blocks)
        : this(layers, kvHeads, headDim, tokensPerBlock, dType, blocks, 0, 1, KvBlockOrder.LayerMajor, KvTokenOrder.TokenMajor)
    {
    }

    /// <summary>The full form; <paramref name="tpDegree"/> 0 (absent on the wire or in JSON) means 1.</summary>
    [SerializationConstructor]
    [System.Text.Json.Serialization.JsonConstructor]
    public KvLayout(int layers, int kvHeads, int headDim, int tokensPerBlock, KvDType dType, int blocks,
        int tpRank, int tpDegree, KvBlockOrder blockOrder, KvTokenOrder tokenOrder)
    {
        if (tpDegree == 0) tpDegree = 1;
        Require(tpDegree > 0, nameof(tpDegree), tpDegree);
        Require(tpRank >= 0 && tpRank < tpDegree, nameof(tpRank), tpRank);
        Require(Enum.IsDefined(blockOrder), nameof(blockOrder), (int)blockOrder);
        Require(Enum.IsDefined(tokenOrder), nameof(tokenOrder), (int)tokenOrder);
        TpRank = tpRank;
        TpDegree = tpDegree;
        BlockOrder = blockOrder;
        TokenOrder = tokenOrder;
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

    /// <summary>Tensor-parallel rank whose heads this pool holds.</summary>
    [Key(6)] public int TpRank { get; }

    /// <summary>Tensor-parallel degree: the model's KV heads are split evenly over this many pools.</summary>
    [Key(7)] public int TpDegree { get; }

    [Key(8)] public KvBlockOrder BlockOrder { get; }

    [Key(9)] public KvTokenOrder TokenOrder { get; }

    /// <summary>KV heads of the whole model (all ranks).</summary>
    [IgnoreMember] public int TotalKvHeads => KvHeads * TpDegree;

    /// <summary>The model-wide index of this pool's first KV head.</summary>
    [IgnoreMember] public int FirstHead => TpRank * KvHeads;

    /// <summary>Axis order of the default pool tensor; part of the hash (other orders add their fields to it).</summary>
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
        long index = BlockOrder == KvBlockOrder.LayerMajor
            ? ((long)layer * 2 + (int)part) * Blocks + block
            : ((long)block * Layers + layer) * 2 + (int)part;
        return new ByteExtent(index * BlockBytes, BlockBytes);
    }

    /// <summary>Byte offset of element 0 of (token, local head) inside the extent of <see cref="Extent"/>.</summary>
    public long OffsetInBlock(int token, int head)
    {
        if ((uint)token >= (uint)TokensPerBlock) throw new ArgumentOutOfRangeException(nameof(token), token, $"token must be in [0, {TokensPerBlock})");
        if ((uint)head >= (uint)KvHeads) throw new ArgumentOutOfRangeException(nameof(head), head, $"head must be in [0, {KvHeads})");
        long row = TokenOrder == KvTokenOrder.TokenMajor ? (long)token * KvHeads + head : (long)head * TokensPerBlock + token;
        return row * HeadDim * ElementSize;
    }

    /// <summary>The same pool stored in another order.</summary>
    public KvLayout WithOrder(KvBlockOrder blockOrder, KvTokenOrder tokenOrder) =>
        new(Layers, KvHeads, HeadDim, TokensPerBlock, DType, Blocks, TpRank, TpDegree, blockOrder, tokenOrder);

    /// <summary>
    /// Throws TransferException(LayoutMismatch) unless this pool and <paramref name="peer"/> hold the same model's KV
    /// (layers, head size, total KV heads), so that a translation can move it; block size, dtype, head split and order
    /// may differ.
    /// </summary>
    public void EnsureTranslatableTo(KvLayout peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        Check(nameof(Layers), Layers, peer.Layers);
        Check(nameof(HeadDim), HeadDim, peer.HeadDim);
        Check(nameof(TotalKvHeads), TotalKvHeads, peer.TotalKvHeads);
    }

    /// <summary>Compact text of what differs from <paramref name="peer"/> (for logs), or "identical".</summary>
    public string Difference(KvLayout peer)
    {
        ArgumentNullException.ThrowIfNull(peer);
        var parts = new List<string>();
        if (TokensPerBlock != peer.TokensPerBlock) parts.Add($"block {TokensPerBlock}->{peer.TokensPerBlock}");
        if (DType != peer.DType) parts.Add($"dtype {DType}->{peer.DType}");
        if (TpDegree != peer.TpDegree || TpRank != peer.TpRank) parts.Add($"tp {TpRank}/{TpDegree}->{peer.TpRank}/{peer.TpDegree}");
        if (BlockOrder != peer.BlockOrder) parts.Add($"{BlockOrder}->{peer.BlockOrder}");
        if (TokenOrder != peer.TokenOrder) parts.Add($"{TokenOrder}->{peer.TokenOrder}");
        return parts.Count == 0 ? "identical" : string.Join(", ", parts);
    }

    /// <summary>Hash of every field that must match for byte-for-byte copies (all but <see cref="Blocks"/>).</summary>
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
        if (TpDegree != 1 || BlockOrder != KvBlockOrder.LayerMajor || TokenOrder != KvTokenOrder.TokenMajor)
        {
            Span<byte> more = stackalloc byte[16];
            BinaryPrimitives.WriteInt32LittleEndian(more, TpRank);
            BinaryPrimitives.WriteInt32LittleEndian(more[4..], TpDegree);
            BinaryPrimitives.WriteInt32LittleEndian(more[8..], (int)BlockOrder);
            BinaryPrimitives.WriteInt32LittleEndian(more[12..], (int)TokenOrder);
            hash.Append(more);
        }
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
        Check(nameof(TpRank), TpRank, peer.TpRank);
        Check(nameof(TpDegree), TpDegree, peer.TpDegree);
        Check(nameof(BlockOrder), BlockOrder, peer.BlockOrder);
        Check(nameof(TokenOrder), TokenOrder, peer.TokenOrder);
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
