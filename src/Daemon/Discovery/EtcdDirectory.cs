using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using dotnet_etcd;
using dotnet_etcd.interfaces;
using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;
using PdRdma.Transport;

namespace PdRdma.Daemon.Discovery;

/// <summary>
/// One connection to the etcd cluster that holds the cluster directory (dotnet-etcd over gRPC; authentication
/// and TLS as set in <see cref="EtcdOptions"/>). Hands out <see cref="DirectoryRegistration"/>s (a key held by a
/// lease kept alive) and <see cref="DirectoryWatch"/>es (a prefix mirrored by list + watch). Every call is bounded
/// by <see cref="EtcdOptions.CallTimeoutSeconds"/>. Thread-safe; dispose after the registrations and watches.
/// </summary>
public sealed class EtcdDirectory : IDisposable
{
    private readonly EtcdClient _client;

    private EtcdDirectory(EtcdOptions options, EtcdClient client)
    {
        Options = options;
        _client = client;
        Connection = client.GetConnection();
    }

    public EtcdOptions Options { get; }

    /// <summary>The endpoints as given, for messages ("etcd at http://...").</summary>
    public string Endpoints => Options.Endpoints ?? "";

    internal IConnection Connection { get; }

    internal TimeSpan CallTimeout => TimeSpan.FromSeconds(Options.CallTimeoutSeconds);

    /// <summary>
    /// Connects and proves etcd answers (one bounded read under the prefix). Throws <see cref="TransferException"/>
    /// (PeerLost when unreachable, Unauthenticated when credentials are refused) naming the endpoints.
    /// </summary>
    public static async Task<EtcdDirectory> ConnectAsync(EtcdOptions options, CancellationToken ct)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
        if (!options.Enabled) throw new ArgumentException("no etcd endpoints given");
        var client = CreateClient(options);
        var directory = new EtcdDirectory(options, client);
        // A few tries: the first call (connection, HTTP/2, JIT) can take seconds on a busy host; a refused or
        // silent etcd still ends in an error naming it after three call timeouts.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(options.CallTimeoutSeconds * 3);
        try
        {
            while (true)
            {
                try
                {
                    await directory.RangeAsync(options.Prefix.TrimEnd('/') + "/", 1, ct).ConfigureAwait(false);
                    return directory;
                }
                catch (TransferException e) when (e.Code == TransferErrorCode.PeerLost && DateTime.UtcNow + TimeSpan.FromMilliseconds(250) < deadline)
                {
                    await Task.Delay(250, ct).ConfigureAwait(false);
                }
            }
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    private static EtcdClient CreateClient(EtcdOptions options)
    {
        var https = options.EndpointUris().Any(u => u.Scheme == "https");
        void Channel(Grpc.Net.Client.GrpcChannelOptions o)
        {
            var handler = new SocketsHttpHandler
            {
                // A cut-off etcd (no RST) is noticed by HTTP/2 pings, not only by the next call. Not more often than
                // every 5 s: etcd's --grpc-keepalive-min-time, below which it closes the connection (ENHANCE_YOUR_CALM).
                // Registrations notice a cut-off sooner, by their bounded lease renewals.
                KeepAlivePingDelay = TimeSpan.FromSeconds(Math.Max(10, options.LeaseTtlSeconds)),
                // Generous: a busy host answers pings late, and a dropped connection costs a reconnect.
                KeepAlivePingTimeout = TimeSpan.FromSeconds(Math.Max(options.CallTimeoutSeconds, options.LeaseTtlSeconds)),
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
                ConnectTimeout = TimeSpan.FromSeconds(options.CallTimeoutSeconds),
                EnableMultipleHttp2Connections = true,
            };
            if (https) handler.SslOptions = SslOptions(options);
            o.HttpHandler = handler;
            o.Credentials = https ? ChannelCredentials.SecureSsl : ChannelCredentials.Insecure;
            o.MaxReceiveMessageSize = 16 << 20;
        }
        return options.Username is { Length: > 0 } user
            ? new EtcdClient(options.Endpoints!, user, options.ReadPassword() ?? "", configureChannelOptions: Channel)
            : new EtcdClient(options.Endpoints!, configureChannelOptions: Channel);
    }

    private static SslClientAuthenticationOptions SslOptions(EtcdOptions options)
    {
        var ssl = new SslClientAuthenticationOptions();
        if (options.CertFile is { } cert)
            ssl.ClientCertificates = [X509Certificate2.CreateFromPemFile(cert, options.KeyFile)];
        if (options.CaFile is { } caFile)
        {
            var trusted = new X509Certificate2Collection();
            trusted.ImportFromPemFile(caFile);
            ssl.CertificateChainPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
            ssl.CertificateChainPolicy.CustomTrustStore.AddRange(trusted);
        }
        return ssl;
    }

    /// <summary>Registers <paramref name="key"/> with the value <paramref name="value"/> returns, under a lease kept alive until disposed.</summary>
    public async Task<DirectoryRegistration> RegisterAsync(string key, Func<string> value, ILogger log, CancellationToken ct)
    {
        var registration = new DirectoryRegistration(this, key, value, log);
        await registration.StartAsync(ct).ConfigureAwait(false);
        return registration;
    }

    /// <summary>Mirrors every key under <paramref name="prefix"/>; the first listing has happened when this returns.</summary>
    public async Task<DirectoryWatch> WatchAsync(string prefix, ILogger log, CancellationToken ct)
    {
        var watch = new DirectoryWatch(this, prefix, log);
        await watch.StartAsync(ct).ConfigureAwait(false);
        return watch;
    }

    internal async Task<RangeResponse> RangeAsync(string prefix, long limit, CancellationToken ct)
    {
        var request = new RangeRequest { Key = ByteString.CopyFromUtf8(prefix), RangeEnd = ByteString.CopyFromUtf8(RangeEnd(prefix)), Limit = limit };
        return await CallAsync((deadline, token) => Connection.KVClient.RangeAsync(request, deadline: deadline, cancellationToken: token).ResponseAsync, "list " + prefix, ct).ConfigureAwait(false);
    }

    /// <summary>Runs one etcd call bounded by the call timeout; gRPC failures become TransferExceptions naming etcd.</summary>
    internal async Task<T> CallAsync<T>(Func<DateTime, CancellationToken, Task<T>> call, string what, CancellationToken ct)
    {
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(ct);
        bounded.CancelAfter(CallTimeout);
        try
        {
            return await call(DateTime.UtcNow + CallTimeout, bounded.Token).ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            throw Describe(e, what);
        }
        catch (OperationCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new TransferException(TransferErrorCode.PeerLost, $"etcd at {Endpoints} did not answer '{what}' within {CallTimeout.TotalSeconds:0.#} s: is it running and reachable?", e);
        }
    }

    /// <summary>The one place where etcd's gRPC failures become the common error set.</summary>
    internal TransferException Describe(RpcException e, string what) => e.StatusCode switch
    {
        StatusCode.Unauthenticated or StatusCode.PermissionDenied or StatusCode.InvalidArgument when e.Status.Detail.Contains("auth", StringComparison.OrdinalIgnoreCase) || e.Status.Detail.Contains("user", StringComparison.OrdinalIgnoreCase) || e.Status.Detail.Contains("permission", StringComparison.OrdinalIgnoreCase)
            => new TransferException(TransferErrorCode.Unauthenticated, $"etcd at {Endpoints} refused '{what}': {e.Status.Detail} (check Etcd:Username/PasswordFile and the role's permissions on {Options.Prefix})", e),
        StatusCode.DeadlineExceeded
            => new TransferException(TransferErrorCode.PeerLost, $"etcd at {Endpoints} did not answer '{what}' within {CallTimeout.TotalSeconds:0.#} s: is it running and reachable?", e),
        StatusCode.Unavailable or StatusCode.Internal or StatusCode.Unknown or StatusCode.Cancelled
            => new TransferException(TransferErrorCode.PeerLost, $"cannot reach etcd at {Endpoints} ({what}): {e.Status.Detail}", e),
        _ => new TransferException(TransferErrorCode.Protocol, $"etcd at {Endpoints} failed '{what}': {e.StatusCode} {e.Status.Detail}", e),
    };

    /// <summary>etcd's range end for "every key with this prefix": the prefix with its last byte incremented.</summary>
    internal static string RangeEnd(string prefix)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(prefix);
        bytes[^1]++;
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    public void Dispose() => _client.Dispose();
}
