namespace PdRdma.Daemon.Observability;

/// <summary>What the daemon holds now, observed at each scrape: engine sessions, their requests in work and queued events, writes in flight.</summary>
public readonly record struct DaemonLoad(int EngineSessions, int RequestsInWork, int QueuedEvents, int WritesInFlight);
