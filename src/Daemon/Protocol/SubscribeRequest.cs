using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Engine → daemon: push Arrived and LeaseEnded events for this session's pools.</summary>
[MessagePackObject]
public sealed class SubscribeRequest : IEngineMessage
{
    [Key(0)] public bool All { get; set; }
}
