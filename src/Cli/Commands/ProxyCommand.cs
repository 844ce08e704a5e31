using PdRdma.Engines.Serving;

namespace PdRdma.Cli.Commands;

/// <summary><c>pdrdma proxy --prefill URL[,URL] --decode URL[,URL] --port P</c>.</summary>
public static class ProxyCommand
{
    public const string Help = "OpenAI-compatible front for disaggregated serving: (--prefill URL[,URL] --decode URL[,URL] | --etcd URL[,URL]) --port P [--prefill-timeout S] [--token-timeout S] [--control-timeout S] " + EtcdArgs.Help;

    public static async Task<int> RunAsync(string[] args)
    {
        ProxyOptions options;
        try
        {
            var cli = new CliArgs(args);
            static string[] Urls(string? list) => (list ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            options = new ProxyOptions
            {
                Prefill = Urls(cli.Get("--prefill")),
                Decode = Urls(cli.Get("--decode")),
                Host = cli.Get("--host", "127.0.0.1"),
                Port = cli.GetInt("--port", 46300),
                PrefillTimeout = TimeSpan.FromSeconds(cli.GetInt("--prefill-timeout", 120)),
                TokenTimeout = TimeSpan.FromSeconds(cli.GetInt("--token-timeout", 60)),
                ControlTimeout = TimeSpan.FromSeconds(cli.GetInt("--control-timeout", 10)),
                Etcd = EtcdArgs.From(cli),
            };
            cli.EnsureAllUsed();
            foreach (var url in options.Prefill.Concat(options.Decode))
                if (!Uri.TryCreate(url, UriKind.Absolute, out _)) throw new ArgumentException($"'{url}' is not a URL (e.g. http://10.0.0.2:46201)");
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync($"pdrdma proxy: {e.Message}\nusage: pdrdma {Help}");
            return 2;
        }
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
