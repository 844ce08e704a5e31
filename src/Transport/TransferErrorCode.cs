namespace PdRdma.Transport;

/// <summary>The one error set every backend maps its native failures to.</summary>
public enum TransferErrorCode
{
    Protocol = 1,
    VersionMismatch = 2,
    LayoutMismatch = 3,
    UnknownRegion = 4,
    OutOfBounds = 5,
    AccessDenied = 6,
    PeerLost = 7,
    Timeout = 8,
    Unsupported = 9,
    ChecksumMismatch = 10,
    Unauthenticated = 11,
    PoolFull = 12,
    DeviceUnavailable = 13,

    /// <summary>A limit was reached (requests in work, queued events, connections...): retry later or send less at once.</summary>
    Overloaded = 14,
}
