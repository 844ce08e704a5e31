using System.Diagnostics;
using PdRdma.Engines.Generation;
using PdRdma.Transport;
using PdRdma.Transport.Translation;

namespace PdRdma.Engines.Split;

/// <summary>
/// A prefill engine and a decode engine whose KV layouts differ (block size, order, dtype: their pools are built so;
/// tensor-parallel degree: <see cref="RankPools"/> on either side), the KV handed over layer by layer through
/// translation plans from every source pool (prefill rank) into every target pool (decode rank). In one process: the
/// heterogeneous-layout counterpart of <see cref="InProcessSplit"/>, used by tests and to prove outputs identical to
/// colocated generation. One request at a time.
/// </summary>
public sealed class LayoutSplit : IDisposable
{
    private readonly PrefillEngine _prefill;
    private readonly DecodeEngine _decode;
    private readonly RankPools? _prefillRanks;
    private readonly RankPools? _decodeRanks;

    public LayoutSplit(PrefillEngine prefill, DecodeEngine decode, KvLayoutSpec prefillSpec, KvLayoutSpec decodeSpec)
    {
        ArgumentNullException.ThrowIfNull(prefill);
        ArgumentNullException.ThrowIfNull(decode);
        _prefill = prefill;
        _decode = decode;
        prefill.Pool.Layout.EnsureTranslatableTo(decode.Pool.Layout);
        _prefillRanks = RankPools.Create(prefill.Pool.Layout, prefillSpec, "prefill");
        try
        {
            _decodeRanks = RankPools.Create(decode.Pool.Layout, decodeSpec, "decode");
        }
        catch
        {
            _prefillRanks?.Dispose();
            throw;
        }
    }

    /// <summary>Source pools (layout, region): the prefill working pool, or its rank pools.</summary>
    public IReadOnlyList<(KvLayout Layout, HostRegion Region)> Sources =>
        _prefillRanks is null ? [(_prefill.Pool.Layout, _prefill.Pool.Region)] : [.. _prefillRanks.Layouts.Zip(_prefillRanks.Regions)];

    /// <summary>Target pools (layout, region): the decode working pool, or its rank pools.</summary>
    public IReadOnlyList<(KvLayout Layout, HostRegion Region)> Targets =>
        _decodeRanks is null ? [(_decode.Pool.Layout, _decode.Pool.Region)] : [.. _decodeRanks.Layouts.Zip(_decodeRanks.Regions)];

    /// <summary>Last request: bytes written into target pools, and contiguous copies that took.</summary>
    public long LastTransferBytes { get; private set; }

    public int LastCopies { get; private set; }

    public TimeSpan LastTransferTime { get; private set; }

    public GenerationResult Generate(string requestId, GenerationRequest request, Action<int>? onToken = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        int positions = request.PromptTokens.Count;
        var lease = _decode.Reserve(requestId, positions);
        long bytes = 0;
        int copies = 0;
        var time = TimeSpan.Zero;
        PrefillResult result;
        try
        {
            result = _prefill.Prefill(request.PromptTokens, request.Sampling, (layer, blocks) =>
            {
                var start = Stopwatch.GetTimestamp();
                _prefillRanks?.Scatter(_prefill.Pool, layer, blocks, positions);
                foreach (var (sourceLayout, sourceRegion) in Sources)
                {
                    foreach (var (targetLayout, targetRegion) in Targets)
                    {
                        var plan = KvTranslationPlanner.Plan(sourceLayout, blocks, targetLayout, lease.BlockIds, positions, layer);
                        bytes += LocalTranslation.Run(plan, sourceRegion, targetRegion);
                        copies += plan.Copies.Count;
                    }
                }
                time += Stopwatch.GetElapsedTime(start);
            });
            _decodeRanks?.Gather(_decode.Pool, lease.BlockIds, positions);
        }
        catch
        {
            _decode.Release(lease);
            throw;
        }
        _prefill.Release(result);
        LastTransferBytes = bytes;
        LastCopies = copies;
        LastTransferTime = time;
        return _decode.Resume(lease, result, request.MaxNewTokens, request.Sampling, onToken);
    }

    public void Dispose()
    {
        _prefillRanks?.Dispose();
        _decodeRanks?.Dispose();
    }
}
