using System.Text.Json;
using PdRdma.Engines.Model;
using PdRdma.Engines.Tokenization;
using PdRdma.Transport;
using TorchSharp;

namespace PdRdma.Engines.Loading;

/// <summary>
/// A Hugging Face LlamaForCausalLM folder: config.json, model.safetensors (one file) and tokenizer.json.
/// Rotary embeddings use the rotate-half convention of HF checkpoints.
/// </summary>
public static class HuggingFaceCheckpoint
{
    public static bool LooksLikeOne(string folder) => Directory.Exists(folder) && File.Exists(Path.Combine(folder, "config.json"));

    public static LlamaConfig ReadConfig(string folder, KvDType? dtypeOverride = null)
    {
        var path = Path.Combine(folder, "config.json");
        using (var doc = ModelJsonFile.Open(path, "config.json not found"))
        {
            var root = doc.RootElement;
            if (root.TryGetProperty("architectures", out var arch) && arch.ValueKind == JsonValueKind.Array
                && !arch.EnumerateArray().Any(a => a.GetString() == "LlamaForCausalLM"))
            {
                throw new ModelLoadException(path, "architectures", $"{arch.GetRawText()} is not supported (LlamaForCausalLM)");
            }
            if (root.TryGetProperty("rope_scaling", out var scaling) && scaling.ValueKind != JsonValueKind.Null)
            {
                throw new ModelLoadException(path, "rope_scaling", "RoPE scaling is not supported");
            }
            int Int(string field, int? fallback = null)
            {
                if (root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number) return v.GetInt32();
                return fallback ?? throw new ModelLoadException(path, field, "missing");
            }
            float Float(string field, float fallback) =>
                root.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetSingle() : fallback;

            int heads = Int("num_attention_heads");
            int dim = Int("hidden_size");
            var dtype = dtypeOverride ?? (root.TryGetProperty("torch_dtype", out var td) && td.GetString() == "bfloat16" ? KvDType.BFloat16 : KvDType.Float32);
            var config = new LlamaConfig
            {
                Dim = dim,
                HiddenDim = Int("intermediate_size"),
                Layers = Int("num_hidden_layers"),
                Heads = heads,
                KvHeads = Int("num_key_value_heads", heads),
                VocabSize = Int("vocab_size"),
                MaxSeqLen = Int("max_position_embeddings"),
                HeadDim = Int("head_dim", dim / Math.Max(heads, 1)),
                NormEps = Float("rms_norm_eps", 1e-6f),
                RopeTheta = Float("rope_theta", 10000f),
                Rope = RopeStyle.RotateHalf,
                SharedClassifier = root.TryGetProperty("tie_word_embeddings", out var tie) && tie.ValueKind == JsonValueKind.True,
                DType = dtype,
            };
            try
            {
                config.Validate();
            }
            catch (ArgumentException e)
            {
                throw new ModelLoadException(path, "config", e.Message, e);
            }
            return config;
        }
    }

    public static LoadedModel Load(string folder, ModelLoadOptions options)
    {
        var config = ReadConfig(folder, options.DType);
        if (File.Exists(Path.Combine(folder, "model.safetensors.index.json")) && !File.Exists(Path.Combine(folder, "model.safetensors")))
        {
            throw new ModelLoadException(Path.Combine(folder, "model.safetensors.index.json"), "file", "sharded checkpoints are not supported; merge into one model.safetensors");
        }
        var (bos, eos) = ReadSpecialIds(Path.Combine(folder, "config.json"));
        var tokenizer = HfBpeTokenizer.Load(options.TokenizerPath ?? Path.Combine(folder, "tokenizer.json"), bos, eos);
        var st = SafetensorsFile.Open(Path.Combine(folder, "model.safetensors"));

        int d = config.Dim, hd = config.EffectiveHeadDim, qd = config.Heads * hd, kvd = config.KvHeads * hd, h = config.HiddenDim;
        // Read (and so validate) every tensor before any is built on the device.
        var emb = st.ReadFloats("model.embed_tokens.weight", config.VocabSize, d);
        var layerData = new List<float[][]>();
        for (int l = 0; l < config.Layers; l++)
        {
            var p = $"model.layers.{l}.";
            layerData.Add([
                st.ReadFloats(p + "input_layernorm.weight", d),
                st.ReadFloats(p + "self_attn.q_proj.weight", qd, d),
                st.ReadFloats(p + "self_attn.k_proj.weight", kvd, d),
                st.ReadFloats(p + "self_attn.v_proj.weight", kvd, d),
                st.ReadFloats(p + "self_attn.o_proj.weight", d, qd),
                st.ReadFloats(p + "post_attention_layernorm.weight", d),
                st.ReadFloats(p + "mlp.gate_proj.weight", h, d),
                st.ReadFloats(p + "mlp.down_proj.weight", d, h),
                st.ReadFloats(p + "mlp.up_proj.weight", h, d),
            ]);
        }
        var norm = st.ReadFloats("model.norm.weight", d);
        float[]? head = config.SharedClassifier && !st.Contains("lm_head.weight") ? null : st.ReadFloats("lm_head.weight", config.VocabSize, d);

        var device = options.Device.ToTorch();
        using var builder = new WeightBuilder(config.DType, device);
        var embedding = builder.Make(emb, config.VocabSize, d);
        var layers = layerData.Select(x => new LayerWeights
        {
            AttentionNorm = builder.Make(x[0], d),
            Wq = builder.Make(x[1], qd, d),
            Wk = builder.Make(x[2], kvd, d),
            Wv = builder.Make(x[3], kvd, d),
            Wo = builder.Make(x[4], d, qd),
            FfnNorm = builder.Make(x[5], d),
            W1 = builder.Make(x[6], h, d),
            W2 = builder.Make(x[7], d, h),
            W3 = builder.Make(x[8], h, d),
        }).ToList();
        var finalNorm = builder.Make(norm, d);
        var classifier = head is null ? embedding : builder.Make(head, config.VocabSize, d);
        var weights = builder.Finish(embedding, layers, finalNorm, classifier);
        return new LoadedModel(Path.GetFileName(Path.GetFullPath(folder).TrimEnd('/')), new LlamaModel(config, weights, device), tokenizer);
    }

    private static (int? Bos, int? Eos) ReadSpecialIds(string configPath)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath));
        int? Get(string f) => doc.RootElement.TryGetProperty(f, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
        return (Get("bos_token_id"), Get("eos_token_id"));
    }
}
