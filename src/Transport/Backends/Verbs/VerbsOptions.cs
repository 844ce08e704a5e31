namespace PdRdma.Transport.Backends.Verbs;

/// <summary>Settings of the verbs backend; the defaults suit Soft-RoCE and ordinary RoCE NICs.</summary>
public sealed class VerbsOptions
{
    /// <summary>RDMA device name (e.g. "rxe0", "mlx5_0"); null picks the first device with an active port.</summary>
    public string? DeviceName { get; init; }

    public byte Port { get; init; } = 1;

    /// <summary>GID table index; null picks a RoCE v2 GID, preferring an IPv4-mapped one.</summary>
    public int? GidIndex { get; init; }

    /// <summary>Send queue depth per peer: writes beyond it wait (back-pressure) until completions free slots.</summary>
    public int SendQueueDepth { get; init; } = 512;

    /// <summary>One work request in this many is signalled; the rest complete silently (completion batching).</summary>
    public int SignalEvery { get; init; } = 32;

    /// <summary>Notifications in flight per peer, and the receive slots each peer keeps posted.</summary>
    public int NotificationSlots { get; init; } = 64;

    /// <summary>Largest notification payload plus its 8-byte header.</summary>
    public int NotificationSlotBytes { get; init; } = 4096;

    /// <summary>Local ACK timeout exponent (4.096 µs × 2^n) and retries before the peer counts as lost.</summary>
    public byte AckTimeout { get; init; } = 17;

    /// <remarks>At most 6: Soft-RoCE (and some NICs) treat 7 as "retry for ever", so a dead peer would never be detected.</remarks>
    public byte RetryCount { get; init; } = 6;

    /// <summary>Device regions always go through a registered host bounce buffer, never ibv_reg_dmabuf_mr (to compare the paths, or around a driver that misbehaves).</summary>
    public bool DeviceMemoryStaged { get; init; }

    /// <summary>
    /// Enforce grants with type-2 memory windows where the device has them (the default). Off: per-batch validation
    /// (a proceed round trip per batch), as on a device without them; for comparisons and around a driver that misbehaves.
    /// </summary>
    public bool MemoryWindows { get; init; } = true;

    /// <summary>
    /// Bind each memory window to its own registration of exactly the window's bytes (without remote access of its own),
    /// not to the region's registration. Soft-RoCE (rdma_rxe, Linux 6.1) checks a type-2 window's key, queue pair and
    /// access on every incoming write but not the window's bounds, only those of the registration beneath it: a write
    /// with a window's key anywhere in the region would land (found by the two-VM test). On by default; a NIC that
    /// checks window bounds itself may turn it off and save one ibv_reg_mr per window.
    /// </summary>
    public bool RegisterEachWindow { get; init; } = true;
}
