using MessagePack;

namespace PdRdma.Transport;

/// <summary>
/// What a peer needs to write into a region. Sent at connect. Keys 5 and 6 are kept free for the verbs backend
/// (remote address, rkey); <see cref="BackendKeys"/> carries any other backend's opaque per-region blob by backend name.
/// </summary>
[MessagePackObject]
public sealed record RegionDescriptor
{
    [Key(0)] public required string NodeId { get; init; }
    [Key(1)] public required string RegionId { get; init; }
    [Key(2)] public long Length { get; init; }
    [Key(3)] public MemoryKind Kind { get; init; }

    /// <summary>File a same-host peer maps to write directly (shm backend); null when the region has none.</summary>
    [Key(4)] public string? SharedPath { get; init; }

    /// <summary>Opaque per-backend keys (backend name → blob), produced by <see cref="Backends.ITransferBackend.DescribeRegion"/>.</summary>
    [Key(7)] public IReadOnlyDictionary<string, byte[]>? BackendKeys { get; init; }

    /// <summary>
    /// The KV layout of the pool this region holds, when it was registered as one: what a peer plans a translation
    /// against (exchanged at connect). Null for plain regions.
    /// </summary>
    [Key(8)] public KvLayout? Layout { get; init; }
}
