using PdRdma.Engines;
using PdRdma.Engines.Serving;

namespace PdRdma.Cli.Commands;

/// <summary><c>pdrdma serve --role prefill|decode|colocated --model M --port P [--daemon SOCKET]</c>.</summary>
public static class ServeCommand
{
    public const string Help = "serve a model over OpenAI-compatible HTTP: --role prefill|decode|colocated --model M --port P [--daemon SOCKET] [--daemon-timeout S] [--threads N] [--device cpu|cuda[:N] (cuda prefill/decode: KV host-staged)] [--stage-kv true (host-stage a cpu pool too)] [--url URL] " + EtcdArgs.Help;

    public static async Task<int> RunAsync(string[] args)
    {
        ServeOptions options;
        try
        {
            var cli = new CliArgs(args);
            options = new ServeOptions
            {
                Role = cli.Get("--role", "colocated"),
                Model = cli.Get("--model", ModelCatalog.Default),
                Device = EngineDevice.Parse(cli.Get("--device", "cpu")),
                Host = cli.Get("--host", "127.0.0.1"),
                Port = cli.GetInt("--port", 46200),
                Daemon = cli.Get("--daemon"),
                NodeId = cli.Get("--node-id"),
                PeerListen = cli.Get("--peer-listen", "127.0.0.1:0"),
                Advertise = cli.Get("--advertise"),
                SecretFile = cli.Get("--secret-file"),
                LeaseTtlSeconds = cli.GetInt("--lease-ttl", 30),
                LayerDelayMs = cli.GetInt("--layer-delay-ms", 0),
                StageKv = cli.Get("--stage-kv", "false") switch
                {
                    "true" => true,
                    "false" => false,
                    var v => throw new ArgumentException($"--stage-kv takes true or false, not '{(v.Length > 16 ? v[..16] + "…" : v)}'"),
                },
                AdvertiseUrl = cli.Get("--url"),
                Etcd = EtcdArgs.From(cli),
            };
            var daemonTimeout = cli.GetInt("--daemon-timeout", 0);
            // One intra-op thread by default: small models run fastest that way, and OpenMP workers spin-wait when
            // several engines share the cores (PDRDMA_TORCH_THREADS overrides).
            var threads = cli.GetInt("--threads", 1);
            if (threads < 1) throw new ArgumentException("--threads must be at least 1");
            Engines.TorchThreads.Configure(threads);
            cli.EnsureAllUsed();
            if (options.AdvertiseUrl is { } url && !Daemon.Discovery.InstanceRecord.IsPlainHttpUrl(url)) throw new ArgumentException($"--url '{url}' is not http(s)://HOST:PORT");
            // Slow hosts (emulated VMs) need longer than the default bound on each call to the daemon.
            if (daemonTimeout > 0) KvChannel.CallTimeout = TimeSpan.FromSeconds(daemonTimeout);
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"pdrdma serve: {e.Message}\nusage: pdrdma {Help}");
            return 2;
        }
        ServingHost host;
        try
        {
            host = await ServingHost.StartAsync(options, CancellationToken.None);
        }
        catch (Exception e) when (e is ArgumentException or Transport.TransferException or IOException or Engines.Loading.ModelLoadException or UnauthorizedAccessException)
        {
            await Console.Error.WriteLineAsync($"pdrdma serve: {e.Message}");
            return 2;
        }
        await using (host)
        {
            await host.WaitForShutdownAsync(CancellationToken.None);
        }
        return 0;
    }
}
