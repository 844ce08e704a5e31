using PdRdma.Engines;
using PdRdma.Engines.Serving;

namespace PdRdma.Cli.Commands;

/// <summary><c>pdrdma serve --role prefill|decode|colocated --model M --port P [--daemon SOCKET]</c>.</summary>
public static class ServeCommand
{
    public const string Help = "serve a model over OpenAI-compatible HTTP: --role prefill|decode|colocated --model M --port P [--daemon SOCKET] [--daemon-timeout S] [--device cpu|cuda[:N] (cuda: colocated)]";

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
            };
            var daemonTimeout = cli.GetInt("--daemon-timeout", 0);
            cli.EnsureAllUsed();
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
        catch (Exception e) when (e is ArgumentException or Transport.TransferException or IOException)
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
