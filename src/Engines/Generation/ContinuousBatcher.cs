using System.Collections.Concurrent;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;

namespace PdRdma.Engines.Generation;

/// <summary>
/// Continuous batching over one engine for a server: requests arrive from any thread; a dedicated thread admits
/// them between decode steps (prefill, or a decode-side resume from a lease) and decodes every active sequence in
/// one forward pass per step; finished sequences leave at once. A request is admitted only when the pool has the
/// blocks for its whole generation (prompt + max new tokens, up to the context), which it takes at admission, so a
/// running sequence never fails for want of a block. Until then it waits in a bounded FIFO queue; a full queue or
/// a wait past the deadline fails it with TransferException(PoolFull). Each request's task completes when it
/// stops, faults with its own error, or is cancelled by its token (its blocks return to the pool).
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
    private readonly int _maxQueue;
    private readonly TimeSpan _queueTimeout;
    private readonly int _maxPrefillBatch;

    /// <param name="engine">The engine; the batcher is its only user while it runs.</param>
    /// <param name="maxBatch">Sequences decoded together at most.</param>
    /// <param name="maxQueue">Requests waiting at most; more fail at once with TransferException(PoolFull).</param>
    /// <param name="queueTimeout">How long a request may wait for admission (null: no limit).</param>
    /// <param name="maxPrefillBatch">Prompts prefilled together in one forward pass at most (1: one after the other).</param>
    public ContinuousBatcher(LlamaEngine engine, int maxBatch = 16, int maxQueue = int.MaxValue, TimeSpan? queueTimeout = null, int maxPrefillBatch = 32)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxPrefillBatch);
        _maxPrefillBatch = maxPrefillBatch;
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxQueue);
        _engine = engine;
        _maxBatch = maxBatch;
        _maxQueue = maxQueue;
        _queueTimeout = queueTimeout ?? Timeout.InfiniteTimeSpan;
        _thread = new Thread(Loop) { IsBackground = true, Name = "pdrdma-batcher" };
        _thread.Start();
    }

    /// <summary>Sequences currently decoding (a load signal for a proxy).</summary>
    public int ActiveCount { get; private set; }

    /// <summary>Requests waiting for a batch slot.</summary>
    public int QueuedCount => _pending.Count;

    /// <summary>Colocated: prefill and decode here. <paramref name="onToken"/> runs on the batcher thread; keep it short.</summary>
    public Task<GenerationResult> GenerateAsync(GenerationRequest request, Action<int>? onToken = null, CancellationToken cancellationToken = default) =>
        Enqueue(null, (request, onToken), BlocksFor(request.PromptTokens.Count, request.MaxNewTokens), cancellationToken);

    /// <summary>Decode role: continues from KV a prefill engine placed in the lease's blocks of <paramref name="decode"/>'s pool (same engine).</summary>
    public Task<GenerationResult> ResumeAsync(DecodeEngine decode, KvLease lease, PrefillResult prefill, int maxNewTokens, SamplingOptions sampling,
        Action<int>? onToken = null, CancellationToken cancellationToken = default)
    {
        if (!ReferenceEquals(decode.Engine, _engine)) throw new ArgumentException("the decode engine must wrap this batcher's engine", nameof(decode));
        var more = Math.Max(0, BlocksFor(prefill.PromptTokens.Count, maxNewTokens) - lease.BlockIds.Count);
        return Enqueue(() => decode.Claim(lease, prefill, maxNewTokens, sampling, onToken), null, more, cancellationToken);
    }

    /// <summary>Blocks a whole generation needs: prompt + new tokens, up to the model's context.</summary>
    private int BlocksFor(int prompt, int maxNew) =>
        BlockTable.BlocksFor(Math.Min(prompt + Math.Max(maxNew, 1), Math.Max(prompt, _engine.Model.Config.MaxSeqLen)), _engine.Pool.Layout.TokensPerBlock);

    private Task<GenerationResult> Enqueue(Func<ActiveSequence>? admit, (GenerationRequest Request, Action<int>? OnToken)? prefill, int blocks, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_stop.IsCancellationRequested, this);
        if (_pending.Count >= _maxQueue)
            return Task.FromException<GenerationResult>(new PdRdma.Transport.TransferException(PdRdma.Transport.TransferErrorCode.PoolFull,
                $"{_pending.Count} requests are already waiting for this engine (the bound); retry later"));
        var pending = new Pending(admit, prefill, new TaskCompletionSource<GenerationResult>(TaskCreationOptions.RunContinuationsAsynchronously), cancellationToken,
            blocks, System.Diagnostics.Stopwatch.GetTimestamp());
        _pending.Enqueue(pending);
        _wake.Release();
        // A cancelled request leaves the queue without waiting for the next step.
        if (cancellationToken.CanBeCanceled) cancellationToken.UnsafeRegister(static w => ((SemaphoreSlim)w!).Release(), _wake);
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
            var waiting = false;
            // Prompts admitted in one pass are prefilled together, in one forward pass (up to a budget of attention
            // scores, so that long prompts do not build one huge mask).
            var group = new List<Pending>();
            int groupBlocks = 0, groupLongest = 0;
            while (_pending.TryPeek(out var p))
            {
                if (p.Cancellation.IsCancellationRequested)
                {
                    _pending.TryDequeue(out _);
                    p.Completion.TrySetCanceled(p.Cancellation);
                    continue;
                }
                if (_queueTimeout != Timeout.InfiniteTimeSpan && System.Diagnostics.Stopwatch.GetElapsedTime(p.Enqueued) > _queueTimeout)
                {
                    _pending.TryDequeue(out _);
                    p.Completion.TrySetException(new PdRdma.Transport.TransferException(PdRdma.Transport.TransferErrorCode.PoolFull,
                        $"no KV blocks came free within {_queueTimeout.TotalSeconds:0.#} s; retry later"));
                    continue;
                }
                // Cancelled and expired requests leave the queue even while the batch is full.
                if (_running.Count + group.Count >= _maxBatch) break;
                if (_engine.Pool.Allocator.FreeCount - groupBlocks < p.Blocks)
                {
                    if (p.Blocks > _engine.Pool.Layout.Blocks)
                    {
                        _pending.TryDequeue(out _);
                        p.Completion.TrySetException(new PdRdma.Transport.TransferException(PdRdma.Transport.TransferErrorCode.PoolFull,
                            $"the request needs {p.Blocks} KV blocks; the pool has {_engine.Pool.Layout.Blocks}"));
                        continue;
                    }
                    // First come, first served: wait until running sequences give blocks back.
                    waiting = group.Count == 0;
                    break;
                }
                if (p.Prefill is { } prefill)
                {
                    int length = prefill.Request.PromptTokens.Count;
                    int longest = Math.Max(groupLongest, length);
                    if (group.Count >= _maxPrefillBatch) break;
                    if (group.Count > 0 && (long)(group.Count + 1) * longest * longest * _engine.Model.Config.Heads > PrefillScoreBudget) break;
                    _pending.TryDequeue(out _);
                    try
                    {
                        _engine.CheckPrompt(prefill.Request.PromptTokens);
                    }
                    catch (ArgumentException e)
                    {
                        p.Completion.TrySetException(e);
                        continue;
                    }
                    group.Add(p);
                    groupBlocks += p.Blocks;
                    groupLongest = longest;
                    continue;
                }
                _pending.TryDequeue(out _);
                ActiveSequence? seq = null;
                try
                {
                    seq = p.Admit!();
                    Reserve(seq);
                    _running.Add(new Running(seq, p));
                }
                catch (Exception e)
                {
                    seq?.Table.Release(_engine.Pool.Allocator);
                    p.Completion.TrySetException(e);
                }
            }
            if (group.Count > 0) AdmitGroup(group);
            RetireFinished();
            GrowOrFail();
            ActiveCount = _running.Count;
            if (_running.Count == 0)
            {
                // Blocks held outside the batcher (decode leases) come free without a step: look again shortly.
                if (waiting) _wake.Wait(10);
                continue;
            }
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

    /// <summary>Attention scores (sequences × longest prompt² × heads) one batched prefill may build at most.</summary>
    private const long PrefillScoreBudget = 1L << 24;

    /// <summary>Takes the blocks of a newly admitted sequence's whole generation (prompt + new tokens, up to the context).</summary>
    private void Reserve(ActiveSequence seq)
    {
        int prompt = seq.Request.PromptTokens.Count;
        seq.Table.EnsureCapacity(Math.Min(prompt + Math.Max(seq.Request.MaxNewTokens, 1), Math.Max(prompt, _engine.Model.Config.MaxSeqLen)), _engine.Pool.Allocator);
    }

    private void AdmitGroup(List<Pending> group)
    {
        IReadOnlyList<ActiveSequence> admitted;
        try
        {
            admitted = _engine.AdmitBatch(group.Select(p => p.Prefill!.Value).ToList());
        }
        catch (Exception e)
        {
            foreach (var p in group) p.Completion.TrySetException(e);
            return;
        }
        for (int i = 0; i < group.Count; i++)
        {
            try
            {
                Reserve(admitted[i]);
                _running.Add(new Running(admitted[i], group[i]));
            }
            catch (Exception e)
            {
                admitted[i].Table.Release(_engine.Pool.Allocator);
                group[i].Completion.TrySetException(e);
            }
        }
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

    private sealed record Pending(Func<ActiveSequence>? Admit, (GenerationRequest Request, Action<int>? OnToken)? Prefill, TaskCompletionSource<GenerationResult> Completion, CancellationToken Cancellation, int Blocks, long Enqueued);

    private sealed record Running(ActiveSequence Sequence, Pending Pending);
}
