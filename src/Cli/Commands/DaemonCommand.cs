using System.CommandLine;
using System.Globalization;
using PdRdma.Cli.Options;
using PdRdma.Daemon;
using PdRdma.Hosting.CommandLine;

namespace PdRdma.Cli.Commands;

/// <summary>
/// <c>pdrdma daemon [--config FILE] [--node-id N] [--socket PATH] ...</c>: runs pdrdmad in the foreground. Options
/// are typed and checked here; only those given are passed on, so the layering of the daemon's configuration
/// (file, then PDRDMA_* environment, then command line) and its defaults stay the daemon's own.
/// </summary>
public static class DaemonCommand
{
    private static readonly Option<FileInfo> Config = new("--config") { Description = "JSON configuration file (section Daemon)", HelpName = "FILE" };

    // Each maps to the daemon's own switch of the same name (DaemonHost.Switches); no value: the configuration's.
    private static readonly (Option Option, Func<ParseResult, string?> Value)[] Switches = Build(
        Text("--node-id", "this node's id (default: the host name)"),
        Text("--socket", "the engines' Unix socket (default /run/pdrdma/pdrdmad.sock)"),
        Text("--group", "group owning the engine socket ('' : the daemon's own; default pdrdma)"),
        Text("--peer-listen", "where peers connect (default 0.0.0.0:46100)", "IP:PORT"),
        Text("--advertise", "address peers are told to use", "IP:PORT"),
        Text("--http-listen", "health and metrics endpoint (default 127.0.0.1:46190)", "IP:PORT"),
        Text("--secret-file", "file holding the cluster secret", "FILE"),
        Backend(),
        Bool("--allow-fallback", "fall back to another backend when the chosen one is unavailable"),
        Seconds("--connect-timeout", "seconds a connect to a peer may take (default 10)"),
        Seconds("--handshake-timeout", "seconds a peer has for its handshake (default 10)"),
        Seconds("--lease-ttl", "seconds a KV lease lives (default 30)"),
        Seconds("--heartbeat", "seconds between peer heartbeats (default 2)"),
        Seconds("--drain", "seconds a stopping daemon waits for transfers in flight (default 5)"),
        Count("--max-requests-per-engine", "requests one engine connection may have in work; one more is refused Overloaded (default 256)"),
        Count("--max-queued-events", "Arrived/LeaseEnded events queued per engine before it is disconnected (default 1024)"),
        Seconds("--engine-send-timeout", "seconds one frame to an engine may take before it is disconnected (default 5)"),
        Text("--etcd", "etcd endpoints (none: no discovery)", "URL[,URL]"),
        Text("--etcd-user", "etcd user name"),
        Text("--etcd-password-file", "file holding the etcd password", "FILE"),
        Text("--etcd-ca", "CA certificate (PEM)", "PEM"),
        Text("--etcd-cert", "client certificate (PEM)", "PEM"),
        Text("--etcd-key", "client key (PEM)", "PEM"),
        Text("--etcd-prefix", "key prefix of the directory (default /pdrdma)"),
        Seconds("--etcd-ttl", "seconds a registration outlives this node (default 10)"));

    /// <summary>The command.</summary>
    public static Command Create()
    {
        var command = new Command("daemon", "run the node daemon pdrdmad in the foreground") { Config };
        foreach (var (option, _) in Switches) command.Options.Add(option);
        command.SetAction((parse, _) =>
        {
            var args = new List<string>();
            if (parse.GetValue(Config) is { } config) args.AddRange(["--config", config.FullName]);
            foreach (var (option, value) in Switches)
            {
                if (value(parse) is { } text) args.AddRange([option.Name, text]);
            }
            return DaemonHost.RunAsync([.. args], Console.Error);
        });
        return command;
    }

    private static (Option, Func<ParseResult, string?>)[] Build(params (Option, Func<ParseResult, string?>)[] switches)
    {
        var unknown = switches.Select(s => s.Item1.Name).Except(DaemonHost.Switches.Keys).ToList();
        if (unknown.Count > 0) throw new InvalidOperationException($"daemon options without a daemon switch: {string.Join(", ", unknown)}");
        return switches;
    }

    private static (Option, Func<ParseResult, string?>) Text(string name, string description, string? helpName = null)
    {
        var option = CliOptions.Text(name, description, helpName: helpName);
        return (option, p => p.GetValue(option));
    }

    private static (Option, Func<ParseResult, string?>) Seconds(string name, string description)
    {
        var option = CliOptions.Seconds(name, description);
        return (option, p => p.GetValue(option)?.ToString(CultureInfo.InvariantCulture));
    }

    private static (Option, Func<ParseResult, string?>) Count(string name, string description)
    {
        var option = new Option<int?>(name) { Description = description, HelpName = "N" };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1 or > 1_000_000) r.AddError($"{name}: must be in [1, 1000000]");
        });
        return (option, p => p.GetValue(option)?.ToString(CultureInfo.InvariantCulture));
    }

    private static (Option, Func<ParseResult, string?>) Bool(string name, string description)
    {
        var option = new Option<bool?>(name) { Description = description, Arity = ArgumentArity.ZeroOrOne };
        return (option, p => p.GetResult(option) is null ? null : (p.GetValue(option) ?? true) ? "true" : "false");
    }

    private static (Option, Func<ParseResult, string?>) Backend()
    {
        var option = CliOptions.Choice("--backend", "transport to peers (default auto)", ClusterBackend.Auto);
        option.DefaultValueFactory = null;
        return (option, p => p.GetResult(option) is null ? null : CliOptions.Name(p.GetValue(option)));
    }
}
