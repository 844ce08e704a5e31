using System.CommandLine;
using PdRdma.Cli.Options;
using PdRdma.Engines;
using PdRdma.Engines.Serving;
using PdRdma.Hosting.CommandLine;

namespace PdRdma.Cli.Commands;

/// <summary><c>pdrdma serve --role prefill|decode|colocated --model M --port P [--daemon SOCKET]</c>: an OpenAI-compatible engine.</summary>
public static class ServeCommand
{
    private static readonly Option<ServeRole> Role = CliOptions.Choice("--role", "what this instance does", ServeRole.Colocated);
    private static readonly Option<string> Model = CliOptions.Text("--model", "model: a name (ModelCatalog), llama2.c .bin, Hugging Face folder, tiny-random[:...], toy", ModelCatalog.Default);
    private static readonly Option<EngineDevice> Device = DeviceOption.Create("where the model runs (cuda prefill/decode: the KV hand-over is host-staged)");
    private static readonly Option<string> Host = CliOptions.Text("--host", "address to listen on", "127.0.0.1");
    private static readonly Option<int> Port = CliOptions.Int("--port", "port to listen on", 46200, 0, 65535);
    private static readonly Option<string> Daemon = CliOptions.Text("--daemon", "the node daemon's engine socket (none: the transfer agent runs in this process)", helpName: "SOCKET");
    private static readonly Option<int> DaemonTimeout = CliOptions.Int("--daemon-timeout", "seconds each call to the daemon may take (0: the default)", 0, 0, 3600);
    private static readonly Option<string> NodeId = CliOptions.Text("--node-id", "node id of the in-process transfer agent (no --daemon)");
    private static readonly Option<string> PeerListen = CliOptions.Text("--peer-listen", "where the in-process transfer agent listens (no --daemon)", "127.0.0.1:0", "IP:PORT");
    private static readonly Option<string> Advertise = CliOptions.Text("--advertise", "address peers use to reach the in-process agent", helpName: "IP:PORT");
    private static readonly Option<string> SecretFile = CliOptions.Text("--secret-file", "cluster secret of the in-process agent", helpName: "FILE");
    private static readonly Option<int> LeaseTtl = CliOptions.Int("--lease-ttl", "seconds a decode reservation lives without its KV", 30, 1, 3600);
    private static readonly Option<int> LayerDelayMs = CliOptions.Int("--layer-delay-ms", "pause after each prefill layer (fault tests: holds a push open)", 0, 0, 60_000);
    private static readonly Option<string> Url = CliOptions.Text("--url", "the URL other parts reach this instance at (registered in etcd)", helpName: "URL");
    private static readonly Option<int> Threads = CliOptions.Int("--threads", "libtorch intra-op threads (PDRDMA_TORCH_THREADS overrides)", 1, 1, 1024);
    private static readonly Option<string> StageKv = StageKvOption();
    private static readonly EtcdArgs Etcd = new();

    private static Option<string> StageKvOption()
    {
        var option = new Option<string>("--stage-kv")
        {
            Description = "host-stage a cpu KV pool as a cuda one is (tests the staged path on the cpu)", HelpName = "true|false",
            DefaultValueFactory = _ => "false",
        };
        option.Validators.Add(r =>
        {
            if (r.Implicit || r.Tokens.Count == 0) return;
            var text = r.Tokens[0].Value;
            if (text is not ("true" or "false")) r.AddError($"--stage-kv takes true or false, not '{(text.Length > 16 ? text[..16] + "…" : text)}'");
        });
        return option;
    }

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("serve", "serve a model over OpenAI-compatible HTTP (prefill, decode or colocated)")
        {
            Role, Model, Device, Host, Port, Daemon, DaemonTimeout, NodeId, PeerListen, Advertise, SecretFile, LeaseTtl, LayerDelayMs, Url, Threads, StageKv,
        };
        Etcd.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(parse, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken ct)
    {
        var options = new ServeOptions
        {
            Role = CliOptions.Name(parse.GetValue(Role)),
            Model = parse.GetValue(Model)!,
            Device = parse.GetValue(Device)!,
            Host = parse.GetValue(Host)!,
            Port = parse.GetValue(Port),
            Daemon = parse.GetValue(Daemon),
            NodeId = parse.GetValue(NodeId),
            PeerListen = parse.GetValue(PeerListen)!,
            Advertise = parse.GetValue(Advertise),
            SecretFile = parse.GetValue(SecretFile),
            LeaseTtlSeconds = parse.GetValue(LeaseTtl),
            LayerDelayMs = parse.GetValue(LayerDelayMs),
            StageKv = parse.GetValue(StageKv) == "true",
            AdvertiseUrl = parse.GetValue(Url),
            Etcd = Etcd.Read(parse),
        };
        if (options.AdvertiseUrl is { } url && !PdRdma.Daemon.Discovery.InstanceRecord.IsPlainHttpUrl(url)) throw new UsageException($"--url '{url}' is not http(s)://HOST:PORT");
        // One intra-op thread by default: small models run fastest that way, and OpenMP workers spin-wait when
        // several engines share the cores.
        TorchThreads.Configure(parse.GetValue(Threads));
        // Slow hosts (emulated VMs) need longer than the default bound on each call to the daemon.
        if (parse.GetValue(DaemonTimeout) is > 0 and var seconds) KvChannel.CallTimeout = TimeSpan.FromSeconds(seconds);
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
