using System.Collections.Concurrent;
using PdRdma.Transport;

namespace PdRdma.Native;

/// <summary>
/// What an agent handle stands for: the transfer agent, the regions the library allocated for it (it owns those) and the
/// notification a too-small buffer could not take (kept for the next call, so none is lost).
/// </summary>
internal sealed class NativeAgent(TransferAgent agent)
{
    private readonly object _heldLock = new();
    private TransferNotification? _held;

    public TransferAgent Agent { get; } = agent;

    /// <summary>Regions allocated by <c>pdrdma_region_alloc</c>; disposed with the agent.</summary>
    public ConcurrentDictionary<string, IMemoryRegion> Owned { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Blocks the calling (C) thread until a notification is there or <paramref name="timeout"/> passes (Timeout). When
    /// <paramref name="capacity"/> cannot hold its payload the notification stays queued and BufferTooSmall says how big.
    /// </summary>
    public TransferNotification Take(TimeSpan timeout, long capacity, out long needed)
    {
        lock (_heldLock)
        {
            var next = _held ?? Next(timeout);
            needed = next.Payload.Length;
            if (needed > capacity)
            {
                _held = next;
                throw new BufferTooSmallException($"the notification from {next.PeerNodeId} carries {needed} bytes; the buffer holds {capacity}");
            }
            _held = null;
            return next;
        }
    }

    private TransferNotification Next(TimeSpan timeout)
    {
        var reader = Agent.Notifications;
        if (reader.TryRead(out var ready)) return ready;
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            // A C caller's thread, not async code: blocking here is what the export promises.
            return reader.ReadAsync(cts.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException)
        {
            throw new TransferException(TransferErrorCode.Timeout, $"no notification arrived on {Agent.NodeId} within {timeout.TotalMilliseconds:0} ms");
        }
        catch (System.Threading.Channels.ChannelClosedException)
        {
            throw new TransferException(TransferErrorCode.PeerLost, $"agent {Agent.NodeId} is closing");
        }
    }
}
