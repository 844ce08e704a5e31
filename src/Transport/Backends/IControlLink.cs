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

    int MaxDataChunkBytes { get; }
}
