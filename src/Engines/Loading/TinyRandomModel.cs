using System.Globalization;
using PdRdma.Engines.Model;
using PdRdma.Engines.Sampling;
using PdRdma.Engines.Tokenization;
using PdRdma.Transport;
using TorchSharp;

namespace PdRdma.Engines.Loading;

/// <summary>
/// The built-in model that needs no files: a Llama with weights drawn from a seeded xorshift stream (the same on
/// every machine) and the byte tokenizer. Spec: "tiny-random" or "tiny-random:dim=256,layers=8,heads=8,kv_heads=4,
/// hidden=688,vocab=259,seq=1024,seed=7,dtype=bf16".
/// </summary>
public static class TinyRandomModel
{
    public const string Name = "tiny-random";

    public static bool Matches(string spec) => spec == Name || spec.StartsWith(Name + ":", StringComparison.Ordinal);

    public static (LlamaConfig Config, ulong Seed) Parse(string spec, KvDType? dtypeOverride = null)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        if (spec.Length > Name.Length)
        {
            foreach (var kv in spec[(Name.Length + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var parts = kv.Split('=', 2);
                if (parts.Length != 2) throw new ModelLoadException(spec, kv, "expected key=value");
                values[parts[0]] = parts[1];
            }
        }
        var known = new HashSet<string> { "dim", "layers", "heads", "kv_heads", "hidden", "vocab", "seq", "seed", "dtype", "rope" };
        foreach (var k in values.Keys)
        {
            if (!known.Contains(k)) throw new ModelLoadException(spec, k, $"unknown key (known: {string.Join(", ", known)})");
        }
        int Int(string key, int fallback)
        {
            if (!values.TryGetValue(key, out var s)) return fallback;
            return int.TryParse(s, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : throw new ModelLoadException(spec, key, $"'{s}' is not a positive integer");
        }
        var dtype = dtypeOverride ?? (values.TryGetValue("dtype", out var dt) ? dt switch
        {
            "f32" or "float32" => KvDType.Float32,
            "bf16" or "bfloat16" => KvDType.BFloat16,
            _ => throw new ModelLoadException(spec, "dtype", $"'{dt}' is not f32 or bf16"),
        } : KvDType.Float32);
        var rope = values.TryGetValue("rope", out var r) && r == "half" ? RopeStyle.RotateHalf : RopeStyle.AdjacentPairs;
        var config = new LlamaConfig
        {
            Dim = Int("dim", 64),
            HiddenDim = Int("hidden", 172),
            Layers = Int("layers", 4),
            Heads = Int("heads", 8),
            KvHeads = Int("kv_heads", 4),
            VocabSize = Math.Max(Int("vocab", 259), 259),
            MaxSeqLen = Int("seq", 512),
            Rope = rope,
            DType = dtype,
        };
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ModelLoadException(spec, "config", e.Message, e);
        }
        return (config, (ulong)Int("seed", 42));
    }

    public static LoadedModel Create(string spec, ModelLoadOptions options)
    {
        var (config, seed) = Parse(spec, options.DType);
        var rng = new XorShiftRng(seed * 2654435761UL + 1);
        float[] Uniform(long count, int fanIn)
        {
            float a = 1f / MathF.Sqrt(fanIn);
            var data = new float[count];
            for (long i = 0; i < count; i++) data[i] = (rng.NextFloat() * 2f - 1f) * a;
            return data;
        }
        float[] Ones(int n) => Enumerable.Repeat(1f, n).ToArray();

        var device = options.Device.ToTorch();
        int d = config.Dim, hd = config.EffectiveHeadDim, qd = config.Heads * hd, kvd = config.KvHeads * hd, h = config.HiddenDim;
        using var builder = new WeightBuilder(config.DType, device);
        var embedding = builder.Make(Uniform((long)config.VocabSize * d, 1), config.VocabSize, d);
        var layers = new List<LayerWeights>();
        for (int l = 0; l < config.Layers; l++)
        {
            layers.Add(new LayerWeights
            {
                AttentionNorm = builder.Make(Ones(d), d),
                Wq = builder.Make(Uniform((long)qd * d, d), qd, d),
                Wk = builder.Make(Uniform((long)kvd * d, d), kvd, d),
                Wv = builder.Make(Uniform((long)kvd * d, d), kvd, d),
                Wo = builder.Make(Uniform((long)d * qd, qd), d, qd),
                FfnNorm = builder.Make(Ones(d), d),
                W1 = builder.Make(Uniform((long)h * d, d), h, d),
                W2 = builder.Make(Uniform((long)d * h, h), d, h),
                W3 = builder.Make(Uniform((long)h * d, d), h, d),
            });
        }
        var finalNorm = builder.Make(Ones(d), d);
        var weights = builder.Finish(embedding, layers, finalNorm, embedding);
        return new LoadedModel(spec, new LlamaModel(config, weights, device), new ByteTokenizer(config.VocabSize));
    }
}
