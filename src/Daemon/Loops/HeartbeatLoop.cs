using PdRdma.Daemon.Peers;

namespace PdRdma.Daemon.Loops;

/// <summary>Probes every live peer link each period; a link that does not answer within two periods is dropped.</summary>
public sealed class HeartbeatLoop
{
    private readonly PeerLinks _links;
    private readonly TimeSpan _period;

    public HeartbeatLoop(PeerLinks links, TimeSpan period)
    {
        _links = links;
        _period = period;
    }

    public async Task RunAsync(CancellationToken ct)
    {
        using var timer = new PeriodicTimer(_period);
        try
        {
            while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
                await _links.HeartbeatAsync(_period * 2, ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
