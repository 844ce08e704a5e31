using PdRdma.Engines.Generation;
using PdRdma.Engines.Sampling;
using PdRdma.Transport;

namespace PdRdma.Tests.Engines;

/// <summary>
/// The batcher admits a request only when the pool has the blocks for its whole generation; otherwise it waits in a
/// bounded queue, and past the bound or the deadline it fails with PoolFull (HTTP 503 in serving).
/// </summary>
[Collection(StoriesCollection.Name)]
public sealed class BatcherAdmissionTests(StoriesFixture f)
{
    private GenerationRequest Request(string prompt, int maxNew) => new(f.Model.Tokenizer.Encode(prompt), maxNew, SamplingOptions.Greedy);

    [Fact]
    public async Task MoreDemandThanThePoolWaitsInsteadOfFailingAndEqualsOneAtATime()
    {
        // 80 blocks of 16 positions; each request takes up to 32 blocks (the whole context): at most two fit at once.
        var requests = Enumerable.Range(0, 5).Select(i => Request(i % 2 == 0 ? "Once upon a time" : "Tom", 500)).ToList();
        var expected = requests.Select(r => f.Colocated.Generate(r).Generated).ToList();
        await using var batcher = new ContinuousBatcher(f.Colocated, maxBatch: 8);
        var results = await Task.WhenAll(requests.Select(r => batcher.GenerateAsync(r))).WaitAsync(TimeSpan.FromMinutes(3));
        for (int i = 0; i < requests.Count; i++) Assert.Equal(expected[i], results[i].Generated);
        Assert.Equal(f.ColocatedPool.Layout.Blocks, f.ColocatedPool.Allocator.FreeCount);
    }

    [Fact]
    public async Task BeyondTheQueueBoundRequestsFailAtOnceWithPoolFull()
    {
        await using var batcher = new ContinuousBatcher(f.Colocated, maxBatch: 1, maxQueue: 2);
        using var hold = new CancellationTokenSource();
        var tasks = Enumerable.Range(0, 6).Select(_ => batcher.GenerateAsync(Request("Once upon a time", 400), null, hold.Token)).ToList();
        var refused = tasks.Where(t => t.IsFaulted).ToList();
        Assert.NotEmpty(refused);
        Assert.All(refused, t => Assert.Equal(TransferErrorCode.PoolFull, Assert.IsType<TransferException>(t.Exception!.InnerException).Code));
        hold.Cancel();
        await Task.WhenAll(tasks).ContinueWith(_ => { }, TaskScheduler.Default);
        for (int i = 0; i < 200 && (batcher.ActiveCount > 0 || f.ColocatedPool.Allocator.FreeCount != f.ColocatedPool.Layout.Blocks); i++) await Task.Delay(10);
        Assert.Equal(f.ColocatedPool.Layout.Blocks, f.ColocatedPool.Allocator.FreeCount);
    }

    [Fact]
    public async Task AWaitPastTheDeadlineFailsWithPoolFullEvenWhileTheBatchIsFull()
    {
        await using var batcher = new ContinuousBatcher(f.Colocated, maxBatch: 1, queueTimeout: TimeSpan.FromMilliseconds(20));
        // The first request holds the only batch slot for at least 3 × 30 ms (its tokens stall the batcher thread).
        var first = batcher.GenerateAsync(Request("Once upon a time", 3), _ => Thread.Sleep(30));
        var late = batcher.GenerateAsync(Request("Lily", 5));
        await Task.WhenAll(first, late).ContinueWith(_ => { }, TaskScheduler.Default);
        Assert.True(first.IsCompletedSuccessfully);
        Assert.Equal(TransferErrorCode.PoolFull, Assert.IsType<TransferException>(late.Exception!.InnerException).Code);
        for (int i = 0; i < 200 && batcher.ActiveCount > 0; i++) await Task.Delay(10);
        Assert.Equal(f.ColocatedPool.Layout.Blocks, f.ColocatedPool.Allocator.FreeCount);
    }
}
