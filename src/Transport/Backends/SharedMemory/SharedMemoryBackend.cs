using MessagePack;
using PdRdma.Transport.Backends.SharedMemory.Internal;
using PdRdma.Transport.Serialization;

namespace PdRdma.Transport.Backends.SharedMemory;

/// <summary>
/// Same host only: the initiator maps the target's region files (MAP_SHARED) and copies the bytes into them directly.
/// Each connection also gets a channel file from the target: a ring of batch records (initiator → target), a ring of
/// refusals and a completed-ticket word (target → initiator), futex doorbells, and the table of the peer's live grants,
/// which the initiator maps read-only. A batch goes as one record, with no socket on its way; the control link carries
/// the handshake, OpenGrant and what ends the connection. The target checks every record again as it checks a
/// control-link batch. Trust model (docs/transport.md): a same-host peer of the same user could write anywhere in a
/// region file it maps, so the library checks each batch before it copies and the target reports what a hostile peer
/// did (typed refusal, no notification); the files' mode (0600) keeps other users out.
/// </summary>
public sealed class SharedMemoryBackend : ITransferBackend
{
    private static readonly BackendCapabilities Caps = new(new HashSet<MemoryKind> { MemoryKind.Host }, Notifications: true, SameHostOnly: true, DataOverControlLink: false)
    {
        GrantWindows = true,
        CarriesBatches = true,
    };

    private static readonly MessagePackSerializerOptions Untrusted = MessagePackSerializerOptions.Standard
        .WithResolver(ReflectionFormatterResolver.ForRuntime(allowPrivate: false)).WithSecurity(MessagePackSecurity.UntrustedData);

    public string Name => "shm";

    public BackendCapabilities Capabilities => Caps;

    public bool IsAvailable(out string reason)
    {
        reason = "";
        return true;
    }

    public byte[]? DescribeRegion(IMemoryRegion region) => null;

    public async Task<IBackendLink> ConnectAsync(BackendConnectContext context, CancellationToken ct)
    {
        var unmappable = context.RemoteRegions.Values.Where(r => r.SharedPath is null).Select(r => r.RegionId).ToArray();
        if (context.RemoteRegions.Count > 0 && unmappable.Length == context.RemoteRegions.Count)
        {
            throw new TransferException(TransferErrorCode.Unsupported, $"shm: none of peer {context.PeerNodeId}'s regions has a shared file ({string.Join(", ", unmappable)})");
        }
        var offer = Read<ChannelOffer>(await context.Control.ReceiveSetupBlobAsync(ct).ConfigureAwait(false), context.PeerNodeId);
        if (OfferRefusal(offer) is { } refusal)
        {
            throw new TransferException(refusal.Code, $"shm: peer {context.PeerNodeId} {refusal.Why}");
        }
        var names = context.RemoteRegions.Values.Where(r => r.SharedPath is not null).Select(r => r.RegionId).Order(StringComparer.Ordinal).ToArray();
        var channel = new InitiatorChannel(offer, context.PeerNodeId);
        try
        {
            await context.Control.SendSetupBlobAsync(MessagePackSerializer.Serialize(new ChannelRegions(ChannelLayout.Version, names), Untrusted), ct).ConfigureAwait(false);
        }
        catch
        {
            channel.Dispose();
            throw;
        }
        return new SharedMemoryLink(context.RemoteRegions, channel, names, context.PeerNodeId);
    }

    public async Task<IBackendLink> AcceptAsync(BackendConnectContext context, CancellationToken ct)
    {
        var sink = context.Batches ?? throw new TransferException(TransferErrorCode.Unsupported, "shm: the agent gave no way to hand over carried batches");
        var channel = new TargetChannel(sink, context.PeerNodeId);
        try
        {
            await context.Control.SendSetupBlobAsync(MessagePackSerializer.Serialize(channel.Offer, Untrusted), ct).ConfigureAwait(false);
            var regions = Read<ChannelRegions>(await context.Control.ReceiveSetupBlobAsync(ct).ConfigureAwait(false), context.PeerNodeId);
            channel.Start(regions);
        }
        catch
        {
            channel.Dispose();
            throw;
        }
        return new SharedMemoryTargetLink(channel);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Why an initiator must not open the channel a target offered (a hostile target names any path, any size); null: acceptable.</summary>
    internal static (TransferErrorCode Code, string Why)? OfferRefusal(ChannelOffer offer)
    {
        if (offer.Version != ChannelLayout.Version)
        {
            return (TransferErrorCode.VersionMismatch, $"offers channel version {offer.Version}, this initiator speaks {ChannelLayout.Version}");
        }
        if (offer.RingBytes is < 64 << 10 or > 64 << 20 || (offer.RingBytes & (offer.RingBytes - 1)) != 0 || offer.ErrorSlots is < 1 or > 4096 || offer.GrantSlots is < 1 or > 65536)
        {
            return (TransferErrorCode.Protocol, $"offers a channel of {offer.RingBytes} ring bytes, {offer.ErrorSlots} error slots, {offer.GrantSlots} grant slots (ring: a power of two from 64 KiB to 64 MiB; 1-4096 error slots; 1-65536 grant slots)");
        }
        if (offer.MaxWritesPerBatch < 0 || offer.MaxBatchBytes < 0)
        {
            return (TransferErrorCode.Protocol, $"offers negative batch limits ({offer.MaxWritesPerBatch} writes, {offer.MaxBatchBytes} bytes)");
        }
        if (SharedPathPolicy.Refusal(offer.Path ?? "", HostRegion.DefaultDirectory) is { } why)
        {
            return (TransferErrorCode.AccessDenied, $"offers the channel file '{offer.Path}', which {why}: not opened");
        }
        return null;
    }

    private static T Read<T>(byte[] blob, string peer)
    {
        try
        {
            return MessagePackSerializer.Deserialize<T>(blob, Untrusted);
        }
        catch (MessagePackSerializationException ex)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"shm: peer {peer} sent an unreadable setup blob ({blob.Length} bytes): {ex.Message}");
        }
    }
}
