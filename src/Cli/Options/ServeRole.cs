namespace PdRdma.Cli.Options;

/// <summary>What a <c>pdrdma serve</c> instance does.</summary>
public enum ServeRole
{
    /// <summary>Prefill and decode in one process.</summary>
    Colocated,

    /// <summary>Prefill only: pushes each request's KV to a decode instance.</summary>
    Prefill,

    /// <summary>Decode only: reserves KV blocks and continues requests prefilled elsewhere.</summary>
    Decode,
}
