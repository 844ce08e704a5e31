using PdRdma.Transport.Internal;

namespace PdRdma.Transport.Backends.Tcp;

/// <summary>Streams an accepted batch's source bytes as data chunks; the target side has nothing to wait for.</summary>
internal sealed class TcpLink(IControlLink control, int chunkBytes) : IBackendLink
{
    public async ValueTask WriteAsync(PlannedBatch batch, CancellationToken ct)
    {
        foreach (var write in batch.Writes)
        {
            for (long done = 0; done < write.Length; done += chunkBytes)
            {
                var n = (int)Math.Min(chunkBytes, write.Length - done);
                await control.SendDataAsync(batch.BatchId, write.Index, done, RegionMemory.Memory(write.Source, write.SourceOffset + done, n), ct).ConfigureAwait(false);
            }
        }
    }

    // The target agent placed every chunk itself before the commit frame (same stream, in order).
    public ValueTask WaitPlacedAsync(long batchId, CancellationToken ct) => ValueTask.CompletedTask;

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
