using System.Collections.Concurrent;
using PdRdma.Daemon.Client;
using PdRdma.Daemon.Protocol;
using PdRdma.Transport;

namespace PdRdma.Native;

/// <summary>
/// A daemon handle: the engine-API client, subscribed to events at connect, and one waiter per request for its arrival
/// (an arrival that comes before anyone waits is kept until it is waited for). When the daemon goes away every waiter
/// fails with PeerLost.
/// </summary>
internal sealed class NativeDaemon
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource<Arrived>> _arrivals = new(StringComparer.Ordinal);
    private readonly Task _pump;

    public NativeDaemon(DaemonClient client)
    {
        Client = client;
        _pump = Task.Run(PumpAsync);
    }

    public DaemonClient Client { get; }

    public Task Pump => _pump;

    /// <summary>Blocks the calling (C) thread until the request's KV arrived, its lease ended, or the timeout passed.</summary>
    public Arrived WaitArrived(string requestId, TimeSpan timeout)
    {
        var waiter = Waiter(requestId);
        if (_pump.IsCompleted) waiter.TrySetException(new TransferException(TransferErrorCode.PeerLost, $"the node daemon at {Client.SocketPath} closed the connection"));
        try
        {
            if (!waiter.Task.Wait(timeout)) throw new TransferException(TransferErrorCode.Timeout, $"the KV of request {requestId} did not arrive within {timeout.TotalMilliseconds:0} ms");
            _arrivals.TryRemove(requestId, out _);
            return waiter.Task.Result;
        }
        catch (AggregateException e) when (e.InnerException is TransferException inner)
        {
            _arrivals.TryRemove(requestId, out _);
            throw new TransferException(inner.Code, inner.Detail, inner);
        }
    }

    private TaskCompletionSource<Arrived> Waiter(string requestId) =>
        _arrivals.GetOrAdd(requestId, _ => new TaskCompletionSource<Arrived>(TaskCreationOptions.RunContinuationsAsynchronously));

    private async Task PumpAsync()
    {
        try
        {
            await foreach (var message in Client.Events.ReadAllAsync().ConfigureAwait(false))
            {
                switch (message)
                {
                    case Arrived arrived:
                        Waiter(arrived.RequestId).TrySetResult(arrived);
                        break;
                    case LeaseEnded ended:
                        Waiter(ended.RequestId).TrySetException(new TransferException(TransferErrorCode.Timeout, $"request {ended.RequestId}: lease ended ({ended.Reason})"));
                        break;
                }
            }
        }
        catch (TransferException)
        {
        }
        var gone = new TransferException(TransferErrorCode.PeerLost, $"the node daemon at {Client.SocketPath} closed the connection");
        foreach (var waiter in _arrivals.Values) waiter.TrySetException(gone);
    }
}
