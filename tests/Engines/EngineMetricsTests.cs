using System.Diagnostics.Metrics;
using PdRdma.Engines;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Sampling;

namespace PdRdma.Tests.Engines;

public sealed class EngineMetricsTests
{
    [Fact]
    public void TokensForwardPassesAndFreeBlocksAreMeasured()
    {
        using var model = ModelSource.Load("tiny-random");
        var name = "test-metrics-" + Guid.NewGuid().ToString("N")[..8];
        using var pool = KvPool.Create(model.Config.KvLayout(8, 12), name);
        long generated = 0, prefill = 0, forwards = 0;
        int? freeBlocks = null;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == EngineMetrics.MeterName) l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "pdrdma_engine_generated_tokens") Interlocked.Add(ref generated, value);
            if (instrument.Name == "pdrdma_engine_prefill_tokens") Interlocked.Add(ref prefill, value);
        });
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) =>
        {
            if (instrument.Name == "pdrdma_engine_forward_seconds") Interlocked.Increment(ref forwards);
        });
        listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
        {
            if (instrument.Name == "pdrdma_engine_kv_free_blocks" && tags.ToArray().Any(t => t.Key == "pool" && (string?)t.Value == name)) freeBlocks = value;
        });
        listener.Start();

        var prompt = model.Tokenizer.Encode("abc");
        var result = new LlamaEngine(model, pool).Generate(new GenerationRequest(prompt, 5, SamplingOptions.Greedy));
        listener.RecordObservableInstruments();

        Assert.True(generated >= result.Generated.Count, $"generated {generated}");
        Assert.True(prefill >= prompt.Length);
        Assert.True(forwards >= result.Generated.Count);
        Assert.Equal(12, freeBlocks);
    }
}
