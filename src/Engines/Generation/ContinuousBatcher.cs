using System.Collections.Concurrent;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;

namespace PdRdma.Engines.Generation;

/// <summary>
/// Continuous batching over one engine for a server: requests arrive from any thread; a dedicated thread admits
/// them between decode steps (prefill, or a decode-side resume from a lease) and decodes every active sequence in
/// one forward pass per step. Each request's task completes when it stops, faults with its own error (a full pool
/// fails only that request), or is cancelled by its token (its blocks return to the pool).
/// </summary>
public sealed class ContinuousBatcher : IAsyncDisposable
{
    private readonly LlamaEngine _engine;
    private readonly int _maxBatch;
    private readonly ConcurrentQueue<Pending> _pending = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;
    private readonly List<Running> _running = [];

    public ContinuousBatcher(LlamaEngine engine, int maxBatch = 16)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        _engine = engine;
        _maxBatch = maxBatch;
        _thread = new Thread(Loop) { IsBackground = true, Name = "pdrdma-batcher" };
        _thread.Start();
    }

    /// <summary>Sequences currently decoding (a load signal for a proxy).</summary>
    public int ActiveCount { get; private set; }

    /// <summary>Requests waiting for a batch slot.</summary>
    public int QueuedCount => _pending.Count;

    /// <summary>Colocated: prefill and decode here. <paramref name="onToken"/> runs on the batcher thread; keep it short.</summary>
    public Task<GenerationResult> GenerateAsync(GenerationRequest request, Action<int>? onToken = null, CancellationToken cancellationToken = default) =>
        Enqueue(() => _engine.Admit(request, onToken), cancellationToken);

    /// <summary>Decode role: continues from KV a prefill engine placed in the lease's blocks of <paramref name="decode"/>'s pool (same engine).</summary>
    public Task<GenerationResult> ResumeAsync(DecodeEngine decode, KvLease lease, PrefillResult prefill, int maxNewTokens, SamplingOptions sampling,
        Action<int>? onToken = null, CancellationToken cancellationToken = default)
    {
        if (!ReferenceEquals(decode.Engine, _engine)) throw new ArgumentException("the decode engine must wrap this batcher's engine", nameof(decode));
        return Enqueue(() => decode.Claim(lease, prefill, maxNewTokens, sampling, onToken), cancellationToken);
    }

    private Task<GenerationResult> Enqueue(Func<ActiveSequence> admit, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        var pending = new Pending(admit, new TaskCompletionSource<GenerationResult>(TaskCreationOptions.RunContinuationsAsynchronously), cancellationToken);
        _pending.Enqueue(pending);
        _wake.Release();
        return pending.Completion.Task;
    }

    private void Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (_running.Count == 0 && _pending.IsEmpty)
            {
                try
                {
                    _wake.Wait(_stop.Token);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            while (_running.Count < _maxBatch && _pending.TryDequeue(out var p))
            {
                if (p.Cancellation.IsCancellationRequested)
                {
                    p.Completion.TrySetCanceled(p.Cancellation);
                    continue;
                }
                try
                {
                    _running.Add(new Running(p.Admit(), p));
                }
                catch (Exception e)
                {
                    p.Completion.TrySetException(e);
                }
            }
            RetireFinished();
            GrowOrFail();
            ActiveCount = _running.Count;
            if (_running.Count == 0) continue;
            try
            {
                _engine.Step(_running.Select(r => r.Sequence).ToList());
            }
            catch (Exception e)
            {
                // A failed forward pass leaves every sequence in it in an unknown state: fail them all.
                foreach (var r in _running) Finish(r, e);
                _running.Clear();
            }
            RetireFinished();
            ActiveCount = _running.Count;
        }
        foreach (var r in _running) Finish(r, new ObjectDisposedException(nameof(ContinuousBatcher)));
        _running.Clear();
        while (_pending.TryDequeue(out var p)) p.Completion.TrySetException(new ObjectDisposedException(nameof(ContinuousBatcher)));
    }

    // Blocks for the next position are taken per request, so a full pool fails only the requests that cannot grow.
    private void GrowOrFail()
    {
        for (int i = _running.Count - 1; i >= 0; i--)
        {
            var seq = _running[i].Sequence;
            try
            {
                seq.Table.EnsureCapacity(seq.CachedPositions + 1, _engine.Pool.Allocator);
            }
            catch (PdRdma.Transport.TransferException e)
            {
                Finish(_running[i], e);
                _running.RemoveAt(i);
            }
        }
    }

    private void RetireFinished()
    {
        for (int i = _running.Count - 1; i >= 0; i--)
        {
            var r = _running[i];
            if (r.Sequence.Stopped is not null || r.Pending.Cancellation.IsCancellationRequested)
            {
                Finish(r, null);
                _running.RemoveAt(i);
            }
        }
    }

    private void Finish(Running r, Exception? error)
    {
        r.Sequence.Table.Release(_engine.Pool.Allocator);
        if (error is not null) r.Pending.Completion.TrySetException(error);
        else if (r.Sequence.Stopped is null) r.Pending.Completion.TrySetCanceled(r.Pending.Cancellation);
        else r.Pending.Completion.TrySetResult(r.Sequence.Result());
    }

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _wake.Release();
        await Task.Run(() => _thread.Join()).ConfigureAwait(false);
        _stop.Dispose();
        _wake.Dispose();
    }

    private sealed record Pending(Func<ActiveSequence> Admit, TaskCompletionSource<GenerationResult> Completion, CancellationToken Cancellation);

    private sealed record Running(ActiveSequence Sequence, Pending Pending);
}
