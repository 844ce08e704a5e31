using PdRdma.Transport.Internal;

namespace PdRdma.Transport.Backends.Tcp;

/// <summary>Streams an accepted batch's source bytes as data runs and chunks; the target side has nothing to wait for.</summary>
internal sealed class TcpLink(IControlLink control, int chunkBytes) : IBackendLink
{
    /// <summary>Writes up to this size travel in runs (several whole writes behind one header); larger ones in chunks.</summary>
    private const int RunWriteBytes = 64 << 10;

    public async ValueTask WriteAsync(PlannedBatch batch, CancellationToken ct)
    {
        var runLimit = Math.Min(chunkBytes, 256 << 10);
        var writes = batch.Writes;
        // a run: writes [runFirst, runFirst + runCount) of the list, their indexes consecutive (the target places by index)
        var runFirst = 0;
        var runCount = 0;
        var runBytes = 0L;
        for (var i = 0; i < writes.Count; i++)
        {
            var write = writes[i];
            if (write.Length <= RunWriteBytes && write.Length <= runLimit)
            {
                if (runCount > 0 && (runBytes + write.Length > runLimit || writes[runFirst].Index + runCount != write.Index))
                {
                    await control.SendDataRunAsync(batch, runFirst, runCount, ct).ConfigureAwait(false);
                    runCount = 0;
                }
                if (runCount == 0)
                {
                    runFirst = i;
                    runBytes = 0;
                }
                runCount++;
                runBytes += write.Length;
                continue;
            }
            if (runCount > 0)
            {
                await control.SendDataRunAsync(batch, runFirst, runCount, ct).ConfigureAwait(false);
                runCount = 0;
            }
            for (long done = 0; done < write.Length; done += chunkBytes)
            {
                var n = (int)Math.Min(chunkBytes, write.Length - done);
                await control.SendDataAsync(batch.BatchId, write.Index, done, RegionMemory.Memory(write.Source, write.SourceOffset + done, n), ct).ConfigureAwait(false);
            }
        }
        if (runCount > 0) await control.SendDataRunAsync(batch, runFirst, runCount, ct).ConfigureAwait(false);
    }

    // The target agent placed every chunk itself before the commit frame (same stream, in order).
    public ValueTask WaitPlacedAsync(long batchId, CancellationToken ct) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
