using System.IO.MemoryMappedFiles;
using System.Net;
using System.Text;
using MessagePack;
using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;
using PdRdma.Transport.Backends.SharedMemory.Internal;
using PdRdma.Transport.Internal.Wire;
using PdRdma.Transport.Serialization;
using static PdRdma.Transport.Backends.SharedMemory.Internal.ChannelLayout;

namespace PdRdma.Tests.Transport.SharedMemory;

/// <summary>
/// A same-host peer that does the shm handshake by hand and then writes batch records straight into the channel's
/// ring, bypassing every check the library makes before it posts: what a hostile process of the same user can do.
/// The target must refuse each lie with a typed error and notify nothing.
/// </summary>
internal sealed class HostileChannelPeer : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);
    private static readonly MessagePackSerializerOptions Blobs = MessagePackSerializerOptions.Standard
        .WithResolver(ReflectionFormatterResolver.ForRuntime(allowPrivate: false)).WithSecurity(MessagePackSecurity.UntrustedData);

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private long _tail;
    private long _ticket;
    private long _errorHead;

    private HostileChannelPeer(RawPeer raw, ChannelOffer offer, MemoryMappedFile file, MemoryMappedViewAccessor view)
    {
        Raw = raw;
        Offer = offer;
        _file = file;
        _view = view;
    }

    public RawPeer Raw { get; }

    public ChannelOffer Offer { get; }

    public static async Task<HostileChannelPeer> ConnectAsync(IPEndPoint endpoint, params string[] regions)
    {
        var raw = await RawPeer.ConnectAsync(endpoint);
        await raw.SendFrameAsync(MessageType.Hello, new HelloMessage { Version = WireFormat.ProtocolVersion, NodeId = "hostile", HostId = HostIdentity.Current, Nonce = new byte[32] });
        Assert.Equal(MessageType.Hello, (await raw.ReadFrameAsync(Limit))!.Value.Type);
        await raw.SendFrameAsync(MessageType.Setup, new SetupMessage { Backends = ["shm"] });
        Assert.Equal(MessageType.Welcome, (await raw.ReadFrameAsync(Limit))!.Value.Type);
        await raw.SendFrameAsync(MessageType.SelectBackend, new SelectBackendMessage { Backend = "shm", Reason = "hostile" });
        var blob = (await raw.ReadFrameAsync(Limit))!.Value;
        Assert.Equal(MessageType.BackendBlob, blob.Type);
        var offer = MessagePackSerializer.Deserialize<ChannelOffer>(MessagePackSerializer.Deserialize<BackendBlobMessage>(blob.Body, WireFormat.Options).Data, Blobs);
        // mapped whole and writable: this peer ignores that the grant table is meant to be read-only for it
        var file = MemoryMappedFile.CreateFromFile(offer.Path, FileMode.Open, null, 0, MemoryMappedFileAccess.ReadWrite);
        var view = file.CreateViewAccessor(0, 0, MemoryMappedFileAccess.ReadWrite);
        await raw.SendFrameAsync(MessageType.BackendBlob, new BackendBlobMessage { Data = MessagePackSerializer.Serialize(new ChannelRegions(ChannelLayout.Version, regions), Blobs) });
        return new HostileChannelPeer(raw, offer, file, view);
    }

    /// <summary>Posts a batch record as this peer pleases; <paramref name="lengthLie"/> replaces the record's length field.</summary>
    public long Post(long batchId, (int Region, long Offset, long Length)[] writes, byte[]? notification = null, int grantSlot = -1, long grantGeneration = 0,
        int? writeCountLie = null, uint? lengthLie = null, long? ticketLie = null)
    {
        var length = (int)Align(RecordHeaderBytes + (long)writes.Length * WriteBytes + (notification?.Length ?? 0), RecordAlign);
        var at = RingAt + _tail % Offer.RingBytes;
        Assert.True(_tail % Offer.RingBytes + length <= Offer.RingBytes, "the test's records fit before the ring's end");
        var ticket = ticketLie ?? ++_ticket;
        _view.Write(at + RecLength, lengthLie ?? (uint)length);
        _view.Write(at + RecKind, KindBatch);
        _view.Write(at + RecTicket, ticket);
        _view.Write(at + RecBatchId, batchId);
        _view.Write(at + RecWriteCount, writeCountLie ?? writes.Length);
        _view.Write(at + RecNotification, notification?.Length ?? -1);
        _view.Write(at + RecFlags, 0);
        _view.Write(at + RecGrantSlot, grantSlot);
        _view.Write(at + RecGrantGeneration, grantGeneration);
        _view.Write(at + RecChecksum, 0UL);
        var w = at + RecordHeaderBytes;
        foreach (var (region, offset, len) in writes)
        {
            _view.Write(w, region);
            _view.Write(w + 8, offset);
            _view.Write(w + 16, len);
            w += WriteBytes;
        }
        if (notification is not null) _view.WriteArray(w, notification, 0, notification.Length);
        _tail += length;
        _view.Write(TailAt, _tail);
        // wake the target if it sleeps (the library does this with a futex; the target also wakes on its own timeout)
        _view.Write(DoorbellAt, _view.ReadInt32(DoorbellAt) + 1);
        return ticket;
    }

    /// <summary>Waits until the target finished <paramref name="ticket"/>; returns its refusal (code, message) or null.</summary>
    public async Task<(TransferErrorCode Code, string Message)?> OutcomeAsync(long ticket)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (_view.ReadInt64(CompletedAt) < ticket)
        {
            Assert.True(DateTime.UtcNow < deadline, $"ticket {ticket} not finished within {Limit}");
            await Task.Delay(5);
        }
        (TransferErrorCode, string)? outcome = null;
        for (var tail = _view.ReadInt64(ErrorTailAt); _errorHead < tail; _errorHead++)
        {
            var entry = ErrorsAt(Offer.RingBytes) + _errorHead % Offer.ErrorSlots * ErrorEntryBytes;
            var bytes = new byte[Math.Clamp(_view.ReadInt32(entry + ErrMessageLength), 0, ErrMessageMax)];
            _view.ReadArray(entry + ErrMessage, bytes, 0, bytes.Length);
            if (_view.ReadInt64(entry + ErrTicket) == ticket) outcome = ((TransferErrorCode)_view.ReadInt32(entry + ErrCode), Encoding.UTF8.GetString(bytes));
        }
        _view.Write(ErrorHeadAt, _errorHead);
        return outcome;
    }

    public bool TargetClosed => _view.ReadInt32(TargetClosedAt) != 0;

    public void Dispose()
    {
        _view.Dispose();
        _file.Dispose();
        Raw.Dispose();
    }
}
