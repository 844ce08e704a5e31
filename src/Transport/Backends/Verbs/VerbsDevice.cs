using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PdRdma.Interop.Verbs;
using PdRdma.Interop.Verbs.Handles;
using PdRdma.Interop.Verbs.Native;
using PdRdma.Transport.Backends.Verbs.Internal;

namespace PdRdma.Transport.Backends.Verbs;

/// <summary>
/// One opened RDMA device port: its context, protection domain, one completion queue shared by every
/// peer's queue pair, and the completion poller thread. Registrations and endpoints are created from it.
/// Thread-safe. Dispose after the endpoints and registrations made from it (they keep it alive anyway).
/// </summary>
public sealed partial class VerbsDevice : IDisposable
{
    private const int CompletionQueueEntries = 16384;

    private readonly IbvContextHandle _context;
    private readonly IbvPdHandle _pd;
    private readonly IbvCompChannelHandle _channel;
    private readonly IbvCqHandle _cq;
    private readonly CompletionPoller _poller;
    private readonly ConcurrentDictionary<uint, VerbsEndpoint> _endpoints = new();

    private VerbsDevice(VerbsOptions options, string name, IbvContextHandle context, IbvPdHandle pd, IbvCompChannelHandle channel,
        IbvCqHandle cq, ibv_port_attr port, int gidIndex, byte[] gid, ILogger logger)
    {
        Options = options;
        Name = name;
        _context = context;
        _pd = pd;
        _channel = channel;
        _cq = cq;
        ActiveMtu = port.active_mtu;
        GidIndex = gidIndex;
        Gid = gid;
        Logger = logger;
        _poller = new CompletionPoller(this, context, channel, cq, logger);
    }

    public string Name { get; }

    public byte Port => Options.Port;

    public int GidIndex { get; }

    /// <summary>The 16-byte RoCE v2 GID this device's queue pairs use.</summary>
    public byte[] Gid { get; }

    public int MtuBytes => 128 << (int)ActiveMtu;

    internal ibv_mtu ActiveMtu { get; }

    internal VerbsOptions Options { get; }

    internal ILogger Logger { get; }

    internal IbvPdHandle ProtectionDomain => _pd;

    internal IbvCqHandle CompletionQueue => _cq;

    /// <summary>True after the device reported its port down or a fatal error.</summary>
    public bool IsDown { get; internal set; }

    /// <summary>
    /// Pins and registers [offset, offset+length) of <paramref name="region"/> for local and remote writes,
    /// under <paramref name="id"/> (default: the region's id). The region must outlive the registration.
    /// </summary>
    /// <exception cref="TransferException">DeviceUnavailable, naming RLIMIT_MEMLOCK when pinning is refused.</exception>
    public VerbsRegistration Register(IMemoryRegion region, long offset = 0, long length = -1, string? id = null)
    {
        if (length < 0) length = region.Length - offset;
        if (offset < 0 || length <= 0 || offset + length > region.Length)
            throw new TransferException(TransferErrorCode.OutOfBounds, $"registration [{offset}, {offset + length}) is outside region {region.Id} of {region.Length} bytes");
        nint address = region.Address + (nint)offset;
        var mr = Ibv.RegMr(_pd, address, (nuint)length, RegionAccess);
        if (mr.IsInvalid) throw VerbsErrors.RegistrationFailed($"region {region.Id}", length, Name, Marshal.GetLastPInvokeError());
        return new VerbsRegistration(id ?? region.Id, address, length, mr);
    }

    /// <summary>Local and remote write; memory-window binds too where grants are enforced with windows.</summary>
    internal ibv_access_flags RegionAccess => ibv_access_flags.IBV_ACCESS_LOCAL_WRITE | ibv_access_flags.IBV_ACCESS_REMOTE_WRITE
        | (MemoryWindows ? ibv_access_flags.IBV_ACCESS_MW_BIND : 0);

    /// <summary>Creates the RC queue pair for one peer; connect it with <see cref="VerbsEndpoint.Connect"/>.</summary>
    public VerbsEndpoint CreateEndpoint(string peerName)
    {
        if (IsDown) throw VerbsErrors.DeviceUnavailable($"RDMA device {Name} port {Port} is down");
        var endpoint = new VerbsEndpoint(this, peerName);
        _endpoints[endpoint.QueuePairNumber] = endpoint;
        return endpoint;
    }

    internal bool TryGetEndpoint(uint qpn, out VerbsEndpoint endpoint) => _endpoints.TryGetValue(qpn, out endpoint!);

    internal void Forget(VerbsEndpoint endpoint) => _endpoints.TryRemove(endpoint.QueuePairNumber, out _);

    internal IEnumerable<VerbsEndpoint> Endpoints => _endpoints.Values;

    public void Dispose()
    {
        _poller.Dispose();
        foreach (var endpoint in _endpoints.Values) endpoint.Abort(new TransferException(TransferErrorCode.PeerLost, $"device {Name} was closed"));
        _cq.Dispose();
        _channel.Dispose();
        _pd.Dispose();
        _context.Dispose();
    }
}
