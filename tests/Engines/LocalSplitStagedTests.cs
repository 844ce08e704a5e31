using PdRdma.Engines.Generation;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Serving;
using PdRdma.Engines.Serving.Api;
using PdRdma.Engines.Serving.Models;

namespace PdRdma.Tests.Engines;

/// <summary>
/// The one-GPU split's path (generate --split / engine-check --split on cuda) on the CPU: both pools handed over through
/// host mirrors (KvStaging, as a cuda pool is), the KV pushed by the transfer library from the prefill's mirror into the
/// decode's mirror and staged into its pool.
/// </summary>
[Collection(StoriesCollection.Name)]
public sealed class LocalSplitStagedTests(StoriesFixture f)
{
    private static async Task<List<int>> TokensAsync(IAsyncEnumerable<EngineToken> steps)
    {
        var tokens = new List<int>();
        await foreach (var step in steps)
        {
            if (step.IsEnd) return tokens;
            tokens.Add(step.Token);
        }
        throw new InvalidOperationException("the generation ended without its end event");
    }

    [Fact]
    public async Task StagedSplitPrintsTheReferenceAndMatchesColocatedUnderConcurrency()
    {
        using var prefill = new LlamaServingModel(f.Model, "stories260K", ownsModel: false, 16, 80);
        using var decode = new LlamaServingModel(f.Model, "stories260K", ownsModel: false, 16, 97);
        await using var split = await LocalSplit.StartAsync(prefill, decode, "shm", stageKv: true, null, CancellationToken.None);
        Assert.True(split.Staged);

        var empty = f.Model.Tokenizer.Encode("");
        PrefillAnswer? pushed = null;
        var reference = await TokensAsync(split.GenerateAsync(empty, GenerationSettings.Greedy(200), p => pushed = p));
        Assert.Equal(File.ReadAllBytes(TestModels.ExpectedGreedy200), TextRenderer.Render(f.Model.Tokenizer, empty, reference));
        Assert.Equal("shm", pushed!.Backend);

        var story = f.Model.Tokenizer.Encode(File.ReadAllText(TestModels.ExpectedGreedy200).TrimEnd('\n'));
        var lengths = new[] { 1, 16, 17, 40, 90, 140 };
        var results = await Task.WhenAll(lengths.Select(n => TokensAsync(split.GenerateAsync(story[..n], GenerationSettings.Greedy(16)))));
        for (var i = 0; i < lengths.Length; i++)
            Assert.Equal(f.Colocated.Generate(new GenerationRequest(story[..lengths[i]], 16, SamplingOptions.Greedy)).Generated, results[i]);
        Assert.Equal(prefill.Layout.Blocks, prefill.FreeBlocks);
        Assert.Equal(decode.Layout.Blocks, decode.FreeBlocks);
    }

    [Fact]
    public async Task UnstagedHostPoolsAreNotStaged()
    {
        using var prefill = new LlamaServingModel(f.Model, "stories260K", ownsModel: false, 16, 40);
        using var decode = new LlamaServingModel(f.Model, "stories260K", ownsModel: false, 16, 40);
        await using var split = await LocalSplit.StartAsync(prefill, decode, "shm", null, CancellationToken.None);
        Assert.False(split.Staged);
    }
}
