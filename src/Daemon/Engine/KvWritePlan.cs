using PdRdma.Daemon.Fabric;
using PdRdma.Transport;

namespace PdRdma.Daemon.Engine;

/// <summary>Turns (layers, source blocks → target blocks) into write ops (extents from <see cref="KvBlockExtents"/>, the transport's one block-to-extent mapping).</summary>
public static class KvWritePlan
{
    public static List<FabricWriteOp> Build(string sourcePool, KvLayout source, string targetPool, KvLayout target,
        IReadOnlyList<int> layers, IReadOnlyList<int> sourceBlocks, IReadOnlyList<int> targetBlocks)
    {
        if (sourceBlocks.Count != targetBlocks.Count)
            throw new TransferException(TransferErrorCode.Protocol, $"{sourceBlocks.Count} source blocks but {targetBlocks.Count} target blocks");
        return KvBlockExtents.Map(source, sourceBlocks, target, targetBlocks, layers)
            .Select(p => new FabricWriteOp(sourcePool, p.Source.Offset, targetPool, p.Target.Offset, p.Source.Length)).ToList();
    }
}
