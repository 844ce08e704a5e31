namespace PdRdma.Engines.Serving.Routing;

/// <summary>
/// Where the proxy finds prefill and decode instances: a static list (<see cref="StaticUpstreams"/>) or the
/// cluster directory in etcd (<see cref="EtcdUpstreams"/>). The proxy asks for one instance per request and
/// never holds on to the lists. Thread-safe.
/// </summary>
public interface IUpstreamDirectory : IAsyncDisposable
{
    IReadOnlyList<Upstream> Prefill { get; }

    IReadOnlyList<Upstream> Decode { get; }

    /// <summary>For logs: where instances come from.</summary>
    string Describe { get; }

    /// <summary>For /health: "static", "watching", or why the list is the last known one.</summary>
    string State { get; }

    /// <summary>The prefill instance for a new request; ServingException 503 when there is none.</summary>
    Upstream PickPrefill() => UpstreamPicker.PickPrefill(Prefill);

    /// <summary>The decode instance for a new request; ServingException 503 when there is none.</summary>
    Upstream PickDecode() => UpstreamPicker.PickDecode(Decode);
}
