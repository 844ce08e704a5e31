namespace PdRdma.Transport;

/// <summary>Order inside one (layer, K|V, block) extent.</summary>
public enum KvTokenOrder
{
    /// <summary>[token, head, dim]: one token's heads are adjacent.</summary>
    TokenMajor = 0,

    /// <summary>[head, token, dim]: one head's tokens are adjacent.</summary>
    HeadMajor = 1,
}
