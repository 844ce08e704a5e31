using System.Text;
using PdRdma.Engines.Generation;
using PdRdma.Engines.Kv;
using PdRdma.Engines.Loading;
using PdRdma.Engines.Model;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Tokenization;
using PdRdma.Transport;

namespace PdRdma.Tests.Engines;

public sealed class HuggingFaceLoaderTests : IDisposable
{
    private readonly string _dir = TestModels.NewTempDir();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float[][] Logits(LoadedModel m, int[] tokens)
    {
        using var pool = KvPool.Create(m.Config.KvLayout(16, 8), "test-hf-" + Guid.NewGuid().ToString("N")[..8]);
        var table = new BlockTable(16);
        table.EnsureCapacity(tokens.Length, pool.Allocator);
        using var logits = m.Model.Forward([new ForwardItem(tokens, 0, table)], pool, allPositions: true);
        return Enumerable.Range(0, tokens.Length).Select(t => logits[0, t].data<float>().ToArray()).ToArray();
    }

    [Fact]
    public void ExportedStoriesCheckpointMatchesTheLlama2cPath()
    {
        HfExport.Write(_dir, bf16: false);
        using var hf = ModelSource.Load(_dir);
        using var l2c = ModelSource.Load(TestModels.Stories260K);
        Assert.Equal(RopeStyle.RotateHalf, hf.Config.Rope);
        Assert.False(hf.Config.SharedClassifier);
        Assert.IsType<HfBpeTokenizer>(hf.Tokenizer);

        foreach (var text in new[] { "Once upon a time", "Zoo", "Lily and Tom went to the park. They saw a big dog!", "" })
        {
            Assert.Equal(l2c.Tokenizer.Encode(text), hf.Tokenizer.Encode(text));
        }
        Assert.Equal([1, 403, 407, 261, 378], hf.Tokenizer.Encode("Once upon a time"));

        var tokens = l2c.Tokenizer.Encode("Once upon a time, there was a little girl named Lily.");
        var a = Logits(l2c, tokens);
        var b = Logits(hf, tokens);
        for (int t = 0; t < tokens.Length; t++)
        {
            var diff = a[t].Zip(b[t], (x, y) => MathF.Abs(x - y)).Max();
            Assert.True(diff < 1e-4f, $"position {t}: {diff}");
        }

        using var pool = KvPool.Create(hf.Config.KvLayout(16, 40), "test-hf-gen-" + Guid.NewGuid().ToString("N")[..8]);
        var prompt = hf.Tokenizer.Encode("");
        var result = new LlamaEngine(hf, pool).Generate(new GenerationRequest(prompt, 200, SamplingOptions.Greedy));
        Assert.Equal(File.ReadAllBytes(TestModels.ExpectedGreedy200), TextRenderer.Render(hf.Tokenizer, prompt, result.Generated));
    }

    [Fact]
    public void BFloat16SafetensorsLoadAsBFloat16WithKnownValues()
    {
        HfExport.Write(_dir, bf16: true);
        var st = SafetensorsFile.Open(Path.Combine(_dir, "model.safetensors"));
        Assert.Equal("BF16", st.DType("model.norm.weight"));
        var exact = new float[64];
        Buffer.BlockCopy(File.ReadAllBytes(TestModels.Stories260K), 1_039_900, exact, 0, 256);
        var widened = st.ReadFloats("model.norm.weight", 64);
        for (int i = 0; i < 64; i++) Assert.True(MathF.Abs(exact[i] - widened[i]) <= MathF.Abs(exact[i]) / 128f, $"{exact[i]} vs {widened[i]}");

        using var hf = ModelSource.Load(_dir);
        Assert.Equal(KvDType.BFloat16, hf.Config.DType);
        using var pool = KvPool.Create(hf.Config.KvLayout(16, 8), "test-hf-bf16-" + Guid.NewGuid().ToString("N")[..8]);
        var result = new LlamaEngine(hf, pool).Generate(new GenerationRequest(hf.Tokenizer.Encode("Once upon a time"), 10, SamplingOptions.Greedy));
        Assert.Equal(10, result.Generated.Count);
        Assert.StartsWith(",", Encoding.UTF8.GetString(hf.Tokenizer.DecodePiece(378, result.Generated[0])));
    }

    [Fact]
    public void MissingTensorTruncationAndBadConfigNameFileAndField()
    {
        HfExport.Write(_dir, bf16: false, t => t.Remove("model.layers.3.mlp.up_proj.weight"));
        var e = Assert.Throws<ModelLoadException>(() => ModelSource.Load(_dir));
        Assert.EndsWith("model.safetensors", e.File);
        Assert.Equal("model.layers.3.mlp.up_proj.weight", e.Field);

        var st = Path.Combine(_dir, "model.safetensors");
        File.WriteAllBytes(st, File.ReadAllBytes(st)[..^100]);
        e = Assert.Throws<ModelLoadException>(() => ModelSource.Load(_dir));
        Assert.EndsWith(".data_offsets", e.Field);
        Assert.Contains("truncated", e.Message);

        var config = Path.Combine(_dir, "config.json");
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"hidden_size\"", "\"hidden_sizes\""));
        e = Assert.Throws<ModelLoadException>(() => ModelSource.Load(_dir));
        Assert.Equal(config, e.File);
        Assert.Equal("hidden_size", e.Field);

        File.WriteAllText(config, "{\"architectures\": [\"MistralForCausalLM\"]}");
        Assert.Equal("architectures", Assert.Throws<ModelLoadException>(() => ModelSource.Load(_dir)).Field);
    }

    [Fact]
    public void WrongShapeIsRefused()
    {
        HfExport.Write(_dir, bf16: false, t => t["model.norm.weight"] = ([32], new float[32]));
        var e = Assert.Throws<ModelLoadException>(() => ModelSource.Load(_dir));
        Assert.Equal("model.norm.weight.shape", e.Field);
    }
}
