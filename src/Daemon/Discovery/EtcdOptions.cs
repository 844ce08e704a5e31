namespace PdRdma.Daemon.Discovery;

/// <summary>
/// Where the cluster directory lives and how to reach it: etcd endpoints, authentication (user/password,
/// TLS with a CA and optionally a client certificate), the key prefix and the lease TTL. Bound from the
/// "Daemon:Etcd" section (daemon) or the --etcd* switches (serve, proxy, cluster). Empty Endpoints: no
/// discovery (static configuration).
/// </summary>
public sealed class EtcdOptions
{
    /// <summary>Comma-separated etcd client URLs, e.g. "http://10.0.0.5:2379,http://10.0.0.6:2379".</summary>
    public string? Endpoints { get; set; }

    /// <summary>etcd user (etcd auth enabled); needs <see cref="PasswordFile"/> or <see cref="Password"/>.</summary>
    public string? Username { get; set; }

    /// <summary>File holding the etcd password (preferred over <see cref="Password"/>: it stays out of process listings).</summary>
    public string? PasswordFile { get; set; }

    /// <summary>The etcd password itself, for containers that pass it through the environment (PDRDMA_Daemon__Etcd__Password).</summary>
    public string? Password { get; set; }

    /// <summary>PEM CA bundle that signed the etcd server certificates (https endpoints).</summary>
    public string? CaFile { get; set; }

    /// <summary>PEM client certificate for etcd's --client-cert-auth; needs <see cref="KeyFile"/>.</summary>
    public string? CertFile { get; set; }

    /// <summary>PEM private key of <see cref="CertFile"/>.</summary>
    public string? KeyFile { get; set; }

    /// <summary>Root of this cluster's keys; several clusters can share one etcd under different prefixes.</summary>
    public string Prefix { get; set; } = "/pdrdma";

    /// <summary>TTL of the etcd lease that holds a registration: a dead or cut-off process disappears after at most this long.</summary>
    public int LeaseTtlSeconds { get; set; } = 10;

    /// <summary>Bound on each call to etcd (connect, grant, put, range).</summary>
    public double CallTimeoutSeconds { get; set; } = 5;

    public bool Enabled => !string.IsNullOrWhiteSpace(Endpoints);

    /// <summary>The endpoints as absolute URLs.</summary>
    public IReadOnlyList<Uri> EndpointUris() =>
        (Endpoints ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(e => Uri.TryCreate(e, UriKind.Absolute, out var uri) ? uri : new Uri("invalid://" + Uri.EscapeDataString(e)))
            .ToList();

    /// <summary>What is wrong with these settings (empty: fine). Files are checked for existence, not read.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Enabled) return errors;
        var list = (Endpoints ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (list.Length > 16) errors.Add("Etcd:Endpoints lists more than 16 URLs");
        foreach (var endpoint in list)
        {
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || uri.Port <= 0 || !endpoint.TrimEnd('/').EndsWith(":" + uri.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal) || uri.AbsolutePath != "/" || uri.UserInfo.Length > 0)
                errors.Add($"etcd endpoint '{endpoint}' is not http(s)://HOST:PORT (e.g. http://127.0.0.1:2379)");
        }
        var tls = CaFile is not null || CertFile is not null;
        if (tls && list.Any(e => e.StartsWith("http://", StringComparison.OrdinalIgnoreCase)))
            errors.Add("etcd TLS settings (CaFile/CertFile) need https:// endpoints");
        if ((CertFile is null) != (KeyFile is null)) errors.Add("etcd client certificate needs both CertFile and KeyFile");
        foreach (var (name, file) in new[] { ("CaFile", CaFile), ("CertFile", CertFile), ("KeyFile", KeyFile), ("PasswordFile", PasswordFile) })
            if (file is not null && !File.Exists(file)) errors.Add($"etcd {name} '{file}' does not exist");
        if (Username is { Length: > 0 } && PasswordFile is null && Password is null) errors.Add("etcd Username needs PasswordFile (or Password)");
        if (Username is null && (PasswordFile is not null || Password is not null)) errors.Add("an etcd password needs Username");
        if (!DirectoryKeys.IsValidPrefix(Prefix)) errors.Add($"etcd Prefix '{Prefix}' must start with '/', hold only [A-Za-z0-9._/-] and no '..', at most 64 characters");
        if (LeaseTtlSeconds is < 2 or > 300) errors.Add($"etcd LeaseTtlSeconds {LeaseTtlSeconds} is outside [2, 300]");
        if (CallTimeoutSeconds is <= 0 or > 120) errors.Add($"etcd CallTimeoutSeconds {CallTimeoutSeconds} is outside (0, 120]");
        return errors;
    }

    /// <summary>The password, read from <see cref="PasswordFile"/> when set (trailing newline trimmed).</summary>
    public string? ReadPassword()
    {
        if (PasswordFile is null) return Password;
        var info = new FileInfo(PasswordFile);
        if (info.Length > 4096) throw new ArgumentException($"etcd PasswordFile '{PasswordFile}' is larger than 4 KiB: not a password file");
        return File.ReadAllText(PasswordFile).TrimEnd('\r', '\n');
    }
}
