using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Engine → daemon: end the lease of a request (blocks go back to the engine).</summary>
[MessagePackObject]
public sealed class ReleaseRequest : IEngineMessage
{
    [Key(0)] public string RequestId { get; set; } = "";
}
