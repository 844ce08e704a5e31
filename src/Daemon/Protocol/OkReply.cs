using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Daemon → engine: done, nothing to return.</summary>
[MessagePackObject]
public sealed class OkReply : IEngineMessage
{
    [Key(0)] public int Count { get; set; }
}
