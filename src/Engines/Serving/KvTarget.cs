using PdRdma.Transport;

namespace PdRdma.Engines.Serving;

/// <summary>Where a prefill pushes a request's KV: the decode node's peer endpoint, its pool, layout and the granted blocks.</summary>
public sealed record KvTarget(string Endpoint, string Node, string Pool, KvLayout Layout, int[] Blocks);
