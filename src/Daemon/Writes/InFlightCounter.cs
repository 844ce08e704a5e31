namespace PdRdma.Daemon.Writes;

/// <summary>
/// Counts work in flight and lets a stopping daemon wait for it without polling: once closed, no new work enters,
/// and <see cref="WaitIdleAsync"/> completes when the last one leaves. Thread-safe.
/// </summary>
public sealed class InFlightCounter
{
    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _count;
    private int _closed;

    /// <summary>Work in flight now.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Enters one unit of work; false once <see cref="Close"/> was called (the caller refuses the work).</summary>
    public bool TryEnter()
    {
        Interlocked.Increment(ref _count);
        if (Volatile.Read(ref _closed) == 0) return true;
        Exit();
        return false;
    }

    /// <summary>Leaves one unit entered with <see cref="TryEnter"/>.</summary>
    public void Exit()
    {
        if (Interlocked.Decrement(ref _count) == 0 && Volatile.Read(ref _closed) != 0) _idle.TrySetResult();
    }

    /// <summary>Refuses new work from now on; idempotent.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0 && Volatile.Read(ref _count) == 0) _idle.TrySetResult();
    }

    /// <summary>Waits (after <see cref="Close"/>) until nothing is in flight or <paramref name="bound"/> passes; true when idle.</summary>
    public async Task<bool> WaitIdleAsync(TimeSpan bound, CancellationToken ct)
    {
        if (Volatile.Read(ref _count) == 0 && Volatile.Read(ref _closed) != 0) return true;
        try
        {
            await _idle.Task.WaitAsync(bound, ct).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
