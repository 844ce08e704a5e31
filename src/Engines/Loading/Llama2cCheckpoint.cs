using PdRdma.Engines.Model;
using PdRdma.Engines.Tokenization;
using PdRdma.Transport;
using TorchSharp;

namespace PdRdma.Engines.Loading;

/// <summary>
/// llama2.c "legacy" (version 0) checkpoints: 7 int32 header fields, then float32 tensors in a fixed order
/// (see ../shared/models/README.md). The whole file is checked before any tensor is built.
/// </summary>
public static class Llama2cCheckpoint
{
    private static readonly string[] HeaderFields = ["dim", "hidden_dim", "n_layers", "n_heads", "n_kv_heads", "vocab_size", "seq_len"];

    /// <summary>Reads the header and checks that the file holds every tensor it implies.</summary>
    public static LlamaConfig ReadConfig(string path, KvDType dtype = KvDType.Float32)
    {
        var (config, _) = Inspect(path, dtype);
        return config;
    }

    public static LoadedModel Load(string path, ModelLoadOptions options)
    {
        var dtype = options.DType ?? KvDType.Float32;
        var (config, tensors) = Inspect(path, dtype);
        var tokenizerPath = options.TokenizerPath ?? FindTokenizer(path, config.VocabSize);
        var tokenizer = Llama2cTokenizer.Load(tokenizerPath, config.VocabSize);

        var data = File.ReadAllBytes(path);
        var floats = new float[(data.Length - 28) / 4];
        Buffer.BlockCopy(data, 28, floats, 0, floats.Length * 4);
        float[] Slice(string name, int layer = -1)
        {
            var (offset, count, perLayer) = tensors[name];
            long start = (offset - 28) / 4 + (layer < 0 ? 0 : (long)layer * perLayer);
            long len = layer < 0 ? count : perLayer;
            return floats.AsSpan((int)start, (int)len).ToArray();
        }

        var device = options.Device.ToTorch();
        int d = config.Dim, h = config.HiddenDim, kvd = config.KvHeads * config.EffectiveHeadDim, qd = config.Heads * config.EffectiveHeadDim;
        using var builder = new WeightBuilder(dtype, device);
        var embedding = builder.Make(Slice("token_embedding_table"), config.VocabSize, d);
        var layers = new List<LayerWeights>();
        for (int l = 0; l < config.Layers; l++)
        {
            layers.Add(new LayerWeights
            {
                AttentionNorm = builder.Make(Slice("rms_att_weight", l), d),
                Wq = builder.Make(Slice("wq", l), qd, d),
                Wk = builder.Make(Slice("wk", l), kvd, d),
                Wv = builder.Make(Slice("wv", l), kvd, d),
                Wo = builder.Make(Slice("wo", l), d, qd),
                FfnNorm = builder.Make(Slice("rms_ffn_weight", l), d),
                W1 = builder.Make(Slice("w1", l), h, d),
                W2 = builder.Make(Slice("w2", l), d, h),
                W3 = builder.Make(Slice("w3", l), h, d),
            });
        }
        var finalNorm = builder.Make(Slice("rms_final_weight"), d);
        var classifier = config.SharedClassifier ? embedding : builder.Make(Slice("wcls"), config.VocabSize, d);
        var weights = builder.Finish(embedding, layers, finalNorm, classifier);
        return new LoadedModel(Path.GetFileNameWithoutExtension(path), new LlamaModel(config, weights, device), tokenizer);
    }

    /// <summary>
    /// Writes <paramref name="model"/>'s weights as a legacy llama2.c checkpoint (float32; 16-bit weights are widened
    /// exactly), the file <see cref="Load"/> and llama2.c read, and the weight file of scripts/gpu/torch_llama_ref.py.
    /// Only models with llama2.c's adjacent-pair RoPE and head size dim / heads fit the format: others are refused.
    /// </summary>
    public static void Write(LoadedModel model, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        var c = model.Config;
        if (c.Rope != RopeStyle.AdjacentPairs || c.EffectiveHeadDim * c.Heads != c.Dim)
        {
            throw new ModelLoadException(path, "format", "a llama2.c checkpoint implies adjacent-pair RoPE and head size dim / n_heads; this model has neither");
        }
        var w = model.Model.Weights;
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        using var writer = new BinaryWriter(stream);
        foreach (var v in new[] { c.Dim, c.HiddenDim, c.Layers, c.Heads, c.KvHeads, c.SharedClassifier ? c.VocabSize : -c.VocabSize, c.MaxSeqLen }) writer.Write(v);
        void Put(torch.Tensor t)
        {
            using var f = t.to(torch.ScalarType.Float32).cpu().contiguous();
            var span = System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.data<float>().ToArray().AsSpan());
            writer.Write(span);
        }
        Put(w.Embedding);
        foreach (var pick in new Func<LayerWeights, torch.Tensor>[] { l => l.AttentionNorm, l => l.Wq, l => l.Wk, l => l.Wv, l => l.Wo, l => l.FfnNorm, l => l.W1, l => l.W2, l => l.W3 })
        {
            foreach (var layer in w.Layers) Put(pick(layer));
        }
        Put(w.FinalNorm);
        // freq_cis_real and freq_cis_imag: llama2.c and our loader skip them (RoPE is computed), so zeros.
        writer.Write(new byte[(long)c.MaxSeqLen * c.EffectiveHeadDim / 2 * 4 * 2]);
        if (!c.SharedClassifier) Put(w.Classifier);
    }

    /// <summary>tok{vocab}.bin or tokenizer.bin in the checkpoint's folder.</summary>
    public static string FindTokenizer(string checkpointPath, int vocabSize)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!;
        foreach (var name in new[] { $"tok{vocabSize}.bin", "tokenizer.bin" })
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new ModelLoadException(Path.Combine(dir, $"tok{vocabSize}.bin"), "file", $"no tokenizer beside {checkpointPath} (tried tok{vocabSize}.bin, tokenizer.bin); pass --tokenizer");
    }

    private static (LlamaConfig, Dictionary<string, (long Offset, long Count, long PerLayer)>) Inspect(string path, KvDType dtype)
    {
        if (!File.Exists(path)) throw new ModelLoadException(path, "file", "checkpoint not found");
        long fileLength = new FileInfo(path).Length;
        var header = new int[7];
        using (var stream = File.OpenRead(path))
        {
            var buf = new byte[28];
            int read = stream.ReadAtLeast(buf, 28, throwOnEndOfStream: false);
            for (int i = 0; i < 7; i++)
            {
                if (read < (i + 1) * 4) throw new ModelLoadException(path, $"header.{HeaderFields[i]}", $"file is truncated ({fileLength} bytes, the header needs 28)");
                header[i] = BitConverter.ToInt32(buf, i * 4);
            }
        }
        if (header[0] == 0x616b3432) throw new ModelLoadException(path, "header.magic", "llama2.c version-1+ export (magic 'ak42') is not supported; use the legacy (version 0) export");
        for (int i = 0; i < 7; i++)
        {
            bool ok = i == 5 ? header[i] != 0 : header[i] > 0;
            if (!ok) throw new ModelLoadException(path, $"header.{HeaderFields[i]}", $"invalid value {header[i]}");
        }
        int dim = header[0], hidden = header[1], layers = header[2], heads = header[3], kvHeads = header[4], seqLen = header[6];
        bool shared = header[5] > 0;
        int vocab = Math.Abs(header[5]);
        if (dim % heads != 0) throw new ModelLoadException(path, "header.n_heads", $"dim {dim} is not a multiple of n_heads {heads}");
        if (heads % kvHeads != 0) throw new ModelLoadException(path, "header.n_kv_heads", $"n_heads {heads} is not a multiple of n_kv_heads {kvHeads}");
        int hs = dim / heads;
        if (hs % 2 != 0) throw new ModelLoadException(path, "header.n_heads", $"head size {hs} is odd; RoPE needs pairs");
        long kvd = (long)kvHeads * hs;

        var sizes = new List<(string Name, long Count, long PerLayer)>
        {
            ("token_embedding_table", (long)vocab * dim, 0),
            ("rms_att_weight", (long)layers * dim, dim),
            ("wq", (long)layers * dim * dim, (long)dim * dim),
            ("wk", layers * dim * kvd, dim * kvd),
            ("wv", layers * dim * kvd, dim * kvd),
            ("wo", (long)layers * dim * dim, (long)dim * dim),
            ("rms_ffn_weight", (long)layers * dim, dim),
            ("w1", (long)layers * hidden * dim, (long)hidden * dim),
            ("w2", (long)layers * dim * hidden, (long)dim * hidden),
            ("w3", (long)layers * hidden * dim, (long)hidden * dim),
            ("rms_final_weight", dim, 0),
            ("freq_cis_real", (long)seqLen * hs / 2, 0),
            ("freq_cis_imag", (long)seqLen * hs / 2, 0),
        };
        if (!shared) sizes.Add(("wcls", (long)vocab * dim, 0));

        var tensors = new Dictionary<string, (long, long, long)>();
        long offset = 28;
        foreach (var (name, count, perLayer) in sizes)
        {
            long end = offset + count * 4;
            if (end > fileLength)
            {
                throw new ModelLoadException(path, name, $"file is truncated: tensor needs bytes [{offset}, {end}), file has {fileLength}");
            }
            tensors[name] = (offset, count, perLayer);
            offset = end;
        }
        if (offset > int.MaxValue * 4L) throw new ModelLoadException(path, "file", "checkpoints over 8 GiB are not supported by this loader");

        var config = new LlamaConfig
        {
            Dim = dim,
            HiddenDim = hidden,
            Layers = layers,
            Heads = heads,
            KvHeads = kvHeads,
            VocabSize = vocab,
            MaxSeqLen = seqLen,
            Rope = RopeStyle.AdjacentPairs,
            SharedClassifier = shared,
            DType = dtype,
        };
        return (config, tensors);
    }
}
