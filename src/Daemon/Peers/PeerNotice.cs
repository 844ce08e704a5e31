using MessagePack;

namespace PdRdma.Daemon.Peers;

/// <summary>Daemon-to-daemon notice carried as a batch notification. Keys are never reused.</summary>
[MessagePackObject]
public sealed class PeerNotice
{
    public const int CurrentVersion = 1;

    [Key(0)] public int Version { get; set; } = CurrentVersion;
    [Key(1)] public PeerNoticeKind Kind { get; set; }
    [Key(2)] public string RequestId { get; set; } = "";
    [Key(3)] public long Bytes { get; set; }
}
