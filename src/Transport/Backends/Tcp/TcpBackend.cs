using System.Buffers.Binary;

namespace PdRdma.Transport.Backends.Tcp;

/// <summary>
/// Bytes travel on the connection's own TCP control link as data frames; the target agent reads them from the socket's
/// pipe straight into the registered region (no staging buffer). Works between any two hosts. Several batches may be in
/// flight; TCP flow control plus the bounded in-flight batch count give back-pressure.
/// Setup: the two sides agree on the data chunk size (the smaller of both) through one setup blob each way.
/// </summary>
public sealed class TcpBackend : ITransferBackend
{
    private static readonly BackendCapabilities Caps = new(new HashSet<MemoryKind> { MemoryKind.Host }, Notifications: true, SameHostOnly: false, DataOverControlLink: true);

    public string Name => "tcp";

    public BackendCapabilities Capabilities => Caps;

    public bool IsAvailable(out string reason)
    {
        reason = "";
        return true;
    }

    public byte[]? DescribeRegion(IMemoryRegion region) => null;

    public async Task<IBackendLink> ConnectAsync(BackendConnectContext context, CancellationToken ct)
    {
        var mine = context.Control.MaxDataChunkBytes;
        await context.Control.SendSetupBlobAsync(Encode(mine), ct).ConfigureAwait(false);
        var agreed = Decode(await context.Control.ReceiveSetupBlobAsync(ct).ConfigureAwait(false));
        if (agreed <= 0 || agreed > mine) throw new TransferException(TransferErrorCode.Protocol, $"tcp setup: peer agreed on a chunk of {agreed} bytes, at most {mine} offered");
        return new TcpLink(context.Control, agreed);
    }

    public async Task<IBackendLink> AcceptAsync(BackendConnectContext context, CancellationToken ct)
    {
        var offered = Decode(await context.Control.ReceiveSetupBlobAsync(ct).ConfigureAwait(false));
        if (offered <= 0) throw new TransferException(TransferErrorCode.Protocol, $"tcp setup: chunk size {offered}");
        var agreed = Math.Min(offered, context.Control.MaxDataChunkBytes);
        await context.Control.SendSetupBlobAsync(Encode(agreed), ct).ConfigureAwait(false);
        return new TcpLink(context.Control, agreed);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static byte[] Encode(int chunk)
    {
        var blob = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(blob, chunk);
        return blob;
    }

    private static int Decode(byte[] blob) =>
        blob.Length == 4 ? BinaryPrimitives.ReadInt32LittleEndian(blob) : throw new TransferException(TransferErrorCode.Protocol, $"tcp setup blob of {blob.Length} bytes, 4 expected");
}
