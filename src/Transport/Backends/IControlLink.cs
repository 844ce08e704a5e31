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

    int MaxDataChunkBytes { get; }
}
