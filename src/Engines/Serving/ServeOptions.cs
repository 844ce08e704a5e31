namespace PdRdma.Engines.Serving;

/// <summary>Settings of one serving instance (`pdrdma serve`).</summary>
public sealed class ServeOptions
{
    /// <summary>prefill | decode | colocated.</summary>
    public string Role { get; set; } = "colocated";
    public string Model { get; set; } = ModelCatalog.Default;

    /// <summary>Where the model and its KV pool live (--device cpu|cuda[:N]).</summary>
    public EngineDevice Device { get; set; } = EngineDevice.Cpu;
    public string Host { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 46200;

    /// <summary>The node daemon's socket; null links the transfer machinery into this process.</summary>
    public string? Daemon { get; set; }

    /// <summary>In-process mode: node id, peer listener, advertised address and cluster secret file.</summary>
    public string? NodeId { get; set; }
    public string PeerListen { get; set; } = "127.0.0.1:0";
    public string? Advertise { get; set; }
    public string? SecretFile { get; set; }

    /// <summary>How long a reserved lease waits for its KV.</summary>
    public double LeaseTtlSeconds { get; set; } = 30;

    /// <summary>Bounds on the work of one request and on the decode batch and its queue.</summary>
    public ServingLimits Limits { get; set; } = ServingLimits.Default;

    /// <summary>
    /// Hand the KV over through a host mirror of the pool even when the pool is host memory (a cuda pool always is):
    /// the GPU split's staged path exercised and compared on a machine without a GPU.
    /// </summary>
    public bool StageKv { get; set; }

    /// <summary>Test hook: pause after each prefill layer, so that faults can be injected mid-transfer.</summary>
    public int LayerDelayMs { get; set; }

    /// <summary>The cluster directory: when enabled the instance registers there (role, model, URL, load) for proxies to find.</summary>
    public Daemon.Discovery.EtcdOptions Etcd { get; set; } = new();

    /// <summary>URL proxies use to reach this instance, when it differs from http://Host:Port (e.g. Host is 0.0.0.0).</summary>
    public string? AdvertiseUrl { get; set; }
}
