using System.Net;
using Microsoft.Extensions.Options;

namespace PdRdma.Daemon;

/// <summary>Checks <see cref="DaemonOptions"/> at start; every message says which setting to change and how.</summary>
public sealed class DaemonOptionsValidator : IValidateOptions<DaemonOptions>
{
    private static readonly string[] Backends = ["auto", "shm", "tcp", "verbs"];

    public ValidateOptionsResult Validate(string? name, DaemonOptions options)
    {
        var errors = new List<string>();
        errors.AddRange(options.Etcd.Validate().Select(e => $"Daemon:Etcd: {e}"));
        if (options.Etcd.Enabled && !Discovery.DirectoryKeys.IsValidName(options.NodeId))
            errors.Add($"Daemon:NodeId '{options.NodeId}' cannot be an etcd key: use 1-64 of [A-Za-z0-9._-]");
        if (string.IsNullOrWhiteSpace(options.NodeId) || options.NodeId.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            errors.Add("Daemon:NodeId is empty or contains spaces: set a unique node name, e.g. --node-id node-a or PDRDMA_Daemon__NodeId=node-a");
        if (string.IsNullOrWhiteSpace(options.Socket) || !Path.IsPathRooted(options.Socket))
            errors.Add($"Daemon:Socket '{options.Socket}' must be an absolute path, e.g. /run/pdrdma/pdrdmad.sock");
        else if (options.Socket.Length > 100)
            errors.Add($"Daemon:Socket is {options.Socket.Length} characters; Unix socket paths must be under 108 bytes: choose a shorter path");
        if (!string.IsNullOrEmpty(options.SocketGroup) && UnixGroups.FindGroupId(options.SocketGroup) is null)
            errors.Add($"Daemon:SocketGroup '{options.SocketGroup}' does not exist: create it (groupadd --system {options.SocketGroup}) or set Daemon:SocketGroup to an existing group");
        if (!IPEndPoint.TryParse(options.PeerListen, out _))
            errors.Add($"Daemon:PeerListen '{options.PeerListen}' is not address:port, e.g. 0.0.0.0:46100");
        if (options.AdvertiseAddress is { Length: > 0 } advertise && !IPEndPoint.TryParse(advertise, out _))
            errors.Add($"Daemon:AdvertiseAddress '{advertise}' is not address:port, e.g. 198.18.0.1:46100");
        if (!IPEndPoint.TryParse(options.HttpListen ?? "", out _))
            errors.Add($"Daemon:HttpListen '{options.HttpListen}' is not address:port for /health and /metrics, e.g. 127.0.0.1:46190");
        errors.AddRange(ValidateSecret(options));
        if (!Backends.Contains(options.Backend))
            errors.Add($"Daemon:Backend '{options.Backend}' is unknown: use one of {string.Join(", ", Backends)}");
        if (options.LeaseTtlSeconds is <= 0 or > 3600)
            errors.Add($"Daemon:LeaseTtlSeconds {options.LeaseTtlSeconds} must be in (0, 3600]");
        if (options.HeartbeatSeconds is <= 0 or > 60)
            errors.Add($"Daemon:HeartbeatSeconds {options.HeartbeatSeconds} must be in (0, 60]");
        if (options.ConnectTimeoutSeconds is <= 0 or > 600)
            errors.Add($"Daemon:ConnectTimeoutSeconds {options.ConnectTimeoutSeconds} must be in (0, 600]");
        if (options.HandshakeTimeoutSeconds is <= 0 or > 600)
            errors.Add($"Daemon:HandshakeTimeoutSeconds {options.HandshakeTimeoutSeconds} must be in (0, 600]");
        if (options.DrainSeconds is < 0 or > 300)
            errors.Add($"Daemon:DrainSeconds {options.DrainSeconds} must be in [0, 300]");
        if (options.MaxRequestsPerEngine is < 1 or > 4096)
            errors.Add($"Daemon:MaxRequestsPerEngine {options.MaxRequestsPerEngine} must be in [1, 4096]");
        if (options.MaxQueuedEventsPerEngine is < 1 or > 1_000_000)
            errors.Add($"Daemon:MaxQueuedEventsPerEngine {options.MaxQueuedEventsPerEngine} must be in [1, 1000000]");
        if (options.EngineSendTimeoutSeconds is <= 0 or > 300)
            errors.Add($"Daemon:EngineSendTimeoutSeconds {options.EngineSendTimeoutSeconds} must be in (0, 300]");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static IEnumerable<string> ValidateSecret(DaemonOptions options)
    {
        const string How = "create one with `head -c 32 /dev/urandom > /etc/pdrdma/cluster.key; chmod 0400 /etc/pdrdma/cluster.key` (the same file on every node)";
        if (!string.IsNullOrEmpty(options.ClusterSecretFile))
        {
            if (!File.Exists(options.ClusterSecretFile))
            {
                yield return $"Daemon:ClusterSecretFile '{options.ClusterSecretFile}' does not exist: {How}";
                yield break;
            }
            if (new FileInfo(options.ClusterSecretFile).Length < 16)
                yield return $"Daemon:ClusterSecretFile '{options.ClusterSecretFile}' holds fewer than 16 bytes: {How}";
            else if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(options.ClusterSecretFile) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
                yield return $"Daemon:ClusterSecretFile '{options.ClusterSecretFile}' is readable by every user: chmod 0400 (or 0440 with the service group) it";
            yield break;
        }
        if (string.IsNullOrEmpty(options.ClusterSecret))
        {
            yield return $"no cluster secret: set Daemon:ClusterSecretFile (--secret-file PATH) — {How}";
            yield break;
        }
        if (options.ClusterSecret.Length < 32 || options.ClusterSecret.Length % 2 != 0 || !options.ClusterSecret.All(Uri.IsHexDigit))
            yield return "Daemon:ClusterSecret must be at least 16 bytes written as hex (32+ hex digits); prefer Daemon:ClusterSecretFile";
    }

    /// <summary>Reads the secret named by the options (validated before).</summary>
    public static byte[] LoadSecret(DaemonOptions options) =>
        !string.IsNullOrEmpty(options.ClusterSecretFile)
            ? File.ReadAllBytes(options.ClusterSecretFile)
            : Convert.FromHexString(options.ClusterSecret!);
}
