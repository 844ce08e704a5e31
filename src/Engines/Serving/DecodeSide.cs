using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using PdRdma.Engines.Serving.Api;
using PdRdma.Transport;

namespace PdRdma.Engines.Serving;

/// <summary>
/// The decode role's one job: reserve blocks for a request's prompt KV and grant them to the prefill node (through the
/// KV channel), wait until the KV has arrived, then decode from it in the engine's running batch. A reservation the
/// daemon expires, a cancel, or a finished decode frees its blocks. `pdrdma serve --role decode` and
/// <see cref="LocalSplit"/> both decode through here. Thread-safe.
/// </summary>
public sealed class DecodeSide
{
    private readonly IServingModel _model;
    private readonly KvChannel _channel;
    private readonly TimeSpan _leaseTtl;
    private readonly ServingLimits _limits;
    private readonly ConcurrentDictionary<string, DecodeReservation> _reservations = new(StringComparer.Ordinal);

    public DecodeSide(IServingModel model, KvChannel channel, TimeSpan leaseTtl, ServingLimits limits)
    {
        _model = model;
        _channel = channel;
        _leaseTtl = leaseTtl;
        _limits = limits;
        channel.LeaseEnded += (request, reason) => Free(request, reason);
    }

    /// <summary>Reservations granted and not yet decoded, cancelled or expired.</summary>
    public int Reservations => _reservations.Count;

    /// <summary>Raised with (request id, reason) when a reservation's blocks return to the pool before its decode started.</summary>
    public event Action<string, string>? Freed;

    /// <summary>
    /// Tokenises (or checks) the prompt with the colocated limits, reserves its blocks and lets <see cref="ReserveCall.PeerNode"/>
    /// write them until the lease expires. ServingException (4xx) for a bad prompt, TransferException(PoolFull) when no blocks are free.
    /// </summary>
    public async Task<ReserveAnswer> ReserveAsync(ReserveCall call, CancellationToken ct)
    {
        if (call.Prompt is { } text && Encoding.UTF8.GetByteCount(text) > _limits.MaxPromptBytes)
            throw ServingException.Invalid($"the prompt is larger than {_limits.MaxPromptBytes} bytes", call.PromptParam, "prompt_too_long");
        var tokens = PromptGate.Tokens(_model, call.Prompt, call.Tokens, call.PromptParam);
        var reservation = _model.Reserve(call.RequestId, tokens.Length);
        if (!_reservations.TryAdd(call.RequestId, reservation))
        {
            _model.Release(reservation);
            throw new ArgumentException($"request {call.RequestId} is already reserved");
        }
        var granted = reservation.Blocks.ToArray();
        try
        {
            await _channel.GrantAsync(call.RequestId, granted, call.PeerNode, _leaseTtl, ct).ConfigureAwait(false);
        }
        catch
        {
            Free(call.RequestId, "grant failed");
            throw;
        }
        return new ReserveAnswer(tokens, new KvTarget(_channel.PeerEndpoint, _channel.NodeId, _channel.PoolId, _model.Layout, granted));
    }

    /// <summary>
    /// Waits for the request's KV, then decodes: every new token (prefill's first included), then the end. The
    /// reservation is consumed; when the enumeration ends early (cancellation, the caller stops) the blocks return.
    /// TransferException(Timeout) when the request holds no reservation or its KV does not arrive in time.
    /// </summary>
    public async IAsyncEnumerable<EngineToken> DecodeAsync(DecodeCall call, [EnumeratorCancellation] CancellationToken ct)
    {
        DecodeReservation? consumed = null;
        try
        {
            if (!_reservations.ContainsKey(call.RequestId))
                throw new TransferException(TransferErrorCode.Timeout, $"request {call.RequestId} holds no reservation here (expired, cancelled or never made)");
            await _channel.WaitArrivedAsync(call.RequestId, _leaseTtl + TimeSpan.FromSeconds(5), ct).ConfigureAwait(false);
            // From here the engine owns the blocks: resuming consumes the reservation.
            if (!_reservations.TryRemove(call.RequestId, out consumed))
                throw new TransferException(TransferErrorCode.Timeout, $"the lease of request {call.RequestId} ended before decode started");
            var sampling = call.Temperature <= 0 ? Sampling.SamplingOptions.Greedy : new Sampling.SamplingOptions(call.Temperature, call.TopP, call.Seed);
            await foreach (var step in _model.ResumeAsync(consumed, call.Tokens, call.FirstToken, call.RngState, new GenerationSettings(call.MaxTokens, sampling), ct).ConfigureAwait(false))
            {
                yield return step;
                if (step.IsEnd) yield break;
            }
        }
        finally
        {
            // A request cancelled before the batcher admitted it still holds its lease: give it back (no-op once claimed).
            if (consumed is not null) _model.Release(consumed);
            Free(call.RequestId, "finished");
            await _channel.ReleaseAsync(call.RequestId).ConfigureAwait(false);
        }
    }

    /// <summary>Gives up a request before its decode: its lease and blocks return. False when it held none.</summary>
    public async Task<bool> CancelAsync(string requestId)
    {
        var found = Free(requestId, "cancelled");
        await _channel.ReleaseAsync(requestId).ConfigureAwait(false);
        return found;
    }

    private bool Free(string requestId, string reason)
    {
        if (!_reservations.TryRemove(requestId, out var reservation)) return false;
        _model.Release(reservation);
        Freed?.Invoke(requestId, reason);
        return true;
    }
}
