using PdRdma.Engines.Generation;
using PdRdma.Engines.Sampling;

namespace PdRdma.Tests.Engines;

[Collection(StoriesCollection.Name)]
public sealed class GenerationTests(StoriesFixture f)
{
    private static readonly byte[] Expected = File.ReadAllBytes(TestModels.ExpectedGreedy200);

    private GenerationRequest Steps200(string prompt)
    {
        var tokens = f.Model.Tokenizer.Encode(prompt);
        return new GenerationRequest(tokens, GenerationRequest.MaxNewTokensForSteps(200, tokens.Length, f.Model.Config.MaxSeqLen), SamplingOptions.Greedy);
    }

    [Fact]
    public void GreedyTwoHundredStepsFromEmptyPromptPrintsTheReferenceColocated()
    {
        var request = Steps200("");
        var result = f.Colocated.Generate(request);
        Assert.Equal(Expected, TextRenderer.Render(f.Model.Tokenizer, request.PromptTokens, result.Generated));
    }

    [Fact]
    public void GreedyTwoHundredStepsFromEmptyPromptPrintsTheReferenceSplit()
    {
        var request = Steps200("");
        var result = f.Split.Generate("expected-200", request);
        Assert.Equal(Expected, TextRenderer.Render(f.Model.Tokenizer, request.PromptTokens, result.Generated));
        Assert.True(f.Split.LastTransferBytes > 0);
    }

    [Fact]
    public void SplitEqualsColocatedTokenForTokenForTwentyFourPromptsOfOneToTwoHundredTokens()
    {
        var story = f.Model.Tokenizer.Encode(System.Text.Encoding.UTF8.GetString(Expected).TrimEnd('\n'));
        Assert.True(story.Length >= 200, $"reference text has {story.Length} tokens");
        int[] lengths = [1, 2, 3, 5, 7, 8, 15, 16, 17, 31, 32, 33, 47, 64, 65, 90, 100, 127, 128, 129, 150, 170, 199, 200];
        foreach (var n in lengths)
        {
            var request = new GenerationRequest(story[..n], 20, SamplingOptions.Greedy);
            var colocated = f.Colocated.Generate(request);
            var split = f.Split.Generate($"prompt-{n}", request);
            Assert.True(colocated.Generated.Count > 0 || colocated.Reason == StopReason.StopToken);
            Assert.Equal(colocated.Generated, split.Generated);
            Assert.Equal(colocated.Reason, split.Reason);
        }
        Assert.Equal(f.PrefillPool.Layout.Blocks, f.PrefillPool.Allocator.FreeCount);
        Assert.Equal(f.DecodePool.Layout.Blocks, f.DecodePool.Allocator.FreeCount);
    }

    [Fact]
    public void SeededSamplingIsDeterministicAndSplitContinuesTheSameRandomStream()
    {
        var tokens = f.Model.Tokenizer.Encode("Once upon a time");
        var request = new GenerationRequest(tokens, 60, new SamplingOptions(0.9f, 0.9f, 1234));
        var first = f.Colocated.Generate(request);
        var again = f.Colocated.Generate(request);
        var split = f.Split.Generate("seeded", request);
        var other = f.Colocated.Generate(request with { Sampling = new SamplingOptions(0.9f, 0.9f, 99) });
        Assert.Equal(first.Generated, again.Generated);
        Assert.Equal(first.Generated, split.Generated);
        Assert.NotEqual(first.Generated, other.Generated);

        var plain = new GenerationRequest(tokens, 60, new SamplingOptions(1.0f, 1.0f, 7));
        Assert.Equal(f.Colocated.Generate(plain).Generated, f.Split.Generate("seeded-plain", plain).Generated);
    }

    [Fact]
    public void BatchedDecodeOfDifferentLengthsEqualsOneAtATime()
    {
        string[] prompts = ["", "Once upon a time", "The cat sat on the mat and looked at the big red ball", "Lily"];
        var requests = prompts.Select(p => new GenerationRequest(f.Model.Tokenizer.Encode(p), 40, SamplingOptions.Greedy)).ToList();
        var batched = f.Colocated.GenerateBatch(requests);
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Equal(f.Colocated.Generate(requests[i]).Generated, batched[i].Generated);
        }
    }

    [Fact]
    public void SplitBatchResumeEqualsColocated()
    {
        string[] prompts = ["Tom", "Once upon a time there was a dog", "The sun"];
        var requests = prompts.Select(p => new GenerationRequest(f.Model.Tokenizer.Encode(p), 30, SamplingOptions.Greedy)).ToList();
        var items = new List<(PdRdma.Engines.Split.KvLease, PdRdma.Engines.Split.PrefillResult, int, SamplingOptions)>();
        for (int i = 0; i < requests.Count; i++)
        {
            var lease = f.Decode.Reserve($"batch-{i}", requests[i].PromptTokens.Count);
            var pre = f.Prefill.Prefill(requests[i].PromptTokens, requests[i].Sampling, (layer, blocks) =>
            {
                foreach (var c in PdRdma.Engines.Split.KvHandoff.LayerCopies(f.PrefillPool.Layout, blocks, f.DecodePool.Layout, lease.BlockIds, layer))
                    f.PrefillPool.Region.AsSpan(c.SourceOffset, (int)c.Length).CopyTo(f.DecodePool.Region.AsSpan(c.TargetOffset, (int)c.Length));
            });
            f.Prefill.Release(pre);
            items.Add((lease, pre, requests[i].MaxNewTokens, requests[i].Sampling));
        }
        var resumed = f.Decode.ResumeBatch(items);
        for (int i = 0; i < requests.Count; i++) Assert.Equal(f.Colocated.Generate(requests[i]).Generated, resumed[i].Generated);
    }
}
