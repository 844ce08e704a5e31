using System.Net;
using System.Threading.Channels;
using PdRdma.Transport;

namespace PdRdma.Daemon.Fabric;

/// <summary>
/// The daemon's one touch point with the transfer library: the shape of src/Transport's TransferAgent
/// (docs/transport-api.md), so that swapping the implementation is one adapter. Thread-safe.
/// </summary>
public interface IKvFabric : IAsyncDisposable
{
    string NodeId { get; }

    /// <summary>Registers a region once; peers then address it by its id.</summary>
    void RegisterRegion(IMemoryRegion region);

    /// <summary>Forgets a region (later batches naming it are refused); returns it, still owned by the caller, or null.</summary>
    IMemoryRegion? DeregisterRegion(string regionId);

    Task StartAsync(CancellationToken ct);

    IPEndPoint? LocalEndpoint { get; }

    /// <summary>The configured backend and what this node can offer, for the ready log and /health, e.g. "verbs (device rxe0)" or "tcp (verbs unavailable: ...; AllowFallback)".</summary>
    string BackendSummary { get; }

    /// <summary>Connects and authenticates to a peer; throws <see cref="TransferException"/> (Unauthenticated, PeerLost, VersionMismatch...).</summary>
    Task<IKvPeer> ConnectAsync(EndPoint peer, CancellationToken ct);

    /// <summary>Target side: batch notifications, each delivered after every byte of its batch is in place.</summary>
    ChannelReader<FabricNotification> Notifications { get; }
}
