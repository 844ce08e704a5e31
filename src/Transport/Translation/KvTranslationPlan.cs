namespace PdRdma.Transport.Translation;

/// <summary>
/// How to move a sequence's KV from one pool layout to another. Without a dtype change the <see cref="Copies"/> read
/// the source pool directly (zero copy: gather/scatter of sub-block extents). With one, <see cref="Conversions"/> first
/// fill a staging region of <see cref="StagingBytes"/> in the target dtype on the sending side and the copies read from
/// it. Immutable.
/// </summary>
public sealed record KvTranslationPlan(
    KvLayout Source,
    KvLayout Target,
    IReadOnlyList<KvCopy> Copies,
    IReadOnlyList<KvConversion> Conversions,
    long StagingBytes)
{
    /// <summary>True when the copies read the staging region rather than the source pool.</summary>
    public bool UsesStaging => Conversions.Count > 0;

    /// <summary>Bytes written into the target pool.</summary>
    public long Bytes => Copies.Sum(c => c.Length);

    /// <summary>True when no translation happens: the layouts are byte-compatible.</summary>
    public bool IsIdentity => Source.CompatibilityHash() == Target.CompatibilityHash() && Source.TpRank == Target.TpRank;
}
