using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Sampling;
using PdRdma.Transport;

namespace PdRdma.Engines.Split;

/// <summary>
/// The decode role: reserves blocks for a request's prompt KV (a lease that expires when nothing resumes it), then
/// continues decoding from the KV a prefill engine placed there and the first token it sampled. Thread-safe.
/// </summary>
public sealed class DecodeEngine
{
    private readonly Dictionary<string, KvLease> _leases = new(StringComparer.Ordinal);
    private readonly object _gate = new();
    private readonly TimeProvider _time;

    public DecodeEngine(LlamaEngine engine, TimeSpan leaseDuration, TimeProvider? time = null)
    {
        Engine = engine;
        LeaseDuration = leaseDuration;
        _time = time ?? TimeProvider.System;
    }

    public LlamaEngine Engine { get; }

    public KvPool Pool => Engine.Pool;

    public TimeSpan LeaseDuration { get; }

    public int ActiveLeases
    {
        get { lock (_gate) return _leases.Count; }
    }

    /// <summary>Reserves the blocks for a prompt of <paramref name="promptLength"/> positions; TransferException(PoolFull) when they are not free.</summary>
    public KvLease Reserve(string requestId, int promptLength)
    {
        ArgumentException.ThrowIfNullOrEmpty(requestId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(promptLength);
        if (promptLength > Engine.Model.Config.MaxSeqLen)
        {
            throw new ArgumentOutOfRangeException(nameof(promptLength), promptLength, $"exceeds the model's context of {Engine.Model.Config.MaxSeqLen}");
        }
        lock (_gate)
        {
            ReclaimExpiredLocked();
            if (_leases.ContainsKey(requestId)) throw new InvalidOperationException($"request '{requestId}' already holds a lease");
            var blocks = Pool.Allocator.Allocate(BlockTable.BlocksFor(promptLength, Pool.Layout.TokensPerBlock));
            var lease = new KvLease(requestId, blocks, promptLength, _time.GetUtcNow() + LeaseDuration);
            _leases.Add(requestId, lease);
            return lease;
        }
    }

    /// <summary>Returns a lease's blocks (the request was abandoned). Unknown or already returned leases are ignored.</summary>
    public bool Release(KvLease lease)
    {
        lock (_gate)
        {
            if (!_leases.TryGetValue(lease.RequestId, out var held) || !ReferenceEquals(held, lease)) return false;
            _leases.Remove(lease.RequestId);
            Pool.Allocator.Free(lease.BlockIds);
            return true;
        }
    }

    /// <summary>Frees every lease past its expiry; returns how many.</summary>
    public int ReclaimExpired()
    {
        lock (_gate) return ReclaimExpiredLocked();
    }

    /// <summary>
    /// Decodes from the prompt KV in the lease's blocks. The lease is consumed: its blocks become the sequence's
    /// and are freed when generation ends. Throws TransferException(Timeout) when the lease expired.
    /// </summary>
    public GenerationResult Resume(KvLease lease, PrefillResult prefill, int maxNewTokens, SamplingOptions sampling, Action<int>? onToken = null) =>
        ResumeBatch([(lease, prefill, maxNewTokens, sampling)], onToken is null ? null : (_, t) => onToken(t))[0];

    /// <summary>Several resumed sequences decoded together, one batched forward pass per step.</summary>
    public IReadOnlyList<GenerationResult> ResumeBatch(IReadOnlyList<(KvLease Lease, PrefillResult Prefill, int MaxNewTokens, SamplingOptions Sampling)> items,
        Action<int, int>? onToken = null)
    {
        foreach (var (lease, _, _, _) in items) CheckHeld(lease);
        var sequences = new List<ActiveSequence>();
        try
        {
            for (int i = 0; i < items.Count; i++)
            {
                int index = i;
                var (lease, prefill, maxNew, sampling) = items[i];
                sequences.Add(Claim(lease, prefill, maxNew, sampling, onToken is null ? null : t => onToken(index, t)));
            }
            return Engine.Continue(sequences);
        }
        finally
        {
            foreach (var s in sequences) s.Table.Release(Pool.Allocator);
            foreach (var (lease, _, _, _) in items.Skip(sequences.Count)) Release(lease);
        }
    }

    /// <summary>
    /// Turns a held lease into a sequence positioned after the prompt with the first token accepted. The lease is
    /// consumed (its blocks now belong to the sequence's table). Throws TransferException(Timeout) when it expired.
    /// </summary>
    internal ActiveSequence Claim(KvLease lease, PrefillResult prefill, int maxNewTokens, SamplingOptions sampling, Action<int>? onToken)
    {
        if (prefill.PromptTokens.Count != lease.PromptLength)
        {
            throw new ArgumentException($"request '{lease.RequestId}': prompt of {prefill.PromptTokens.Count} tokens, lease reserved {lease.PromptLength}");
        }
        lock (_gate)
        {
            CheckHeldLocked(lease);
            _leases.Remove(lease.RequestId);
        }
        var seq = new ActiveSequence(new GenerationRequest(prefill.PromptTokens, maxNewTokens, sampling), new BlockTable(Pool.Layout.TokensPerBlock, lease.BlockIds),
            new Sampler(sampling, prefill.RngState), onToken)
        {
            CachedPositions = prefill.PromptTokens.Count,
        };
        Engine.Accept(seq, prefill.FirstToken);
        return seq;
    }

    private void CheckHeld(KvLease lease)
    {
        lock (_gate) CheckHeldLocked(lease);
    }

    private void CheckHeldLocked(KvLease lease)
    {
        if (!_leases.TryGetValue(lease.RequestId, out var held) || !ReferenceEquals(held, lease))
        {
            throw new TransferException(TransferErrorCode.Timeout, $"lease of request '{lease.RequestId}' is not held (expired or released)");
        }
        if (held.ExpiresAt < _time.GetUtcNow())
        {
            throw new TransferException(TransferErrorCode.Timeout, $"lease of request '{lease.RequestId}' expired at {held.ExpiresAt:O}");
        }
    }

    private int ReclaimExpiredLocked()
    {
        var now = _time.GetUtcNow();
        var expired = _leases.Values.Where(l => l.ExpiresAt < now).ToList();
        foreach (var lease in expired)
        {
            _leases.Remove(lease.RequestId);
            Pool.Allocator.Free(lease.BlockIds);
        }
        EngineMetrics.Expired(expired.Count);
        return expired.Count;
    }
}
