using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using PdRdma.Transport.Backends;
using PdRdma.Transport.Backends.SharedMemory;
using PdRdma.Transport.Backends.Tcp;
using PdRdma.Transport.Backends.Verbs;
using PdRdma.Transport.Internal;
using PdRdma.Transport.Internal.Wire;

namespace PdRdma.Transport;

/// <summary>
/// Moves bytes from this process's registered regions into peers' registered regions by one-sided writes.
/// Register regions, <see cref="StartAsync"/> to accept peers (target side), <see cref="ConnectAsync"/> to write to a peer
/// (initiator side); both roles at once are fine. Thread-safe. Disposing closes every connection; regions stay owned
/// by whoever registered them.
/// </summary>
public sealed class TransferAgent : IAsyncDisposable
{
    private readonly AgentCore _core;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _sessions = new();
    private readonly ConcurrentDictionary<PeerConnection, byte> _connections = new();
    private readonly ConcurrentDictionary<IPAddress, int> _perSource = new();
    private Socket? _listener;
    private Task? _acceptLoop;
    private int _disposed;

    public TransferAgent(TransferAgentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.NodeId);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.HostId);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.MaxFrameBytes, 64 << 10);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.MaxBatchesInFlight);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.PreAuthFrameBytes, 4 << 10);
        ClusterAuth.EnsureStrong(options.ClusterSecret);
        var logger = (options.LoggerFactory ?? NullLoggerFactory.Instance).CreateLogger("PdRdma.Transport");
        IReadOnlyList<ITransferBackend> backends = options.Backends ?? [new SharedMemoryBackend(), new VerbsBackend(logger: logger), new TcpBackend()];
        if (backends.Count == 0 || backends.Select(b => b.Name).Distinct().Count() != backends.Count)
        {
            throw new ArgumentException("backends must be a non-empty list with distinct names", nameof(options));
        }
        _core = new AgentCore(options, backends, logger);
    }

    public string NodeId => _core.Options.NodeId;

    /// <summary>The bound listener after <see cref="StartAsync"/>, else null.</summary>
    public IPEndPoint? LocalEndpoint => _listener?.LocalEndPoint as IPEndPoint;

    /// <summary>Target side: one notification per completed batch that carried one, after all its bytes are in place.</summary>
    public ChannelReader<TransferNotification> Notifications => _core.Notifications.Reader;

    /// <summary>Registers a region under its id, once; peers that connect afterwards see it. The caller keeps ownership.</summary>
    public void RegisterRegion(IMemoryRegion region)
    {
        ArgumentNullException.ThrowIfNull(region);
        if (!_core.Regions.TryAdd(region.Id, region)) throw new ArgumentException($"region '{region.Id}' is already registered", nameof(region));
    }

    /// <summary>
    /// Forgets a region: batches that name it afterwards are refused with UnknownRegion. A batch already accepted may still
    /// be placing bytes into it, so its memory must stay valid until such batches end (or the agent is disposed).
    /// </summary>
    /// <returns>The region, which the caller still owns, or null when none is registered under <paramref name="regionId"/>.</returns>
    public IMemoryRegion? DeregisterRegion(string regionId)
    {
        ArgumentNullException.ThrowIfNull(regionId);
        if (!_core.Regions.TryRemove(regionId, out var region)) return null;
        _core.RegionLayouts.TryRemove(regionId, out _);
        return region;
    }

    /// <summary>What a peer learns about a registered region at connect (the same descriptor, with every backend's keys).</summary>
    public RegionDescriptor DescribeRegion(string regionId)
    {
        ArgumentNullException.ThrowIfNull(regionId);
        if (!_core.Regions.TryGetValue(regionId, out var region)) throw new TransferException(TransferErrorCode.UnknownRegion, $"region '{regionId}' is not registered on {NodeId}");
        return _core.Describe(region);
    }

    /// <summary>
    /// Registers a KV pool region with its layout, which peers receive with the region at connect and plan
    /// translations against. The layout must fit the region.
    /// </summary>
    public void RegisterRegion(IMemoryRegion region, KvLayout layout)
    {
        ArgumentNullException.ThrowIfNull(region);
        ArgumentNullException.ThrowIfNull(layout);
        if (layout.TotalBytes > region.Length)
        {
            throw new ArgumentException($"a pool of layout {layout.TotalBytes} bytes does not fit region '{region.Id}' of {region.Length}", nameof(layout));
        }
        RegisterRegion(region);
        _core.RegionLayouts[region.Id] = layout;
    }

    /// <summary>Starts listening on <see cref="TransferAgentOptions.Listen"/>; a no-op without one.</summary>
    public Task StartAsync(CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        if (_core.Options.Listen is not { } endpoint || _listener is not null) return Task.CompletedTask;
        var listener = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Bind(endpoint);
            listener.Listen(128);
        }
        catch (SocketException ex)
        {
            listener.Dispose();
            throw new TransferException(TransferErrorCode.Unsupported, $"cannot listen on {endpoint}: {ex.Message}", ex);
        }
        _listener = listener;
        TransportLog.Listening(_core.Logger, NodeId, listener.LocalEndPoint);
        _acceptLoop = Task.Run(AcceptLoopAsync);
        return Task.CompletedTask;
    }

    /// <summary>
    /// Connects to the agent listening at <paramref name="peer"/>: hello (version), mutual authentication when a cluster
    /// secret is set, layout check, descriptor exchange, backend choice and setup. Faults with <see cref="TransferException"/>
    /// (VersionMismatch, Unauthenticated, LayoutMismatch, Unsupported, PeerLost, Timeout).
    /// </summary>
    public async Task<PeerConnection> ConnectAsync(EndPoint peer, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(peer);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _stopping.Token);
        timeout.CancelAfter(_core.Options.ConnectTimeout);
        var socket = new Socket(peer.AddressFamily == AddressFamily.Unspecified ? AddressFamily.InterNetwork : peer.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        ControlConnection? connection = null;
        try
        {
            try
            {
                await socket.ConnectAsync(peer, timeout.Token).ConfigureAwait(false);
            }
            catch (SocketException ex)
            {
                throw new TransferException(TransferErrorCode.PeerLost, $"cannot connect to {peer}: {ex.Message}", ex);
            }
            connection = new ControlConnection(socket, _core.Options.MaxFrameBytes);
            var result = await new InitiatorHandshake(_core, connection).RunAsync(timeout.Token).ConfigureAwait(false);
            var connected = new PeerConnection(_core, connection, result.Link, result.PeerNodeId, result.PeerHostId, result.Backend.Name, result.Reason, result.RemoteRegions, result.Backend.Capabilities.DataOverControlLink, result.Backend.Capabilities.GrantWindows);
            _connections[connected] = 0;
            connected.OnDisposed = c => _connections.TryRemove(c, out _);
            TransportLog.Connected(_core.Logger, result.PeerNodeId, peer, result.Backend.Name, result.Reason);
            return connected;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested && !_stopping.IsCancellationRequested)
        {
            await DisposeQuietlyAsync(connection, socket).ConfigureAwait(false);
            throw new TransferException(TransferErrorCode.Timeout, $"connecting to {peer} took longer than {_core.Options.ConnectTimeout.TotalSeconds:0.#} s");
        }
        catch
        {
            await DisposeQuietlyAsync(connection, socket).ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stopping.Cancel();
        _listener?.Dispose();
        if (_acceptLoop is not null) await _acceptLoop.ConfigureAwait(false);
        foreach (var connection in _connections.Keys) await connection.DisposeAsync().ConfigureAwait(false);
        await Task.WhenAll(_sessions.Keys).ConfigureAwait(false);
        foreach (var backend in _core.Backends) await backend.DisposeAsync().ConfigureAwait(false);
        _core.Notifications.Writer.TryComplete();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener!.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stopping.IsCancellationRequested) return;
                continue;
            }
            var source = (socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None;
            if (RefusedByLimits(socket, source)) continue;
            TransportMetrics.Connection(1);
            var session = new TargetSession(_core, new ControlConnection(socket, _core.Options.MaxFrameBytes));
            var task = Task.Run(() => session.RunAsync(_stopping.Token));
            _sessions[task] = 0;
            _ = task.ContinueWith(t =>
            {
                _sessions.TryRemove(t, out _);
                TransportMetrics.Connection(-1);
                _perSource.AddOrUpdate(source, 0, (_, n) => n - 1);
                if (_perSource.TryGetValue(source, out var left) && left <= 0) _perSource.TryRemove(new KeyValuePair<IPAddress, int>(source, left));
            }, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// Connections in total and per source address are bounded before any byte is read: past either bound the socket
    /// gets one error frame (PoolFull, naming the limit) and is closed.
    /// </summary>
    private bool RefusedByLimits(Socket socket, IPAddress source)
    {
        var options = _core.Options;
        string? refusal = null;
        var count = _perSource.AddOrUpdate(source, 1, (_, n) => n + 1);
        if (_sessions.Count >= options.MaxConnections) refusal = $"the target holds {options.MaxConnections} connections, its limit";
        else if (count > options.MaxConnectionsPerSource) refusal = $"{source} holds {options.MaxConnectionsPerSource} connections to this target, the limit per source";
        if (refusal is null) return false;
        _perSource.AddOrUpdate(source, 0, (_, n) => n - 1);
        TransportMetrics.Limit(count > options.MaxConnectionsPerSource ? "connections_per_source" : "connections");
        TransportLog.Refused(_core.Logger, socket.RemoteEndPoint, TransferErrorCode.PoolFull, refusal);
        var body = MessagePack.MessagePackSerializer.Serialize(new ErrorMessage { Code = TransferErrorCode.PoolFull, Message = refusal }, WireFormat.Options);
        var frame = new byte[5 + body.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)(body.Length + 1));
        frame[4] = (byte)MessageType.Error;
        body.CopyTo(frame, 5);
        _ = Task.Run(async () =>
        {
            using (socket)
            {
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                    await socket.SendAsync(frame, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                    socket.Shutdown(SocketShutdown.Both);
                }
                catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
                {
                }
            }
        });
        return true;
    }

    private static async ValueTask DisposeQuietlyAsync(ControlConnection? connection, Socket socket)
    {
        if (connection is not null) await connection.DisposeAsync().ConfigureAwait(false);
        else socket.Dispose();
    }
}
