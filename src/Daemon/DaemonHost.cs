using OpenTelemetry.Metrics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using PdRdma.Daemon.Fabric;
using PdRdma.Daemon.Observability;
using PdRdma.Transport;

namespace PdRdma.Daemon;

/// <summary>Builds pdrdmad: configuration (file, PDRDMA_ environment, command line), validation, systemd, HTTP.</summary>
public static class DaemonHost
{
    public const string DefaultConfigFile = "/etc/pdrdma/pdrdmad.json";

    /// <summary>Short command-line switches → configuration keys.</summary>
    public static readonly Dictionary<string, string> Switches = new(StringComparer.Ordinal)
    {
        ["--node-id"] = "Daemon:NodeId",
        ["--socket"] = "Daemon:Socket",
        ["--group"] = "Daemon:SocketGroup",
        ["--peer-listen"] = "Daemon:PeerListen",
        ["--advertise"] = "Daemon:AdvertiseAddress",
        ["--http-listen"] = "Daemon:HttpListen",
        ["--secret-file"] = "Daemon:ClusterSecretFile",
        ["--backend"] = "Daemon:Backend",
        ["--allow-fallback"] = "Daemon:AllowFallback",
        ["--connect-timeout"] = "Daemon:ConnectTimeoutSeconds",
        ["--handshake-timeout"] = "Daemon:HandshakeTimeoutSeconds",
        ["--lease-ttl"] = "Daemon:LeaseTtlSeconds",
        ["--heartbeat"] = "Daemon:HeartbeatSeconds",
        ["--drain"] = "Daemon:DrainSeconds",
        ["--max-requests-per-engine"] = "Daemon:MaxRequestsPerEngine",
        ["--max-queued-events"] = "Daemon:MaxQueuedEventsPerEngine",
        ["--engine-send-timeout"] = "Daemon:EngineSendTimeoutSeconds",
        ["--etcd"] = "Daemon:Etcd:Endpoints",
        ["--etcd-user"] = "Daemon:Etcd:Username",
        ["--etcd-password-file"] = "Daemon:Etcd:PasswordFile",
        ["--etcd-ca"] = "Daemon:Etcd:CaFile",
        ["--etcd-cert"] = "Daemon:Etcd:CertFile",
        ["--etcd-key"] = "Daemon:Etcd:KeyFile",
        ["--etcd-prefix"] = "Daemon:Etcd:Prefix",
        ["--etcd-ttl"] = "Daemon:Etcd:LeaseTtlSeconds",
    };

    public static WebApplication Build(string[] args, Func<FabricOptions, IKvFabric>? fabricFactory = null)
    {
        var configFile = ConfigFile(args, out var rest);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.Sources.Clear();
        if (configFile is not null) builder.Configuration.AddJsonFile(configFile, optional: false, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables("PDRDMA_");
        builder.Configuration.AddCommandLine(rest, Switches);
        builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; });
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        // A failed start is reported once, by RunAsync, as the list of what to change.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.None);
        builder.Host.UseSystemd();
        builder.Services.AddOptions<DaemonOptions>().Bind(builder.Configuration.GetSection(DaemonOptions.Section)).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<DaemonOptions>, DaemonOptionsValidator>();
        builder.Services.AddSingleton(fabricFactory ?? (options => new TransferAgentFabric(options)));
        builder.Services.AddSingleton<NodeDaemon>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeDaemon>());
        builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter("PdRdma.*").AddPrometheusExporter(o => { o.ScrapeResponseCacheDurationMilliseconds = 0; o.ScopeInfoEnabled = false; o.TargetInfoEnabled = false; }));
        var options = builder.Configuration.GetSection(DaemonOptions.Section).Get<DaemonOptions>() ?? new DaemonOptions();
        builder.Services.Configure<HostOptions>(h => h.ShutdownTimeout = TimeSpan.FromSeconds(Math.Max(0, options.DrainSeconds) + 5));
        builder.WebHost.ConfigureKestrel(k =>
        {
            if (IPEndPoint.TryParse(options.HttpListen ?? "", out var http)) k.Listen(http);
            else k.Listen(IPAddress.Loopback, 0); // invalid setting: validation stops the start with a message
        });

        var app = builder.Build();
        app.MapGet("/health", (NodeDaemon daemon) =>
        {
            var status = daemon.Status();
            return Results.Json(new
            {
                status = "ok",
                node = status.NodeId,
                backend = daemon.BackendSummary,
                peer_endpoint = status.PeerEndpoint,
                pools = status.Pools,
                leases_active = status.LeasesActive,
                leases_expired = status.LeasesExpired,
                directory = daemon.ClusterDirectory is { } d ? new { etcd = d.Endpoints, state = d.State, nodes = d.Nodes.Count } : null,
                peers = status.Peers.Select(p => new { node = p.NodeId, endpoint = p.Endpoint, backend = p.Backend, reason = p.BackendReason, bytes = p.BytesWritten }),
            });
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        // The meter provider (and so its listener) exists before the first measurement.
        app.Services.GetRequiredService<OpenTelemetry.Metrics.MeterProvider>();
        return app;
    }

    private static string? ConfigFile(string[] args, out string[] rest)
    {
        var list = args.ToList();
        var index = list.IndexOf("--config");
        string? file = Environment.GetEnvironmentVariable("PDRDMA_CONFIG");
        if (index >= 0 && index + 1 < list.Count)
        {
            file = list[index + 1];
            list.RemoveRange(index, 2);
        }
        else if (file is null && File.Exists(DefaultConfigFile))
        {
            file = DefaultConfigFile;
        }
        rest = list.ToArray();
        return file;
    }

    /// <summary>Runs the daemon until SIGTERM/SIGINT; returns 2 with the validation messages when the configuration is wrong.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter errors)
    {
        WebApplication app;
        try
        {
            app = Build(args);
        }
        catch (Exception e) when (e is FileNotFoundException or InvalidDataException or FormatException or InvalidOperationException)
        {
            await errors.WriteLineAsync($"pdrdmad: cannot read configuration: {e.Message}").ConfigureAwait(false);
            return 2;
        }
        try
        {
            await app.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (OptionsValidationException e)
        {
            await errors.WriteLineAsync("pdrdmad: invalid configuration:").ConfigureAwait(false);
            foreach (var failure in e.Failures) await errors.WriteLineAsync($"  - {failure}").ConfigureAwait(false);
            return 2;
        }
        catch (Exception e) when (e is InvalidOperationException or TransferException or IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            await errors.WriteLineAsync($"pdrdmad: cannot start: {e.Message}").ConfigureAwait(false);
            return 1;
        }
        finally
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }
}
