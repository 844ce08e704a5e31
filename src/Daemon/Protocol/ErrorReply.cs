using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Daemon → engine: the request failed; Code is a TransferErrorCode.</summary>
[MessagePackObject]
public sealed class ErrorReply : IEngineMessage
{
    [Key(0)] public int Code { get; set; }
    [Key(1)] public string Message { get; set; } = "";
}
