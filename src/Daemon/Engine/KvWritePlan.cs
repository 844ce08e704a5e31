using PdRdma.Daemon.Fabric;
using PdRdma.Transport;

namespace PdRdma.Daemon.Engine;

/// <summary>Turns (layers, source blocks → target blocks) into write ops, coalescing extents adjacent on both sides.</summary>
public static class KvWritePlan
{
    public static List<FabricWriteOp> Build(string sourcePool, KvLayout source, string targetPool, KvLayout target,
        IReadOnlyList<int> layers, IReadOnlyList<int> sourceBlocks, IReadOnlyList<int> targetBlocks)
    {
        source.EnsureCompatibleWith(target);
        if (sourceBlocks.Count != targetBlocks.Count)
            throw new TransferException(TransferErrorCode.Protocol, $"{sourceBlocks.Count} source blocks but {targetBlocks.Count} target blocks");
        var ops = new List<FabricWriteOp>();
        foreach (var layer in layers)
        {
            foreach (var part in (ReadOnlySpan<KvPart>)[KvPart.Key, KvPart.Value])
            {
                for (var i = 0; i < sourceBlocks.Count; i++)
                {
                    var from = source.Extent(layer, part, sourceBlocks[i]);
                    var to = target.Extent(layer, part, targetBlocks[i]);
                    if (ops.Count > 0 && ops[^1] is var last && last.SourceOffset + last.Length == from.Offset && last.TargetOffset + last.Length == to.Offset)
                        ops[^1] = last with { Length = last.Length + from.Length };
                    else
                        ops.Add(new FabricWriteOp(sourcePool, from.Offset, targetPool, to.Offset, from.Length));
                }
            }
        }
        return ops;
    }
}
