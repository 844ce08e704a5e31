using Microsoft.Extensions.Logging;
using PdRdma.Transport.Backends;
using System.Collections.Concurrent;
using System.Threading.Channels;

namespace PdRdma.Transport.Internal;

/// <summary>State one agent shares with its connections (both directions).</summary>
internal sealed class AgentCore
{
    public AgentCore(TransferAgentOptions options, IReadOnlyList<ITransferBackend> backends, ILogger logger)
    {
        Options = options;
        Backends = backends;
        Logger = logger;
    }

    public TransferAgentOptions Options { get; }
    public IReadOnlyList<ITransferBackend> Backends { get; }
    public ILogger Logger { get; }
    public ConcurrentDictionary<string, IMemoryRegion> Regions { get; } = new(StringComparer.Ordinal);

    /// <summary>KV layouts of the regions registered as pools (described to peers with the region).</summary>
    public ConcurrentDictionary<string, KvLayout> RegionLayouts { get; } = new(StringComparer.Ordinal);
    public Channel<TransferNotification> Notifications { get; } = Channel.CreateUnbounded<TransferNotification>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    public int ProtocolVersion => Options.ProtocolVersionOverride ?? Wire.WireFormat.ProtocolVersion;

    /// <summary>The backends this agent offers peers: only those usable here now (a verbs backend without a device is not offered).</summary>
    public string[] BackendNames => Backends.Where(b => b.IsAvailable(out _)).Select(b => b.Name).ToArray();

    public RegionDescriptor[] DescribeRegions() => Regions.Values.OrderBy(r => r.Id, StringComparer.Ordinal).Select(Describe).ToArray();

    public RegionDescriptor Describe(IMemoryRegion region)
    {
        var keys = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var backend in Backends)
        {
            if (backend.DescribeRegion(region) is { } blob) keys[backend.Name] = blob;
        }
        return new RegionDescriptor
        {
            NodeId = Options.NodeId,
            RegionId = region.Id,
            Length = region.Length,
            Kind = region.Kind,
            SharedPath = region.SharedPath,
            BackendKeys = keys.Count == 0 ? null : keys,
            Layout = RegionLayouts.GetValueOrDefault(region.Id),
        };
    }
}
