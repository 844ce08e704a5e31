using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Daemon → engine (event): a lease ended without a release (expired, peer lost); its blocks are free again.</summary>
[MessagePackObject]
public sealed class LeaseEnded : IEngineMessage
{
    [Key(0)] public string RequestId { get; set; } = "";
    [Key(1)] public string Reason { get; set; } = "";
}
