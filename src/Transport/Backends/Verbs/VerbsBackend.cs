using System.Collections.Concurrent;
using MessagePack;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PdRdma.Transport.Backends.Verbs.Internal;
using PdRdma.Transport.Serialization;

namespace PdRdma.Transport.Backends.Verbs;

/// <summary>
/// RDMA verbs (RoCE, InfiniBand, Soft-RoCE): one RC queue pair per peer; the initiator RDMA WRITEs each
/// extent from its registered region straight into the peer's registered region, then SENDs the batch
/// id, which RC ordering delivers only after every byte is placed. Connection data (QPN, PSN, GID,
/// MTU) travels as a setup blob on the control link; each region's address and rkey travel in its
/// descriptor. The device is opened on first use; without one the backend reports itself unavailable
/// with the reason and the fix. Thread-safe.
/// </summary>
public sealed class VerbsBackend : ITransferBackend
{
    private static readonly BackendCapabilities Caps = new(new HashSet<MemoryKind> { MemoryKind.Host, MemoryKind.CudaDevice, MemoryKind.LevelZeroDevice }, Notifications: true, SameHostOnly: false, DataOverControlLink: false);
    private static readonly BackendCapabilities WindowCaps = Caps with { GrantWindows = true };
    private static readonly MessagePackSerializerOptions Untrusted = MessagePackSerializerOptions.Standard
        .WithResolver(ReflectionFormatterResolver.ForRuntime(allowPrivate: false)).WithSecurity(MessagePackSecurity.UntrustedData);

    private readonly Lazy<(VerbsDevice? Device, string Reason)> _device;
    private readonly ConcurrentDictionary<IMemoryRegion, Lazy<VerbsRegistration>> _registrations = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<IMemoryRegion, VerbsDeviceWindow> _deviceWindows = new(ReferenceEqualityComparer.Instance);
    private readonly bool _forceStaged;
    private readonly ILogger _logger;

    public VerbsBackend(VerbsOptions? options = null, ILogger? logger = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _forceStaged = options?.DeviceMemoryStaged ?? false;
        _device = new Lazy<(VerbsDevice?, string)>(() =>
        {
            try { return (VerbsDevice.Open(options, _logger), ""); }
            catch (TransferException ex) when (ex.Code == TransferErrorCode.DeviceUnavailable) { return (null, ex.Detail); }
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Name => "verbs";

    /// <summary>
    /// Grant windows where the device has type-2 memory windows (<see cref="VerbsDevice.MemoryWindows"/>): batches under a
    /// grant then go without a proceed round trip, the grant enforced in the target's NIC. Opens the device on first use.
    /// </summary>
    public BackendCapabilities Capabilities => _device.Value.Device is { MemoryWindows: true } ? WindowCaps : Caps;

    /// <summary>The opened device's name (e.g. rxe0), or null when none is usable; opens the device on first use.</summary>
    public string? DeviceName => _device.Value.Device?.Name;

    public bool IsAvailable(out string reason)
    {
        var (device, why) = _device.Value;
        reason = device is null ? why : device.IsDown ? $"RDMA device {device.Name} port {device.Port} is down" : "";
        return device is not null && !device.IsDown;
    }

    /// <summary>Registers the region with the device (once) and returns its address and rkey for peers; null when unusable.</summary>
    public byte[]? DescribeRegion(IMemoryRegion region)
    {
        if (!IsAvailable(out _) || !Caps.MemoryKinds.Contains(region.Kind)) return null;
        try
        {
            return MessagePackSerializer.Serialize(Registration(region).Describe(), Untrusted);
        }
        catch (TransferException ex)
        {
            _registrations.TryRemove(region, out _);
            VerbsLog.RegionUnusable(_logger, region.Id, ex.Message);
            return null;
        }
    }

    public async Task<IBackendLink> ConnectAsync(BackendConnectContext context, CancellationToken ct)
    {
        var device = RequireDevice("this agent");
        foreach (var region in context.LocalRegions.Values) Registration(region);
        var endpoint = device.CreateEndpoint(context.PeerNodeId);
        try
        {
            await context.Control.SendSetupBlobAsync(MessagePackSerializer.Serialize(endpoint.LocalInfo([]), Untrusted), ct).ConfigureAwait(false);
            var remote = ReadInfo(await context.Control.ReceiveSetupBlobAsync(ct).ConfigureAwait(false), context.PeerNodeId);
            endpoint.Connect(remote with { Regions = RemoteWindows(context) });
            return new VerbsLink(this, endpoint, context.LocalRegions);
        }
        catch
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async Task<IBackendLink> AcceptAsync(BackendConnectContext context, CancellationToken ct)
    {
        var remote = ReadInfo(await context.Control.ReceiveSetupBlobAsync(ct).ConfigureAwait(false), context.PeerNodeId);
        var device = RequireDevice($"target {context.LocalNodeId}");
        var endpoint = device.CreateEndpoint(context.PeerNodeId);
        try
        {
            await context.Control.SendSetupBlobAsync(MessagePackSerializer.Serialize(endpoint.LocalInfo([]), Untrusted), ct).ConfigureAwait(false);
            endpoint.Connect(remote with { Regions = RemoteWindows(context) });
            return new VerbsLink(this, endpoint, context.LocalRegions);
        }
        catch
        {
            await endpoint.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    internal VerbsRegistration Registration(IMemoryRegion region) =>
        _registrations.GetOrAdd(region, r => new Lazy<VerbsRegistration>(() => Register(r))).Value;

    /// <summary>
    /// How <paramref name="region"/> meets the NIC (registering it on first use): host memory pinned, device memory
    /// through its dma-buf, or host-staged with the reason the dma-buf registration was not used.
    /// </summary>
    public VerbsMemoryPath PathOf(IMemoryRegion region, out string? fallbackReason)
    {
        _ = Registration(region);
        var window = _deviceWindows.GetValueOrDefault(region);
        fallbackReason = window?.FallbackReason;
        return window?.Path ?? VerbsMemoryPath.HostRegistered;
    }

    /// <summary>Device regions (anything exporting a dma-buf) go through <see cref="VerbsDevice.RegisterDeviceMemory"/>; host regions are pinned.</summary>
    private VerbsRegistration Register(IMemoryRegion region)
    {
        var device = _device.Value.Device!;
        if (region is not IDeviceMemory deviceMemory) return device.Register(region);
        var window = device.RegisterDeviceMemory(deviceMemory, _forceStaged, _logger);
        _deviceWindows[region] = window;
        return window.Registration;
    }

    /// <summary>Initiator, staged source: device bytes into the bounce buffer before the NIC reads them.</summary>
    internal void BeforeSend(IMemoryRegion source, long offset, long length)
    {
        if (_deviceWindows.TryGetValue(source, out var window)) window.StageOut(offset, length);
    }

    /// <summary>Target, staged region: placed bytes from the bounce buffer into device memory.</summary>
    internal void AfterPlaced(IMemoryRegion target, long offset, long length)
    {
        if (_deviceWindows.TryGetValue(target, out var window)) window.StageIn(offset, length);
    }

    private VerbsDevice RequireDevice(string who)
    {
        if (!IsAvailable(out var reason)) throw new TransferException(TransferErrorCode.DeviceUnavailable, $"verbs on {who}: {reason}");
        return _device.Value.Device!;
    }

    private static VerbsConnectionInfo ReadInfo(byte[] blob, string peer)
    {
        try
        {
            return MessagePackSerializer.Deserialize<VerbsConnectionInfo>(blob, Untrusted);
        }
        catch (MessagePackSerializationException ex)
        {
            throw new TransferException(TransferErrorCode.Protocol, $"peer {peer} sent an unreadable verbs setup blob ({blob.Length} bytes): {ex.Message}");
        }
    }

    private static List<VerbsRemoteRegion> RemoteWindows(BackendConnectContext context)
    {
        var windows = new List<VerbsRemoteRegion>();
        foreach (var descriptor in context.RemoteRegions.Values)
        {
            if (descriptor.BackendKeys?.GetValueOrDefault("verbs") is not { } blob) continue;
            var window = MessagePackSerializer.Deserialize<VerbsRemoteRegion>(blob, Untrusted);
            windows.Add(window with { RegionId = descriptor.RegionId });
        }
        return windows;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var registration in _registrations.Values.Where(l => l.IsValueCreated)) registration.Value.Dispose();
        _registrations.Clear();
        foreach (var window in _deviceWindows.Values) window.Dispose();
        _deviceWindows.Clear();
        if (_device.IsValueCreated) _device.Value.Device?.Dispose();
        await Task.CompletedTask.ConfigureAwait(false);
    }
}
