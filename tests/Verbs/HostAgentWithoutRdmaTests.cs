using PdRdma.Tests.Transport.Support;
using PdRdma.Transport;

namespace PdRdma.Tests.Verbs;

/// <summary>A TransferAgent asked for verbs on a host without an RDMA device says why and how to fix it, or falls back when allowed.</summary>
[Trait("Category", "Verbs")]
public sealed class HostAgentWithoutRdmaTests
{
    [NoRdmaDeviceFact]
    public async Task Host_AgentForcedToVerbsWithoutDevice_FailsNamingTheFix()
    {
        await using var pair = await AgentPair.StartAsync(initiator: o => new TransferAgentOptions { NodeId = o.NodeId, Backend = BackendChoice.Verbs });
        var ex = await Assert.ThrowsAsync<TransferException>(() => pair.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("verbs", ex.Message);
        Assert.Contains("rdma link add rxe0 type rxe netdev", ex.Message);
    }

    [NoRdmaDeviceFact]
    public async Task Host_AgentForcedToVerbsWithFallback_UsesTcpAndSaysWhy()
    {
        await using var pair = await AgentPair.StartAsync(initiator: o => new TransferAgentOptions
        {
            NodeId = o.NodeId, HostId = "pdv-another-host", Backend = BackendChoice.Verbs, AllowFallback = true,
        });
        await using var connection = await pair.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("tcp", connection.Backend);
        Assert.Contains("'verbs' unusable", connection.BackendReason);
        Assert.Contains("no RDMA device", connection.BackendReason);
        await connection.WriteAsync(new WriteBatch([new WriteOp("src", 0, "kv", 0, 1 << 20)], null), CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(TestBytes.Hash(pair.SourceRegion, 0, 1 << 20), TestBytes.Hash(pair.TargetRegion, 0, 1 << 20));
    }
}
