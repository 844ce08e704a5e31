using System.Diagnostics;
using System.Net;
using System.Text;
using PdRdma.Engines.Generation;
using PdRdma.Transport;
using PdRdma.Transport.Translation;

namespace PdRdma.Engines.Split;

/// <summary>
/// The heterogeneous-layout split over the real transport: the decode side's pools (its working pool, or its rank
/// pools) are registered with a listening <see cref="TransferAgent"/>; the prefill side's (working or rank pools,
/// plus a staging region when the dtype differs) with one that connects to it over loopback. The agents exchange
/// layouts at connect (each must be translatable into the other's; each target pool region is described with its
/// layout, and the initiator plans against those described layouts); per request the initiator plans each finished
/// layer as a translation from every source pool into every target pool, converts on its side where the dtype
/// differs, and writes the planned extents (one batch per layer, in flight while the next layer computes; the last
/// carries the request id). Both engines live in this process; the KV crosses only through the agents. One request
/// at a time; dispose to stop the agents.
/// </summary>
public sealed class TransportLayoutSplit : IAsyncDisposable
{
    private readonly PrefillEngine _prefill;
    private readonly DecodeEngine _decode;
    private readonly RankPools? _prefillRanks;
    private readonly RankPools? _decodeRanks;
    private readonly TransferAgent _target;
    private readonly TransferAgent _initiator;
    private readonly PeerConnection _connection;
    private readonly HostRegion? _staging;
    private readonly long _stagingPerLayer;

    private TransportLayoutSplit(PrefillEngine prefill, DecodeEngine decode, RankPools? prefillRanks, RankPools? decodeRanks,
        TransferAgent target, TransferAgent initiator, PeerConnection connection, HostRegion? staging, long stagingPerLayer)
    {
        _prefill = prefill;
        _decode = decode;
        _prefillRanks = prefillRanks;
        _decodeRanks = decodeRanks;
        _target = target;
        _initiator = initiator;
        _connection = connection;
        _staging = staging;
        _stagingPerLayer = stagingPerLayer;
    }

    public string Backend => _connection.Backend;

    public long LastTransferBytes { get; private set; }

    public int LastWriteOps { get; private set; }

    /// <summary>From the end of prefill compute to the last KV byte in place (the transfer time not hidden by compute).</summary>
    public TimeSpan LastExposedTransferTime { get; private set; }

    /// <summary>From the request's start to the decode side holding all of its KV.</summary>
    public TimeSpan LastTimeToFirstToken { get; private set; }

    private IReadOnlyList<(KvLayout Layout, HostRegion Region)> Sources =>
        _prefillRanks is null ? [(_prefill.Pool.Layout, _prefill.Pool.Region)] : [.. _prefillRanks.Layouts.Zip(_prefillRanks.Regions)];

    /// <summary>The decode side's pools as it described them at connect: the layouts the initiator plans against.</summary>
    private IReadOnlyList<(KvLayout Layout, string RegionId)> Targets =>
        [.. _connection.RemoteRegions.Where(r => r.Layout is not null).Select(r => (r.Layout!, r.RegionId))];

    /// <summary>Creates the rank pools, starts the target agent on loopback and connects the initiator to it.</summary>
    public static async Task<TransportLayoutSplit> StartAsync(PrefillEngine prefill, DecodeEngine decode, KvLayoutSpec prefillSpec, KvLayoutSpec decodeSpec,
        BackendChoice backend, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefill);
        ArgumentNullException.ThrowIfNull(decode);
        var prefillRanks = RankPools.Create(prefill.Pool.Layout, prefillSpec, "prefill");
        RankPools? decodeRanks = null;
        TransferAgent? target = null, initiator = null;
        HostRegion? staging = null;
        try
        {
            decodeRanks = RankPools.Create(decode.Pool.Layout, decodeSpec, "decode");
            var sources = prefillRanks is null ? [(prefill.Pool.Layout, (IMemoryRegion)prefill.Pool.Region)] : prefillRanks.Layouts.Zip(prefillRanks.Regions.Cast<IMemoryRegion>()).ToList();
            var targets = decodeRanks is null ? [(decode.Pool.Layout, (IMemoryRegion)decode.Pool.Region)] : decodeRanks.Layouts.Zip(decodeRanks.Regions.Cast<IMemoryRegion>()).ToList();
            target = new TransferAgent(new TransferAgentOptions { NodeId = $"decode-{Environment.ProcessId}", Layout = targets[0].Item1, Backend = backend, Listen = new IPEndPoint(IPAddress.Loopback, 0) });
            foreach (var (layout, region) in targets) target.RegisterRegion(region, layout);
            await target.StartAsync(cancellationToken).ConfigureAwait(false);

            initiator = new TransferAgent(new TransferAgentOptions { NodeId = $"prefill-{Environment.ProcessId}", Layout = sources[0].Item1, Backend = backend });
            foreach (var (_, region) in sources) initiator.RegisterRegion(region);
            long perLayer = 0;
            if (prefill.Pool.Layout.DType != decode.Pool.Layout.DType)
            {
                // Room for one layer of every (source, target) pair's converted rows: the whole pool's layer in the target dtype, per target.
                var d = decode.Pool.Layout;
                perLayer = 2L * prefill.Pool.Layout.Blocks * prefill.Pool.Layout.TokensPerBlock * d.TotalKvHeads * d.HeadDim * d.ElementSize;
                staging = HostRegion.Create($"prefill-staging-{Guid.NewGuid():N}", perLayer * prefill.Pool.Layout.Layers);
                initiator.RegisterRegion(staging);
            }
            var connection = await initiator.ConnectAsync(target.LocalEndpoint!, cancellationToken).ConfigureAwait(false);
            if (!connection.RemoteRegions.Any(r => r.Layout is not null))
            {
                await connection.DisposeAsync().ConfigureAwait(false);
                throw new TransferException(TransferErrorCode.LayoutMismatch, "the decode side described no KV pool layout at connect");
            }
            return new TransportLayoutSplit(prefill, decode, prefillRanks, decodeRanks, target, initiator, connection, staging, perLayer);
        }
        catch
        {
            if (initiator is not null) await initiator.DisposeAsync().ConfigureAwait(false);
            if (target is not null) await target.DisposeAsync().ConfigureAwait(false);
            staging?.Dispose();
            prefillRanks?.Dispose();
            decodeRanks?.Dispose();
            throw;
        }
    }

    public async Task<GenerationResult> GenerateAsync(string requestId, GenerationRequest request, Action<int>? onToken = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var clock = Stopwatch.StartNew();
        int positions = request.PromptTokens.Count;
        int layers = _prefill.Pool.Layout.Layers;
        var lease = _decode.Reserve(requestId, positions);
        var writes = new List<Task>();
        long bytes = 0;
        int ops = 0;
        WriteBatch LayerBatch(int layer, IReadOnlyList<int> blocks, byte[]? notification)
        {
            _prefillRanks?.Scatter(_prefill.Pool, layer, blocks, positions);
            var batch = new List<WriteOp>();
            long stagingOffset = layer * _stagingPerLayer;
            foreach (var (sourceLayout, sourceRegion) in Sources)
            {
                foreach (var (targetLayout, targetRegion) in Targets)
                {
                    targetLayout.EnsureTranslatableTo(sourceLayout);
                    var plan = KvTranslationPlanner.Plan(sourceLayout, blocks, targetLayout, lease.BlockIds, positions, layer);
                    var from = sourceRegion.Id;
                    long shift = 0;
                    if (plan.UsesStaging)
                    {
                        // The sending side converts into its staging region; the writes then read the converted rows.
                        KvTranslationExecutor.Stage(plan, sourceRegion.AsSpan(0, checked((int)sourceRegion.Length)),
                            _staging!.AsSpan(stagingOffset, checked((int)plan.StagingBytes)));
                        from = _staging.Id;
                        shift = stagingOffset;
                        stagingOffset += plan.StagingBytes;
                    }
                    batch.AddRange(plan.Copies.Select(c => new WriteOp(from, c.SourceOffset + shift, targetRegion, c.TargetOffset, c.Length)));
                }
            }
            bytes += batch.Sum(o => o.Length);
            ops += batch.Count;
            return new WriteBatch(batch, notification);
        }

        PrefillResult? result = null;
        try
        {
            result = _prefill.Prefill(request.PromptTokens, request.Sampling, (layer, blocks) =>
            {
                if (layer < layers - 1) writes.Add(_connection.WriteAsync(LayerBatch(layer, blocks, null), cancellationToken));
            });
            var computed = Stopwatch.GetTimestamp();
            await Task.WhenAll(writes).ConfigureAwait(false);
            await _connection.WriteAsync(LayerBatch(layers - 1, result.BlockIds, Encoding.UTF8.GetBytes(requestId)), cancellationToken).ConfigureAwait(false);
            await WaitForArrivalAsync(requestId, cancellationToken).ConfigureAwait(false);
            LastExposedTransferTime = Stopwatch.GetElapsedTime(computed);
            _decodeRanks?.Gather(_decode.Pool, lease.BlockIds, positions);
        }
        catch
        {
            _decode.Release(lease);
            throw;
        }
        finally
        {
            if (result is not null) _prefill.Release(result);
        }
        LastTransferBytes = bytes;
        LastWriteOps = ops;
        LastTimeToFirstToken = clock.Elapsed;
        return _decode.Resume(lease, result, request.MaxNewTokens, request.Sampling, onToken);
    }

    private async Task WaitForArrivalAsync(string requestId, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(TimeSpan.FromSeconds(60));
        try
        {
            while (true)
            {
                var note = await _target.Notifications.ReadAsync(limit.Token).ConfigureAwait(false);
                if (Encoding.UTF8.GetString(note.Payload) == requestId) return;
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TransferException(TransferErrorCode.Timeout, $"the KV of request '{requestId}' did not arrive within 60 s");
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync().ConfigureAwait(false);
        await _initiator.DisposeAsync().ConfigureAwait(false);
        await _target.DisposeAsync().ConfigureAwait(false);
        _staging?.Dispose();
        _prefillRanks?.Dispose();
        _decodeRanks?.Dispose();
    }
}
