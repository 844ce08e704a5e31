using PdRdma.Daemon.Discovery;

namespace PdRdma.Cli.Commands;

/// <summary>The --etcd* options shared by serve, proxy and cluster (the daemon takes the same names, bound to Daemon:Etcd:*).</summary>
public static class EtcdArgs
{
    public const string Help = "[--etcd URL[,URL] [--etcd-user U --etcd-password-file F] [--etcd-ca PEM [--etcd-cert PEM --etcd-key PEM]] [--etcd-prefix /pdrdma] [--etcd-ttl S]]";

    /// <summary>Reads the options (PDRDMA_ETCD_ENDPOINTS when --etcd is absent); throws ArgumentException listing what is wrong.</summary>
    public static EtcdOptions From(CliArgs cli)
    {
        var options = new EtcdOptions
        {
            Endpoints = cli.Get("--etcd") ?? Environment.GetEnvironmentVariable("PDRDMA_ETCD_ENDPOINTS"),
            Username = cli.Get("--etcd-user"),
            PasswordFile = cli.Get("--etcd-password-file"),
            CaFile = cli.Get("--etcd-ca"),
            CertFile = cli.Get("--etcd-cert"),
            KeyFile = cli.Get("--etcd-key"),
            Prefix = cli.Get("--etcd-prefix", "/pdrdma"),
            LeaseTtlSeconds = cli.GetInt("--etcd-ttl", 10),
        };
        var errors = options.Validate();
        if (errors.Count > 0) throw new ArgumentException(string.Join("; ", errors));
        return options;
    }
}
