using System.Net;
using System.Text.Json;
using PdRdma.Transport;
using PdRdma.Transport.Backends;
using PdRdma.Transport.Backends.SharedMemory;
using PdRdma.Transport.Backends.Tcp;
using PdRdma.Transport.Backends.Verbs;

namespace PdRdma.Native;

/// <summary>
/// The JSON an agent is created from (<c>pdrdma_agent_create</c>). Strict: an unknown key, a wrong type or an out-of-range
/// value is refused with a message naming it, so a typo never silently falls back to a default. Parsed with JsonDocument
/// (no reflection, NativeAOT-safe).
/// </summary>
internal static class AgentConfig
{
    private const int MaxJsonBytes = 64 << 10;

    public static TransferAgentOptions Parse(string json)
    {
        if (json.Length > MaxJsonBytes) throw new NativeArgumentException($"config is {json.Length} characters; at most {MaxJsonBytes}");
        using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4 });
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new NativeArgumentException("config must be a JSON object");
        string? nodeId = null, secretFile = null;
        IPEndPoint? listen = null;
        var backend = BackendChoice.Auto;
        var fallback = false;
        string[]? backends = null;
        int connectMs = 10_000, inFlight = 16;
        foreach (var p in doc.RootElement.EnumerateObject())
        {
            switch (p.Name)
            {
                case "node_id": nodeId = Text(p); break;
                case "listen": listen = Endpoint(Text(p), "listen"); break;
                case "secret_file": secretFile = Text(p); break;
                case "backend":
                    backend = Text(p) switch
                    {
                        "auto" => BackendChoice.Auto,
                        "shm" => BackendChoice.Shm,
                        "tcp" => BackendChoice.Tcp,
                        "verbs" => BackendChoice.Verbs,
                        var other => throw new NativeArgumentException($"config 'backend': '{other}' is not auto, shm, tcp or verbs"),
                    };
                    break;
                case "allow_fallback":
                    fallback = p.Value.ValueKind switch
                    {
                        JsonValueKind.True => true,
                        JsonValueKind.False => false,
                        _ => throw new NativeArgumentException("config 'allow_fallback' must be true or false"),
                    };
                    break;
                case "backends":
                    if (p.Value.ValueKind != JsonValueKind.Array) throw new NativeArgumentException("config 'backends' must be an array of names");
                    backends = p.Value.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.String ? e.GetString()! : throw new NativeArgumentException("config 'backends' must hold strings")).ToArray();
                    break;
                case "connect_timeout_ms": connectMs = Int(p, 1, 600_000); break;
                case "max_batches_in_flight": inFlight = Int(p, 1, 4096); break;
                default: throw new NativeArgumentException($"config: unknown key '{p.Name}' (node_id, listen, secret_file, backend, allow_fallback, backends, connect_timeout_ms, max_batches_in_flight)");
            }
        }
        if (string.IsNullOrWhiteSpace(nodeId) || nodeId.Length > 256) throw new NativeArgumentException("config 'node_id' is required (1-256 characters)");
        return new TransferAgentOptions
        {
            NodeId = nodeId,
            Listen = listen,
            Backend = backend,
            AllowFallback = fallback,
            ClusterSecret = secretFile is null ? null : Secret(secretFile),
            Backends = backends is null ? null : Backends(backends),
            ConnectTimeout = TimeSpan.FromMilliseconds(connectMs),
            MaxBatchesInFlight = inFlight,
        };
    }

    /// <summary>"IPv4:port" or "[IPv6]:port"; host names are refused (nothing here resolves names a caller passes).</summary>
    public static IPEndPoint Endpoint(string text, string what) =>
        IPEndPoint.TryParse(text, out var endpoint) && text.Contains(':')
            ? endpoint
            : throw new NativeArgumentException($"{what} '{text}' is not IP:PORT");

    private static string Text(JsonProperty p) =>
        p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : throw new NativeArgumentException($"config '{p.Name}' must be a string");

    private static int Int(JsonProperty p, int min, int max) =>
        p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetInt32(out var v) && v >= min && v <= max
            ? v
            : throw new NativeArgumentException($"config '{p.Name}' must be an integer in [{min}, {max}]");

    private static List<ITransferBackend> Backends(string[] names)
    {
        if (names.Length == 0 || names.Distinct().Count() != names.Length) throw new NativeArgumentException("config 'backends' must name each backend once, at least one");
        return names.Select(ITransferBackend (n) => n switch
        {
            "shm" => new SharedMemoryBackend(),
            "tcp" => new TcpBackend(),
            "verbs" => new VerbsBackend(),
            _ => throw new NativeArgumentException($"config 'backends': unknown backend '{n}' (shm, tcp, verbs)"),
        }).ToList();
    }

    /// <summary>Same rules as the daemon's secret file: at least 16 bytes, not readable or writable by other users.</summary>
    private static byte[] Secret(string path)
    {
        if (!File.Exists(path)) throw new NativeArgumentException($"config 'secret_file' {path} does not exist");
        if ((File.GetUnixFileMode(path) & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
        {
            throw new NativeArgumentException($"config 'secret_file' {path} is readable or writable by other users: chmod 600 it");
        }
        var info = new FileInfo(path);
        if (info.Length is < 16 or > 4096) throw new NativeArgumentException($"config 'secret_file' {path} must hold 16-4096 bytes");
        return File.ReadAllBytes(path);
    }
}
