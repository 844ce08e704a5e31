using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Daemon → engine: the lease is granted.</summary>
[MessagePackObject]
public sealed class Reserved : IEngineMessage
{
    [Key(0)] public string LeaseId { get; set; } = "";
    [Key(1)] public long ExpiresUnixMs { get; set; }
}
