using PdRdma.Transport;
using PdRdma.Transport.Translation;

namespace PdRdma.Engines.Split;

/// <summary>Runs a translation plan between two regions this process maps (conversion into a staging buffer first when the dtype differs).</summary>
public static class LocalTranslation
{
    /// <summary>Carries out <paramref name="plan"/> from <paramref name="source"/> into <paramref name="target"/>; returns the bytes written.</summary>
    public static long Run(KvTranslationPlan plan, HostRegion source, HostRegion target)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var from = source.AsSpan(0, checked((int)source.Length));
        var to = target.AsSpan(0, checked((int)target.Length));
        if (!plan.UsesStaging)
        {
            KvTranslationExecutor.Copy(plan, from, to);
            return plan.Bytes;
        }
        var staging = GC.AllocateUninitializedArray<byte>(checked((int)plan.StagingBytes));
        KvTranslationExecutor.Stage(plan, from, staging);
        KvTranslationExecutor.Copy(plan, staging, to);
        return plan.Bytes;
    }
}
