using PdRdma.Engines.Generation;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Split;

namespace PdRdma.Tests.Engines;

[Collection(StoriesCollection.Name)]
public sealed class ContinuousBatcherTests(StoriesFixture f)
{
    [Fact]
    public async Task ConcurrentRequestsEqualOneAtATime()
    {
        var prompts = Enumerable.Range(0, 12).Select(i => string.Join(' ', Enumerable.Repeat("Once upon a time", i % 4)) + (i % 3 == 0 ? " Lily" : " a dog")).ToList();
        var requests = prompts.Select((p, i) => new GenerationRequest(f.Model.Tokenizer.Encode(p), 15 + i, i % 2 == 0 ? SamplingOptions.Greedy : new SamplingOptions(0.8f, 0.9f, (ulong)i))).ToList();
        var expected = requests.Select(r => f.Colocated.Generate(r).Generated).ToList();

        await using var batcher = new ContinuousBatcher(f.Colocated, maxBatch: 5);
        var streamed = requests.Select(_ => new List<int>()).ToList();
        var tasks = requests.Select((r, i) => Task.Run(() => batcher.GenerateAsync(r, t => streamed[i].Add(t)))).ToList();
        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(2));
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Equal(expected[i], results[i].Generated);
            Assert.Equal(expected[i], streamed[i]);
        }
        Assert.Equal(f.ColocatedPool.Layout.Blocks, f.ColocatedPool.Allocator.FreeCount);
    }

    [Fact]
    public async Task PromptsAdmittedTogetherArePrefilledTogetherAndABadOneFailsAlone()
    {
        // Enqueued before the batcher thread looks: admitted in one pass, prefilled in one forward pass (ragged, masked).
        var prompts = new[] { "Once", "Once upon a time there was a", "The dog", "Lily and Ben went to the park to play" };
        var requests = prompts.Select(p => new GenerationRequest(f.Model.Tokenizer.Encode(p), 12, SamplingOptions.Greedy)).ToList();
        var expected = requests.Select(r => f.Colocated.Generate(r).Generated).ToList();
        await using var batcher = new ContinuousBatcher(f.Colocated, maxBatch: 8);
        var tasks = requests.Select(r => batcher.GenerateAsync(r)).ToList();
        var empty = batcher.GenerateAsync(new GenerationRequest([], 4, SamplingOptions.Greedy));
        var tooLong = batcher.GenerateAsync(new GenerationRequest(Enumerable.Repeat(5, f.Model.Config.MaxSeqLen + 1).ToArray(), 4, SamplingOptions.Greedy));
        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromMinutes(2));
        for (int i = 0; i < requests.Count; i++) Assert.Equal(expected[i], results[i].Generated);
        await Assert.ThrowsAnyAsync<Exception>(() => empty.WaitAsync(TimeSpan.FromMinutes(1)));
        await Assert.ThrowsAnyAsync<Exception>(() => tooLong.WaitAsync(TimeSpan.FromMinutes(1)));
        for (int i = 0; i < 100 && batcher.ActiveCount > 0; i++) await Task.Delay(10);
        Assert.Equal(f.ColocatedPool.Layout.Blocks, f.ColocatedPool.Allocator.FreeCount);
    }

    [Fact]
    public async Task CancelledRequestReturnsItsBlocksAndOthersFinish()
    {
        await using var batcher = new ContinuousBatcher(f.Colocated);
        using var cts = new CancellationTokenSource();
        var request = new GenerationRequest(f.Model.Tokenizer.Encode("Once"), 400, SamplingOptions.Greedy);
        var cancelled = batcher.GenerateAsync(request, t => { if (t > 0) cts.Cancel(); }, cts.Token);
        var other = batcher.GenerateAsync(new GenerationRequest(f.Model.Tokenizer.Encode("Zoo"), 10, SamplingOptions.Greedy));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.WaitAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(10, (await other.WaitAsync(TimeSpan.FromMinutes(1))).Generated.Count);
        for (int i = 0; i < 100 && batcher.ActiveCount > 0; i++) await Task.Delay(10);
        Assert.Equal(f.ColocatedPool.Layout.Blocks, f.ColocatedPool.Allocator.FreeCount);
    }

    [Fact]
    public async Task DecodeSideResumeThroughTheBatcherEqualsColocated()
    {
        await using var batcher = new ContinuousBatcher(f.Decode.Engine);
        var prompts = new[] { "Tom had a ball", "The bird", "Once upon a time there was a big tree" };
        var tasks = new List<(Task<GenerationResult> Task, GenerationRequest Request)>();
        foreach (var p in prompts)
        {
            var request = new GenerationRequest(f.Model.Tokenizer.Encode(p), 25, SamplingOptions.Greedy);
            var lease = f.Decode.Reserve("batcher-" + p, request.PromptTokens.Count);
            var pre = f.Prefill.Prefill(request.PromptTokens, request.Sampling, (layer, blocks) =>
            {
                foreach (var c in KvHandoff.LayerCopies(f.PrefillPool.Layout, blocks, f.DecodePool.Layout, lease.BlockIds, layer))
                    f.PrefillPool.Region.AsSpan(c.SourceOffset, (int)c.Length).CopyTo(f.DecodePool.Region.AsSpan(c.TargetOffset, (int)c.Length));
            });
            f.Prefill.Release(pre);
            tasks.Add((batcher.ResumeAsync(f.Decode, lease, pre, request.MaxNewTokens, request.Sampling), request));
        }
        foreach (var (task, request) in tasks)
        {
            Assert.Equal(f.Colocated.Generate(request).Generated, (await task.WaitAsync(TimeSpan.FromMinutes(1))).Generated);
        }
    }
}
