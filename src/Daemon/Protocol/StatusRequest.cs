using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Engine → daemon: node status.</summary>
[MessagePackObject]
public sealed class StatusRequest : IEngineMessage
{
    [Key(0)] public bool Verbose { get; set; }
}
