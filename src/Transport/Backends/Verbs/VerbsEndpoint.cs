using System.Threading.Channels;
using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;
using PdRdma.Transport.Backends.Verbs.Internal;

namespace PdRdma.Transport.Backends.Verbs;

/// <summary>
/// One RC queue pair to one peer. Writes go as RDMA WRITEs from local registrations straight into the
/// peer's registered windows; a batch's notification goes as a SEND posted after its writes, so RC
/// ordering delivers it only once every byte is placed. A failed completion tears the queue pair down
/// and fails this peer's batches; other endpoints are unaffected. Thread-safe; batches are posted in
/// call order.
/// </summary>
public sealed partial class VerbsEndpoint : IAsyncDisposable
{
    private const ulong ReceiveTag = 1UL << 63;
    private const int NotificationHeaderBytes = 8;

    private readonly VerbsDevice _device;
    private readonly IbvQpHandle _qp;
    private readonly RegisteredBuffer _sendSlots;
    private readonly RegisteredBuffer _receiveSlots;
    private readonly SemaphoreSlim _credits;
    private readonly SemaphoreSlim _notifySlots;
    private readonly Stack<int> _freeNotifySlots = new();
    private readonly SemaphoreSlim _postOrder = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Queue<SignalledChunk> _signalled = new();
    private readonly Dictionary<ulong, TaskCompletionSource> _pending = new();
    private readonly Channel<VerbsNotification> _notifications =
        Channel.CreateUnbounded<VerbsNotification>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly int _sendQueueDepth;
    private Dictionary<string, VerbsRemoteRegion> _remote = new(StringComparer.Ordinal);
    private TransferException? _failure;
    private bool _connected;
    private bool _disposed;
    private ulong _nextBatch;

    internal VerbsEndpoint(VerbsDevice device, string peerName)
    {
        _device = device;
        PeerName = peerName;
        var options = device.Options;
        PacketSequenceNumber = (uint)Random.Shared.Next(0, 1 << 24);
        var cap = new ibv_qp_cap
        {
            max_send_wr = (uint)options.SendQueueDepth,
            max_recv_wr = (uint)options.NotificationSlots,
            max_send_sge = 1,
            max_recv_sge = 1,
        };
        _qp = Ibv.CreateQp(device.ProtectionDomain, device.CompletionQueue, device.CompletionQueue, ibv_qp_type.IBV_QPT_RC, ref cap, signalAll: false);
        if (_qp.IsInvalid) throw VerbsErrors.Native($"ibv_create_qp(RC, {options.SendQueueDepth} send entries) for peer {peerName}", device.Name, System.Runtime.InteropServices.Marshal.GetLastPInvokeError());
        _sendQueueDepth = (int)cap.max_send_wr;
        _credits = new SemaphoreSlim(_sendQueueDepth);
        _notifySlots = new SemaphoreSlim(options.NotificationSlots);
        for (int i = options.NotificationSlots - 1; i >= 0; i--) _freeNotifySlots.Push(i);
        try
        {
            _sendSlots = new RegisteredBuffer(device.ProtectionDomain, options.NotificationSlots, options.NotificationSlotBytes, ibv_access_flags.IBV_ACCESS_LOCAL_WRITE, "notification send slots", device.Name);
            _receiveSlots = new RegisteredBuffer(device.ProtectionDomain, options.NotificationSlots, options.NotificationSlotBytes, ibv_access_flags.IBV_ACCESS_LOCAL_WRITE, "notification receive slots", device.Name);
            int rc = QpTransitions.ToInit(_qp, device.Port);
            if (rc != 0) throw VerbsErrors.Native("ibv_modify_qp(RESET→INIT)", device.Name, rc);
            for (int slot = 0; slot < options.NotificationSlots; slot++)
            {
                rc = SendPoster.PostReceive(_qp, ReceiveTag | (uint)slot, _receiveSlots.SlotAddress(slot), (uint)_receiveSlots.SlotBytes, _receiveSlots.LocalKey);
                if (rc != 0) throw VerbsErrors.Native("ibv_post_recv", device.Name, rc);
            }
        }
        catch
        {
            _qp.Dispose();
            _sendSlots?.Dispose();
            _receiveSlots?.Dispose();
            throw;
        }
    }

    public string PeerName { get; }

    internal Microsoft.Extensions.Logging.ILogger Logger => _device.Logger;

    public uint QueuePairNumber => _qp.QpNumber;

    /// <summary>The first packet sequence number this side sends with.</summary>
    public uint PacketSequenceNumber { get; }

    /// <summary>Notifications of batches the peer wrote into this side, in arrival order.</summary>
    public ChannelReader<VerbsNotification> Notifications => _notifications.Reader;

    /// <summary>Set once the queue pair was torn down: why.</summary>
    public TransferException? Failure => _failure;

    /// <summary>This side's half of the connection, advertising <paramref name="exposed"/> for the peer to write into.</summary>
    public VerbsConnectionInfo LocalInfo(IEnumerable<VerbsRegistration> exposed) =>
        new(VerbsConnectionInfo.CurrentVersion, _device.Name, QueuePairNumber, PacketSequenceNumber, _device.Gid, _device.MtuBytes,
            exposed.Select(r => r.Describe()).ToList());

    /// <summary>Moves the queue pair to RTR and RTS against the peer's half of the connection.</summary>
    /// <exception cref="TransferException">VersionMismatch, or Protocol when the device refuses the transition.</exception>
    public void Connect(VerbsConnectionInfo remote)
    {
        if (remote.Version != VerbsConnectionInfo.CurrentVersion)
            throw new TransferException(TransferErrorCode.VersionMismatch, $"peer {PeerName} speaks verbs connection version {remote.Version}, this side {VerbsConnectionInfo.CurrentVersion}");
        if (remote.Gid is not { Length: 16 })
            throw new TransferException(TransferErrorCode.Protocol, $"peer {PeerName} sent a GID of {remote.Gid?.Length ?? 0} bytes, 16 expected");
        int mtuBytes = Math.Min(_device.MtuBytes, remote.Mtu);
        var mtu = (ibv_mtu)Math.Clamp(System.Numerics.BitOperations.Log2((uint)Math.Max(mtuBytes, 256)) - 7, 1, 5);
        lock (_gate)
        {
            int rc = QpTransitions.ToReadyToReceive(_qp, _device.Port, _device.GidIndex, mtu, remote.QueuePairNumber, remote.PacketSequenceNumber, GidSelector.FromBytes(remote.Gid));
            if (rc != 0) throw new TransferException(TransferErrorCode.Protocol, $"ibv_modify_qp(INIT→RTR) towards {PeerName} (QP {remote.QueuePairNumber}, GID {GidSelector.Format(remote.Gid)}) failed: {VerbsErrors.Errno(rc)}");
            rc = QpTransitions.ToReadyToSend(_qp, PacketSequenceNumber, _device.Options.AckTimeout, _device.Options.RetryCount);
            if (rc != 0) throw new TransferException(TransferErrorCode.Protocol, $"ibv_modify_qp(RTR→RTS) towards {PeerName} failed: {VerbsErrors.Errno(rc)}");
            _remote = remote.Regions.ToDictionary(r => r.RegionId, StringComparer.Ordinal);
            _connected = true;
        }
        VerbsLog.Connected(_device.Logger, QueuePairNumber, PeerName, remote.QueuePairNumber, 128 << (int)mtu);
    }

    public ValueTask DisposeAsync()
    {
        lock (_gate)
        {
            if (_disposed) return ValueTask.CompletedTask;
            if (_failure is null) FailLocked(new TransferException(TransferErrorCode.PeerLost, $"the connection to {PeerName} was closed by this side"), ulong.MaxValue, log: false);
            _disposed = true;
            _device.Forget(this);
            _qp.Dispose();
            _sendSlots.Dispose();
            _receiveSlots.Dispose();
        }
        _notifications.Writer.TryComplete();
        return ValueTask.CompletedTask;
    }
}
