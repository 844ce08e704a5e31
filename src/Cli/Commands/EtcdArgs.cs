using System.CommandLine;
using PdRdma.Daemon.Discovery;
using PdRdma.Hosting.CommandLine;

namespace PdRdma.Cli.Commands;

/// <summary>The --etcd* options shared by serve, proxy and cluster (the daemon takes the same names, bound to Daemon:Etcd:*).</summary>
public sealed class EtcdArgs
{
    private readonly Option<string> _endpoints = CliOptions.Text("--etcd", "etcd endpoints (default: PDRDMA_ETCD_ENDPOINTS; none: no discovery)", helpName: "URL[,URL]");
    private readonly Option<string> _user = CliOptions.Text("--etcd-user", "etcd user name", helpName: "USER");
    private readonly Option<string> _passwordFile = CliOptions.Text("--etcd-password-file", "file holding the etcd password", helpName: "FILE");
    private readonly Option<string> _ca = CliOptions.Text("--etcd-ca", "CA certificate (PEM) for https endpoints", helpName: "PEM");
    private readonly Option<string> _cert = CliOptions.Text("--etcd-cert", "client certificate (PEM)", helpName: "PEM");
    private readonly Option<string> _key = CliOptions.Text("--etcd-key", "client key (PEM)", helpName: "PEM");
    private readonly Option<string> _prefix = CliOptions.Text("--etcd-prefix", "key prefix of the directory", "/pdrdma");
    private readonly Option<int> _ttl = CliOptions.Int("--etcd-ttl", "seconds a registration outlives its node", 10, 1, 3600);

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public EtcdArgs AddTo(Command command)
    {
        foreach (var option in new Option[] { _endpoints, _user, _passwordFile, _ca, _cert, _key, _prefix, _ttl }) command.Options.Add(option);
        return this;
    }

    /// <summary>The etcd options (PDRDMA_ETCD_ENDPOINTS when --etcd is absent); a combination that does not validate is a usage error.</summary>
    public EtcdOptions Read(ParseResult parse)
    {
        var options = new EtcdOptions
        {
            Endpoints = parse.GetValue(_endpoints) ?? Environment.GetEnvironmentVariable("PDRDMA_ETCD_ENDPOINTS"),
            Username = parse.GetValue(_user),
            PasswordFile = parse.GetValue(_passwordFile),
            CaFile = parse.GetValue(_ca),
            CertFile = parse.GetValue(_cert),
            KeyFile = parse.GetValue(_key),
            Prefix = parse.GetValue(_prefix)!,
            LeaseTtlSeconds = parse.GetValue(_ttl),
        };
        var errors = options.Validate();
        if (errors.Count > 0) throw new UsageException(string.Join("; ", errors));
        return options;
    }
}
