using Microsoft.Extensions.Logging;
using PdRdma.Transport;

namespace PdRdma.Daemon.Discovery;

/// <summary>
/// A daemon's view of the cluster through etcd: publishes this node's <see cref="NodeRecord"/> under a lease kept
/// alive, and mirrors every other node's record so a peer is resolved by node id (no static peer list). When etcd
/// is lost the node keeps serving with the last known records and says so in <see cref="State"/>. Thread-safe.
/// </summary>
public sealed class NodeDirectory : IAsyncDisposable
{
    private readonly EtcdDirectory _etcd;
    private readonly DirectoryRegistration _self;
    private readonly DirectoryWatch _nodes;
    private readonly ILogger _log;

    private NodeDirectory(EtcdDirectory etcd, DirectoryRegistration self, DirectoryWatch nodes, ILogger log)
    {
        _etcd = etcd;
        _self = self;
        _nodes = nodes;
        _log = log;
    }

    /// <summary>Connects, registers <paramref name="self"/> and lists the nodes; throws (naming etcd's endpoints) when etcd cannot be reached.</summary>
    public static async Task<NodeDirectory> StartAsync(EtcdOptions options, string nodeId, Func<NodeRecord> self, ILogger log, CancellationToken ct)
    {
        var etcd = await EtcdDirectory.ConnectAsync(options, ct).ConfigureAwait(false);
        DirectoryRegistration? registration = null;
        try
        {
            registration = await etcd.RegisterAsync(DirectoryKeys.Node(options.Prefix, nodeId), () => self().ToJson(), log, ct).ConfigureAwait(false);
            var nodes = await etcd.WatchAsync(DirectoryKeys.Nodes(options.Prefix), log, ct).ConfigureAwait(false);
            return new NodeDirectory(etcd, registration, nodes, log);
        }
        catch
        {
            if (registration is not null) await registration.DisposeAsync().ConfigureAwait(false);
            etcd.Dispose();
            throw;
        }
    }

    public string Endpoints => _etcd.Endpoints;

    /// <summary>True when both the registration and the watch are live.</summary>
    public bool Connected => _self.Registered && _nodes.Connected;

    public string State => Connected ? "connected" : !_self.Registered ? _self.State : _nodes.State;

    /// <summary>The valid node records now known (malformed ones are skipped).</summary>
    public IReadOnlyList<NodeRecord> Nodes => _nodes.Entries
        .Select(e => NodeRecord.TryParse(e.Value, e.Key, out var r, out _) ? r : null)
        .OfType<NodeRecord>().ToList();

    /// <summary>The registered record of <paramref name="nodeId"/>, or null when it is not (or no longer) in the directory.</summary>
    public NodeRecord? Find(string nodeId)
    {
        if (!_nodes.Entries.TryGetValue(nodeId, out var json)) return null;
        if (NodeRecord.TryParse(json, nodeId, out var record, out var error)) return record;
        throw new TransferException(TransferErrorCode.Protocol, $"the etcd record of node '{nodeId}' is unusable: {error}");
    }

    public async ValueTask DisposeAsync()
    {
        await _nodes.DisposeAsync().ConfigureAwait(false);
        await _self.DisposeAsync().ConfigureAwait(false);
        _etcd.Dispose();
        _ = _log;
    }
}
