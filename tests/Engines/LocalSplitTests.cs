using PdRdma.Engines.Generation;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Serving;
using PdRdma.Engines.Serving.Api;
using PdRdma.Engines.Serving.Models;
using PdRdma.Transport;

namespace PdRdma.Tests.Engines;

/// <summary>
/// The serving KV path without HTTP (what generate --split, engine-check and bench e2e run): a prefill and a decode engine,
/// each with a node's transfer machinery linked in, the KV pushed through the peer connection into the decode pool.
/// </summary>
[Collection(StoriesCollection.Name)]
public sealed class LocalSplitTests(StoriesFixture f)
{
    private static async Task<(List<int> Tokens, string Finish)> RunAsync(IAsyncEnumerable<EngineToken> steps)
    {
        var tokens = new List<int>();
        await foreach (var step in steps)
        {
            if (step.IsEnd) return (tokens, step.Finish!);
            tokens.Add(step.Token);
        }
        throw new InvalidOperationException("the generation ended without its end event");
    }

    [Theory]
    [InlineData("shm")]
    [InlineData("tcp")]
    public async Task SplitEqualsColocatedForTwentyTwoPromptsAndTheReference(string backend)
    {
        using var prefill = new LlamaServingModel(f.Model, "stories260K", ownsModel: false, 16, 80);
        using var decode = new LlamaServingModel(f.Model, "stories260K", ownsModel: false, 16, 97);
        await using var split = await LocalSplit.StartAsync(prefill, decode, backend, null, CancellationToken.None);

        var empty = f.Model.Tokenizer.Encode("");
        PrefillAnswer? pushed = null;
        var reference = await RunAsync(split.GenerateAsync(empty, GenerationSettings.Greedy(200), p => pushed = p));
        Assert.Equal(File.ReadAllBytes(TestModels.ExpectedGreedy200), TextRenderer.Render(f.Model.Tokenizer, empty, reference.Tokens));
        Assert.Equal(backend, pushed!.Backend);
        Assert.True(pushed.KvBytes > 0);

        var story = f.Model.Tokenizer.Encode(File.ReadAllText(TestModels.ExpectedGreedy200).TrimEnd('\n'));
        int[] lengths = [1, 2, 4, 9, 15, 16, 17, 24, 32, 33, 48, 63, 64, 65, 80, 111, 128, 140, 160, 181, 199, 200];
        foreach (var n in lengths)
        {
            var sampling = n % 3 == 0 ? new SamplingOptions(0.8f, 0.9f, (ulong)n) : SamplingOptions.Greedy;
            var request = new GenerationRequest(story[..n], 16, sampling);
            var (tokens, _) = await RunAsync(split.GenerateAsync(story[..n], new GenerationSettings(16, sampling)));
            Assert.Equal(f.Colocated.Generate(request).Generated, tokens);
        }
        Assert.Equal(prefill.Layout.Blocks, prefill.FreeBlocks);
        Assert.Equal(decode.Layout.Blocks, decode.FreeBlocks);
        Assert.Equal(0, split.Decode.Reservations);
    }

    [Fact]
    public async Task ConcurrentRequestsThroughTheSplitMatchColocatedAndReturnEveryBlock()
    {
        using var prefill = new LlamaServingModel(f.Model, "stories260K", ownsModel: false, 16, 80);
        using var decode = new LlamaServingModel(f.Model, "stories260K", ownsModel: false, 16, 97);
        await using var split = await LocalSplit.StartAsync(prefill, decode, "auto", null, CancellationToken.None);
        var story = f.Model.Tokenizer.Encode(File.ReadAllText(TestModels.ExpectedGreedy200).TrimEnd('\n'));
        var lengths = new[] { 3, 17, 40, 64, 90, 120 };
        var results = await Task.WhenAll(lengths.Select(n => RunAsync(split.GenerateAsync(story[..n], GenerationSettings.Greedy(20)))));
        for (var i = 0; i < lengths.Length; i++)
            Assert.Equal(f.Colocated.Generate(new GenerationRequest(story[..lengths[i]], 20, SamplingOptions.Greedy)).Generated, results[i].Tokens);
        Assert.Equal(prefill.Layout.Blocks, prefill.FreeBlocks);
        Assert.Equal(decode.Layout.Blocks, decode.FreeBlocks);
    }

    [Fact]
    public async Task APromptLongerThanTheContextIsRefusedAndHoldsNothing()
    {
        using var prefill = new LlamaServingModel(f.Model, "stories260K", ownsModel: false, 16, 80);
        using var decode = new LlamaServingModel(f.Model, "stories260K", ownsModel: false, 16, 97);
        await using var split = await LocalSplit.StartAsync(prefill, decode, "auto", null, CancellationToken.None);
        var tooLong = Enumerable.Repeat(5, f.Model.Config.MaxSeqLen + 1).ToArray();
        var e = await Assert.ThrowsAsync<ServingException>(() => RunAsync(split.GenerateAsync(tooLong, GenerationSettings.Greedy(4))));
        Assert.Equal("context_length_exceeded", e.ErrorCode);
        var outside = await Assert.ThrowsAsync<ServingException>(() => RunAsync(split.GenerateAsync([1, f.Model.Config.VocabSize + 3], GenerationSettings.Greedy(4))));
        Assert.Equal(400, outside.Status);
        Assert.Equal(prefill.Layout.Blocks, prefill.FreeBlocks);
        Assert.Equal(decode.Layout.Blocks, decode.FreeBlocks);
    }

    [Fact]
    public async Task IncompatibleLayoutsAreRefusedBeforeAnythingStarts()
    {
        using var prefill = new LlamaServingModel(f.Model, "stories260K", ownsModel: false, 16, 80);
        using var other = new ToyModel();
        var e = await Assert.ThrowsAnyAsync<Exception>(() => LocalSplit.StartAsync(prefill, other, "auto", null, CancellationToken.None));
        Assert.True(e is TransferException or ArgumentException, e.ToString());
    }
}
