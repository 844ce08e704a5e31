using System.CommandLine;
using PdRdma.Engines.Serving;
using PdRdma.Hosting.CommandLine;

namespace PdRdma.Cli.Commands;

/// <summary><c>pdrdma proxy (--prefill URL[,URL] --decode URL[,URL] | --etcd URL) --port P</c>: the OpenAI-compatible front of disaggregated serving.</summary>
public static class ProxyCommand
{
    private static readonly Option<string> Prefill = CliOptions.Text("--prefill", "prefill instances (or found through --etcd)", helpName: "URL[,URL]");
    private static readonly Option<string> Decode = CliOptions.Text("--decode", "decode instances (or found through --etcd)", helpName: "URL[,URL]");
    private static readonly Option<string> Host = CliOptions.Text("--host", "address to listen on", "127.0.0.1");
    private static readonly Option<int> Port = CliOptions.Int("--port", "port to listen on", 46300, 0, 65535);
    private static readonly Option<int> PrefillTimeout = CliOptions.Int("--prefill-timeout", "seconds a prefill (KV pushed included) may take", 120, 1, 3600);
    private static readonly Option<int> TokenTimeout = CliOptions.Int("--token-timeout", "seconds between two decode tokens before the request fails", 60, 1, 3600);
    private static readonly Option<int> ControlTimeout = CliOptions.Int("--control-timeout", "seconds a control call (reserve, release) may take", 10, 1, 3600);
    private static readonly EtcdArgs Etcd = new();

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("proxy", "OpenAI-compatible front for disaggregated serving") { Prefill, Decode, Host, Port, PrefillTimeout, TokenTimeout, ControlTimeout };
        Etcd.AddTo(command);
        command.SetAction((parse, ct) => RunAsync(parse, ct));
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken ct)
    {
        static string[] Urls(string? list) => (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var options = new ProxyOptions
        {
            Prefill = Urls(parse.GetValue(Prefill)),
            Decode = Urls(parse.GetValue(Decode)),
            Host = parse.GetValue(Host)!,
            Port = parse.GetValue(Port),
            PrefillTimeout = TimeSpan.FromSeconds(parse.GetValue(PrefillTimeout)),
            TokenTimeout = TimeSpan.FromSeconds(parse.GetValue(TokenTimeout)),
            ControlTimeout = TimeSpan.FromSeconds(parse.GetValue(ControlTimeout)),
            Etcd = Etcd.Read(parse),
        };
        foreach (var url in options.Prefill.Concat(options.Decode))
            if (!Uri.TryCreate(url, UriKind.Absolute, out _)) throw new UsageException($"'{url}' is not a URL (e.g. http://10.0.0.2:46201)");
        ProxyHost proxy;
        try
        {
            proxy = await ProxyHost.StartAsync(options, CancellationToken.None);
        }
        catch (Exception e) when (e is ArgumentException or IOException)
        {
            await Console.Error.WriteLineAsync($"pdrdma proxy: {e.Message}");
            return 2;
        }
        await using (proxy)
        {
            await proxy.WaitForShutdownAsync(CancellationToken.None);
        }
        return 0;
    }
}
