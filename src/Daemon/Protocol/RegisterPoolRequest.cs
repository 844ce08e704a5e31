using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>Engine → daemon: map the engine's KV pool region file and offer it to peers.</summary>
[MessagePackObject]
public sealed class RegisterPoolRequest : IEngineMessage
{
    [Key(0)] public string PoolId { get; set; } = "";
    [Key(1)] public string Path { get; set; } = "";
    [Key(2)] public long Length { get; set; }
    [Key(3)] public KvLayout? Layout { get; set; }
}
