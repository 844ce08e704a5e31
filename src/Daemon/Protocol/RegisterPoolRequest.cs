using MessagePack;
using PdRdma.Transport;

namespace PdRdma.Daemon.Protocol;

/// <summary>
/// Engine → daemon: offer the engine's KV pool to peers. The pool itself travels as a file descriptor attached
/// (SCM_RIGHTS) to the first byte of this frame; the daemon opens no path an engine names. Registering an id again
/// (after a reconnect) replaces the daemon's mapping with the new descriptor.
/// </summary>
[MessagePackObject]
public sealed class RegisterPoolRequest : IEngineMessage
{
    [Key(0)] public string PoolId { get; set; } = "";

    /// <summary>Engine-API v1 named a file here for the daemon to open; any value is now refused (AccessDenied). Never reused.</summary>
    [Key(1)] public string Path { get; set; } = "";

    [Key(2)] public long Length { get; set; }
    [Key(3)] public KvLayout? Layout { get; set; }
}
