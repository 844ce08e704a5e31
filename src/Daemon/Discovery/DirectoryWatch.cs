using System.Collections.Immutable;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using Mvccpb;
using PdRdma.Transport;

namespace PdRdma.Daemon.Discovery;

/// <summary>
/// A live copy of every key under one prefix: one listing, then an etcd watch from the listing's revision, so no
/// change is missed between the two. When etcd is lost the copy is kept as it was (the last known membership) and
/// <see cref="State"/> says so; on reconnect the prefix is listed again and replaces the copy. Values larger than
/// <see cref="DirectoryKeys.MaxValueBytes"/> are dropped. Reads are lock-free snapshots; thread-safe.
/// </summary>
public sealed partial class DirectoryWatch : IAsyncDisposable
{
    private readonly EtcdDirectory _etcd;
    private readonly ILogger _log;
    private readonly CancellationTokenSource _stop = new();
    private ImmutableDictionary<string, string> _entries = ImmutableDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal);
    private Task _loop = Task.CompletedTask;
    private int _disposed;

    internal DirectoryWatch(EtcdDirectory etcd, string prefix, ILogger log)
    {
        _etcd = etcd;
        Prefix = prefix;
        _log = log;
    }

    public string Prefix { get; }

    /// <summary>Key (without the prefix) → value, as last seen.</summary>
    public ImmutableDictionary<string, string> Entries => Volatile.Read(ref _entries);

    /// <summary>False while etcd is unreachable: <see cref="Entries"/> is then the last known membership.</summary>
    public bool Connected { get; private set; }

    /// <summary>"watching" or "etcd unreachable since ...; last known membership (N entries)": for /health.</summary>
    public string State { get; private set; } = "starting";

    /// <summary>Raised after each change of <see cref="Entries"/> (on the watch loop; keep handlers short).</summary>
    public event Action? Changed;

    internal async Task StartAsync(CancellationToken ct)
    {
        var revision = await ListAsync(ct).ConfigureAwait(false);
        _loop = Task.Run(() => RunAsync(revision), CancellationToken.None);
    }

    private async Task<long> ListAsync(CancellationToken ct)
    {
        var range = await _etcd.RangeAsync(Prefix, 0, ct).ConfigureAwait(false);
        var builder = ImmutableDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var kv in range.Kvs)
            if (Accept(kv) is { } entry) builder[entry.Key] = entry.Value;
        Volatile.Write(ref _entries, builder.ToImmutable());
        Connected = true;
        State = "watching";
        Changed?.Invoke();
        return range.Header.Revision;
    }

    private (string Key, string Value)? Accept(KeyValue kv)
    {
        var key = kv.Key.ToStringUtf8();
        if (!key.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        if (kv.Value.Length > DirectoryKeys.MaxValueBytes)
        {
            LogOversized(_log, key, kv.Value.Length);
            return null;
        }
        return (key[Prefix.Length..], kv.Value.ToStringUtf8());
    }

    private async Task RunAsync(long revision)
    {
        var ct = _stop.Token;
        DateTime? lostSince = null;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (revision == 0)
                {
                    revision = await ListAsync(ct).ConfigureAwait(false);
                    if (lostSince is not null) LogBack(_log, _etcd.Endpoints, Prefix, Entries.Count);
                    lostSince = null;
                }
                await WatchFromAsync(revision + 1, ct).ConfigureAwait(false);
                revision = 0; // the watch ended (compaction, cancel): list again
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is TransferException or RpcException or IOException or InvalidOperationException or OperationCanceledException)
            {
                revision = 0;
                if (lostSince is null)
                {
                    lostSince = DateTime.UtcNow;
                    LogLost(_log, _etcd.Endpoints, Prefix, Entries.Count, e.Message);
                }
                Connected = false;
                State = $"etcd at {_etcd.Endpoints} unreachable since {lostSince:HH:mm:ss} UTC ({e.Message}); using the last known membership ({Entries.Count} entries)";
                try { await Task.Delay(TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        }
    }

    private async Task WatchFromAsync(long start, CancellationToken ct)
    {
        using var call = _etcd.Connection.WatchClient.Watch(cancellationToken: ct);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = ByteString.CopyFromUtf8(Prefix),
                RangeEnd = ByteString.CopyFromUtf8(EtcdDirectory.RangeEnd(Prefix)),
                StartRevision = start,
            },
        }, ct).ConfigureAwait(false);
        while (await call.ResponseStream.MoveNext(ct).ConfigureAwait(false))
        {
            var response = call.ResponseStream.Current;
            if (response.Canceled || response.CompactRevision > 0) return;
            if (response.Events.Count == 0) continue;
            var entries = Entries.ToBuilder();
            foreach (var e in response.Events)
            {
                var key = e.Kv.Key.ToStringUtf8();
                if (!key.StartsWith(Prefix, StringComparison.Ordinal)) continue;
                if (e.Type == Event.Types.EventType.Delete) entries.Remove(key[Prefix.Length..]);
                else if (Accept(e.Kv) is { } entry) entries[entry.Key] = entry.Value;
                else entries.Remove(key[Prefix.Length..]);
            }
            Volatile.Write(ref _entries, entries.ToImmutable());
            Changed?.Invoke();
        }
        throw new TransferException(TransferErrorCode.PeerLost, $"etcd at {_etcd.Endpoints} closed the watch on {Prefix}");
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        _stop.Cancel();
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    [LoggerMessage(EventId = 510, Level = LogLevel.Warning, Message = "etcd at {Endpoints} lost ({Reason}): keeping the last known membership of {Prefix} ({Count} entries) and retrying")]
    private static partial void LogLost(ILogger logger, string endpoints, string prefix, int count, string reason);

    [LoggerMessage(EventId = 511, Level = LogLevel.Information, Message = "etcd at {Endpoints} back: {Prefix} listed again ({Count} entries)")]
    private static partial void LogBack(ILogger logger, string endpoints, string prefix, int count);

    [LoggerMessage(EventId = 512, Level = LogLevel.Warning, Message = "directory entry {Key} ignored: {Bytes} bytes is over the limit")]
    private static partial void LogOversized(ILogger logger, string key, int bytes);
}
