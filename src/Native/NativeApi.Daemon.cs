using System.Runtime.InteropServices;
using PdRdma.Daemon.Client;
using PdRdma.Daemon.Protocol;
using PdRdma.Transport;

namespace PdRdma.Native;

internal static unsafe partial class NativeApi
{
    private const nuint MaxBlocksPerCall = 1 << 20;

    /// <summary>Every daemon call is bounded, so a C caller never waits forever on a daemon that hangs.</summary>
    private static readonly TimeSpan DaemonCallTimeout = TimeSpan.FromSeconds(30);

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_daemon_connect")]
    public static int DaemonConnect(byte* socketPath, nint* daemon)
    {
        LastError.Clear();
        try
        {
            Out(daemon, "daemon");
            *daemon = 0;
            var path = Str(socketPath, "socket_path");
            using var timeout = new CancellationTokenSource(DaemonCallTimeout);
            var client = DaemonClient.ConnectAsync(path, timeout.Token).GetAwaiter().GetResult();
            try
            {
                client.SubscribeAsync(timeout.Token).GetAwaiter().GetResult();
            }
            catch
            {
                client.DisposeAsync().AsTask().GetAwaiter().GetResult();
                throw;
            }
            *daemon = Daemons.Add(new NativeDaemon(client));
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_daemon_close")]
    public static int DaemonClose(nint daemon)
    {
        LastError.Clear();
        try
        {
            var d = Daemons.Remove(daemon);
            d.Client.DisposeAsync().AsTask().GetAwaiter().GetResult();
            d.Pump.GetAwaiter().GetResult();
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>Room every name output of the daemon calls needs (PDRDMA_NAME_MAX): checked before the call, so nothing is half done.</summary>
    private const nuint NameMax = 256;

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_daemon_register_pool")]
    public static int DaemonRegisterPool(nint daemon, byte* poolId, byte* path, ulong length, PdrdmaKvLayout* layout,
        byte* nodeId, nuint nodeIdCapacity, byte* peerEndpoint, nuint peerEndpointCapacity)
    {
        LastError.Clear();
        try
        {
            var d = Daemons.Get(daemon);
            if (layout == null) throw new NativeArgumentException("layout is NULL");
            if (nodeId != null && nodeIdCapacity < NameMax) throw new NativeArgumentException($"node_id_cap must be at least {NameMax} (PDRDMA_NAME_MAX)");
            if (peerEndpoint != null && peerEndpointCapacity < NameMax) throw new NativeArgumentException($"peer_endpoint_cap must be at least {NameMax} (PDRDMA_NAME_MAX)");
            var kv = Layout(*layout);
            var registered = Call(ct => d.Client.RegisterPoolFileAsync(Str(poolId, "pool_id"), Str(path, "path"), Checked(length, "length"), kv, ct));
            if (nodeId != null) Truncated(registered.NodeId, nodeId, nodeIdCapacity);
            if (peerEndpoint != null) Truncated(registered.PeerEndpoint, peerEndpoint, peerEndpointCapacity);
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_daemon_reserve")]
    public static int DaemonReserve(nint daemon, byte* requestId, byte* poolId, int* blocks, nuint count, byte* peerNodeId, int ttlMs)
    {
        LastError.Clear();
        try
        {
            var d = Daemons.Get(daemon);
            if (ttlMs <= 0) throw new NativeArgumentException($"ttl_ms {ttlMs} must be positive");
            var ids = Ints(blocks, count, "blocks");
            Call(ct => d.Client.ReserveAsync(Str(requestId, "request_id"), Str(poolId, "pool_id"), ids, Str(peerNodeId, "peer_node_id"), TimeSpan.FromMilliseconds(ttlMs), ct));
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_daemon_release")]
    public static int DaemonRelease(nint daemon, byte* requestId)
    {
        LastError.Clear();
        try
        {
            var d = Daemons.Get(daemon);
            Call(ct => d.Client.ReleaseAsync(Str(requestId, "request_id"), ct));
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_daemon_push")]
    public static int DaemonPush(nint daemon, PdrdmaKvPush* push, ulong* bytes)
    {
        LastError.Clear();
        try
        {
            var d = Daemons.Get(daemon);
            if (push == null) throw new NativeArgumentException("push is NULL");
            var p = *push;
            var request = new WriteRequest
            {
                RequestId = Str(p.request_id, "request_id"),
                SourcePoolId = Str(p.source_pool, "source_pool"),
                TargetEndpoint = Str(p.target_endpoint, "target_endpoint"),
                TargetPoolId = Str(p.target_pool, "target_pool"),
                Layers = Ints(p.layers, p.layer_count, "layers"),
                SourceBlocks = Ints(p.source_blocks, p.block_count, "source_blocks"),
                TargetBlocks = Ints(p.target_blocks, p.block_count, "target_blocks"),
                TargetLayout = p.target_layout == null ? null : Layout(*p.target_layout),
            };
            var written = Call(ct => d.Client.WriteAsync(request, ct));
            if (bytes != null) *bytes = (ulong)written.Bytes;
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_daemon_finish")]
    public static int DaemonFinish(nint daemon, byte* requestId, byte* targetEndpoint, byte* targetPool, ulong totalBytes)
    {
        LastError.Clear();
        try
        {
            var d = Daemons.Get(daemon);
            var request = new WriteRequest
            {
                RequestId = Str(requestId, "request_id"),
                TargetEndpoint = Str(targetEndpoint, "target_endpoint"),
                TargetPoolId = Str(targetPool, "target_pool"),
                Final = true,
                TotalBytes = Checked(totalBytes, "total_bytes"),
            };
            Call(ct => d.Client.WriteAsync(request, ct));
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    [UnmanagedCallersOnly(EntryPoint = "pdrdma_daemon_wait_arrival")]
    public static int DaemonWaitArrival(nint daemon, byte* requestId, int timeoutMs, ulong* bytes, byte* peer, nuint peerCapacity)
    {
        LastError.Clear();
        try
        {
            var d = Daemons.Get(daemon);
            var arrived = d.WaitArrived(Str(requestId, "request_id"), Timeout(timeoutMs));
            if (bytes != null) *bytes = (ulong)arrived.Bytes;
            if (peer != null) Truncated(arrived.PeerNodeId, peer, peerCapacity);
            return PdrdmaStatus.Ok;
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    private static T Call<T>(Func<CancellationToken, Task<T>> call)
    {
        using var timeout = new CancellationTokenSource(DaemonCallTimeout);
        try
        {
            return call(timeout.Token).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            throw new TransferException(TransferErrorCode.Timeout, $"the node daemon did not answer within {DaemonCallTimeout.TotalSeconds:0} s");
        }
    }

    private static int[] Ints(int* values, nuint count, string what)
    {
        if (count > MaxBlocksPerCall) throw new NativeArgumentException($"{what}: {count} entries is above {MaxBlocksPerCall}");
        if (count > 0 && values == null) throw new NativeArgumentException($"{what} is NULL");
        return new ReadOnlySpan<int>(values, (int)count).ToArray();
    }

    private static KvLayout Layout(PdrdmaKvLayout l) =>
        new(l.layers, l.kv_heads, l.head_dim, l.tokens_per_block, (KvDType)l.dtype, l.blocks);
}
