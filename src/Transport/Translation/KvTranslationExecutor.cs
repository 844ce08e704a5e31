namespace PdRdma.Transport.Translation;

/// <summary>
/// Carries out a <see cref="KvTranslationPlan"/> on memory this process sees: <see cref="Stage"/> runs the sending side's
/// dtype conversions into the staging bytes; <see cref="Copy"/> runs the copies (source or staging → target) where both
/// pools are local (in-process split, benchmarks). Over a transport, the copies become write ops instead. Thread-safe
/// for disjoint targets.
/// </summary>
public static class KvTranslationExecutor
{
    public static void Stage(KvTranslationPlan plan, ReadOnlySpan<byte> source, Span<byte> staging)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (staging.Length < plan.StagingBytes)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"staging of {staging.Length} bytes; the plan needs {plan.StagingBytes}");
        }
        int fromSize = plan.Source.ElementSize, toSize = plan.Target.ElementSize;
        foreach (var c in plan.Conversions)
        {
            KvDTypeConverter.Convert(Slice(source, c.SourceOffset, c.Elements * fromSize), plan.Source.DType,
                Slice(staging, c.StagingOffset, c.Elements * toSize), plan.Target.DType, c.Elements);
        }
    }

    /// <summary>Runs every copy: from <paramref name="source"/> (or the staging bytes when the plan converts) into <paramref name="target"/>.</summary>
    public static void Copy(KvTranslationPlan plan, ReadOnlySpan<byte> sourceOrStaging, Span<byte> target)
    {
        ArgumentNullException.ThrowIfNull(plan);
        foreach (var c in plan.Copies) Slice(sourceOrStaging, c.SourceOffset, c.Length).CopyTo(Slice(target, c.TargetOffset, c.Length));
    }

    private static ReadOnlySpan<byte> Slice(ReadOnlySpan<byte> span, long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > span.Length)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"[{offset}, {offset + length}) is outside {span.Length} bytes");
        }
        return span.Slice((int)offset, (int)length);
    }

    private static Span<byte> Slice(Span<byte> span, long offset, long length)
    {
        if (offset < 0 || length < 0 || offset + length > span.Length)
        {
            throw new TransferException(TransferErrorCode.OutOfBounds, $"[{offset}, {offset + length}) is outside {span.Length} bytes");
        }
        return span.Slice((int)offset, (int)length);
    }
}
