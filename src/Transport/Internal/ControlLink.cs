using PdRdma.Transport.Backends;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Transport.Internal;

/// <summary>The <see cref="IControlLink"/> backends get: setup blobs during connect, data chunks after.</summary>
internal sealed class ControlLink(ControlConnection connection) : IControlLink
{
    public int MaxDataChunkBytes => Math.Min(1 << 20, connection.MaxFrameBytes);

    public ValueTask SendSetupBlobAsync(ReadOnlyMemory<byte> blob, CancellationToken ct) =>
        connection.SendAsync(MessageType.BackendBlob, new BackendBlobMessage { Data = blob.ToArray() }, ct);

    public async ValueTask<byte[]> ReceiveSetupBlobAsync(CancellationToken ct)
    {
        var frame = await connection.ReadFrameAsync(ct).ConfigureAwait(false)
            ?? throw new TransferException(TransferErrorCode.PeerLost, "peer closed the link during backend setup");
        return frame.Type switch
        {
            MessageType.BackendBlob => frame.Read<BackendBlobMessage>().Data,
            MessageType.Error => throw frame.Read<ErrorMessage>().ToException(),
            _ => throw new TransferException(TransferErrorCode.Protocol, $"expected a backend setup blob, got {frame.Type}"),
        };
    }

    public ValueTask SendDataAsync(long batchId, int writeIndex, long offsetInWrite, ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        if (bytes.Length > MaxDataChunkBytes) throw new ArgumentOutOfRangeException(nameof(bytes), bytes.Length, $"at most {MaxDataChunkBytes} bytes per chunk");
        var header = new DataChunkMessage { BatchId = batchId, WriteIndex = writeIndex, OffsetInWrite = offsetInWrite, Length = bytes.Length };
        return connection.SendDataAsync(header, bytes, ct);
    }

    public ValueTask SendDataRunAsync(PlannedBatch batch, int first, int count, CancellationToken ct)
    {
        var length = 0L;
        for (var i = first; i < first + count; i++) length += batch.Writes[i].Length;
        if (length > MaxDataChunkBytes) throw new ArgumentOutOfRangeException(nameof(count), length, $"at most {MaxDataChunkBytes} bytes per run");
        var header = new DataRunMessage { BatchId = batch.BatchId, FirstWrite = batch.Writes[first].Index, Count = count, Length = (int)length };
        return connection.SendDataRunAsync(header, batch.Writes, first, ct);
    }

    public ValueTask SendDataRunAsync(long batchId, int firstWrite, IReadOnlyList<ReadOnlyMemory<byte>> pieces, CancellationToken ct)
    {
        var length = 0L;
        foreach (var piece in pieces) length += piece.Length;
        if (length > MaxDataChunkBytes) throw new ArgumentOutOfRangeException(nameof(pieces), length, $"at most {MaxDataChunkBytes} bytes per run");
        var header = new DataRunMessage { BatchId = batchId, FirstWrite = firstWrite, Count = pieces.Count, Length = (int)length };
        return connection.SendDataRunAsync(header, pieces, ct);
    }
}
