namespace PdRdma.Daemon.Peers;

public enum PeerNoticeKind
{
    /// <summary>Every KV byte of a request is in place (sent after the request's last write completed).</summary>
    Arrived = 1,

    /// <summary>Liveness probe; an empty batch whose completion proves the link works both ways.</summary>
    Heartbeat = 2,
}
