using Microsoft.Extensions.Logging;
using PdRdma.Daemon.Discovery;

namespace PdRdma.Engines.Serving.Routing;

/// <summary>
/// Publishes one serving instance (role, model, URL, node, load) in the cluster directory under an etcd lease it
/// keeps alive; the load is re-read every 250 ms and written when it changed. Disposing removes the entry.
/// </summary>
public sealed class InstanceAnnouncer : IAsyncDisposable
{
    private readonly EtcdDirectory _etcd;
    private readonly DirectoryRegistration _registration;

    private InstanceAnnouncer(EtcdDirectory etcd, DirectoryRegistration registration)
    {
        _etcd = etcd;
        _registration = registration;
    }

    /// <summary>Registers; throws TransferException naming etcd's endpoints when it cannot be reached.</summary>
    public static async Task<InstanceAnnouncer> StartAsync(EtcdOptions options, string role, string instanceId, Func<InstanceRecord> record, ILogger log, CancellationToken ct)
    {
        var etcd = await EtcdDirectory.ConnectAsync(options, ct).ConfigureAwait(false);
        try
        {
            var registration = await etcd.RegisterAsync(DirectoryKeys.Instance(options.Prefix, role, instanceId), () => record().ToJson(), log, ct).ConfigureAwait(false);
            return new InstanceAnnouncer(etcd, registration);
        }
        catch
        {
            etcd.Dispose();
            throw;
        }
    }

    /// <summary>An instance id from what identifies it: its URL's host and port (unique per serving process).</summary>
    public static string InstanceId(string role, string url)
    {
        var uri = new Uri(url);
        var id = $"{role}-{uri.Host}-{uri.Port}";
        return new string(id.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());
    }

    /// <summary>For /health: the etcd endpoints and whether this instance is registered.</summary>
    public object Health => new { etcd = _etcd.Endpoints, key = _registration.Key, state = _registration.State };

    public async ValueTask DisposeAsync()
    {
        await _registration.DisposeAsync().ConfigureAwait(false);
        _etcd.Dispose();
    }
}
