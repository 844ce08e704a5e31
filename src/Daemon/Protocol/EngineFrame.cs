using MessagePack;

namespace PdRdma.Daemon.Protocol;

/// <summary>
/// Envelope of every engine-API message: protocol version, correlation id (0 for pushed events) and body.
/// On the wire: 4-byte little-endian length, then this object in MessagePack.
/// </summary>
[MessagePackObject]
public sealed class EngineFrame
{
    /// <summary>Version of the engine API spoken by this build; a peer with another version gets an error naming both.</summary>
    public const int CurrentVersion = 1;

    [Key(0)] public int Version { get; set; } = CurrentVersion;
    [Key(1)] public long Id { get; set; }
    [Key(2)] public IEngineMessage? Message { get; set; }
}
