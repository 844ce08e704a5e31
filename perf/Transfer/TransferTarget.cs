using System.Net;
using PdRdma.Transport;

namespace PdRdma.Perf.Transfer;

/// <summary>
/// The target side of a transfer benchmark (the <c>bench-target</c> process): one registered region, a listening
/// agent, notifications drained. Prints <c>ready &lt;endpoint&gt;</c> once peers may connect and serves until cancelled.
/// </summary>
public static class TransferTarget
{
    public const string RegionId = "bench-dst";

    public static async Task RunAsync(IPEndPoint listen, string backend, long regionBytes, bool dataMac, TextWriter output, CancellationToken ct)
    {
        using var region = HostRegion.Create(RegionId, regionBytes);
        await using var agent = new TransferAgent(new TransferAgentOptions
        {
            NodeId = $"bench-target-{Environment.ProcessId}", Backend = BenchBackends.ToChoice(backend), Listen = listen,
            ClusterSecret = BenchSecret.FromEnvironment(), AuthenticateData = dataMac, Authorizer = new BenchGrant(region),
        });
        agent.RegisterRegion(region);
        await agent.StartAsync(ct);
        await output.WriteLineAsync($"ready {agent.LocalEndpoint}");
        await output.FlushAsync(ct);
        try
        {
            await foreach (var _ in agent.Notifications.ReadAllAsync(ct))
            {
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }
}
