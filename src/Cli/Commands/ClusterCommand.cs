using System.CommandLine;
using PdRdma.Cli.Options;
using PdRdma.Hosting.CommandLine;
using System.Runtime.InteropServices;
using PdRdma.Hosting.Clusters;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma cluster --prefill N --decode M [--etcd URL]</c>: a local cluster whose parts find each other through
/// etcd. Prints <c>proxy: http://HOST:PORT</c> once the proxy routes to every node, then runs until Ctrl-C or
/// SIGTERM and removes everything it started.
/// </summary>
public static class ClusterCommand
{
    private static readonly Option<int> Prefill = CliOptions.Int("--prefill", "prefill nodes", 1, 1, 32);
    private static readonly Option<int> Decode = CliOptions.Int("--decode", "decode nodes", 1, 1, 32);
    private static readonly Option<string> Etcd = CliOptions.Text("--etcd", "endpoints of a running etcd (default: start one here)", helpName: "URL[,URL]");
    private static readonly Option<int> EtcdTtl = CliOptions.Int("--etcd-ttl", "seconds a dead node may stay in the routing", 10, 1, 3600);
    private static readonly Option<string> Model = CliOptions.Text("--model", "the model every engine serves", Engines.Serving.ModelCatalog.Default);
    private static readonly Option<ClusterBackend> Backend = CliOptions.Choice("--backend", "transport between the daemons", ClusterBackend.Tcp);
    private static readonly Option<int> Port = CliOptions.Int("--port", "the proxy's port (0: a free one; 30300 in namespaces)", 0, 0, 65535);
    private static readonly Option<bool> Loopback = CliOptions.Flag("--loopback", "loopback ports even when network namespaces are possible");
    private static readonly Option<bool> KeepLogs = CliOptions.Flag("--keep-logs", "keep the parts' logs after stopping");

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("cluster", "a local cluster whose parts find each other through etcd; runs until Ctrl-C")
        {
            Prefill, Decode, Etcd, EtcdTtl, Model, Backend, Port, Loopback, KeepLogs,
        };
        command.SetAction((parse, _) => RunAsync(parse));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse)
    {
        var spec = new DiscoverySpec
        {
            Prefill = parse.GetValue(Prefill),
            Decode = parse.GetValue(Decode),
            Etcd = parse.GetValue(Etcd),
            EtcdTtlSeconds = parse.GetValue(EtcdTtl),
            Model = parse.GetValue(Model)!,
            Backend = CliOptions.Name(parse.GetValue(Backend)),
            ProxyPort = parse.GetValue(Port),
            Namespaces = !parse.GetValue(Loopback) && LocalCluster.CanUseNamespaces,
        };
        var keepLogs = parse.GetValue(KeepLogs);
        var errors = new Daemon.Discovery.EtcdOptions { Endpoints = spec.Etcd, LeaseTtlSeconds = spec.EtcdTtlSeconds }.Validate();
        if (errors.Count > 0) throw new UsageException(string.Join("; ", errors));

        using var stop = new CancellationTokenSource();
        DiscoveryCluster? cluster = null;
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        EventHandler onExit = (_, _) => cluster?.KillNow();
        AppDomain.CurrentDomain.ProcessExit += onExit;
        try
        {
            Console.Error.WriteLine($"pdrdma cluster: starting {spec.Prefill} prefill + {spec.Decode} decode nodes{(spec.Etcd is null ? " and etcd" : $" with etcd at {spec.Etcd}")}...");
            cluster = await DiscoveryCluster.StartAsync(spec, stop.Token);
            cluster.KeepLogs = keepLogs;
            Console.WriteLine($"topology: {cluster.Topology}");
            Console.WriteLine($"etcd: {cluster.EtcdUrl}");
            Console.WriteLine($"logs: {cluster.WorkDirectory}");
            Console.WriteLine($"proxy: {cluster.ProxyUrl}");
            await Console.Out.FlushAsync();
            await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            Console.Error.WriteLine("pdrdma cluster: stopping...");
            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            Console.Error.WriteLine("pdrdma cluster: interrupted during start");
            return 130;
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or ArgumentException)
        {
            await Console.Error.WriteLineAsync($"pdrdma cluster: {e.Message}");
            return 1;
        }
        finally
        {
            if (cluster is not null) await cluster.DisposeAsync();
            AppDomain.CurrentDomain.ProcessExit -= onExit;
        }
    }
}
