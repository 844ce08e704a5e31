using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using PdRdma.Transport;

namespace PdRdma.Daemon.Discovery;

/// <summary>
/// One key in the cluster directory held by an etcd lease that this process keeps alive: the key disappears within
/// the lease TTL when the process dies or is cut off from etcd. The value is re-read from its source every
/// 250 ms and written when it changed (load, free capacity). When etcd is lost the process keeps running and
/// retries; when etcd is back (or the lease expired meanwhile) it grants a new lease and registers again.
/// Disposing revokes the lease, so a clean stop leaves the directory at once. Thread-safe.
/// </summary>
public sealed partial class DirectoryRegistration : IAsyncDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private readonly EtcdDirectory _etcd;
    private readonly Func<string> _value;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private long _lease;
    private int _disposed;

    internal DirectoryRegistration(EtcdDirectory etcd, string key, Func<string> value, ILogger log)
    {
        _etcd = etcd;
        Key = key;
        _value = value;
        _log = log;
    }

    public string Key { get; }

    /// <summary>True while the key is held; false while etcd is unreachable (the last registration may have expired).</summary>
    public bool Registered { get; private set; }

    /// <summary>"registered" or "etcd unreachable since HH:mm:ss (...)": for /health.</summary>
    public string State { get; private set; } = "starting";

    /// <summary>How many times the key was (re-)registered: 1 after start, +1 after each recovery.</summary>
    public int Registrations { get; private set; }

    internal async Task StartAsync(CancellationToken ct)
    {
        // The first registration must succeed: a process that cannot reach etcd at start says so and stops.
        await RegisterAsync(ct).ConfigureAwait(false);
        _loop = Task.WhenAll(Task.Run(KeepAliveLoopAsync, CancellationToken.None), Task.Run(UpdateLoopAsync, CancellationToken.None));
    }

    private async Task RegisterAsync(CancellationToken ct)
    {
        var ttl = _etcd.Options.LeaseTtlSeconds;
        var grant = await _etcd.CallAsync((d, t) => _etcd.Connection.LeaseClient.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl }, deadline: d, cancellationToken: t).ResponseAsync, "grant lease", ct).ConfigureAwait(false);
        if (!string.IsNullOrEmpty(grant.Error)) throw new TransferException(TransferErrorCode.Protocol, $"etcd at {_etcd.Endpoints} refused a lease: {grant.Error}");
        await _writeLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            _lease = grant.ID;
            _written = null;
            await PutLockedAsync(ct).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
        _leaseAlive = true;
        Registered = true;
        Registrations++;
        State = "registered";
    }

    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private string? _written;
    private bool _leaseAlive;

    private async Task PutLockedAsync(CancellationToken ct)
    {
        var value = _value();
        if (value == _written) return;
        var put = new PutRequest { Key = ByteString.CopyFromUtf8(Key), Value = ByteString.CopyFromUtf8(value), Lease = _lease };
        await _etcd.CallAsync((d, t) => _etcd.Connection.KVClient.PutAsync(put, deadline: d, cancellationToken: t).ResponseAsync, "put " + Key, ct).ConfigureAwait(false);
        _written = value;
    }

    /// <summary>
    /// Renews the lease every TTL/4 on its own loop, so that a slow value write never delays a renewal. A broken
    /// stream is reopened on the same lease; only a lease that expired (etcd answers TTL 0) is granted again.
    /// </summary>
    private async Task KeepAliveLoopAsync()
    {
        var ct = _stop.Token;
        var period = TimeSpan.FromSeconds(Math.Max(0.25, _etcd.Options.LeaseTtlSeconds / 4.0));
        DateTime? lostSince = null;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!_leaseAlive) await RegisterAsync(ct).ConfigureAwait(false);
                using var stream = _etcd.Connection.LeaseClient.LeaseKeepAlive(cancellationToken: ct);
                while (!ct.IsCancellationRequested)
                {
                    await KeepAliveAsync(stream, ct).ConfigureAwait(false);
                    if (lostSince is not null)
                    {
                        LogBack(_log, _etcd.Endpoints, Key, (DateTime.UtcNow - lostSince.Value).TotalSeconds);
                        lostSince = null;
                        Registered = true;
                        State = "registered";
                    }
                    await Task.Delay(period, ct).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is TransferException or RpcException or IOException or InvalidOperationException or OperationCanceledException)
            {
                if (e is TransferException { Code: TransferErrorCode.Timeout }) _leaseAlive = false; // expired: register again
                if (lostSince is null)
                {
                    lostSince = DateTime.UtcNow;
                    LogLost(_log, _etcd.Endpoints, Key, e.Message);
                }
                Registered = false;
                State = $"etcd at {_etcd.Endpoints} unreachable since {lostSince:HH:mm:ss} UTC ({e.Message}); serving with the last known membership";
                try { await Task.Delay(TimeSpan.FromMilliseconds(250), ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    /// <summary>Writes the value when it changed (load), every 250 ms while registered; a failed write is retried at the next tick.</summary>
    private async Task UpdateLoopAsync()
    {
        var ct = _stop.Token;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(Tick, ct).ConfigureAwait(false);
                if (!Registered) continue;
                await _writeLock.WaitAsync(ct).ConfigureAwait(false);
                try
                {
                    await PutLockedAsync(ct).ConfigureAwait(false);
                }
                finally
                {
                    _writeLock.Release();
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (TransferException)
            {
                // etcd slow or gone: the keep-alive loop notices and reports it; the next tick tries again
            }
        }
    }

    private async Task KeepAliveAsync(AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> stream, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(_etcd.CallTimeout);
        try
        {
            await stream.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = _lease }, bounded.Token).ConfigureAwait(false);
            if (!await stream.ResponseStream.MoveNext(bounded.Token).ConfigureAwait(false))
                throw new TransferException(TransferErrorCode.PeerLost, $"etcd at {_etcd.Endpoints} closed the keep-alive stream");
        }
        catch (RpcException e)
        {
            throw _etcd.Describe(e, "keep lease alive");
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TransferException(TransferErrorCode.PeerLost, $"etcd at {_etcd.Endpoints} did not renew the lease of {Key} in time", e);
        }
        // TTL 0: the lease expired while we were cut off; the key is gone and a new lease is needed.
        if (stream.ResponseStream.Current.TTL <= 0)
            throw new TransferException(TransferErrorCode.Timeout, $"the etcd lease of {Key} expired");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        if (Registered)
        {
            try
            {
                var lease = _lease;
                await _etcd.CallAsync((d, t) => _etcd.Connection.LeaseClient.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, deadline: d, cancellationToken: t).ResponseAsync, "revoke lease", CancellationToken.None).ConfigureAwait(false);
            }
            catch (TransferException)
            {
                // etcd is gone: the lease expires on its own
            }
        }
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 500, Level = LogLevel.Warning, Message = "etcd at {Endpoints} lost ({Reason}): {Key} may expire; serving on with the last known membership and retrying")]
    private static partial void LogLost(ILogger logger, string endpoints, string key, string reason);

    [LoggerMessage(EventId = 501, Level = LogLevel.Information, Message = "etcd at {Endpoints} back after {Seconds:0.0} s: {Key} registered again")]
    private static partial void LogBack(ILogger logger, string endpoints, string key, double seconds);
}
