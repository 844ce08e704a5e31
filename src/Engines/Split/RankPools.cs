using PdRdma.Engines.Kv;
using PdRdma.Transport;
using PdRdma.Transport.Translation;

namespace PdRdma.Engines.Split;

/// <summary>
/// The CPU engines' stand-in for tensor-parallel ranks. A CPU engine computes every KV head in its working pool; the
/// KV a real rank r of degree n would hold (heads [r·H/n, (r+1)·H/n)) lives in pool r here, with that rank's layout
/// (tp=r/n, same block count and block ids as the working pool). The prefill side splits each finished layer into the
/// rank pools (<see cref="Scatter"/>), which are then transferred as separate sources; the decode side's rank pools
/// receive and are joined into the working pool before decoding (<see cref="Gather"/>). Both moves are local
/// translations by the same planner. Owns the rank regions; not thread-safe.
/// </summary>
public sealed class RankPools : IDisposable
{
    private RankPools(IReadOnlyList<KvLayout> layouts, IReadOnlyList<HostRegion> regions)
    {
        Layouts = layouts;
        Regions = regions;
    }

    public IReadOnlyList<KvLayout> Layouts { get; }

    public IReadOnlyList<HostRegion> Regions { get; }

    /// <summary>Rank pools for <paramref name="spec"/>'s TP degree over a working pool of <paramref name="working"/>; null when the degree is 1.</summary>
    public static RankPools? Create(KvLayout working, KvLayoutSpec spec, string name)
    {
        ArgumentNullException.ThrowIfNull(working);
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.TpDegree == 1) return null;
        var layouts = new List<KvLayout>();
        var regions = new List<HostRegion>();
        try
        {
            for (int r = 0; r < spec.TpDegree; r++)
            {
                spec.Apply(working, r); // throws LayoutMismatch when the degree does not divide the heads
                var layout = new KvLayout(working.Layers, working.TotalKvHeads / spec.TpDegree, working.HeadDim, working.TokensPerBlock, working.DType,
                    working.Blocks, r, spec.TpDegree, working.BlockOrder, working.TokenOrder);
                layouts.Add(layout);
                regions.Add(HostRegion.Create($"{name}-rank{r}-{Guid.NewGuid():N}", layout.TotalBytes));
            }
            return new RankPools(layouts, regions);
        }
        catch
        {
            foreach (var region in regions) region.Dispose();
            throw;
        }
    }

    /// <summary>Copies <paramref name="layer"/> of the sequence in <paramref name="blocks"/> from the working pool into each rank's pool.</summary>
    public void Scatter(KvPool working, int layer, IReadOnlyList<int> blocks, int positions)
    {
        for (int r = 0; r < Layouts.Count; r++)
        {
            LocalTranslation.Run(KvTranslationPlanner.Plan(working.Layout, blocks, Layouts[r], blocks, positions, layer), working.Region, Regions[r]);
        }
    }

    /// <summary>Joins every rank's heads of the sequence in <paramref name="blocks"/> into the working pool (all layers).</summary>
    public void Gather(KvPool working, IReadOnlyList<int> blocks, int positions)
    {
        for (int r = 0; r < Layouts.Count; r++)
        {
            LocalTranslation.Run(KvTranslationPlanner.Plan(Layouts[r], blocks, working.Layout, blocks, positions), Regions[r], working.Region);
        }
    }

    public void Dispose()
    {
        foreach (var region in Regions) region.Dispose();
    }
}
