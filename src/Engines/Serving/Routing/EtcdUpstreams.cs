using System.Collections.Immutable;
using Microsoft.Extensions.Logging;
using PdRdma.Daemon.Discovery;

namespace PdRdma.Engines.Serving.Routing;

/// <summary>
/// Instances found in the cluster directory: a watch on <c>{prefix}/instances/</c>. An instance whose key is
/// deleted (its lease expired or was revoked) leaves the lists at the watch event; one that registers joins.
/// Upstream objects are kept across updates of the same key so this proxy's in-flight counts survive load
/// updates. Malformed or hostile records are skipped and logged once per value. When etcd is lost the last known
/// lists stay in use and <see cref="State"/> says so. Thread-safe.
/// </summary>
public sealed partial class EtcdUpstreams : IUpstreamDirectory
{
    private readonly EtcdDirectory _etcd;
    private readonly DirectoryWatch _watch;
    private readonly ILogger _log;
    private readonly object _lock = new();
    private readonly Dictionary<string, Upstream> _byKey = new(StringComparer.Ordinal);
    private readonly HashSet<string> _rejected = new(StringComparer.Ordinal);
    private Tuple<Upstream[], Upstream[]> _lists = Tuple.Create(Array.Empty<Upstream>(), Array.Empty<Upstream>());

    private EtcdUpstreams(EtcdDirectory etcd, DirectoryWatch watch, ILogger log)
    {
        _etcd = etcd;
        _watch = watch;
        _log = log;
        _watch.Changed += Rebuild;
        Rebuild();
    }

    /// <summary>Connects and lists the instances; throws TransferException naming the endpoints when etcd cannot be reached.</summary>
    public static async Task<EtcdUpstreams> StartAsync(EtcdOptions options, ILogger log, CancellationToken ct)
    {
        var etcd = await EtcdDirectory.ConnectAsync(options, ct).ConfigureAwait(false);
        try
        {
            var watch = await etcd.WatchAsync(DirectoryKeys.Instances(options.Prefix), log, ct).ConfigureAwait(false);
            return new EtcdUpstreams(etcd, watch, log);
        }
        catch
        {
            etcd.Dispose();
            throw;
        }
    }

    public IReadOnlyList<Upstream> Prefill => Volatile.Read(ref _lists).Item1;

    public IReadOnlyList<Upstream> Decode => Volatile.Read(ref _lists).Item2;

    public string Describe => $"instances from etcd at {_etcd.Endpoints} under {_watch.Prefix}";

    public string State => _watch.State;

    private void Rebuild()
    {
        lock (_lock)
        {
            ImmutableDictionary<string, string> entries = _watch.Entries;
            var prefill = new List<Upstream>();
            var decode = new List<Upstream>();
            foreach (var key in _byKey.Keys.Where(k => !entries.ContainsKey(k)).ToList())
            {
                LogLeft(_log, key, _byKey[key].Url);
                _byKey.Remove(key);
            }
            foreach (var (key, json) in entries)
            {
                var role = key.Split('/')[0];
                if (!InstanceRecord.TryParse(json, role, out var record, out var error))
                {
                    if (_rejected.Add(key + "\n" + json)) LogRejected(_log, key, error);
                    _byKey.Remove(key);
                    continue;
                }
                if (!_byKey.TryGetValue(key, out var upstream) || upstream.Url != record!.Url.TrimEnd('/'))
                {
                    upstream = new Upstream(record!.Url) { Node = record.Node.Length > 0 ? record.Node : null };
                    _byKey[key] = upstream;
                    LogJoined(_log, key, record.Role, upstream.Url);
                }
                upstream.Reported = record;
                if (record.Role == "prefill") prefill.Add(upstream);
                else if (record.Role == "decode") decode.Add(upstream);
            }
            Volatile.Write(ref _lists, Tuple.Create(prefill.ToArray(), decode.ToArray()));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _watch.Changed -= Rebuild;
        await _watch.DisposeAsync().ConfigureAwait(false);
        _etcd.Dispose();
    }

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "instance {Key} ({Role}) joined at {Url}")]
    private static partial void LogJoined(ILogger logger, string key, string role, string url);

    [LoggerMessage(EventId = 411, Level = LogLevel.Warning, Message = "instance {Key} at {Url} left the directory: no new requests go there")]
    private static partial void LogLeft(ILogger logger, string key, string url);

    [LoggerMessage(EventId = 412, Level = LogLevel.Warning, Message = "directory entry {Key} ignored: {Reason}")]
    private static partial void LogRejected(ILogger logger, string key, string reason);
}
