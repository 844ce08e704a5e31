using PdRdma.Engines.Sampling;

namespace PdRdma.Tests.Engines;

public sealed class SamplerTests
{
    [Fact]
    public void XorShiftMatchesLlama2cStream()
    {
        // Values from an independent Python implementation of run.c's random_u32 with state 42.
        var rng = new XorShiftRng(42);
        Assert.Equal([1456360119u, 3359763283u, 3393612768u, 4054632243u, 3283045847u], Enumerable.Range(0, 5).Select(_ => rng.NextUInt32()).ToArray());
        Assert.Equal(6045135835962859838UL, rng.State);
        Assert.Equal(0.3390852212905884f, new XorShiftRng(42).NextFloat());
    }

    [Fact]
    public void GreedyTakesTheLowestIndexOnTies()
    {
        var sampler = new Sampler(SamplingOptions.Greedy);
        Assert.Equal(1, sampler.Sample([0f, 3f, 3f, -1f]));
    }

    [Fact]
    public void MultinomialAndTopPFollowTheCoin()
    {
        // Uniform over 4; the first coin of seed 42 is 0.339 → index 1 in both paths.
        Assert.Equal(1, new Sampler(new SamplingOptions(1f, 1f, 42)).Sample([0f, 0f, 0f, 0f]));
        Assert.Equal(1, new Sampler(new SamplingOptions(1f, 0.9f, 42)).Sample([0f, 0f, 0f, 0f]));
        // Top-p keeps the most likely tokens first: with one dominant token, r = coin * cum lands on it.
        Assert.Equal(2, new Sampler(new SamplingOptions(1f, 0.5f, 42)).Sample([0f, 0f, 10f, 0f]));
    }

    [Fact]
    public void SameSeedSameDrawsAndStateCarriesOver()
    {
        float[] Logits() => Enumerable.Range(0, 50).Select(i => MathF.Sin(i)).ToArray();
        var a = new Sampler(new SamplingOptions(0.8f, 0.9f, 5));
        var b = new Sampler(new SamplingOptions(0.8f, 0.9f, 5));
        var drawsA = Enumerable.Range(0, 20).Select(_ => a.Sample(Logits())).ToArray();
        var drawsB = Enumerable.Range(0, 10).Select(_ => b.Sample(Logits())).ToList();
        var resumed = new Sampler(new SamplingOptions(0.8f, 0.9f, 5), b.RngState);
        drawsB.AddRange(Enumerable.Range(0, 10).Select(_ => resumed.Sample(Logits())));
        Assert.Equal(drawsA, drawsB);
        Assert.True(drawsA.Distinct().Count() > 1);
    }
}
