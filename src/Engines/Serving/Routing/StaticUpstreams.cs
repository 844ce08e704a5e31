namespace PdRdma.Engines.Serving.Routing;

/// <summary>Instances given on the command line (--prefill URL[,URL] --decode URL[,URL]): small setups and tests.</summary>
public sealed class StaticUpstreams : IUpstreamDirectory
{
    public StaticUpstreams(IReadOnlyList<string> prefill, IReadOnlyList<string> decode)
    {
        if (prefill.Count == 0 || decode.Count == 0)
            throw new ArgumentException("the proxy needs at least one --prefill URL and one --decode URL, or --etcd URL to find them");
        Prefill = prefill.Select(u => new Upstream(u)).ToArray();
        Decode = decode.Select(u => new Upstream(u)).ToArray();
    }

    public IReadOnlyList<Upstream> Prefill { get; }

    public IReadOnlyList<Upstream> Decode { get; }

    public string Describe => $"prefill {string.Join(",", Prefill.Select(u => u.Url))}, decode {string.Join(",", Decode.Select(u => u.Url))}";

    public string State => "static";

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
