namespace PdRdma.Daemon.Fabric;

/// <summary>An authenticated link to one peer agent. Writes may be issued concurrently; they are placed in order.</summary>
public interface IKvPeer : IAsyncDisposable
{
    string PeerNodeId { get; }

    /// <summary>"shm" | "tcp" | "verbs".</summary>
    string Backend { get; }

    /// <summary>Why the backend was chosen, for logs.</summary>
    string BackendReason { get; }

    bool IsAlive { get; }

    /// <summary>Completes once every byte is placed on the target and its notification delivered; faults with TransferException.</summary>
    Task WriteAsync(FabricBatch batch, CancellationToken ct);
}
