using PdRdma.Perf.E2e;
using PdRdma.Perf.Results;
using PdRdma.Tests.Engines;

namespace PdRdma.Tests.Perf;

/// <summary>
/// `bench e2e` on stories260K, small: the disaggregated requests go through the serving KV path (two nodes' transfer
/// machinery, shm and tcp), produce the colocated tokens, and every point is filled. Numbers are not judged here.
/// </summary>
public sealed class E2eBenchmarkTests
{
    [Fact]
    public async Task EndToEndRunsThroughTheServingPathAndMatchesColocated()
    {
        var options = new E2eOptions { PromptLengths = [16, 64], Backends = ["shm", "tcp"], MaxTokens = 8, Models = [TestModels.Stories260K], ThroughputRequests = 3 };
        await using var harness = await EngineE2eHarness.CreateAsync(TestModels.Stories260K, options, CancellationToken.None);
        foreach (var backend in options.Backends)
        {
            foreach (var overlap in new[] { true, false })
            {
                var (colocated, split) = await harness.BothWaysAsync(40, 12, backend, overlap, CancellationToken.None);
                Assert.Equal(12, colocated.Count);
                Assert.Equal(colocated, split);
            }
        }

        var run = new BenchRun { StartedAt = DateTimeOffset.UtcNow, Machine = MachineInfo.Current() };
        await new E2eBenchmark(options, null).RunAsync(run, [harness], null, CancellationToken.None);
        Assert.Empty(run.Notes);
        Assert.Equal(2 * 2 * 2, run.E2e.Count);
        foreach (var point in run.E2e)
        {
            Assert.Contains(point.Backend, options.Backends);
            Assert.True(point.KvBytes > 0 && point.TtftMsDisagg > 0 && point.TtftMsColocated > 0 && double.IsFinite(point.TpotMsDisagg), point.ToString());
        }
        var throughput = Assert.Single(run.Throughput);
        Assert.True(throughput.ColocatedRps > 0 && throughput.DisaggRps > 0);
    }
}
