namespace PdRdma.Daemon.Engine;

/// <summary>What one engine session may hold in the daemon at once; beyond it the daemon refuses or closes the session.</summary>
public sealed record EngineSessionLimits
{
    /// <summary>Requests of one session being worked on at once; one more is refused with Overloaded.</summary>
    public int MaxConcurrentRequests { get; init; } = Client.DaemonClient.MaxCallsInFlight;

    /// <summary>Events (Arrived, LeaseEnded) queued for one session; one more closes the session (it stopped reading).</summary>
    public int MaxQueuedEvents { get; init; } = 1024;

    /// <summary>Bound on sending one frame to an engine; a session that does not read for this long is closed.</summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest frame an engine may send.</summary>
    public int MaxFrameBytes { get; init; } = 1 << 20;
}
