using System.Runtime.InteropServices;
using PdRdma.Cli.Demo;
using PdRdma.Hosting.Clusters;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma cluster --prefill N --decode M [--etcd URL]</c>: a local cluster whose parts find each other through
/// etcd. Prints <c>proxy: http://HOST:PORT</c> once the proxy routes to every node, then runs until Ctrl-C or
/// SIGTERM and removes everything it started.
/// </summary>
public static class ClusterCommand
{
    public const string Help = "local cluster found through etcd: --prefill N --decode M [--etcd URL] [--etcd-ttl S] [--model M] [--backend tcp|shm|auto] [--port P] [--loopback] [--keep-logs]";

    public static async Task<int> RunAsync(string[] args)
    {
        DiscoverySpec spec;
        bool keepLogs;
        try
        {
            var cli = new CliArgs(args, "--loopback", "--keep-logs");
            spec = new DiscoverySpec
            {
                Prefill = cli.GetInt("--prefill", 1),
                Decode = cli.GetInt("--decode", 1),
                Etcd = cli.Get("--etcd"),
                EtcdTtlSeconds = cli.GetInt("--etcd-ttl", 10),
                Model = cli.Get("--model", Engines.Serving.ModelCatalog.Default),
                Backend = cli.Get("--backend", "tcp"),
                ProxyPort = cli.GetInt("--port", 0),
                Namespaces = !cli.Has("--loopback") && LocalCluster.CanUseNamespaces,
            };
            keepLogs = cli.Has("--keep-logs");
            cli.EnsureAllUsed();
            var etcd = new Daemon.Discovery.EtcdOptions { Endpoints = spec.Etcd, LeaseTtlSeconds = spec.EtcdTtlSeconds };
            var errors = etcd.Validate();
            if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
            if (spec.Backend is not ("tcp" or "shm" or "auto" or "verbs")) throw new ArgumentException($"--backend '{spec.Backend}' is unknown: tcp, shm, auto or verbs");
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"pdrdma cluster: {e.Message}\nusage: pdrdma cluster {Help}");
            return 2;
        }

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
