using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PdRdma.Engines.Serving.Api;

namespace PdRdma.Engines.Serving;

/// <summary>
/// A prefill engine and a decode engine in one process, each with the transfer machinery of a node linked in (its own
/// <see cref="KvChannel"/>: node id, peer listener on loopback, a cluster secret made for this pair), driven the way the
/// proxy drives serving instances: reserve on decode, prefill and push the KV layer by layer (<see cref="PrefillPush"/>)
/// through the peer connection into the decode engine's pool, decode from it (<see cref="DecodeSide"/>). This is the
/// serving KV path without HTTP: `generate --split`, `engine-check --split`, `engine-bench` and `bench e2e` run it.
/// Owns the channels, not the models. Thread-safe: concurrent requests batch as they do in serving.
/// </summary>
public sealed class LocalSplit : IAsyncDisposable
{
    private readonly KvChannel _prefillChannel;
    private readonly KvChannel _decodeChannel;
    private int _requests;

    private LocalSplit(KvChannel prefillChannel, KvChannel decodeChannel, PrefillPush prefill, DecodeSide decode)
    {
        _prefillChannel = prefillChannel;
        _decodeChannel = decodeChannel;
        Prefill = prefill;
        Decode = decode;
    }

    public PrefillPush Prefill { get; }

    public DecodeSide Decode { get; }

    /// <summary>
    /// Starts both nodes' transfer machinery over <paramref name="backend"/> (auto, shm, tcp) and registers each model's
    /// pool. The models must have compatible KV layouts; their pools must be host memory (the transfer backends address it).
    /// </summary>
    public static async Task<LocalSplit> StartAsync(IServingModel prefill, IServingModel decode, string backend, ILoggerFactory? loggers, CancellationToken ct)
    {
        prefill.Layout.EnsureCompatibleWith(decode.Layout);
        if (prefill.Pool.SharedPath is null || decode.Pool.SharedPath is null)
            throw new ArgumentException("the split moves KV through the transfer agents, which address host memory: both pools must be on the cpu");
        loggers ??= NullLoggerFactory.Instance;
        var secret = RandomNumberGenerator.GetBytes(32);
        var tag = $"{Environment.ProcessId}-{Guid.NewGuid():N}"[..16];
        KvChannel? p = null, d = null;
        try
        {
            p = await KvChannel.InProcessAsync($"split-prefill-{tag}", "127.0.0.1:0", null, secret, loggers, backend, ct).ConfigureAwait(false);
            await p.RegisterPoolAsync(prefill, $"prefill-{tag}", ct).ConfigureAwait(false);
            d = await KvChannel.InProcessAsync($"split-decode-{tag}", "127.0.0.1:0", null, secret, loggers, backend, ct).ConfigureAwait(false);
            await d.RegisterPoolAsync(decode, $"decode-{tag}", ct).ConfigureAwait(false);
            return new LocalSplit(p, d, new PrefillPush(prefill, p), new DecodeSide(decode, d, TimeSpan.FromSeconds(60), ServingLimits.Default));
        }
        catch
        {
            if (p is not null) await p.DisposeAsync().ConfigureAwait(false);
            if (d is not null) await d.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// One request through the split: every new token (the first sampled by prefill), then the end. <paramref name="onPushed"/>
    /// gets what the KV push cost once the KV is in the decode pool. With <paramref name="overlap"/> false the KV is pushed
    /// after the whole prompt is computed. A failed push cancels the reservation; TransferException for transfer failures.
    /// </summary>
    public async IAsyncEnumerable<EngineToken> GenerateAsync(int[] prompt, GenerationSettings settings, Action<PrefillAnswer>? onPushed = null, bool overlap = true,
        [EnumeratorCancellation] CancellationToken ct = default)
    {
        var id = $"split-{Interlocked.Increment(ref _requests)}";
        var s = settings.Sampling;
        var reserved = await Decode.ReserveAsync(new ReserveCall(id, null, settings.MaxTokens, _prefillChannel.NodeId, prompt), ct).ConfigureAwait(false);
        PrefillAnswer pushed;
        try
        {
            pushed = await Prefill.RunAsync(new PrefillCall(id, reserved.Tokens, reserved.Target, s.Temperature, s.TopP, s.Seed), overlap, ct).ConfigureAwait(false);
        }
        catch
        {
            await Decode.CancelAsync(id).ConfigureAwait(false);
            throw;
        }
        onPushed?.Invoke(pushed);
        var call = new DecodeCall(id, reserved.Tokens, pushed.FirstToken, settings.MaxTokens, s.Temperature, s.TopP, s.Seed, pushed.RngState);
        await foreach (var step in Decode.DecodeAsync(call, ct).ConfigureAwait(false)) yield return step;
    }

    public async ValueTask DisposeAsync()
    {
        await _prefillChannel.DisposeAsync().ConfigureAwait(false);
        await _decodeChannel.DisposeAsync().ConfigureAwait(false);
    }
}
