using PdRdma.Transport.Internal;

namespace PdRdma.Transport.Backends.Tcp;

/// <summary>Streams an accepted batch's source bytes as data chunks; the target side has nothing to wait for.</summary>
internal sealed class TcpLink(IControlLink control, int chunkBytes) : IBackendLink
{
    /// <summary>Writes up to this size travel in runs (several whole writes behind one header); larger ones in chunks.</summary>
    private const int RunWriteBytes = 64 << 10;

    public async ValueTask WriteAsync(PlannedBatch batch, CancellationToken ct)
    {
        var run = new List<ReadOnlyMemory<byte>>();
        var runFirst = 0;
        var runBytes = 0L;
        var runLimit = Math.Min(chunkBytes, 256 << 10);
        async ValueTask FlushRunAsync()
        {
            if (run.Count == 0) return;
            await control.SendDataRunAsync(batch.BatchId, runFirst, run, ct).ConfigureAwait(false);
            run.Clear();
            runBytes = 0;
        }
        for (var i = 0; i < batch.Writes.Count; i++)
        {
            var write = batch.Writes[i];
            if (write.Length <= RunWriteBytes && write.Length <= runLimit)
            {
                // a run holds consecutive writes only (the target places them by index)
                if (run.Count > 0 && (runBytes + write.Length > runLimit || runFirst + run.Count != write.Index)) await FlushRunAsync().ConfigureAwait(false);
                if (run.Count == 0) runFirst = write.Index;
                run.Add(RegionMemory.Memory(write.Source, write.SourceOffset, (int)write.Length));
                runBytes += write.Length;
                continue;
            }
            await FlushRunAsync().ConfigureAwait(false);
            for (long done = 0; done < write.Length; done += chunkBytes)
            {
                var n = (int)Math.Min(chunkBytes, write.Length - done);
                await control.SendDataAsync(batch.BatchId, write.Index, done, RegionMemory.Memory(write.Source, write.SourceOffset + done, n), ct).ConfigureAwait(false);
            }
        }
        await FlushRunAsync().ConfigureAwait(false);
    }

    // The target agent placed every chunk itself before the commit frame (same stream, in order).
    public ValueTask WaitPlacedAsync(long batchId, CancellationToken ct) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
