namespace PdRdma.Transport;

/// <summary>Outer order of a KV pool: which axis varies slowest.</summary>
public enum KvBlockOrder
{
    /// <summary>[layer, K|V, block, ...]: one layer's blocks are adjacent (vLLM's per-layer tensors, this engine).</summary>
    LayerMajor = 0,

    /// <summary>[block, layer, K|V, ...]: one block holds every layer (one allocation per block).</summary>
    BlockMajor = 1,
}
