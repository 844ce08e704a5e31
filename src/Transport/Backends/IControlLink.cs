namespace PdRdma.Transport.Backends;

/// <summary>The connection's control link as backends see it. Thread-safe.</summary>
public interface IControlLink
{
    /// <summary>During connect only: sends an opaque setup blob to the peer's backend.</summary>
    ValueTask SendSetupBlobAsync(ReadOnlyMemory<byte> blob, CancellationToken ct);

    /// <summary>During connect only: receives the peer backend's next setup blob.</summary>
    ValueTask<byte[]> ReceiveSetupBlobAsync(CancellationToken ct);

    /// <summary>
    /// For backends with <see cref="BackendCapabilities.DataOverControlLink"/>: sends bytes of write
    /// <paramref name="writeIndex"/> of an accepted batch at <paramref name="offsetInWrite"/>; the target agent places
    /// them straight into its region. At most <see cref="MaxDataChunkBytes"/> per call. Applies back-pressure.
    /// </summary>
    ValueTask SendDataAsync(long batchId, int writeIndex, long offsetInWrite, ReadOnlyMemory<byte> bytes, CancellationToken ct);

    /// <summary>
    /// Like <see cref="SendDataAsync"/> for several whole writes at once (<paramref name="firstWrite"/> and the next
    /// <paramref name="pieces"/>.Count - 1), each piece one write's bytes: they go back to back behind one header and one
    /// MAC. The pieces together hold at most <see cref="MaxDataChunkBytes"/> bytes.
    /// </summary>
    ValueTask SendDataRunAsync(long batchId, int firstWrite, IReadOnlyList<ReadOnlyMemory<byte>> pieces, CancellationToken ct);

    /// <summary>
    /// Like <see cref="SendDataRunAsync(long, int, IReadOnlyList{ReadOnlyMemory{byte}}, CancellationToken)"/> for writes
    /// <paramref name="first"/> .. <paramref name="first"/> + <paramref name="count"/> - 1 of <paramref name="batch"/>
    /// (their indexes consecutive), read from their source regions as they are copied into the send buffer: nothing is
    /// allocated per write.
    /// </summary>
    ValueTask SendDataRunAsync(PlannedBatch batch, int first, int count, CancellationToken ct)
    {
        var pieces = new ReadOnlyMemory<byte>[count];
        for (var i = 0; i < count; i++)
        {
            var w = batch.Writes[first + i];
            pieces[i] = Internal.RegionMemory.Memory(w.Source, w.SourceOffset, checked((int)w.Length));
        }
        return SendDataRunAsync(batch.BatchId, batch.Writes[first].Index, pieces, ct);
    }

    int MaxDataChunkBytes { get; }
}
