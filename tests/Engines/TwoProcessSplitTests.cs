using PdRdma.Engines.Generation;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;
using PdRdma.Transport;

namespace PdRdma.Tests.Engines;

/// <summary>Prefill in the test process, decode in a separate `pdrdma decode-worker` process; the KV is pushed layer by layer by TransferAgents.</summary>
[Collection(StoriesCollection.Name)]
public sealed class TwoProcessSplitTests(StoriesFixture f)
{
    [Theory]
    [InlineData(BackendChoice.Shm)]
    [InlineData(BackendChoice.Tcp)]
    public async Task TwoProcessSplitEqualsColocatedForTwentyTwoPromptsAndTheReference(BackendChoice backend)
    {
        await using var worker = await DecodeWorkerClient.StartAsync(PdRdma.Hosting.Processes.PdrdmaProgram.Cli.DllPath(),
            ["--model", TestModels.Stories260K, "--block-tokens", "16"], f.Prefill, backend, TimeSpan.FromMinutes(2));
        Assert.Equal(backend.ToString().ToLowerInvariant(), worker.Backend);

        var empty = f.Model.Tokenizer.Encode("");
        var reference = await worker.GenerateAsync("reference", new GenerationRequest(empty, 200, SamplingOptions.Greedy));
        Assert.Equal(File.ReadAllBytes(TestModels.ExpectedGreedy200), TextRenderer.Render(f.Model.Tokenizer, empty, reference.Generated));
        Assert.True(worker.LastTransferBytes > 0);

        var story = f.Model.Tokenizer.Encode(File.ReadAllText(TestModels.ExpectedGreedy200).TrimEnd('\n'));
        int[] lengths = [1, 2, 4, 9, 15, 16, 17, 24, 32, 33, 48, 63, 64, 65, 80, 111, 128, 140, 160, 181, 199, 200];
        foreach (var n in lengths)
        {
            var sampling = n % 3 == 0 ? new SamplingOptions(0.8f, 0.9f, (ulong)n) : SamplingOptions.Greedy;
            var request = new GenerationRequest(story[..n], 16, sampling);
            var split = await worker.GenerateAsync($"p{n}", request);
            Assert.Equal(f.Colocated.Generate(request).Generated, split.Generated);
        }
        Assert.Equal(f.PrefillPool.Layout.Blocks, f.PrefillPool.Allocator.FreeCount);
    }
}

/// <summary>A decode worker killed with SIGKILL: the next request fails with a typed error in bounded time, and the prefill pool gets its blocks back.</summary>
[Collection(StoriesCollection.Name)]
public sealed class DecodeWorkerLossTests(StoriesFixture f)
{
    [Fact]
    public async Task KilledWorkerGivesPeerLostQuicklyAndPrefillBlocksReturn()
    {
        await using var worker = await DecodeWorkerClient.StartAsync(PdRdma.Hosting.Processes.PdrdmaProgram.Cli.DllPath(),
            ["--model", TestModels.Stories260K], f.Prefill, BackendChoice.Auto, TimeSpan.FromSeconds(30));
        var request = new GenerationRequest(f.Model.Tokenizer.Encode("Once upon a time"), 10, SamplingOptions.Greedy);
        Assert.Equal(10, (await worker.GenerateAsync("before", request)).Generated.Count);

        using (var process = System.Diagnostics.Process.GetProcessById(worker.WorkerProcessId))
        {
            process.Kill();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        var e = await Assert.ThrowsAsync<TransferException>(() => worker.GenerateAsync("after", request).WaitAsync(TimeSpan.FromSeconds(60)));
        Assert.True(e.Code is TransferErrorCode.PeerLost or TransferErrorCode.Timeout, e.Message);
        Assert.Equal(f.PrefillPool.Layout.Blocks, f.PrefillPool.Allocator.FreeCount);
    }
}
